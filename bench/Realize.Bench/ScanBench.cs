using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Realize.Core;
using Realize.Linux;
using Realize.Real;
using Realize.Storage;

namespace Realize.Bench;

/// <summary>
/// Targets 2 and 3: scans of a store with many small files, against <c>find -printf</c>, and
/// the peak memory of a process that scans. The layout of DIR is <c>lower/</c> (the overlay's
/// lower layer, holding an empty arena directory), <c>store/</c>, <c>view/</c> (the merged
/// view, left mounted by <see cref="Setup"/>; <c>unmount DIR</c> or umount removes it) and
/// <c>index.fresh.db</c> (the store's index before any scan). With <c>--plain</c> (the
/// million-file rows), arena <c>bench</c> is instead the plain directory <c>files/</c>, with its
/// marker: no lower layer, no merged view, and the same modes measure it.
/// </summary>
internal static class ScanBench
{
    private const int DefaultFilesPerDirectory = 100;
    private const string FindScript = "exec find \"$1\" -printf '%s %T@\\n' > /dev/null";
    private static readonly ArenaName s_arena = ArenaName.Parse("bench");

    /// <summary>Creates the store and <paramref name="count"/> new files, then mounts (see the class summary).</summary>
    /// <param name="perDirectory">Files in each directory.</param>
    /// <param name="plain">A plain-directory arena <c>files/</c> rather than the merged view's.</param>
    public static int Setup(string dir, int count, bool viaView, int perDirectory = DefaultFilesPerDirectory, bool plain = false)
    {
        dir = Path.GetFullPath(dir);
        if (Directory.Exists(dir) && Directory.EnumerateFileSystemEntries(dir).Any())
        {
            throw new BenchException($"{dir} is not empty: scan-setup needs a new or empty directory");
        }
        string lower = Path.Combine(dir, "lower");
        string view = Path.Combine(dir, "view");
        var clock = Stopwatch.StartNew();
        Store store;
        if (plain)
        {
            string files = Path.Combine(dir, "files");
            CreateFiles(files, count, perDirectory);
            // As 'realize arena add bench --path DIR/files' leaves it.
            ArenaMarker.Write(files, s_arena);
            store = Store.Create(Path.Combine(dir, "store"), new StoreConfig { Arenas = [new ArenaConfig(s_arena, files)] });
        }
        else
        {
            Directory.CreateDirectory(Path.Combine(lower, s_arena.Value));
            store = Store.Create(Path.Combine(dir, "store"), new StoreConfig
            {
                Mount = view,
                Lower = lower,
                Arenas = [new ArenaConfig(s_arena)],
            });
        }
        if (plain)
        {
            // Made above, before the store: there is no view to make them through.
        }
        else if (viaView)
        {
            // Through the overlay, as a user would: overlay creates the files in real/.
            MergedView.Mount(store);
            CreateFiles(Path.Combine(view, s_arena.Value), count, perDirectory);
        }
        else
        {
            // Straight into the upper dir while nothing is mounted: the same upper dir as
            // through the view (new files in new directories carry no overlay xattrs), faster.
            CreateFiles(Path.Combine(store.RealDir, s_arena.Value), count, perDirectory);
            MergedView.Mount(store);
        }
        double created = clock.Elapsed.TotalSeconds;
        // The index as it is before any scan, for memory-first --reset.
        File.Copy(store.IndexPath, FreshIndex(dir));
        // Write the new files out now, not in the middle of a measurement.
        Measure.Shell("sync");
        Console.WriteLine($"setup: {count} files in {(count + perDirectory - 1) / perDirectory} directories " +
            $"{(plain ? "in a plain-directory arena" : viaView ? "through the merged view" : "in real/ before the mount")}, {created:0.00} s (+ sync {clock.Elapsed.TotalSeconds - created:0.00} s)");
        Measure.Result("setup_files", count);
        Measure.Result("setup_via_view", viaView ? 1 : 0);
        Measure.Result("setup_s", created);
        return 0;
    }

