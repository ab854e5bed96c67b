using Realize.TestSupport;

namespace Realize.Linux.Tests;

/// <summary>The new mount API on tmpfs instances: made detached, attached on top of a mount point or beneath its top.</summary>
public sealed class MountApiTests : IDisposable
{
    private readonly TempDir _dir = new("mountapi");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Attach_Beneath_SlidesUnderTheTopMount_WhichUncoversItWhenDetached()
    {
        Root.Require();
        string target = _dir.Combine("target");
        Directory.CreateDirectory(target);
        try
        {
            using (var top = Tmpfs("top"))
            {
                MountApi.Attach(top, target);
            }
            using (var beneath = Tmpfs("beneath"))
            {
                MountApi.Attach(beneath, target, beneath: true);
            }
            Assert.Equal("top", File.ReadAllText(Path.Combine(target, "name")));

            Mounts.Unmount(target, detach: true);

            Assert.Equal("beneath", File.ReadAllText(Path.Combine(target, "name")));
        }
        finally
        {
            while (Mounts.FindMount(target) is not null)
            {
                Mounts.Unmount(target, detach: true);
            }
        }
    }

    [Fact]
    public void Attach_Beneath_FailsWithEinval_WhereNothingIsMounted()
    {
        Root.Require();
        string target = _dir.Combine("empty");
        Directory.CreateDirectory(target);
        using var mount = Tmpfs("lonely");

        var error = Assert.Throws<LinuxException>(() => MountApi.Attach(mount, target, beneath: true));

        Assert.Equal(Errno.EINVAL, error.Errno);
        Assert.Null(Mounts.FindMount(target));
    }

    [Fact]
    public void Create_ReportsTheKernelsOwnMessage_WhenAParameterIsRefused()
    {
        Root.Require();
        string missing = _dir.Combine("missing");

        var error = Assert.Throws<LinuxException>(() => MountApi.Create("overlay", [new("lowerdir+", missing)]));

        Assert.Equal(Errno.ENOENT, error.Errno);
        Assert.Contains("overlay", error.Message, StringComparison.Ordinal);
        Assert.Contains(missing, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MountInfo_Top_GivesTheOverlaysLayerPaths()
    {
        Root.Require();
        string lower = _dir.Combine("low er");
        string upper = _dir.Combine("up per,with=odd\\chars");
        string work = _dir.Combine("work\tab");
        string target = _dir.Combine("view");
        foreach (string dir in new[] { lower, upper, work, target })
        {
            Directory.CreateDirectory(dir);
        }
        using (var mount = MountApi.Create("overlay",
        [
            new("lowerdir+", lower),
            new("upperdir", Mounts.EscapeOverlayPath(upper)),
            new("workdir", Mounts.EscapeOverlayPath(work)),
        ]))
        {
            MountApi.Attach(mount, target);
        }
        try
        {
            var top = MountInfo.Top(target);

            Assert.NotNull(top);
            Assert.Equal("overlay", top.FsType);
            Assert.Equal(target, top.MountPoint);
            Assert.Equal(upper, top.OverlayLayerPath("upperdir"));
            Assert.Equal(work, top.OverlayLayerPath("workdir"));
            Assert.Equal(lower, top.SuperOption("lowerdir+"));
            Assert.Null(top.SuperOption("nonesuch"));
        }
        finally
        {
            Mounts.Unmount(target, detach: true);
        }
    }

    // A tmpfs holding one file "name" with <paramref name="name"/>, written through the fd's path before it is attached.
    private static DetachedMount Tmpfs(string name)
    {
        var mount = MountApi.Create("tmpfs", [new("size", "1m")]);
        File.WriteAllText(Path.Combine(mount.RootPath, "name"), name);
        return mount;
    }
}
