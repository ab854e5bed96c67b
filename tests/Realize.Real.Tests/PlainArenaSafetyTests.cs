using Microsoft.Extensions.Logging.Abstractions;
using Realize.Core;
using Realize.Storage;
using Realize.TestSupport;

namespace Realize.Real.Tests;

/// <summary>
/// The streaming scan of a plain arena against what could make it report files removed that are
/// not: the disk going away mid-walk, a copy of it in its place, names whose order differs
/// between the walk and SQLite, partial scans over page boundaries.
/// </summary>
public sealed class PlainArenaSafetyTests : IDisposable
{
    private readonly TempDir _dir = new("plainsafety");
    private readonly Store _store;
    private readonly IndexDb _index;

    public PlainArenaSafetyTests()
    {
        _store = Store.Create(_dir.Combine("store"), new StoreConfig
        {
            Arenas = [PlainArenas.Marked("photos", _dir.Combine("photos"))],
        });
        _index = _store.OpenIndex();
    }

    private string Photos(string relative) => Path.Combine(_dir.Combine("photos"), relative);

    private List<string> History() => _index.ReadHistory(null).Select(n => $"{n.Type} {n.Path}").ToList();

    private static void Write(string path, string text)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    private sealed class Hook(Action action) : IProgress<long>
    {
        private bool _done;
        public void Report(long value)
        {
            if (!_done)
            {
                _done = true;
                action();
            }
        }
    }

    [Fact]
    public void DirectoryReplacedMidWalk_AsByAnUnmount_RecordsNoRemoval_AndFailsTheArena()
    {
        for (int i = 0; i < 300; i++)
        {
            Write(Photos($"a/{i:D4}"), $"{i}");
        }
        for (int i = 0; i < 5; i++)
        {
            Write(Photos($"b/{i}"), $"b{i}");
        }
        var scan = new StoreScan(_store, _index, NullLogger.Instance);
        scan.ScanAll();
        int before = History().Count;
        // What path lookups see once the disk is unmounted (umount, or umount -l): the empty mount point.
        scan.ScanAll(new Hook(() =>
        {
            Directory.Move(_dir.Combine("photos"), _dir.Combine("disk"));
            Directory.CreateDirectory(_dir.Combine("photos"));
        }));
        Assert.Equal([], History().Skip(before).Where(h => h.StartsWith("Removed", StringComparison.Ordinal)).Take(5).ToList());
        Assert.IsType<ArenaUnavailableException>(scan.Failed[ArenaName.Parse("photos")]);
    }

    [Fact]
    public void NamesOrderedDifferentlyByBytesAndChars_ASecondScanSaysNothing_AndReplacementsAreExact()
    {
        string[] names = ["a-b", "a/b", "a.txt", "a/x", "a!/y", "a0", "é", "\uE000", "\uFFFD", "😀a", "😀/z", "\U0001F600/w", "\uFF5E/q", "a\u0001", "a/\u0001", "b/c/d", "b-c/d", "b.c"];
        foreach (var n in names)
        {
            Write(Photos(n), n);
        }
        for (int i = 0; i < 2100; i++)
        {
            Write(Photos($"m/{i:D5}"), $"{i}");
        }
        for (int i = 0; i < 1024; i++)
        {
            Write(Photos($"n/{i:D5}"), $"{i}");
        }
        var scan = new StoreScan(_store, _index, NullLogger.Instance);
        scan.ScanAll();
        int before = History().Count;
        var again = scan.ScanAll();
        Assert.Equal((0, 0, 0, 0), (again.Added, again.Updated, again.Removed, again.Hashed));
        // A file replaced by a directory, and the reverse.
        File.Delete(Photos("a0"));
        Write(Photos("a0/k"), "k");
        Directory.Delete(Photos("b/c"), true);
        Write(Photos("b/c"), "c");
        scan.Scan([new ScanScope(ArenaName.Parse("photos"), ["a0", "b/c", "m/00001"])]);
        var last = scan.ScanAll();
        Assert.Equal((0, 0, 0, 0), (last.Added, last.Updated, last.Removed, last.Hashed));
        Assert.Equal(["Added a0/k", "Added b/c", "Removed a0", "Removed b/c/d"], History().Skip(before).Order(StringComparer.Ordinal).ToList());
    }

    [Fact]
    public void PartialScopeOverSeveralPages_RemovesExactlyWhatWent()
    {
        for (int i = 0; i < 2100; i++)
        {
            Write(Photos($"m/{i:D5}"), $"{i}");
        }
        Write(Photos("m-x"), "x");
        Write(Photos("m.y"), "y");
        Write(Photos("m0"), "z");
        var scan = new StoreScan(_store, _index, NullLogger.Instance);
        scan.ScanAll();
        int before = History().Count;
        File.Delete(Photos("m/01024"));
        File.Delete(Photos("m/02099"));
        scan.Scan([new ScanScope(ArenaName.Parse("photos"), ["m", "m-x"])]);
        Assert.Equal(["Removed m/01024", "Removed m/02099"], History().Skip(before).ToList());
    }

    [Fact]
    public void MarkerMigration_RefusesACopyOfTheDisk_WithTheSameMTimes()
    {
        Write(Photos("old.jpg"), "old");
        Write(Photos("new.jpg"), "new");
        var scan = new StoreScan(_store, _index, NullLogger.Instance);
        scan.ScanAll();
        int before = History().Count;
        // A backup disk made before new.jpg, at the mount point, for an arena made before markers.
        Directory.CreateDirectory(_dir.Combine("backup"));
        Shell.Check("cp", "-a", Photos("old.jpg"), _dir.Combine("backup/old.jpg"));
        Directory.Move(_dir.Combine("photos"), _dir.Combine("main"));
        Directory.Move(_dir.Combine("backup"), _dir.Combine("photos"));
        scan.ScanAll();
        Assert.Equal([], History().Skip(before).ToList());
        Assert.IsType<ArenaUnavailableException>(scan.Failed[ArenaName.Parse("photos")]);
        Assert.False(File.Exists(Photos(ArenaMarker.FileName)), "no marker is written onto the copy");
    }

    public void Dispose()
    {
        _index.Dispose();
        _dir.Dispose();
    }
}
