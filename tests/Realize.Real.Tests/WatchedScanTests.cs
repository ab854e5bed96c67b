using Microsoft.Extensions.Logging.Abstractions;
using Realize.Core;
using Realize.TestSupport;

namespace Realize.Real.Tests;

/// <summary>Scans of only what inotify named on real/, as the daemon makes them.</summary>
public sealed class WatchedScanTests : IDisposable
{
    private readonly OverlayStore _store = new(["docs", "media"], lower => Directory.CreateDirectory(Path.Combine(lower, "docs")));
    private readonly TreeWatcher _watcher;

    public WatchedScanTests()
    {
        _watcher = new TreeWatcher([_store.Store.RealDir], NullLogger.Instance);
        _watcher.Start();
        Directory.CreateDirectory(_store.InView("docs/a/deeper"));
        Directory.CreateDirectory(_store.InView("media"));
        for (int i = 0; i < 20; i++)
        {
            File.WriteAllText(_store.InView($"docs/a/{(i % 2 == 0 ? "" : "deeper/")}f{i}.txt"), $"file {i}\n");
        }
        File.WriteAllText(_store.InView("docs/moving.txt"), "moves to another arena\n");
        Assert.Equal(21, _store.ScanWatched(_watcher).Added);
    }

    [Fact]
    public void RenamedDirectory_IsReportedFileByFile_WithTheSameBlobs_AndNothingHashed()
    {
        var before = _store.History().Where(n => n.Path.Value.StartsWith("a/", StringComparison.Ordinal)).ToDictionary(n => n.Path.Value[2..], n => n.Blob);
        Directory.Move(_store.InView("docs/a"), _store.InView("docs/b"));

        var summary = _store.ScanWatched(_watcher);

        Assert.Equal(0, summary.Hashed);
        var after = _store.History().Skip(21).ToList();
        Assert.Equal(20, after.Count(n => n.Type == NotificationType.Removed && n.Path.Value.StartsWith("a/", StringComparison.Ordinal)));
        var added = after.Where(n => n.Type == NotificationType.Added).ToDictionary(n => n.Path.Value, n => n.Blob);
        Assert.Equal(before.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => ("b/" + p.Key, p.Value)), added.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => (p.Key, p.Value)));
    }

    [Fact]
    public void DirectoryMovedToAnotherArena_KeepsItsBlobs_WithoutBeingHashed()
    {
        Directory.Move(_store.InView("docs/a"), _store.InView("media/a"));

        var summary = _store.ScanWatched(_watcher);

        Assert.Equal(0, summary.Hashed);
        var after = _store.History().Skip(21).ToList();
        Assert.Equal(20, after.Count(n => n.Arena.Value == "docs" && n.Type == NotificationType.Removed));
        Assert.Equal(20, after.Count(n => n.Arena.Value == "media" && n.Type == NotificationType.Added));
    }

    [Fact]
    public void FileRenamedOnItsOwn_IsHashedAgain_AsItsCtimeChanged()
    {
        // The price of catching a rename followed by a rewrite with the mtime set back (docs/overlay-notes.md).
        File.Move(_store.InView("docs/moving.txt"), _store.InView("media/moved.txt"));

        var summary = _store.ScanWatched(_watcher);

        Assert.Equal(1, summary.Hashed);
        var last = _store.History().Skip(21).Select(n => $"{n.Arena} {n.Type} {n.Path}").Order(StringComparer.Ordinal);
        Assert.Equal(["docs Removed moving.txt", "media Added moved.txt"], last);
    }

    public void Dispose()
    {
        _watcher.Dispose();
        _store.Dispose();
    }
}
