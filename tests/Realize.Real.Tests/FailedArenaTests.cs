using Microsoft.Extensions.Logging.Abstractions;
using Realize.Core;
using Realize.Storage;
using Realize.TestSupport;

namespace Realize.Real.Tests;

/// <summary>One failing arena fails alone: the others of the same scan are recorded, and the failed one records nothing it did not see.</summary>
public sealed class FailedArenaTests : IDisposable
{
    private static readonly ArenaName s_photos = ArenaName.Parse("photos");
    private static readonly ArenaName s_music = ArenaName.Parse("music");

    private readonly TempDir _dir = new("failed");
    private readonly Store _store;
    private readonly IndexDb _index;
    private readonly StoreScan _scan;

    public FailedArenaTests()
    {
        _store = Store.Create(_dir.Combine("store"), new StoreConfig
        {
            Arenas = [PlainArenas.Marked(s_photos, Photos("")), PlainArenas.Marked(s_music, Music(""))],
        });
        _index = _store.OpenIndex();
        _scan = new StoreScan(_store, _index, NullLogger.Instance);
        Write(Photos("trip/cat.jpg"), "meow");
        Write(Photos("dog.jpg"), "woof");
        Write(Music("tune.mp3"), "la");
        _scan.ScanAll();
        Assert.Empty(_scan.Failed);
    }

    private string Photos(string relative) => Path.Combine(_dir.Combine("photos"), relative);

    private string Music(string relative) => Path.Combine(_dir.Combine("music"), relative);

    private List<string> History() => _index.ReadHistory(null).Select(n => $"{n.Arena} {n.Type} {n.Path}").ToList();

    private static void Write(string path, string text)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    // The history after the scans of a test, by arena (music first), each in order.
    private static readonly string[] s_musicAdded = ["music Added tune.mp3", "music Added song.mp3", "photos Added dog.jpg", "photos Added trip/cat.jpg"];

    [Fact]
    public void ArenaDirectoryRemoved_FailsThatArena_WhileTheOtherIsRecorded()
    {
        Directory.Move(Photos(""), _dir.Combine("photos.gone"));
        Write(Music("song.mp3"), "lala");

        var summary = _scan.ScanAll();

        Assert.IsType<ArenaUnavailableException>(_scan.Failed[s_photos]);
        Assert.Equal([s_photos], _scan.Failed.Keys);
        Assert.Equal(s_musicAdded, History());
        Assert.Equal(1, summary.Arenas);
    }

    [Fact]
    public void ArenaDirectoryReplacedByAFile_FailsThatArena_WhileTheOtherIsRecorded()
    {
        Directory.Move(Photos(""), _dir.Combine("photos.gone"));
        File.WriteAllText(_dir.Combine("photos"), "not a directory");
        Write(Music("song.mp3"), "lala");

        _scan.Scan([new ScanScope(s_photos), new ScanScope(s_music)]);

        Assert.Contains("not a directory", _scan.Failed[s_photos].Message, StringComparison.Ordinal);
        Assert.Equal(s_musicAdded, History());
    }

    [Fact]
    public void UnreadableSubdirectory_FailsThatArena_WithNoRemovalOfItsFiles_WhileTheOtherIsRecorded()
    {
        // Mode 000 stops root only without the capabilities that bypass permissions: the scan runs
        // on a thread that dropped them, and open(2) of trip/ really fails with EACCES.
        File.SetUnixFileMode(Photos("trip"), UnixFileMode.None);
        Write(Photos("new.jpg"), "new");
        Write(Music("song.mp3"), "lala");

        Capabilities.WithoutFileAccessOverride(() => _scan.ScanAll());

        Assert.IsAssignableFrom<IOException>(_scan.Failed[s_photos]);
        Assert.Contains("trip", _scan.Failed[s_photos].Message, StringComparison.Ordinal);
        Assert.Equal(s_musicAdded, History());

        // Readable again: the arena is scanned as usual, its files still there.
        File.SetUnixFileMode(Photos("trip"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        _scan.ScanAll();
        Assert.Empty(_scan.Failed);
        Assert.Equal([.. s_musicAdded, "photos Added new.jpg"], History());
    }

    [Fact]
    public void FailureOfTheIndex_IsNoArenasAndStillThrows()
    {
        // index.db itself broken under the scan (its history table gone): no arena's fault.
        Shell.Check("sqlite3", _dir.Combine("store", "index.db"), "DROP TABLE history");
        Write(Music("song.mp3"), "lala");

        Assert.Throws<StorageException>(() => _scan.ScanAll());
    }

    public void Dispose()
    {
        if (Directory.Exists(Photos("trip")))
        {
            File.SetUnixFileMode(Photos("trip"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        _index.Dispose();
        _dir.Dispose();
    }
}
