using System.Text;
using Realize.Core;
using Realize.Linux;
using Realize.Storage;
using Realize.TestSupport;

namespace Realize.Real.Tests;

/// <summary>One test per row of DESIGN.md "History": changes made through a real merged view, then a scan.</summary>
public sealed class HistoryTests
{
    private static readonly string[] s_arenas = ["docs"];

    private static void Lower(string lower)
    {
        Write(Path.Combine(lower, "docs", "remote.txt"), "remote content\n");
        Write(Path.Combine(lower, "docs", "dir", "one.txt"), "one\n");
        Write(Path.Combine(lower, "docs", "dir", "sub", "two.txt"), "two\n");
    }

    private static void Write(string path, string text)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    private static BlobHash Blob(string text) => ContentHasher.HashBytes(Encoding.UTF8.GetBytes(text));

    private static string Describe(Notification n) => $"{n.Type} {n.Path}";

    private static OverlayStore NewStore() => new(s_arenas, Lower);

    [Fact]
    public void Scan_OfUntouchedView_ReportsNothing()
    {
        using var store = NewStore();
        store.Scan();
        Assert.Empty(store.History());
    }

    [Fact]
    public void NewFile_IsAdded_WithSizeMtimeAndBlob()
    {
        using var store = NewStore();
        Write(store.InView("docs/new.txt"), "hello\n");
        var status = Stat.Lstat(store.InView("docs/new.txt"));
        store.Scan();
        var n = Assert.Single(store.History());
        Assert.Equal((NotificationType.Added, "new.txt"), (n.Type, n.Path.Value));
        Assert.Equal(Blob("hello\n"), n.Blob);
        Assert.Equal(6, n.Size);
        Assert.Equal(status.MTime, n.MTime);
        Assert.Null(n.OldBlob);
        Assert.Equal(1, n.Index);
    }

    [Fact]
    public void EditOfRemoteFile_IsUpdated_WithOldBlob()
    {
        using var store = NewStore();
        File.AppendAllText(store.InView("docs/remote.txt"), "more\n");
        store.Scan();
        var n = Assert.Single(store.History());
        Assert.Equal((NotificationType.Updated, "remote.txt"), (n.Type, n.Path.Value));
        Assert.Equal(Blob("remote content\nmore\n"), n.Blob);
        Assert.Equal(Blob("remote content\n"), n.OldBlob);
    }

    [Fact]
    public void EditOfLocalFile_IsUpdated_AfterAdded()
    {
        using var store = NewStore();
        Write(store.InView("docs/mine.txt"), "v1");
        store.Scan();
        Write(store.InView("docs/mine.txt"), "v2 longer");
        store.Scan();
        var history = store.History();
        Assert.Equal(["Added mine.txt", "Updated mine.txt"], history.Select(Describe));
        Assert.Equal(Blob("v1"), history[1].OldBlob);
        Assert.Equal([1L, 2L], history.Select(n => n.Index));
    }

    [Fact]
    public void DeleteOfRemoteFile_LeavesWhiteout_AndIsRemoved()
    {
        using var store = NewStore();
        File.Delete(store.InView("docs/remote.txt"));
        Assert.True(Stat.Lstat(Path.Combine(store.Store.RealDir, "docs", "remote.txt")).IsWhiteoutDevice);
        store.Scan();
        var n = Assert.Single(store.History());
        Assert.Equal("Removed remote.txt", Describe(n));
        Assert.Equal(Blob("remote content\n"), n.OldBlob);
        Assert.Null(n.Blob);
    }

    [Fact]
    public void DeleteOfLocalOnlyFile_LeavesNothing_AndIsRemoved()
    {
        using var store = NewStore();
        Write(store.InView("docs/tmp.txt"), "short-lived");
        store.Scan();
        File.Delete(store.InView("docs/tmp.txt"));
        Assert.Null(Stat.TryLstat(Path.Combine(store.Store.RealDir, "docs", "tmp.txt")));
        store.Scan();
        Assert.Equal(["Added tmp.txt", "Removed tmp.txt"], store.History().Select(Describe));
    }

    [Fact]
    public void DeleteOfRemoteDirectory_RemovesEveryFileBelow()
    {
        using var store = NewStore();
        Directory.Delete(store.InView("docs/dir"), recursive: true);
        store.Scan();
        Assert.Equal(["Removed dir/one.txt", "Removed dir/sub/two.txt"], store.History().Select(Describe));
    }

    [Fact]
    public void DeleteOfDirectory_WithLocalAndRemoteFiles_RemovesBoth()
    {
        using var store = NewStore();
        Write(store.InView("docs/dir/mine.txt"), "mine");
        store.Scan();
        Directory.Delete(store.InView("docs/dir"), recursive: true);
        store.Scan();
        Assert.Equal(
            ["Added dir/mine.txt", "Removed dir/mine.txt", "Removed dir/one.txt", "Removed dir/sub/two.txt"],
            store.History().Select(Describe));
    }

