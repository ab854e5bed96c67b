using System.Text;
using Realize.TestSupport;

namespace Realize.Linux.Tests;

public sealed class DirectoryHandleTests : IDisposable
{
    private readonly TempDir _dir = new("dir");

    public void Dispose()
    {
        // .NET cannot delete names that are not UTF-8; rm can.
        Shell.Run("rm", ["-rf", "--", _dir.Path]);
        _dir.Dispose();
    }

    private static Dictionary<string, FileKind> Listing(string path)
    {
        using var directory = DirectoryHandle.Open(path);
        return directory.ReadAll().ToDictionary(e => Encoding.UTF8.GetString(e.Name), e => e.Kind, StringComparer.Ordinal);
    }

    [Fact]
    public void ReadAll_OfAnEmptyDirectory_IsEmpty() => Assert.Empty(Listing(_dir.Path));

    [Fact]
    public void ReadAll_ListsNamesWithKinds_WithoutDotAndDotDot()
    {
        File.WriteAllText(_dir.Combine("file.txt"), "x");
        Directory.CreateDirectory(_dir.Combine("sub"));
        File.CreateSymbolicLink(_dir.Combine("link"), "sub");
        Posix.Mkfifo(_dir.Combine("fifo"));
        File.WriteAllText(_dir.Combine(".hidden"), "");
        File.WriteAllText(_dir.Combine("..."), "");

        var listing = Listing(_dir.Path);

        var expected = new Dictionary<string, FileKind>
        {
            ["file.txt"] = FileKind.Regular,
            ["sub"] = FileKind.Directory,
            ["link"] = FileKind.Symlink,
            ["fifo"] = FileKind.Fifo,
            [".hidden"] = FileKind.Regular,
            ["..."] = FileKind.Regular,
        };
        Assert.Equal(expected.OrderBy(p => p.Key, StringComparer.Ordinal), listing.OrderBy(p => p.Key, StringComparer.Ordinal));
    }

    [Fact]
    public void ReadAll_OfADirectoryRemovedAfterItWasOpened_IsEmpty()
    {
        // A watcher or a scan opens a directory that is removed before it is read (getdents64 then fails with ENOENT).
        Directory.CreateDirectory(_dir.Combine("gone"));
        using var directory = DirectoryHandle.Open(_dir.Combine("gone"));
        Posix.Rmdir(_dir.Combine("gone"));

        Assert.Empty(directory.ReadAll());
    }

    [Fact]
    public void ReadAll_NamesAreNulTerminatedBytes()
    {
        File.WriteAllText(_dir.Combine("é"), "");

        using var directory = DirectoryHandle.Open(_dir.Path);
        var entry = Assert.Single(directory.ReadAll());

        Assert.Equal(new byte[] { 0xC3, 0xA9, 0 }, entry.NameBytes);
        Assert.Equal(new byte[] { 0xC3, 0xA9 }, entry.Name.ToArray());
    }

    [Fact]
    public void ReadAll_ReturnsANonUtf8NameAsItsBytes()
    {
        Shell.Bash("cd \"$1\" && touch $'\\xff' $'a\\xfe\\xfdb' plain", _dir.Path);

        using var directory = DirectoryHandle.Open(_dir.Path);
        var names = directory.ReadAll().Select(e => Convert.ToHexString(e.Name)).Order(StringComparer.Ordinal);

        string[] expected = [Convert.ToHexString("a"u8) + "FEFD" + Convert.ToHexString("b"u8), "FF", Convert.ToHexString("plain"u8)];
        Assert.Equal(expected.Order(StringComparer.Ordinal), names);
    }

    [Fact]
    public void ReadAll_ListsThousandsOfEntries_OverSeveralCalls()
    {
        // 2,500 names of 120 bytes: about 340 KB of dirents, many times one getdents64 buffer.
        var expected = Enumerable.Range(0, 2500).Select(i => $"{i:D6}-{new string('n', 113)}").ToList();
        foreach (string name in expected)
        {
            File.WriteAllBytes(_dir.Combine(name), []);
        }

        var listing = Listing(_dir.Path);

        Assert.Equal(expected, listing.Keys.Order(StringComparer.Ordinal));
        Assert.All(listing.Values, kind => Assert.Equal(FileKind.Regular, kind));
    }

    [Fact]
    public void ReadAll_AgreesWithLs()
    {
        for (int i = 0; i < 50; i++)
        {
            File.WriteAllText(_dir.Combine($"f {i}\twith tab"), "");
        }
        Directory.CreateDirectory(_dir.Combine("d"));

        string[] ls = Shell.Check("ls", "-A1", "--quoting-style=literal", "--show-control-chars", _dir.Path)
            .Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal(ls.Order(StringComparer.Ordinal), Listing(_dir.Path).Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void TryOpen_ReturnsNull_ForMissingPath() => Assert.Null(DirectoryHandle.TryOpen(_dir.Combine("missing")));

    [Fact]
    public void TryOpen_ReturnsNull_ForARegularFile()
    {
        File.WriteAllText(_dir.Combine("file"), "");

        Assert.Null(DirectoryHandle.TryOpen(_dir.Combine("file")));
    }

    [Fact]
    public void TryOpen_DoesNotFollowASymlinkToADirectory()
    {
        Directory.CreateDirectory(_dir.Combine("sub"));
        File.CreateSymbolicLink(_dir.Combine("link"), "sub");

        Assert.Null(DirectoryHandle.TryOpen(_dir.Combine("link")));
    }

    [Fact]
    public void Open_ThrowsLinuxException_ForMissingPath() =>
        Assert.Throws<LinuxException>(() => DirectoryHandle.Open(_dir.Combine("missing")));

    [Fact]
    public void ReadAll_AfterDispose_Throws()
    {
        var directory = DirectoryHandle.Open(_dir.Path);
        directory.Dispose();

        Assert.Throws<ObjectDisposedException>(() => directory.ReadAll());
    }
}
