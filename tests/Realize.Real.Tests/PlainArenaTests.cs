using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Realize.Core;
using Realize.Linux;
using Realize.Storage;
using Realize.TestSupport;

namespace Realize.Real.Tests;

/// <summary>Plain-directory arenas: a directory shared as it is, no overlay, history from the index alone.</summary>
public sealed class PlainArenaTests : IDisposable
{
    private readonly TempDir _dir = new("plain");
    private readonly Store _store;
    private readonly IndexDb _index;

    public PlainArenaTests()
    {
        Directory.CreateDirectory(_dir.Combine("photos"));
        _store = Store.Create(_dir.Combine("store"), new StoreConfig
        {
            Arenas = [PlainArenas.Marked("photos", _dir.Combine("photos"))],
        });
        _index = _store.OpenIndex();
    }

    private string Photos(string relative) => Path.Combine(_dir.Combine("photos"), relative);

    private ScanSummary Scan() => StoreScan.Run(_store, _index, NullLogger.Instance);

    private List<string> History() => _index.ReadHistory(null).Select(n => $"{n.Arena} {n.Type} {n.Path}").ToList();

    private static void Write(string path, string text)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    [Fact]
    public void NewEditedRenamedAndDeletedFiles_MakeTheSameHistoryAsThroughTheView()
    {
        Write(Photos("a.jpg"), "a");
        Write(Photos("trip/b.jpg"), "b");
        Scan();
        File.AppendAllText(Photos("a.jpg"), "more");
        Directory.Move(Photos("trip"), Photos("journey"));
        Scan();
        File.Delete(Photos("a.jpg"));
        Scan();
        Assert.Equal(
            ["photos Added a.jpg", "photos Added trip/b.jpg", "photos Updated a.jpg", "photos Added journey/b.jpg", "photos Removed trip/b.jpg", "photos Removed a.jpg"],
            History());
        var updated = _index.ReadHistory(null).Single(n => n.Type == NotificationType.Updated);
        Assert.Equal(ContentHasher.HashBytes(Encoding.UTF8.GetBytes("a")), updated.OldBlob);
    }

    [Fact]
    public void FilesOfARenamedDirectory_AreNotHashedAgain_AndAnUnchangedTreeAddsNothing()
    {
        Write(Photos("trip/b.jpg"), "b");
        Write(Photos("trip/c.jpg"), "c");
        Assert.Equal(2, Scan().Hashed);
        Directory.Move(Photos("trip"), Photos("journey"));
        Assert.Equal(0, Scan().Hashed);
        var again = Scan();
        Assert.Equal((0, 0, 0, 0), (again.Added, again.Updated, again.Removed, again.Hashed));
    }

    [Fact]
    public void OverlayLookalikes_MeanNothingInAPlainDirectory()
    {
        Root.Require();
        // What overlay would read as a whiteout and an opaque directory are, here, a device and a directory.
        Shell.Check("mknod", Photos("gone"), "c", "0", "0");
        Write(Photos("dir/kept.jpg"), "kept");
        Xattr.Set(Photos("dir"), "trusted.overlay.opaque", "y"u8);
        var summary = Scan();
        Assert.Equal(1, summary.Skipped);
        Assert.Equal(["photos Added dir/kept.jpg"], History());
    }

    [Fact]
    public void SymlinkOutOfTheArena_IsSkipped_NeverFollowed()
    {
        Write(_dir.Combine("secret", "s.txt"), "not shared");
        File.CreateSymbolicLink(Photos("link"), _dir.Combine("secret"));
        var summary = Scan();
        Assert.Equal(1, summary.Skipped);
        Assert.Empty(History());
    }

    public void Dispose()
    {
        _index.Dispose();
        _dir.Dispose();
    }
}