    /// <summary>
    /// Only the first scan of the new files: its time, and the peak RSS of this process. With
    /// <paramref name="reset"/>, first puts back the index as scan-setup left it (nothing
    /// scanned yet), so that the first scan can be measured again.
    /// </summary>
    public static int MemoryFirst(string dir, bool reset)
    {
        var store = OpenMounted(dir);
        if (reset)
        {
            foreach (string suffix in new[] { "", "-wal", "-shm" })
            {
                File.Delete(store.IndexPath + suffix);
            }
            File.Copy(FreshIndex(dir), store.IndexPath);
        }
        using var index = store.OpenIndex();
        if (index.LastIndex(s_arena) != 0)
        {
            throw new BenchException($"the store in {dir} was scanned already: memory-first needs a store fresh from scan-setup, or --reset");
        }
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var clock = Stopwatch.StartNew();
        var summary = ScanOnce(store, index);
        double seconds = clock.Elapsed.TotalSeconds;
        double allocated = (GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore) / 1e6;
        Console.WriteLine($"first scan: {summary}");
        if (summary.Added != summary.Files || summary.Hashed != summary.Files || summary.Updated + summary.Removed != 0)
        {
            throw new BenchException($"the first scan should add and hash every file: {summary}");
        }
        Measure.Result("first_scan_files", summary.Files);
        Measure.Result("first_scan_s", seconds);
        Measure.Result("first_scan_allocated_mb", allocated);
        Memory("first_scan");
        return 0;
    }

    /// <summary>Only a rescan of the unchanged files: its time in a fresh process, and the peak RSS.</summary>
    public static int MemoryRescan(string dir)
    {
        var store = OpenMounted(dir);
        using var index = store.OpenIndex();
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var clock = Stopwatch.StartNew();
        var summary = ScanOnce(store, index);
        double seconds = clock.Elapsed.TotalSeconds;
        double allocated = (GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore) / 1e6;
        Console.WriteLine($"rescan (fresh process): {summary}");
        CheckUnchanged(summary, null);
        Measure.Result("rescan_files", summary.Files);
        Measure.Result("rescan_fresh_process_s", seconds);
        Measure.Result("rescan_fresh_process_allocated_mb", allocated);
        Memory("rescan");
        return 0;
    }

    /// <summary>
    /// The row "rescan of N unchanged files": first the first scan (when none was made yet) and
    /// a rescan, each in a fresh process (their peak RSS is the row's cost), then rescans of the
    /// unchanged tree in this process, interleaved with <c>find -printf</c> over the same files.
    /// </summary>
    public static int Rescans(string dir, int runs)
    {
        var store = OpenMounted(dir);
        string real = PlainDirectory(store) ?? store.RealDir;
        int files = Directory.EnumerateDirectories(PlainDirectory(store) ?? Path.Combine(store.RealDir, s_arena.Value)).Sum(d => Directory.EnumerateFiles(d).Count());
        string where = PlainDirectory(store) is null ? "in a merged view's arena" : "in a plain-directory arena";
        Rows.Measure($"rescan of {files:N0} unchanged files {where} vs find -printf", () => RescanRow(dir, store, real, runs));
        return 0;
    }

    private static Outcome RescanRow(string dir, Store store, string real, int runs)
    {
        var cost = new List<string>();
        using (var index = store.OpenIndex())
        {
            if (index.LastIndex(s_arena) == 0)
            {
                cost.Add(FreshProcess("memory-first", dir, "first scan", "first_scan"));
            }
        }
        cost.Add(FreshProcess("memory-rescan", dir, "rescan", "rescan_fresh_process", vmhwmKey: "rescan"));
        using var index2 = store.OpenIndex();

        // Warm both once: the dentry and inode caches, the JIT, SQLite's page cache.
        double findWarm = Measure.Shell(FindScript, real);
        var clock = Stopwatch.StartNew();
        var warm = ScanOnce(store, index2);
        Console.WriteLine($"warm-up: find {findWarm:0.000} s; scan {clock.Elapsed.TotalSeconds:0.000} s: {warm}");
        CheckUnchanged(warm, null);

        var scans = new List<double>();
        var finds = new List<double>();
        for (int run = 0; run < runs; run++)
        {
            for (int turn = 0; turn < 2; turn++)
            {
                if ((run + turn) % 2 == 0)
                {
                    finds.Add(Measure.Shell(FindScript, real));
                }
                else
                {
                    clock.Restart();
                    var summary = ScanOnce(store, index2);
                    scans.Add(clock.Elapsed.TotalSeconds);
                    CheckUnchanged(summary, warm.Files);
                }
            }
        }
        Measure.Series("rescan_s", scans);
        Measure.Series("find_s", finds);
        var ours = Figure.Of("Realize", scans, "s");
        var theirs = Figure.Of("find -printf", finds, "s");
        double limit = PlainDirectory(store) is null ? 3 : 2;
        return new Outcome(ours, theirs, Rows.TimeOf(ours, theirs), $"≤ {limit}x the time", ours.Median <= limit * theirs.Median,
            new Cost($"(no daemon: in-process) {string.Join("; ", cost)}", null));
    }

