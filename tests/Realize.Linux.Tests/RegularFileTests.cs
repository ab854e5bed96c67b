using Realize.TestSupport;

namespace Realize.Linux.Tests;

public sealed class RegularFileTests : IDisposable
{
    private readonly TempDir _dir = new("regular-file");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void TryOpenRead_OpensARegularFile_WithTheStatusLstatGives_AndItsContent()
    {
        string path = _dir.Combine("file");
        File.WriteAllText(path, "content");

        using var handle = RegularFile.TryOpenRead(path, out var status);

        Assert.NotNull(handle);
        Assert.Equal(Stat.Lstat(path), status);
        byte[] read = new byte[7];
        Assert.Equal(7, RandomAccess.Read(handle, read, 0));
        Assert.Equal("content"u8.ToArray(), read);
    }

    [Fact]
    public void TryOpenRead_ReturnsNull_ForAMissingPath_ASymlink_ADirectory_AndAFifo_WithoutBlocking()
    {
        string target = _dir.Combine("target");
        File.WriteAllText(target, "x");
        File.CreateSymbolicLink(_dir.Combine("link"), target);
        Directory.CreateDirectory(_dir.Combine("dir"));
        Shell.Check("mkfifo", _dir.Combine("fifo"));

        Assert.Null(RegularFile.TryOpenRead(_dir.Combine("missing"), out _));
        Assert.Null(RegularFile.TryOpenRead(_dir.Combine("link"), out _));
        Assert.Null(RegularFile.TryOpenRead(_dir.Combine("dir"), out _));
        // A FIFO without a writer would block a plain open for ever.
        Assert.Null(RegularFile.TryOpenRead(_dir.Combine("fifo"), out _));
    }

    [Fact]
    public void Status_OfAnOpenFile_FollowsTheFile_NotItsFormerName()
    {
        string path = _dir.Combine("file");
        File.WriteAllText(path, "one");
        using var handle = RegularFile.TryOpenRead(path, out var opened)!;

        File.Delete(path);
        File.WriteAllText(path, "another");

        var now = RegularFile.Status(handle);
        Assert.Equal((opened.Inode, 3L), (now.Inode, now.Size));
        Assert.NotEqual(Stat.Lstat(path).Inode, now.Inode);
    }
}
