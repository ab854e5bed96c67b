using Realize.TestSupport;

namespace Realize.Linux.Tests;

public sealed class MountsTests : IDisposable
{
    private readonly TempDir _dir = new("mounts");

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("/srv/plain", "/srv/plain")]
    [InlineData("/srv/a,b", "/srv/a\\,b")]
    [InlineData("/srv/a:b", "/srv/a\\:b")]
    [InlineData("/srv/a\\b", "/srv/a\\\\b")]
    [InlineData("/srv/,:\\", "/srv/\\,\\:\\\\")]
    [InlineData("/srv/with space/données", "/srv/with space/données")]
    [InlineData("", "")]
    public void EscapeOverlayPath_EscapesCommaColonAndBackslash(string path, string escaped) =>
        Assert.Equal(escaped, Mounts.EscapeOverlayPath(path));

    [Fact]
    public void MountOverlay_WithEscapedPaths_MountsDirectoriesWhoseNamesHoldCommaColonAndBackslash()
    {
        Root.Require();
        string lower = _dir.Combine("low,er:x\\y");
        string upper = _dir.Combine("up,per");
        string work = _dir.Combine("wo:rk");
        string target = _dir.Combine("view");
        foreach (string dir in new[] { lower, upper, work, target })
        {
            Directory.CreateDirectory(dir);
        }
        File.WriteAllText(Path.Combine(lower, "from-lower.txt"), "lower");
        string options = $"lowerdir={Mounts.EscapeOverlayPath(lower)},upperdir={Mounts.EscapeOverlayPath(upper)},workdir={Mounts.EscapeOverlayPath(work)}";

        Mounts.MountOverlay(target, options);
        try
        {
            Assert.Equal("overlay", Mounts.FindMount(target));
            Assert.Equal("lower", File.ReadAllText(Path.Combine(target, "from-lower.txt")));
            File.WriteAllText(Path.Combine(target, "new.txt"), "upper");
            Assert.Equal("upper", File.ReadAllText(Path.Combine(upper, "new.txt")));
        }
        finally
        {
            Mounts.Unmount(target);
        }
        Assert.Null(Mounts.FindMount(target));
    }

    [Fact]
    public void MountOverlay_WithAMissingLower_ThrowsLinuxException()
    {
        Root.Require();
        string target = _dir.Combine("view");
        Directory.CreateDirectory(target);
        Directory.CreateDirectory(_dir.Combine("upper"));
        Directory.CreateDirectory(_dir.Combine("work"));

        try
        {
            var e = Assert.Throws<LinuxException>(() => Mounts.MountOverlay(target, $"lowerdir={_dir.Combine("missing")},upperdir={_dir.Combine("upper")},workdir={_dir.Combine("work")}"));
            Assert.Equal(Errno.ENOENT, e.Errno);
        }
        finally
        {
            if (Mounts.IsMountPoint(target))
            {
                Mounts.Unmount(target);
            }
        }
    }

    [Fact]
    public void FindMount_FindsATmpfsMountedInATempDir()
    {
        using var mount = new ScratchMount(_dir.Combine("mnt"), "tmpfs");

        Assert.Equal("tmpfs", Mounts.FindMount(mount.MountPoint));
        Assert.True(Mounts.IsMountPoint(mount.MountPoint));
        Assert.Equal("tmpfs", Mounts.FindMount(mount.MountPoint + "/"));
    }

    [Fact]
    public void FindMount_FindsAMountPointWhosePathHoldsSpaceTabAndBackslash()
    {
        // /proc/self/mountinfo writes these as octal escapes (\040, \011, \134).
        using var mount = new ScratchMount(_dir.Combine("mount point\twith\\odd"), "tmpfs");

        Assert.Equal("tmpfs", Mounts.FindMount(mount.MountPoint));
    }

    [Fact]
    public void FindMount_FindsAMountPointEndingWithASpace()
    {
        using var mount = new ScratchMount(_dir.Combine("trailing "), "ramfs");

        Assert.Equal("ramfs", Mounts.FindMount(mount.MountPoint));
    }

    [Fact]
    public void FindMount_ReturnsNull_AfterUnmount()
    {
        using var mount = new ScratchMount(_dir.Combine("mnt"), "tmpfs");

        mount.Unmount();

        Assert.Null(Mounts.FindMount(mount.MountPoint));
        Assert.False(Mounts.IsMountPoint(mount.MountPoint));
    }

    [Fact]
    public void FindMount_ReturnsNull_ForAPlainDirectory()
    {
        Directory.CreateDirectory(_dir.Combine("plain"));

        Assert.Null(Mounts.FindMount(_dir.Combine("plain")));
        Assert.Null(Mounts.FindMount(_dir.Path));
    }

    [Fact]
    public void FindMount_OfRoot_AgreesWithFindmnt()
    {
        string fstype = Shell.Check("findmnt", "-n", "-o", "FSTYPE", "--mountpoint", "/").Trim();

        Assert.Equal(fstype, Mounts.FindMount("/"));
    }

    [Fact]
    public void Unmount_OfAPlainDirectory_ThrowsEINVAL()
    {
        Root.Require();
        Directory.CreateDirectory(_dir.Combine("plain"));

        var e = Assert.Throws<LinuxException>(() => Mounts.Unmount(_dir.Combine("plain")));

        Assert.Equal(Errno.EINVAL, e.Errno);
    }

    [Fact]
    public void Unmount_RemovesAMount()
    {
        using var mount = new ScratchMount(_dir.Combine("mnt"), "tmpfs");

        Mounts.Unmount(mount.MountPoint);

        Assert.Equal("", Shell.Run("findmnt", ["-n", "--mountpoint", mount.MountPoint]).Output);
    }

    [Fact]
    public void FindMount_FindsAMountPointNamedThroughASymlink()
    {
        using var mount = new ScratchMount(_dir.Combine("real", "mnt"), "tmpfs");
        File.CreateSymbolicLink(_dir.Combine("alias"), "real");
        Assert.Equal("tmpfs", Mounts.FindMount(_dir.Combine("alias", "mnt")));
    }

    [Fact]
    public void FindMount_OfStackedMounts_NamesTheTopOne()
    {
        using var bottom = new ScratchMount(_dir.Combine("mnt"), "tmpfs");
        using var top = new ScratchMount(_dir.Combine("mnt"), "ramfs");
        Assert.Equal("ramfs", Mounts.FindMount(_dir.Combine("mnt")));
    }
}