    [Fact]
    public void RenameOfRemoteFile_IsRemovedPlusAdded_WithTheSameBlob_AndNoCopy()
    {
        using var store = NewStore();
        File.Move(store.InView("docs/remote.txt"), store.InView("docs/moved.txt"));
        string upper = Path.Combine(store.Store.RealDir, "docs", "moved.txt");
        Assert.NotNull(Xattr.Get(upper, "trusted.overlay.metacopy"));
        store.Scan();
        var history = store.History();
        Assert.Equal(["Added moved.txt", "Removed remote.txt"], history.Select(Describe));
        Assert.Equal(Blob("remote content\n"), history[0].Blob);
        Assert.Equal(history[0].Blob, history[1].OldBlob);
    }

    [Fact]
    public void RenameOfLocalFile_IsRemovedPlusAdded_WithTheSameBlob()
    {
        using var store = NewStore();
        Write(store.InView("docs/a.txt"), "local");
        store.Scan();
        File.Move(store.InView("docs/a.txt"), store.InView("docs/b.txt"));
        store.Scan();
        var history = store.History();
        Assert.Equal(["Added a.txt", "Removed a.txt", "Added b.txt"], history.Select(Describe));
        Assert.Equal(history[0].Blob, history[2].Blob);
    }

    [Fact]
    public void RenameOfLocalDirectory_DoesNotHashItsFilesAgain()
    {
        using var store = NewStore();
        Write(store.InView("docs/mine/a.txt"), "a");
        Write(store.InView("docs/mine/deep/b.txt"), "b");
        Assert.Equal(2, store.Scan().Hashed);
        Directory.Move(store.InView("docs/mine"), store.InView("docs/moved"));
        Assert.Equal(0, store.Scan().Hashed);
        Assert.Equal(
            ["Added mine/a.txt", "Added mine/deep/b.txt", "Added moved/a.txt", "Added moved/deep/b.txt", "Removed mine/a.txt", "Removed mine/deep/b.txt"],
            store.History().Select(Describe).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void RenameOfRemoteDirectory_UsesRedirect_AndMovesEveryFile()
    {
        using var store = NewStore();
        Directory.Move(store.InView("docs/dir"), store.InView("docs/renamed"));
        Assert.NotNull(Xattr.Get(Path.Combine(store.Store.RealDir, "docs", "renamed"), "trusted.overlay.redirect"));
        store.Scan();
        Assert.Equal(
            ["Added renamed/one.txt", "Added renamed/sub/two.txt", "Removed dir/one.txt", "Removed dir/sub/two.txt"],
            store.History().Select(Describe).Order(StringComparer.Ordinal));
        Assert.Equal(Blob("two\n"), store.History().Single(n => n.Path.Value == "renamed/sub/two.txt").Blob);
    }

    [Fact]
    public void MoveOfRemoteDirectory_IntoAnotherDirectory_UsesAbsoluteRedirect()
    {
        using var store = NewStore();
        Directory.CreateDirectory(store.InView("docs/elsewhere"));
        Directory.Move(store.InView("docs/dir/sub"), store.InView("docs/elsewhere/sub"));
        store.Scan();
        Assert.Equal(["Removed dir/sub/two.txt", "Added elsewhere/sub/two.txt"], store.History().Select(Describe));
    }

    [Fact]
    public void ReplacedDirectory_IsOpaque_AndHidesTheLowerFiles()
    {
        using var store = NewStore();
        Directory.Delete(store.InView("docs/dir"), recursive: true);
        Write(store.InView("docs/dir/fresh.txt"), "fresh");
        Assert.Equal("y"u8.ToArray(), Xattr.Get(Path.Combine(store.Store.RealDir, "docs", "dir"), "trusted.overlay.opaque"));
        store.Scan();
        Assert.Equal(["Added dir/fresh.txt", "Removed dir/one.txt", "Removed dir/sub/two.txt"], store.History().Select(Describe));
    }

    [Fact]
    public void DirectoryReplacedByFile_RemovesTheFilesBelow()
    {
        using var store = NewStore();
        Directory.Delete(store.InView("docs/dir"), recursive: true);
        Write(store.InView("docs/dir"), "now a file");
        store.Scan();
        Assert.Equal(["Added dir", "Removed dir/one.txt", "Removed dir/sub/two.txt"], store.History().Select(Describe));
    }

    [Fact]
    public void Chmod_AndXattr_OfRemoteFile_AreMetadataOnly_AndReportNothing()
    {
        using var store = NewStore();
        File.SetUnixFileMode(store.InView("docs/remote.txt"), UnixFileMode.UserRead);
        Xattr.Set(store.InView("docs/dir/one.txt"), "user.realize.mark", "keep"u8);
        Assert.NotNull(Xattr.Get(Path.Combine(store.Store.RealDir, "docs", "remote.txt"), "trusted.overlay.metacopy"));
        store.Scan();
        Assert.Empty(store.History());
    }

    [Fact]
    public void Chmod_OfLocalFile_ReportsNothing()
    {
        using var store = NewStore();
        Write(store.InView("docs/mine.txt"), "x");
        store.Scan();
        File.SetUnixFileMode(store.InView("docs/mine.txt"), UnixFileMode.UserRead);
        store.Scan();
        Assert.Equal(["Added mine.txt"], store.History().Select(Describe));
    }

    [Fact]
    public void HardLink_IsAnotherAddedFile_WithTheSameBlob()
    {
        using var store = NewStore();
        Write(store.InView("docs/a.txt"), "linked");
        Posix.Link(store.InView("docs/a.txt"), store.InView("docs/b.txt"));
        store.Scan();
        var history = store.History();
        Assert.Equal(["Added a.txt", "Added b.txt"], history.Select(Describe));
        Assert.Equal(history[0].Blob, history[1].Blob);
    }

    [Fact]
    public void Truncation_IsUpdated_ToTheEmptyBlob()
    {
        using var store = NewStore();
        using (var stream = new FileStream(store.InView("docs/remote.txt"), FileMode.Open, FileAccess.Write))
        {
            stream.SetLength(0);
        }
        store.Scan();
        var n = Assert.Single(store.History());
        Assert.Equal("Updated remote.txt", Describe(n));
        Assert.Equal(0, n.Size);
        Assert.Equal(Blob(""), n.Blob);
    }

    [Fact]
    public void RewriteWithIdenticalContent_ReportsNothing()
    {
        using var store = NewStore();
        Write(store.InView("docs/remote.txt"), "remote content\n");
        Write(store.InView("docs/mine.txt"), "same");
        store.Scan();
        Write(store.InView("docs/mine.txt"), "same");
        store.Scan();
        Assert.Equal(["Added mine.txt"], store.History().Select(Describe));
    }

    [Fact]
    public void EmptyFile_IsAdded_WithTheHashOfTheEmptyString()
    {
        using var store = NewStore();
        File.WriteAllBytes(store.InView("docs/empty"), []);
        store.Scan();
        var n = Assert.Single(store.History());
        Assert.Equal(0, n.Size);
        Assert.Equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", n.Blob!.Value.Hex);
    }

    [Theory]
    [InlineData("with space.txt")]
    [InlineData("dir with space/ünïcödé ✓.txt")]
    [InlineData("new\nline.txt")]
    public void UnusualNames_AreReportedAsTheyAre(string name)
    {
        using var store = NewStore();
        Write(store.InView("docs/" + name), "content");
        store.Scan();
        Assert.Equal("Added " + name, Describe(Assert.Single(store.History())));
    }

    [Fact]
    public void SpecialFiles_AreSkipped_AndCounted_NeverFatal()
    {
        using var store = NewStore();
        File.CreateSymbolicLink(store.InView("docs/link"), "remote.txt");
        Posix.Mkfifo(store.InView("docs/fifo"));
        // .NET removes a socket's file when it is disposed: keep it open over the scan.
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        socket.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(store.InView("docs/sock")));
        Write(store.InView("docs/real.txt"), "real");
        var summary = store.Scan();
        Assert.Equal(3, summary.Skipped);
        Assert.Equal(["Added real.txt"], store.History().Select(Describe));
    }

    [Fact]
    public void SymlinkReplacingRemoteFile_RemovesIt()
    {
        using var store = NewStore();
        File.Delete(store.InView("docs/remote.txt"));
        File.CreateSymbolicLink(store.InView("docs/remote.txt"), "dir/one.txt");
        store.Scan();
        Assert.Equal(["Removed remote.txt"], store.History().Select(Describe));
    }

    [Fact]
    public void PathOutsideEveryArena_IsIgnored_AndCounted()
    {
        using var store = NewStore();
        Write(store.InView("undeclared/file.txt"), "nobody's");
        var summary = store.Scan();
        Assert.Equal(1, summary.Outside);
        Assert.Empty(store.History());
    }

    [Fact]
    public void ScanningTwice_AddsNothing_AndHashesNothing()
    {
        using var store = NewStore();
        Write(store.InView("docs/a.txt"), "a");
        File.AppendAllText(store.InView("docs/remote.txt"), "b");
        Directory.Move(store.InView("docs/dir"), store.InView("docs/moved"));
        store.Scan();
        int length = store.History().Count;
        var second = store.Scan();
        Assert.Equal(length, store.History().Count);
        Assert.Equal(0, second.Hashed);
        Assert.Equal((0, 0, 0), (second.Added, second.Updated, second.Removed));
    }

    [Fact]
    public void RecreatingARemovedRemoteFile_IsAddedAgain()
    {
        using var store = NewStore();
        File.Delete(store.InView("docs/remote.txt"));
        store.Scan();
        Write(store.InView("docs/remote.txt"), "back");
        store.Scan();
        var history = store.History();
        Assert.Equal(["Removed remote.txt", "Added remote.txt"], history.Select(Describe));
        Assert.Null(history[1].OldBlob);
    }

    [Fact]
    public void ScanWhileUnmounted_ReadsTheUpperDirAlone()
    {
        using var store = NewStore();
        File.AppendAllText(store.InView("docs/remote.txt"), "x");
        store.Unmount();
        store.Scan();
        Assert.Equal(["Updated remote.txt"], store.History().Select(Describe));
    }
}
