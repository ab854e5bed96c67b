using System.Diagnostics;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Realize.Core;
using Realize.Storage;

namespace Realize.Bench;

/// <summary>
/// The Unreal's rows: two daemons on this machine, <c>realize up</c> as child processes
/// (<see cref="BenchDaemon"/>). A listens, its arena <c>bench</c> the plain directory
/// <c>DIR/a/files</c>, which holds the data; B is blind, with its merged view <c>DIR/b/view</c>
/// over the Unreal. Everything B shows comes over TLS on loopback from A. Layout:
/// <c>DIR/a/store</c>, <c>DIR/b/store</c>, each <c>daemon.log</c>; in A's files <c>big.bin</c>
/// (<c>--mib</c> MiB) and <c>tree/</c> (<c>--files</c> small files, 100 to a directory). The
/// first read is compared with <c>rclone mount</c> (<see cref="Rclone"/>) of A's directory.
/// </summary>
internal static class UnrealBench
{
    private const string Arena = PeerPair.Arena;
    private const int FilesPerDirectory = 100;
    private const long CacheQuota = 16L << 30;
    private static readonly ArenaName s_arena = ArenaName.Parse(Arena);
    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(2);

    /// <summary>Creates A's files and both stores with the CLI, as a user would.</summary>
    public static int Setup(string dir, string cli, int files, int mib)
    {
        dir = Path.GetFullPath(dir);
        if (Directory.Exists(dir) && Directory.EnumerateFileSystemEntries(dir).Any())
        {
            throw new BenchException($"{dir} is not empty: unreal-setup needs a new or empty directory");
        }
        string data = FilesDir(dir);
        var clock = Stopwatch.StartNew();
        WriteRandom(Path.Combine(data, "big.bin"), (long)mib << 20, seed: 1);
        for (int i = 0; i < files; i++)
        {
            string path = Path.Combine(data, TreePath(i));
            if (i % FilesPerDirectory == 0)
            {
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            }
            File.WriteAllText(path, string.Create(CultureInfo.InvariantCulture, $"file {i}\n"));
        }
        Console.WriteLine($"unreal-setup: {mib} MiB big.bin and {files} small files written in {clock.Elapsed.TotalSeconds:0.0} s");

        PeerPair.Create(cli, StoreDir(dir, "a"), StoreDir(dir, "b"), data, ViewDir(dir), CacheQuota);
        Console.WriteLine($"unreal-setup: stores A (listening) and B (blind, view {ViewDir(dir)}) in {dir}");
        return 0;
    }

    /// <summary>The five rows of the Unreal, both daemons up; when they cannot start, the five rows say why.</summary>
    public static int Run(string dir, string cli, Settings settings)
    {
        dir = Path.GetFullPath(dir);
        string data = FilesDir(dir);
        string view = Path.Combine(ViewDir(dir), Arena);
        int files = Directory.EnumerateDirectories(Path.Combine(data, "tree")).Sum(d => Directory.EnumerateFiles(d).Count());
        long size = new FileInfo(Path.Combine(data, "big.bin")).Length;
        string mib = string.Create(CultureInfo.InvariantCulture, $"{size >> 20:N0} MiB");
        string findFirst = $"find -printf over {files:N0} remote files through B's merged view, first run (dentries and inodes dropped before each)";
        string findSecond = $"find -printf over {files:N0} remote files through B's merged view, second run";
        string first = $"first read (dd) of an uncached {mib} remote file, fetched over loopback";
        string warm = $"read (dd) of a cached {mib} remote file through B's merged view, page cache warm";
        string cold = $"read (dd) of a cached {mib} remote file through B's merged view, caches dropped";
        BenchDaemon? a = null, b = null;
        UnrealDb? unreal = null;
        try
        {
            var clock = Stopwatch.StartNew();
            a = BenchDaemon.Start(cli, Path.Combine(dir, "a"), settleMs: null);
            Console.WriteLine($"A answering after {clock.Elapsed.TotalSeconds:0.0} s (its first scan of {files} files and big.bin)");
            b = BenchDaemon.Start(cli, Path.Combine(dir, "b"), settleMs: null);
            unreal = UnrealDb.Open(b.Store.UnrealDbPath);
            var db = unreal;
            WaitFor("B to receive A's whole history", () => db.FindPath(s_arena, TreePath(files - 1)) is not null && Directory.Exists(Path.Combine(view, "tree")), a, b);
            b.WaitUntilQuiet();
            Console.WriteLine($"B has A's history and shows it after {clock.Elapsed.TotalSeconds:0.0} s");
        }
        catch (Exception e) when (e is BenchException or IOException or InvalidOperationException or Realize.Core.RealizeException or SqliteException)
        {
            foreach (string measure in new[] { findFirst, findSecond, first, warm, cold })
            {
                Rows.Skip(measure, $"the daemons did not start: {e.Message.Split('\n')[0]}");
            }
            unreal?.Dispose();
            b?.Dispose();
            a?.Dispose();
            return 0;
        }
        using (a)
        using (b)
        using (unreal)
        {
            Rows.Measure(findFirst, () => Find(view, data, settings.FindRuns, a, b, dropFirst: true));
            Rows.Measure(findSecond, () => Find(view, data, settings.Runs, a, b, dropFirst: false));
            Rows.Measure(first, () => FirstReads(dir, a, b, unreal, settings.FirstRuns));
            Rows.Measure(warm, () => CachedReads(dir, a, b, unreal, settings.Runs, cold: false));
            Rows.Measure(cold, () => CachedReads(dir, a, b, unreal, settings.ColdRuns, cold: true));
            b.Stop();
            a.Stop();
        }
        return 0;
    }