    /// <summary>Runs this program's <paramref name="mode"/> on DIR in a fresh process; returns "WHAT in a fresh process: peak X MB, Y s".</summary>
    private static string FreshProcess(string mode, string dir, string what, string key, string? vmhwmKey = null)
    {
        string output = Measure.Capture(Environment.ProcessPath ?? throw new BenchException("no path of this program"), mode, dir).Output;
        Console.Write(output);
        double Get(string name) => output.Split('\n').Select(l => l.Split(' ')).FirstOrDefault(f => f.Length == 3 && f[0] == "RESULT" && f[1] == name) is { } f
            ? double.Parse(f[2], CultureInfo.InvariantCulture)
            : throw new BenchException($"{mode} printed no {name}");
        return string.Create(CultureInfo.InvariantCulture, $"{what} in a fresh process: peak {Get((vmhwmKey ?? key) + "_vmhwm_mb"):0.0} MB, {Get(key + "_s"):0.00} s");
    }

    public static int Mount(string dir)
    {
        var store = Store.Open(Path.Combine(Path.GetFullPath(dir), "store"));
        Console.WriteLine($"mounted {MergedView.Mount(store)}");
        return 0;
    }

    public static int Unmount(string dir)
    {
        var store = Store.Open(Path.Combine(Path.GetFullPath(dir), "store"));
        if (store.Config.Mount is { } view && Mounts.IsMountPoint(view))
        {
            Console.WriteLine($"unmounted {MergedView.Unmount(store)}");
        }
        return 0;
    }

    private static string FreshIndex(string dir) => Path.Combine(Path.GetFullPath(dir), "index.fresh.db");

    private static ScanSummary ScanOnce(Store store, IndexDb index)
    {
        if (PlainDirectory(store) is null)
        {
            return new UpperScanner(store.RealDir, (store.Config.Lower is { } lower ? new DirectoryLower(lower, index) : LowerLayer.Empty), index, NullLogger.Instance)
                .Scan([s_arena]);
        }
        var scan = new StoreScan(store, index, NullLogger.Instance);
        var summary = scan.ScanAll();
        return scan.Failed.Count == 0 ? summary : throw new BenchException($"the scan failed: {scan.Failed.Values.First().Message}");
    }

    /// <summary>The directory of the plain arena of a store made with --plain; null for a merged view's.</summary>
    private static string? PlainDirectory(Store store) => store.Config.FindArena(s_arena)?.PlainPath;

    private static Store OpenMounted(string dir)
    {
        var store = Store.Open(Path.Combine(Path.GetFullPath(dir), "store"));
        if (PlainDirectory(store) is null && (store.Config.Mount is not { } view || !Mounts.IsMountPoint(view)))
        {
            throw new BenchException($"the merged view of {dir} is not mounted: run 'realize-bench mount {dir}'");
        }
        return store;
    }

    private static void CheckUnchanged(ScanSummary summary, long? files)
    {
        if (summary.Added + summary.Updated + summary.Removed + summary.Hashed != 0 || (files is { } n && summary.Files != n))
        {
            throw new BenchException($"a rescan of the unchanged tree should change and hash nothing: {summary}");
        }
    }

    private static void Memory(string key)
    {
        double peak = Measure.StatusMegabytes("VmHWM");
        double now = Measure.StatusMegabytes("VmRSS");
        var gc = GC.GetGCMemoryInfo();
        Console.WriteLine($"{key}: VmHWM {peak:0.0} MB, VmRSS {now:0.0} MB, GC heap {gc.HeapSizeBytes / 1e6:0.0} MB, " +
            $"peak GC committed {gc.TotalCommittedBytes / 1e6:0.0} MB, {GC.CollectionCount(0)} gen0 / {GC.CollectionCount(2)} gen2 collections");
        Measure.Result(key + "_vmhwm_mb", peak);
        Measure.Result(key + "_vmrss_mb", now);
    }

    /// <summary>Directories d0000... of <paramref name="perDirectory"/> files f000.txt... of a few bytes each.</summary>
    private static void CreateFiles(string root, int count, int perDirectory)
    {
        Directory.CreateDirectory(root);
        string? directory = null;
        for (int i = 0; i < count; i++)
        {
            if (i % perDirectory == 0)
            {
                directory = Path.Combine(root, string.Create(CultureInfo.InvariantCulture, $"d{i / perDirectory:0000}"));
                Directory.CreateDirectory(directory);
            }
            string name = string.Create(CultureInfo.InvariantCulture, $"f{i % perDirectory:000}.txt");
            // open, write, close: File.WriteAllBytes's own work doubles the time of a million.
            Libc.CreateFile(Path.Combine(directory!, name), Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"file {i}\n")));
        }
    }
}
