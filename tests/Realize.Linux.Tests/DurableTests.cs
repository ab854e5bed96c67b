using System.Globalization;
using Realize.TestSupport;

namespace Realize.Linux.Tests;

public sealed class DurableTests : IDisposable
{
    private const UnixFileMode Mode0600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode Mode0640 = Mode0600 | UnixFileMode.GroupRead;
    private const UnixFileMode Mode0644 = Mode0640 | UnixFileMode.OtherRead;

    private readonly TempDir _dir = new("durable");

    public void Dispose() => _dir.Dispose();

    /// <summary>The process umask, as the kernel reports it; created files lose these bits.</summary>
    private static UnixFileMode Umask()
    {
        string line = File.ReadLines("/proc/self/status").Single(l => l.StartsWith("Umask:", StringComparison.Ordinal));
        return (UnixFileMode)Convert.ToInt32(line["Umask:".Length..].Trim(), 8);
    }

    private string[] Names() => Directory.GetFileSystemEntries(_dir.Path).Select(p => Path.GetFileName(p)!).Order(StringComparer.Ordinal).ToArray();

    [Theory]
    [InlineData(Mode0600)]
    [InlineData(Mode0640)]
    [InlineData(Mode0644)]
    public void WriteAllBytes_CreatesTheFile_WithContentAndMode(UnixFileMode mode)
    {
        string path = _dir.Combine("config.toml");
        byte[] content = "mount = \"/mnt\"\n"u8.ToArray();

        Durable.WriteAllBytes(path, content, mode);

        Assert.Equal(content, File.ReadAllBytes(path));
        Assert.Equal(mode & ~Umask(), File.GetUnixFileMode(path));
        Assert.Equal(["config.toml"], Names());
    }

    [Fact]
    public void WriteAllBytes_ReplacesAnExistingFile_ByRename()
    {
        string path = _dir.Combine("file");
        File.WriteAllText(path, "old content, longer than the new one");
        File.SetUnixFileMode(path, Mode0644);
        ulong oldInode = ulong.Parse(Shell.Check("stat", "-c", "%i", path).Trim(), CultureInfo.InvariantCulture);

        Durable.WriteAllBytes(path, "new"u8, Mode0600);

        Assert.Equal("new", File.ReadAllText(path));
        Assert.Equal(Mode0600, File.GetUnixFileMode(path));
        // A new inode: the old file was never written in place, so a reader saw old or new, whole.
        Assert.NotEqual(oldInode, ulong.Parse(Shell.Check("stat", "-c", "%i", path).Trim(), CultureInfo.InvariantCulture));
        Assert.Equal(["file"], Names());
    }

    [Fact]
    public void WriteAllBytes_OfEmptyContent_CreatesAnEmptyFile()
    {
        Durable.WriteAllBytes(_dir.Combine("empty"), [], Mode0600);

        Assert.Equal(0, new FileInfo(_dir.Combine("empty")).Length);
        Assert.Equal(["empty"], Names());
    }

    [Fact]
    public void WriteAllBytes_OfALargeContent_WritesItAll()
    {
        byte[] content = new byte[3 * 1024 * 1024 + 17];
        new Random(7).NextBytes(content);

        Durable.WriteAllBytes(_dir.Combine("large"), content, Mode0600);

        Assert.Equal(content, File.ReadAllBytes(_dir.Combine("large")));
    }

    [Fact]
    public void WriteAllBytes_WhenTheRenameFails_LeavesNoTempFile()
    {
        // The target is a non-empty directory: rename(2) cannot replace it.
        string path = _dir.Combine("target");
        Directory.CreateDirectory(path);
        File.WriteAllText(Path.Combine(path, "inside"), "x");

        Assert.ThrowsAny<IOException>(() => Durable.WriteAllBytes(path, "data"u8, Mode0600));

        Assert.Equal(["target"], Names());
        Assert.True(Directory.Exists(path));
    }

    [Fact]
    public void WriteAllBytes_IntoAMissingDirectory_Throws() =>
        Assert.ThrowsAny<IOException>(() => Durable.WriteAllBytes(_dir.Combine("missing", "file"), "x"u8, Mode0600));

    [Fact]
    public void SyncDirectory_OfAnExistingDirectory_Succeeds()
    {
        Durable.SyncDirectory(_dir.Path);

        Assert.Empty(Names());
    }

    [Fact]
    public void SyncDirectory_OfAMissingDirectory_Throws() =>
        Assert.Throws<LinuxException>(() => Durable.SyncDirectory(_dir.Combine("missing")));

    [Fact]
    public void WriteAllBytes_Succeeds_WhenAStaleTempFileOfACrashedWriterIsLeft()
    {
        string path = _dir.Combine("realize.toml");
        File.WriteAllText(path, "old");
        string stale = _dir.Combine($".realize.toml.{Environment.ProcessId}.tmp");
        File.WriteAllText(stale, "half-written");
        Durable.WriteAllBytes(path, "new"u8, Mode0644);
        Assert.Equal("new", File.ReadAllText(path));
        Assert.Equal("half-written", File.ReadAllText(stale));
    }

    [Fact]
    public void WriteAllBytes_FromTwoThreads_NeverFails_AndLeavesNoTempFile()
    {
        string path = _dir.Combine("shared");
        Parallel.For(0, 400, new ParallelOptions { MaxDegreeOfParallelism = 2 }, i => Durable.WriteAllBytes(path, [(byte)(i % 2)], Mode0644));
        Assert.Equal(["shared"], Names());
    }
}
