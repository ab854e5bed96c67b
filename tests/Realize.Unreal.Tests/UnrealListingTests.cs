using Realize.Core;
using Realize.Linux;
using Realize.TestSupport;

namespace Realize.Unreal.Tests;

/// <summary>The Unreal's tree through a real mount: names, sizes and mtimes from unreal.db's view; read-only.</summary>
public sealed class UnrealListingTests
{
    [Fact]
    public async Task AWalkOfTheMount_ShowsEveryFileWithItsSizeAndMTime()
    {
        await using var unreal = await MountedUnreal.StartAsync();
        var expected = new Dictionary<string, (long Size, FileTime MTime)>(StringComparer.Ordinal)
        {
            ["top.txt"] = (5, new FileTime(1_700_000_001, 123_456_789)),
            ["empty"] = (0, new FileTime(1_600_000_000, 0)),
            ["dir/b.bin"] = ((1 << 20) + 3, new FileTime(1_700_000_002, 1)),
            ["dir/sub/c.txt"] = (11, new FileTime(1_700_000_003, 999_999_999)),
            ["dir/sub/deeper/d"] = (1, new FileTime(1_000_000_000, 5)),
        };
        int seed = 0;
        foreach (var (path, (size, mtime)) in expected)
        {
            unreal.Add(path, MountedUnreal.Content((int)size, seed++), mtime);
        }

        var files = new Dictionary<string, (long Size, FileTime MTime)>(StringComparer.Ordinal);
        var directories = new List<string>();
        string arena = Path.Combine(unreal.Target, MountedUnreal.Arena.ToString());
        foreach (string entry in Directory.EnumerateFileSystemEntries(unreal.Target, "*", SearchOption.AllDirectories))
        {
            var status = Stat.Lstat(entry);
            if (status.Kind == FileKind.Directory)
            {
                directories.Add(Path.GetRelativePath(unreal.Target, entry));
            }
            else
            {
                Assert.Equal(FileKind.Regular, status.Kind);
                files[Path.GetRelativePath(arena, entry)] = (status.Size, status.MTime);
            }
        }
        string listing = Shell.Check("ls", "-lR", "--time-style=+%s.%N", unreal.Target);

        Assert.Equal(expected.OrderBy(e => e.Key, StringComparer.Ordinal), files.OrderBy(e => e.Key, StringComparer.Ordinal));
        Assert.Equal(["docs", "docs/dir", "docs/dir/sub", "docs/dir/sub/deeper"], directories.Order(StringComparer.Ordinal));
        foreach (var (path, (size, mtime)) in expected)
        {
            Assert.Contains($" {size} {mtime.Seconds}.{mtime.Nanoseconds:D9} {Path.GetFileName(path)}\n", listing, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Lookups_AnswerEnoent_ForMissingNames()
    {
        await using var unreal = await MountedUnreal.StartAsync();
        unreal.Add("dir/there.txt", "here"u8.ToArray());

        Assert.Equal(Errno.ENOENT, Native.OpenErrno(unreal.PathOf("missing.txt"), Native.O_RDONLY));
        Assert.Equal(Errno.ENOENT, Native.OpenErrno(unreal.PathOf("dir/missing.txt"), Native.O_RDONLY));
        Assert.Equal(Errno.ENOENT, Native.OpenErrno(unreal.PathOf("nodir/there.txt"), Native.O_RDONLY));
        Assert.Equal(Errno.ENOENT, Native.OpenErrno(Path.Combine(unreal.Target, "otherarena"), Native.O_RDONLY));
        Assert.Null(Stat.TryLstat(unreal.PathOf("dir/missing.txt")));
        Assert.NotNull(Stat.TryLstat(unreal.PathOf("dir/there.txt")));
    }

    [Fact]
    public async Task Xattrs_AnswerEnodata_AndAnEmptyList()
    {
        await using var unreal = await MountedUnreal.StartAsync();
        unreal.Add("dir/f.txt", "x"u8.ToArray());

        foreach (string path in new[] { unreal.Target, unreal.PathOf(""), unreal.PathOf("dir"), unreal.PathOf("dir/f.txt") })
        {
            Assert.Equal(-Errno.ENODATA, Native.GetXattr(path, "trusted.overlay.opaque"));
            Assert.Equal(-Errno.ENODATA, Native.GetXattr(path, "user.anything"));
            Assert.Equal(0, Native.ListXattr(path));
        }
    }

    [Fact]
    public async Task Writes_AnswerErofs()
    {
        await using var unreal = await MountedUnreal.StartAsync();
        unreal.Fetcher.AddPeer("nas");
        unreal.Add("dir/f.txt", "unchanged"u8.ToArray());
        string file = unreal.PathOf("dir/f.txt");

        Assert.Equal(Errno.EROFS, Native.OpenErrno(file, Native.O_WRONLY));
        Assert.Equal(Errno.EROFS, Native.OpenErrno(unreal.PathOf("dir/new.txt"), Native.O_WRONLY | Native.O_CREAT));
        Assert.Equal(Errno.EROFS, Assert.Throws<LinuxException>(() => Posix.Mkdir(unreal.PathOf("newdir"))).Errno);
        Assert.Equal(Errno.EROFS, Assert.Throws<LinuxException>(() => Posix.Unlink(file)).Errno);
        Assert.Equal(Errno.EROFS, Assert.Throws<LinuxException>(() => Posix.Rename(file, unreal.PathOf("dir/g.txt"))).Errno);
        Assert.Equal(Errno.EROFS, Assert.Throws<LinuxException>(() => Posix.Chmod(file, 0x1FF)).Errno);
        Assert.Equal("unchanged", File.ReadAllText(file));
    }
}