    /// <summary>The counts of <see cref="Run"/>.</summary>
    public sealed record Settings(int Runs, int FirstRuns, int ColdRuns, int FindRuns);

    // --- find over the tree, through B's view against native find on A's files, interleaved; with
    // dropFirst, dentries and inodes dropped before each (every name a LOOKUP answered from unreal.db).
    private static Outcome Find(string view, string data, int runs, BenchDaemon a, BenchDaemon b, bool dropFirst)
    {
        const string Script = "find \"$1\" -printf '%s %T@\\n' > /dev/null";
        string viewTree = Path.Combine(view, "tree"), nativeTree = Path.Combine(data, "tree");
        int seen = Measure.Capture("find", viewTree, "-type", "f").Output.Count(c => c == '\n');
        int native = Measure.Capture("find", nativeTree, "-type", "f").Output.Count(c => c == '\n');
        if (seen != native)
        {
            throw new BenchException($"find through B's view saw {seen} files, A has {native}");
        }
        if (!dropFirst)
        {
            // Names and attributes cached on both sides (a drop before, of the first-run row, emptied them).
            Measure.Shell(Script, viewTree);
            Measure.Shell(Script, nativeTree);
        }
        var cost = CostMeter.Start(("A", a), ("B", b));
        var viewTimes = new List<double>();
        var nativeTimes = new List<double>();
        for (int run = 0; run < runs; run++)
        {
            if (dropFirst)
            {
                DropCaches(2);
            }
            viewTimes.Add(Measure.Shell(Script, viewTree));
            if (dropFirst)
            {
                DropCaches(2);
            }
            nativeTimes.Add(Measure.Shell(Script, nativeTree));
        }
        string key = dropFirst ? "unreal_find_first" : "unreal_find";
        Measure.Series(key + "_s", viewTimes);
        Measure.Series(key + "_native_s", nativeTimes);
        var ours = Figure.Of("Realize", viewTimes, "s");
        var theirs = Figure.Of("find on A's directory", nativeTimes, "s");
        return dropFirst
            ? new Outcome(ours, theirs, Rows.TimeOf(ours, theirs), Cost: new Cost(cost.Finish(), null))
            : new Outcome(ours, theirs, Rows.TimeOf(ours, theirs), "≤ 2x the time", ours.Median <= 2 * theirs.Median, new Cost(cost.Finish(), null));
    }

