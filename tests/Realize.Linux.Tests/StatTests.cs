using System.Globalization;
using Realize.Core;
using Realize.TestSupport;

namespace Realize.Linux.Tests;

public sealed class StatTests : IDisposable
{
    private readonly TempDir _dir = new("stat");

    public void Dispose()
    {
        // .NET cannot delete names that are not UTF-8; rm can.
        Shell.Run("rm", ["-rf", "--", _dir.Path]);
        _dir.Dispose();
    }

    /// <summary>What coreutils <c>date -r</c> says of a file's mtime: seconds and nanoseconds.</summary>
    private static FileTime DateOf(string path)
    {
        string[] fields = Shell.Check("date", "-r", path, "+%s %N").Trim().Split(' ');
        return new FileTime(long.Parse(fields[0], CultureInfo.InvariantCulture), uint.Parse(fields[1], CultureInfo.InvariantCulture));
    }

    /// <summary>Fields of coreutils <c>stat -c</c> for a path, not following symlinks.</summary>
    private static string[] CoreutilsStat(string path, string format) => Shell.Check("stat", "-c", format, path).Trim().Split(' ');

    [Fact]
    public void TryLstat_ReturnsNull_ForMissingPath() => Assert.Null(Stat.TryLstat(_dir.Combine("missing")));

    [Fact]
    public void TryLstat_ReturnsNull_BelowARegularFile()
    {
        File.WriteAllText(_dir.Combine("file"), "x");

        Assert.Null(Stat.TryLstat(_dir.Combine("file", "child")));
    }

    [Fact]
    public void Lstat_ThrowsLinuxException_ForMissingPath()
    {
        var e = Assert.Throws<LinuxException>(() => Stat.Lstat(_dir.Combine("missing")));

        Assert.Equal(Errno.ENOENT, e.Errno);
    }

    [Fact]
    public void Lstat_ReportsNanosecondMtime_SetByTouch()
    {
        string path = _dir.Combine("file");
        File.WriteAllText(path, "x");
        Shell.Check("touch", "-m", "-d", "@1700000000.123456789", path);

        var status = Stat.Lstat(path);

        Assert.Equal(new FileTime(1_700_000_000, 123_456_789), status.MTime);
        Assert.Equal(DateOf(path), status.MTime);
    }

    [Fact]
    public void Lstat_ReportsMtimeBeforeEpoch()
    {
        string path = _dir.Combine("old");
        File.WriteAllText(path, "x");
        Shell.Check("touch", "-m", "-d", "@-1.5", path);

        var status = Stat.Lstat(path);

        // -1.5 s is 2 s before the epoch plus half a second.
        Assert.Equal(new FileTime(-2, 500_000_000), status.MTime);
        Assert.Equal(DateOf(path), status.MTime);
    }

    [Fact]
    public void Lstat_ReportsMtime_SetByDotNet()
    {
        string path = _dir.Combine("file");
        File.WriteAllText(path, "x");
        var time = new DateTime(2031, 7, 8, 9, 10, 11, DateTimeKind.Utc).AddTicks(1_234_567);
        File.SetLastWriteTimeUtc(path, time);

        var status = Stat.Lstat(path);

        long unixSeconds = new DateTimeOffset(2031, 7, 8, 9, 10, 11, TimeSpan.Zero).ToUnixTimeSeconds();
        Assert.Equal(new FileTime(unixSeconds, 123_456_700), status.MTime);
    }

    [Fact]
    public void Lstat_AgreesWithCoreutilsStat_ForARegularFile()
    {
        string path = _dir.Combine("file");
        File.WriteAllBytes(path, new byte[12345]);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        Posix.Link(path, _dir.Combine("link"));

        var status = Stat.Lstat(path);

        string[] fields = CoreutilsStat(path, "%i %h %s %f %Z");
        Assert.Equal(FileKind.Regular, status.Kind);
        Assert.Equal(ulong.Parse(fields[0], CultureInfo.InvariantCulture), status.Inode);
        Assert.Equal(2u, status.LinkCount);
        Assert.Equal(uint.Parse(fields[1], CultureInfo.InvariantCulture), status.LinkCount);
        Assert.Equal(12345, status.Size);
        Assert.Equal(uint.Parse(fields[3], NumberStyles.HexNumber, CultureInfo.InvariantCulture), status.Mode);
        Assert.Equal(0x8000u | 0x1A0u, status.Mode); // S_IFREG | 0640
        Assert.Equal(0x1A0u, status.Permissions);
        Assert.Equal(long.Parse(fields[4], CultureInfo.InvariantCulture), status.CTime.Seconds);
        Assert.False(status.IsWhiteoutDevice);
    }

    [Fact]
    public void Lstat_ReportsDeviceNumbers_OfDevNull()
    {
        var status = Stat.Lstat("/dev/null");

        string[] fields = CoreutilsStat("/dev/null", "%t %T");
        Assert.Equal(FileKind.CharDevice, status.Kind);
        Assert.Equal(uint.Parse(fields[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture), status.RdevMajor);
        Assert.Equal(uint.Parse(fields[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture), status.RdevMinor);
        Assert.Equal((1u, 3u), (status.RdevMajor, status.RdevMinor));
        Assert.False(status.IsWhiteoutDevice);
    }

    [Fact]
    public void Lstat_RecognisesAWhiteoutDevice()
    {
        Root.Require();
        string path = _dir.Combine("whiteout");
        Shell.Check("mknod", path, "c", "0", "0");

        var status = Stat.Lstat(path);

        Assert.Equal(FileKind.CharDevice, status.Kind);
        Assert.True(status.IsWhiteoutDevice);
    }

    [Fact]
    public void Lstat_ReportsDirectory()
    {
        Directory.CreateDirectory(_dir.Combine("sub"));

        Assert.Equal(FileKind.Directory, Stat.Lstat(_dir.Combine("sub")).Kind);
    }

    [Fact]
    public void Lstat_DoesNotFollowSymlinkToDirectory()
    {
        Directory.CreateDirectory(_dir.Combine("target"));
        File.CreateSymbolicLink(_dir.Combine("link"), "target");

        var status = Stat.Lstat(_dir.Combine("link"));

        Assert.Equal(FileKind.Symlink, status.Kind);
        Assert.Equal("target".Length, status.Size);
    }

    [Fact]
    public void Lstat_ReportsDanglingSymlink_InsteadOfNull()
    {
        File.CreateSymbolicLink(_dir.Combine("dangling"), "nowhere");

        Assert.Equal(FileKind.Symlink, Stat.TryLstat(_dir.Combine("dangling"))?.Kind);
    }

    [Fact]
    public void Lstat_ReportsFifo()
    {
        Posix.Mkfifo(_dir.Combine("fifo"));

        Assert.Equal(FileKind.Fifo, Stat.Lstat(_dir.Combine("fifo")).Kind);
    }

    [Fact]
    public void Lstat_WorksOnUnicodeNames()
    {
        string path = _dir.Combine("données 日本 😀.txt");
        File.WriteAllText(path, "abc");

        Assert.Equal(3, Stat.Lstat(path).Size);
    }

    [Fact]
    public void TryLstatAt_StatsANonUtf8Name()
    {
        Shell.Bash("cd \"$1\" && printf 'four' > $'\\xff'", _dir.Path);
        using var directory = DirectoryHandle.Open(_dir.Path);

        var status = Stat.TryLstatAt(directory, [0xFF, 0]);

        Assert.Equal(FileKind.Regular, status?.Kind);
        Assert.Equal(4, status?.Size);
        Assert.Null(Stat.TryLstatAt(directory, [0xFE, 0]));
    }
}
