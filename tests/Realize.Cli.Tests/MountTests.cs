using System.Security.Cryptography;
using System.Text.Json;
using Realize.Linux;
using Realize.TestSupport;

namespace Realize.Cli.Tests;

/// <summary>
/// <c>mount</c>, <c>unmount</c>, <c>scan</c> and <c>history</c> over real overlays. Needs root;
/// every mount is undone by <see cref="CliStore.Dispose"/>.
/// </summary>
public sealed class MountTests : IDisposable
{
    private readonly CliStore _store;

    public MountTests()
    {
        Root.Require();
        _store = new CliStore();
    }

    public void Dispose() => _store.Dispose();

    private static void Write(string path, string text)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    private static void RemoteDocs(string lower) => Write(Path.Combine(lower, "docs", "remote.txt"), "remote content\n");

    private static string Blob(string text) => Convert.ToHexStringLower(SHA256.HashData(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text))));

    /// <summary>A file's mtime as coreutils prints it, in the documented format.</summary>
    private static string MTimeOf(string path) =>
        Shell.Check("date", "-u", "-r", path, "+%Y-%m-%dT%H:%M:%S.%NZ").Trim();

    private static (string[] Keys, JsonElement Root) Parse(string line)
    {
        var root = JsonDocument.Parse(line).RootElement;
        return (root.EnumerateObject().Select(p => p.Name).ToArray(), root);
    }

    [Fact]
    public void Mount_MountsTheMergedView_AndUnmountRemovesIt()
    {
        _store.InitWithLower(RemoteDocs);

        string mounted = _store.Run("mount").AssertSucceeds();

        Assert.Contains(_store.View, mounted, StringComparison.Ordinal);
        Assert.Equal("overlay", Shell.Check("findmnt", "-n", "-o", "FSTYPE", "--mountpoint", _store.View).Trim());
        Assert.Equal("remote content\n", File.ReadAllText(Path.Combine(_store.View, "docs", "remote.txt")));

        string unmounted = _store.Run("unmount").AssertSucceeds();

        Assert.Contains(_store.View, unmounted, StringComparison.Ordinal);
        Assert.Equal(1, Shell.Run("findmnt", ["--mountpoint", _store.View]).ExitCode);
    }

    [Fact]
    public void Mount_Twice_FailsWithOneLine_SayingAlreadyMounted()
    {
        _store.InitWithLower();
        _store.Run("mount").AssertSucceeds();

        string line = _store.Run("mount").AssertFailsWithOneLine();

        Assert.Contains("already mounted", line, StringComparison.Ordinal);
        // Still exactly one overlay there, not two stacked.
        Assert.Single(File.ReadLines("/proc/self/mountinfo"), l => l.Split(' ')[4] == _store.View);
    }

    [Fact]
    public void Mount_WithAMissingLower_FailsWithOneLine_AndMountsNothing()
    {
        _store.InitWithLower();
        Directory.Delete(_store.Lower);

        string line = _store.Run("mount").AssertFailsWithOneLine();

        Assert.Contains(_store.Lower, line, StringComparison.Ordinal);
        Assert.Contains("does not exist", line, StringComparison.Ordinal);
        Assert.Null(Mounts.FindMount(_store.View));
    }

    [Fact]
    public void Mount_OfAStoreOnAFilesystemWithoutXattrs_FailsWithOneLine_NamingTrustedXattrs()
    {
        using var ramfs = new ScratchMount(_store.Combine("ramfs"), "ramfs");
        // ramfs really has no extended attributes at all.
        string probe = Path.Combine(ramfs.MountPoint, "probe");
        File.WriteAllText(probe, "");
        var refused = Assert.Throws<LinuxException>(() => Xattr.Set(probe, "trusted.probe", "y"u8));
        Assert.Equal(Errno.EOPNOTSUPP, refused.Errno);
        File.Delete(probe);

        using var store = new CliStore(Path.Combine(ramfs.MountPoint, "store"));
        store.InitWithLower();

        string line = store.Run("mount").AssertFailsWithOneLine();

        Assert.Contains("trusted.*", line, StringComparison.Ordinal);
        Assert.Null(Mounts.FindMount(store.View));
    }

    [Fact]
    public void Mount_WithoutRoot_FailsWithOneLine_MentioningRoot()
    {
        _store.InitWithLower();
        // Let user nobody read the store: the temporary directory and the store are owner-only.
        File.SetUnixFileMode(_store.Top, (UnixFileMode)0x1ED);
        File.SetUnixFileMode(_store.StoreDir, (UnixFileMode)0x1ED);

        var result = CliRun.Process(["--store", _store.StoreDir, "mount"], asNobody: true);

        Assert.Equal(1, result.ExitCode);
        string line = result.AssertOneErrorLine();
        Assert.Contains("root", line, StringComparison.Ordinal);
        Assert.Null(Mounts.FindMount(_store.View));
    }

    [Fact]
    public void Unmount_WithoutRoot_FailsWithOneLine_MentioningRoot()
    {
        _store.InitWithLower();
        File.SetUnixFileMode(_store.Top, (UnixFileMode)0x1ED);
        File.SetUnixFileMode(_store.StoreDir, (UnixFileMode)0x1ED);
        _store.Run("mount").AssertSucceeds();

        var result = CliRun.Process(["--store", _store.StoreDir, "unmount"], asNobody: true);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("root", result.AssertOneErrorLine(), StringComparison.Ordinal);
        Assert.Equal("overlay", Mounts.FindMount(_store.View));
    }

    [Fact]
    public void Unmount_WhenNotMounted_FailsWithOneLine()
    {
        _store.InitWithLower();

        string line = _store.Run("unmount").AssertFailsWithOneLine();

        Assert.Contains("not mounted", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Mount_OfAStoreWithoutLower_FailsWithOneLine_NamingLower()
    {
        _store.Run("init", "--mount", _store.View).AssertSucceeds();

        Assert.Contains("--lower", _store.Run("mount").AssertFailsWithOneLine(), StringComparison.Ordinal);
        Assert.Null(Mounts.FindMount(_store.View));
    }

    [Fact]
    public void Mount_OfAStoreWithoutMergedView_FailsWithOneLine_NamingMount()
    {
        _store.Run("init").AssertSucceeds();

        Assert.Contains("--mount", _store.Run("mount").AssertFailsWithOneLine(), StringComparison.Ordinal);
        Assert.Contains("nothing to unmount", _store.Run("unmount").AssertFailsWithOneLine(), StringComparison.Ordinal);
    }

    [Fact]
    public void EndToEnd_InitArenaMountWriteScanHistoryUnmount()
    {
        _store.InitWithLower(RemoteDocs);
        _store.Run("arena", "add", "docs").AssertSucceeds();
        _store.Run("mount").AssertSucceeds();
        string file = Path.Combine(_store.View, "docs", "hello.txt");
        File.WriteAllText(file, "hello, world\n");
        string mtime = MTimeOf(file);

        string summary = _store.Run("scan").AssertSucceeds();
        string history = _store.Run("history", "--json").AssertSucceeds();
        _store.Run("unmount").AssertSucceeds();

        Assert.Single(summary.TrimEnd('\n').Split('\n'));
        Assert.Matches(@"\b1 added\b", summary);
        Assert.Matches(@"\b0 updated\b", summary);
        Assert.Matches(@"\b0 removed\b", summary);
        var (keys, root) = Parse(Assert.Single(history.TrimEnd('\n').Split('\n')));
        Assert.Equal(["index", "arena", "type", "path", "blob", "size", "mtime"], keys);
        Assert.Equal(1, root.GetProperty("index").GetInt64());
        Assert.Equal("docs", root.GetProperty("arena").GetString());
        Assert.Equal("added", root.GetProperty("type").GetString());
        Assert.Equal("hello.txt", root.GetProperty("path").GetString());
        Assert.Equal(Blob("hello, world\n"), root.GetProperty("blob").GetString());
        Assert.Equal(13, root.GetProperty("size").GetInt64());
        Assert.Equal(mtime, root.GetProperty("mtime").GetString());
        Assert.Null(Mounts.FindMount(_store.View));
        Assert.Equal("hello, world\n", File.ReadAllText(Path.Combine(_store.StoreDir, "real", "docs", "hello.txt")));
    }

    [Fact]
    public void HistoryJson_OfAddedUpdatedRemoved_MatchesTheFilesChangedThroughTheView()
    {
        _store.InitWithLower(RemoteDocs);
        _store.Run("arena", "add", "docs").AssertSucceeds();
        _store.Run("mount").AssertSucceeds();
        string mine = Path.Combine(_store.View, "docs", "sub", "mine.txt");
        string remote = Path.Combine(_store.View, "docs", "remote.txt");

        Write(mine, "mine\n");
        string mineMTime = MTimeOf(mine);
        _store.Run("scan").AssertSucceeds();
        File.AppendAllText(remote, "edited\n");
        string remoteMTime = MTimeOf(remote);
        _store.Run("scan").AssertSucceeds();
        File.Delete(mine);
        _store.Run("scan").AssertSucceeds();
        string[] lines = _store.Run("history", "docs", "--json").AssertSucceeds().TrimEnd('\n').Split('\n');

        Assert.Equal(3, lines.Length);
        var (addedKeys, added) = Parse(lines[0]);
        Assert.Equal(["index", "arena", "type", "path", "blob", "size", "mtime"], addedKeys);
        Assert.Equal((1L, "added", "sub/mine.txt"), (added.GetProperty("index").GetInt64(), added.GetProperty("type").GetString(), added.GetProperty("path").GetString()));
        Assert.Equal(Blob("mine\n"), added.GetProperty("blob").GetString());
        Assert.Equal(5, added.GetProperty("size").GetInt64());
        Assert.Equal(mineMTime, added.GetProperty("mtime").GetString());

        var (updatedKeys, updated) = Parse(lines[1]);
        Assert.Equal(["index", "arena", "type", "path", "blob", "size", "mtime", "old_blob"], updatedKeys);
        Assert.Equal((2L, "updated", "remote.txt"), (updated.GetProperty("index").GetInt64(), updated.GetProperty("type").GetString(), updated.GetProperty("path").GetString()));
        Assert.Equal(Blob("remote content\nedited\n"), updated.GetProperty("blob").GetString());
        Assert.Equal("remote content\nedited\n".Length, updated.GetProperty("size").GetInt64());
        Assert.Equal(remoteMTime, updated.GetProperty("mtime").GetString());
        Assert.Equal(Blob("remote content\n"), updated.GetProperty("old_blob").GetString());

        var (removedKeys, removed) = Parse(lines[2]);
        Assert.Equal(["index", "arena", "type", "path", "old_blob"], removedKeys);
        Assert.Equal((3L, "removed", "sub/mine.txt"), (removed.GetProperty("index").GetInt64(), removed.GetProperty("type").GetString(), removed.GetProperty("path").GetString()));
        Assert.Equal(Blob("mine\n"), removed.GetProperty("old_blob").GetString());
    }

    [Fact]
    public void ArenaAdd_WhileMounted_CreatesTheArenaDirectoryThroughTheView()
    {
        _store.InitWithLower();
        _store.Run("mount").AssertSucceeds();

        _store.Run("arena", "add", "photos").AssertSucceeds();

        Assert.True(Directory.Exists(Path.Combine(_store.View, "photos")));
        Assert.True(Directory.Exists(Path.Combine(_store.StoreDir, "real", "photos")));
    }
}