    // --- The first read of an uncached big file, big.bin then new files of the same size written on A:
    // through B's view, and through a new rclone mount (cache mode full, an empty cache) of a new rclone serve http of A's directory.
    private static Outcome FirstReads(string dir, BenchDaemon a, BenchDaemon b, UnrealDb unreal, int runs)
    {
        const string Dd = "dd if=\"$1\" of=/dev/null bs=1M 2>/dev/null";
        string data = FilesDir(dir);
        string view = Path.Combine(ViewDir(dir), Arena);
        long size = new FileInfo(Path.Combine(data, "big.bin")).Length;
        var cost = CostMeter.Start(("A", a), ("B", b));
        var ours = new List<double>();
        var theirs = new List<double>();
        var serveCosts = new List<(double Peak, double Cpu)>();
        var mountCosts = new List<(double Peak, double Cpu)>();
        for (int run = 0; run < runs; run++)
        {
            string name = run == 0 ? "big.bin" : $"big-{run}.bin";
            if (run > 0)
            {
                WriteRandom(Path.Combine(data, name), size, seed: 1 + run);
            }
            // A serves from its page cache: a disk is not what is measured.
            Measure.Warm(Path.Combine(data, name));
            WaitFor($"{name} on B", () => unreal.FindPath(s_arena, name) is { Blob: not null } e && e.Size == size && File.Exists(Path.Combine(view, name)), a, b);
            var blob = unreal.FindPath(s_arena, name)!.Blob!.Value;
            if (BlocksPresent(b.Store, blob) != 0)
            {
                throw new BenchException($"{name} is already in B's cache: not a first read");
            }
            Measure.Warm(Path.Combine(data, name));
            double seconds = Measure.Shell(Dd, Path.Combine(view, name));
            ours.Add(seconds);
            Console.WriteLine($"first read {run}: {name} through B's view, {size / 1e6 / seconds:0} MB/s");
            if (run == 0)
            {
                // Once: the bytes B gave are A's (the cache verifies each block; this checks the whole path).
                Measure.Shell("cmp -s \"$1\" \"$2\"", Path.Combine(view, name), Path.Combine(data, name));
            }
            // A new server and mount for each read: neither has anything cached (nor a listing without the new file).
            using (var rclone = Rclone.Serve(data, Path.Combine(dir, "rclone")))
            using (var mount = rclone.Mount(run, name, size))
            {
                Measure.Warm(Path.Combine(data, name));
                seconds = Measure.Shell(Dd, Path.Combine(mount.Path, name));
                theirs.Add(seconds);
                serveCosts.Add(rclone.Cost());
                mountCosts.Add(mount.Cost());
                Console.WriteLine($"first read {run}: {name} through rclone mount, {size / 1e6 / seconds:0} MB/s");
            }
            if (run > 0)
            {
                File.Delete(Path.Combine(data, name));
            }
        }
        Measure.Series("unreal_first_read_s", ours);
        Measure.Series("unreal_rclone_first_read_s", theirs);
        var figure = Figure.Rates("Realize, through B's merged view (TLS, every 4 MiB block verified)", ours, size / 1e6, "MB/s");
        var reference = Figure.Rates($"rclone mount --vfs-cache-mode full of rclone serve http ({Rclone.Version()})", theirs, size / 1e6, "MB/s");
        string rcloneCost = string.Create(CultureInfo.InvariantCulture,
            $"serve: peak {serveCosts.Max(c => c.Peak):0.0} MB, {Measure.Median([.. serveCosts.Select(c => c.Cpu)]):0.00} CPU s; mount: peak {mountCosts.Max(c => c.Peak):0.0} MB, {Measure.Median([.. mountCosts.Select(c => c.Cpu)]):0.00} CPU s (a read each, the median)");
        return new Outcome(figure, reference, Rows.AsFast(figure, reference), "≥ 500 MB/s", figure.Median >= 500,
            new Cost($"{cost.Finish()} ({runs} read{(runs == 1 ? "" : "s")}; A hashing the new files included)", rcloneCost));
    }

