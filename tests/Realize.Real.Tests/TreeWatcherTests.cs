using Microsoft.Extensions.Logging.Abstractions;
using Realize.TestSupport;

namespace Realize.Real.Tests;

/// <summary>The watcher on real inotify.</summary>
public sealed class TreeWatcherTests : IDisposable
{
    private readonly TempDir _dir = new("watcher");

    [Fact]
    public void FileMovedFromOneWatchedRootToAnother_NamesBothEnds()
    {
        Directory.CreateDirectory(_dir.Combine("photos"));
        Directory.CreateDirectory(_dir.Combine("docs"));
        File.WriteAllText(_dir.Combine("photos", "a.jpg"), "a");
        using var watcher = new TreeWatcher([_dir.Combine("photos"), _dir.Combine("docs")], NullLogger.Instance);
        watcher.Start();

        File.Move(_dir.Combine("photos", "a.jpg"), _dir.Combine("docs", "a.jpg"));

        var changes = watcher.Read(0).Changes.Select(c => (c.Root, c.Path)).Distinct().Order().ToList();
        Assert.Equal([(0, "a.jpg"), (1, "a.jpg")], changes);
    }

    public void Dispose() => _dir.Dispose();
}