    // --- big.bin, now cached on B: through B's view against its blob file in the cache, warm (each
    // right after a read of the same file: this VM pages out data left idle) or cold (caches dropped before each).
    private static Outcome CachedReads(string dir, BenchDaemon a, BenchDaemon b, UnrealDb unreal, int runs, bool cold)
    {
        const string Dd = "dd if=\"$1\" of=/dev/null bs=1M 2>/dev/null";
        string file = Path.Combine(ViewDir(dir), Arena, "big.bin");
        var blob = unreal.FindPath(s_arena, "big.bin")?.Blob ?? throw new BenchException("B does not know big.bin's content");
        string blobFile = Path.Combine(b.Store.UnrealDir, "blobs", blob.Hex);
        if (!File.Exists(blobFile))
        {
            throw new BenchException($"big.bin's blob is not in B's cache at {blobFile} (the first-read row reads it)");
        }
        long size = new FileInfo(blobFile).Length;
        var cost = CostMeter.Start(("A", a), ("B", b));
        var view = new List<double>();
        var native = new List<double>();
        for (int run = 0; run < runs; run++)
        {
            Prepare(file);
            view.Add(Measure.Shell(Dd, file));
            Prepare(blobFile);
            native.Add(Measure.Shell(Dd, blobFile));
        }
        string key = cold ? "unreal_cold" : "unreal_warm";
        Measure.Series(key + "_s", view);
        Measure.Series(key + "_native_s", native);
        var ours = Figure.Rates("Realize", view, size / 1e6, "MB/s");
        var theirs = Figure.Rates("dd of its blob file in B's cache", native, size / 1e6, "MB/s");
        return cold
            ? new Outcome(ours, theirs, Rows.AsFast(ours, theirs), Cost: new Cost(cost.Finish(), null))
            : new Outcome(ours, theirs, Rows.AsFast(ours, theirs), "≥ 0.9x as fast", Rows.Speedup(ours, theirs) >= 0.9, new Cost(cost.Finish(), null));

        void Prepare(string path)
        {
            if (cold)
            {
                DropCaches(3);
            }
            else
            {
                Measure.Warm(path);
            }
        }
    }

    private static long BlocksPresent(Store store, BlobHash blob)
    {
        using var connection = new SqliteConnection($"Data Source={store.UnrealDbPath};Mode=ReadOnly");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM cached_blocks WHERE blob = $blob";
        command.Parameters.AddWithValue("$blob", Convert.FromHexString(blob.Hex));
        return (long)command.ExecuteScalar()!;
    }

    /// <summary>Empties the machine's caches: 2 dentries and inodes, 3 the page cache as well (other work slows down meanwhile).</summary>
    private static void DropCaches(int what)
    {
        Measure.Shell("sync");
        File.WriteAllText("/proc/sys/vm/drop_caches", string.Create(CultureInfo.InvariantCulture, $"{what}\n"));
    }

    /// <summary>Polls <paramref name="done"/> every <paramref name="poll"/> ms until it holds; throws after <see cref="s_timeout"/> or when a daemon stops.</summary>
    private static void WaitFor(string what, Func<bool> done, BenchDaemon a, BenchDaemon b, int poll = 20)
    {
        var clock = Stopwatch.StartNew();
        while (!done())
        {
            if (clock.Elapsed > s_timeout)
            {
                throw new BenchException($"waited {s_timeout.TotalMinutes} minutes for {what}; see {a.LogPath} and {b.LogPath}");
            }
            a.EnsureRunning();
            b.EnsureRunning();
            Thread.Sleep(poll);
        }
    }

    private static void WriteRandom(string path, long size, int seed)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var output = File.Create(path);
        byte[] chunk = new byte[1 << 20];
        var random = new Random(seed);
        for (long written = 0; written < size; written += chunk.Length)
        {
            random.NextBytes(chunk);
            output.Write(chunk.AsSpan(0, (int)Math.Min(chunk.Length, size - written)));
        }
    }

    private static string TreePath(int i) => string.Create(CultureInfo.InvariantCulture, $"tree/d{i / FilesPerDirectory:D4}/f{i % FilesPerDirectory:D3}.txt");

    private static string FilesDir(string dir) => Path.Combine(dir, "a", "files");

    private static string StoreDir(string dir, string peer) => Path.Combine(dir, peer, "store");

    private static string ViewDir(string dir) => Path.Combine(dir, "b", "view");

}
