using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;
using Realize.Core;
using Realize.Storage;

namespace Realize.Bench;

/// <summary>
/// Issue 10's speed targets: two daemons on this machine, <c>realize up</c> as child processes
/// (<see cref="BenchDaemon"/>). A listens, its arena <c>bench</c> the plain directory
/// <c>DIR/a/files</c>, which holds the data; B is blind, with its merged view <c>DIR/b/view</c>
/// over the Unreal. Everything B shows comes over TLS on loopback from A. Layout:
/// <c>DIR/a/store</c>, <c>DIR/b/store</c>, each <c>daemon.log</c>; in A's files <c>big.bin</c>
/// (<c>--mib</c> MiB), <c>tree/</c> (<c>--files</c> small files, 100 to a directory),
/// <c>lat/</c>, <c>burst/</c> and <c>ren/r0/</c> (100 files) for the latencies.
/// </summary>
internal static class UnrealBench
{
    private const string Arena = "bench";
    private const int FilesPerDirectory = 100;
    private const int RenameFiles = 100;
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
        // A directory shows on B only with a file below it.
        foreach (string sub in new[] { "lat", "burst" })
        {
            Directory.CreateDirectory(Path.Combine(data, sub));
            File.WriteAllText(Path.Combine(data, sub, "keep.txt"), "keep\n");
        }
        Directory.CreateDirectory(Path.Combine(data, "ren", "r0"));
        for (int i = 0; i < RenameFiles; i++)
        {
            File.WriteAllText(Path.Combine(data, "ren", "r0", RenameName(i)), RenameContent(i));
        }
        Console.WriteLine($"unreal-setup: {mib} MiB big.bin and {files} small files written in {clock.Elapsed.TotalSeconds:0.0} s");

        int port = Realize.Network.Loopback.FreePort();
        string a = StoreDir(dir, "a"), b = StoreDir(dir, "b");
        RealizeCli(cli, "--store", a, "init", "--listen", $"127.0.0.1:{port}");
        RealizeCli(cli, "--store", b, "init", "--mount", ViewDir(dir));
        RealizeCli(cli, "--store", a, "arena", "add", Arena, "--path", data);
        RealizeCli(cli, "--store", b, "arena", "add", Arena);
        RealizeCli(cli, "--store", a, "peer", "add", "B", RealizeCli(cli, "--store", b, "id").Output.Trim());
        RealizeCli(cli, "--store", b, "peer", "add", "A", RealizeCli(cli, "--store", a, "id").Output.Trim(), "--address", $"127.0.0.1:{port}");
        // A quota that holds every blob of the run: eviction is not what is measured.
        var store = Store.Open(b);
        store.SaveConfig(store.Config with { CacheQuota = CacheQuota });
        Console.WriteLine($"unreal-setup: stores A (listening on 127.0.0.1:{port}) and B (blind, view {ViewDir(dir)}) in {dir}");
        return 0;
    }

    /// <summary>Every benchmark of the Unreal, both daemons up.</summary>
    public static int Run(string dir, string cli, Settings settings)
    {
        dir = Path.GetFullPath(dir);
        string data = FilesDir(dir);
        string view = Path.Combine(ViewDir(dir), Arena);
        int files = Directory.EnumerateDirectories(Path.Combine(data, "tree")).Sum(d => Directory.EnumerateFiles(d).Count());
        var clock = Stopwatch.StartNew();
        using var a = BenchDaemon.Start(cli, Path.Combine(dir, "a"), settleMs: null);
        Console.WriteLine($"A answering after {clock.Elapsed.TotalSeconds:0.0} s (its first scan of {files} files and big.bin)");
        using var b = BenchDaemon.Start(cli, Path.Combine(dir, "b"), settleMs: null);
        using var unreal = UnrealDb.Open(b.Store.UnrealDbPath);
        WaitFor("B to receive A's whole history", () => unreal.FindPath(s_arena, TreePath(files - 1)) is not null
            && unreal.FindPath(s_arena, "ren/r0/" + RenameName(RenameFiles - 1)) is not null && Directory.Exists(Path.Combine(view, "tree")), a, b);
        b.WaitUntilQuiet();
        Console.WriteLine($"B has A's history and shows it after {clock.Elapsed.TotalSeconds:0.0} s");

        Find(view, data, settings.Runs);
        FirstReads(dir, a, b, unreal, settings.FirstRuns);
        CachedReads(dir, b, unreal, settings.Runs, settings.ColdRuns);
        NewFiles(dir, a, b, unreal, settings.LatencyRuns);
        Burst(dir, a, b, settings.BurstFiles, settings.BurstRuns);
        Renames(dir, a, b, settings.RenameRuns, first: 0, "unreal_rename");
        Measure.Result("unreal_b_vmhwm_mb", b.Megabytes("VmHWM"));
        // The renames again with A at --settle-ms 0: a rename waits for A's settle delay (it is no
        // close after writing), so this shows what the rest of the way costs.
        a.Stop();
        using var eager = BenchDaemon.Start(cli, Path.Combine(dir, "a"), settleMs: 0);
        Libc.CreateFile(Path.Combine(data, "lat", "reconnected.txt"), "reconnected\n"u8);
        WaitFor("B to receive A's history again", () => unreal.FindPath(s_arena, "lat/reconnected.txt") is not null, eager, b);
        Renames(dir, eager, b, settings.RenameRuns, first: settings.RenameRuns, "unreal_rename_settle0");
        b.Stop();
        eager.Stop();
        return 0;
    }

    /// <summary>The counts and sizes of <see cref="Run"/>.</summary>
    public sealed record Settings(int Runs, int FirstRuns, int ColdRuns, int LatencyRuns, int BurstFiles, int BurstRuns, int RenameRuns);

    // --- find over the tree: through B's view (first run, then interleaved with native find on A's files).
    private static void Find(string view, string data, int runs)
    {
        const string Script = "find \"$1\" -printf '%s %T@\\n' > /dev/null";
        string viewTree = Path.Combine(view, "tree"), nativeTree = Path.Combine(data, "tree");
        double first = Measure.Shell(Script, viewTree);
        Measure.Result("unreal_find_first_s", first);
        int seen = Measure.Capture("find", viewTree, "-type", "f").Output.Count(c => c == '\n');
        int native = Measure.Capture("find", nativeTree, "-type", "f").Output.Count(c => c == '\n');
        if (seen != native)
        {
            throw new BenchException($"find through B's view saw {seen} files, A has {native}");
        }
        Measure.Result("unreal_find_files", seen);
        Measure.Shell(Script, nativeTree);
        var viewTimes = new List<double>();
        var nativeTimes = new List<double>();
        for (int run = 0; run < runs; run++)
        {
            viewTimes.Add(Measure.Shell(Script, viewTree));
            nativeTimes.Add(Measure.Shell(Script, nativeTree));
        }
        double viewMedian = Measure.Series("unreal_find_s", viewTimes);
        double nativeMedian = Measure.Series("unreal_find_native_s", nativeTimes);
        Measure.Result("unreal_find_ratio", viewMedian / nativeMedian);
        Measure.Result("unreal_find_first_ratio", first / nativeMedian);
    }

    // --- The first read of an uncached big file: big.bin, then new files of the same size written on A.
    private static void FirstReads(string dir, BenchDaemon a, BenchDaemon b, UnrealDb unreal, int runs)
    {
        string data = FilesDir(dir);
        string view = Path.Combine(ViewDir(dir), Arena);
        long size = new FileInfo(Path.Combine(data, "big.bin")).Length;
        var times = new List<double>();
        var fresh = new List<double>();
        double peak = 0;
        for (int run = 0; run < runs; run++)
        {
            string name = run == 0 ? "big.bin" : $"big-{run}.bin";
            fresh.Add(FreshPages(dir, size));
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
            using var rss = new RssSampler(b.Pid);
            double seconds = Measure.Shell("dd if=\"$1\" of=/dev/null bs=1M 2>/dev/null", Path.Combine(view, name));
            peak = Math.Max(peak, rss.Stop());
            times.Add(seconds);
            Console.WriteLine($"first read {run}: {name}, {size / 1e6 / seconds:0} MB/s; B's RSS peaked at {rss.Peak:0.0} MB");
            if (run == 0)
            {
                // Once: the bytes B gave are A's (the cache verifies each block; this checks the whole path).
                Measure.Shell("cmp -s \"$1\" \"$2\"", Path.Combine(view, name), Path.Combine(data, name));
            }
            else
            {
                File.Delete(Path.Combine(data, name));
            }
        }
        double median = Measure.Series("unreal_first_read_s", times);
        Measure.Result("unreal_first_read_mb_per_s", size / 1e6 / median);
        double freshMedian = Measure.Series("unreal_fresh_pages_s", fresh);
        Measure.Result("unreal_fresh_pages_mb_per_s", size / 1e6 / freshMedian);
        Measure.Result("unreal_first_read_mb", size / 1e6);
        Measure.Result("unreal_read_rss_peak_mb", peak);
    }

    // --- big.bin, now cached on B: through B's view against its blob file in the cache, warm and cold.
    private static void CachedReads(string dir, BenchDaemon b, UnrealDb unreal, int runs, int coldRuns)
    {
        const string Dd = "dd if=\"$1\" of=/dev/null bs=1M 2>/dev/null";
        string file = Path.Combine(ViewDir(dir), Arena, "big.bin");
        var blob = unreal.FindPath(s_arena, "big.bin")!.Blob!.Value;
        string blobFile = Path.Combine(b.Store.UnrealDir, "blobs", blob.Hex);
        if (!File.Exists(blobFile))
        {
            throw new BenchException($"big.bin's blob is not in B's cache at {blobFile}");
        }
        long size = new FileInfo(blobFile).Length;
        var view = new List<double>();
        var native = new List<double>();
        double peak = 0;
        for (int run = 0; run < runs; run++)
        {
            // Each right after a read of the same file: this VM pages out data left idle.
            Measure.Warm(file);
            using (var rss = new RssSampler(b.Pid))
            {
                view.Add(Measure.Shell(Dd, file));
                peak = Math.Max(peak, rss.Stop());
            }
            Measure.Warm(blobFile);
            native.Add(Measure.Shell(Dd, blobFile));
        }
        double viewMedian = Measure.Series("unreal_warm_s", view);
        double nativeMedian = Measure.Series("unreal_warm_native_s", native);
        Measure.Result("unreal_warm_mb_per_s", size / 1e6 / viewMedian);
        Measure.Result("unreal_warm_native_mb_per_s", size / 1e6 / nativeMedian);
        Measure.Result("unreal_warm_ratio", nativeMedian / viewMedian);
        Measure.Result("unreal_warm_rss_peak_mb", peak);
        view.Clear();
        native.Clear();
        for (int run = 0; run < coldRuns; run++)
        {
            DropCaches();
            view.Add(Measure.Shell(Dd, file));
            DropCaches();
            native.Add(Measure.Shell(Dd, blobFile));
        }
        viewMedian = Measure.Series("unreal_cold_s", view);
        nativeMedian = Measure.Series("unreal_cold_native_s", native);
        Measure.Result("unreal_cold_mb_per_s", size / 1e6 / viewMedian);
        Measure.Result("unreal_cold_native_mb_per_s", size / 1e6 / nativeMedian);
        Measure.Result("unreal_cold_ratio", nativeMedian / viewMedian);
        Measure.Result("unreal_cached_mb", size / 1e6);
    }

    // --- A new small file on A until it reads right through B's view: not looked up before, and looked up before it existed.
    private static void NewFiles(string dir, BenchDaemon a, BenchDaemon b, UnrealDb unreal, int runs)
    {
        string data = Path.Combine(FilesDir(dir), "lat");
        string view = Path.Combine(ViewDir(dir), Arena, "lat");
        var fresh = new List<double>();
        var looked = new List<double>();
        for (int i = 0; i < runs; i++)
        {
            foreach (bool lookedUp in new[] { false, true })
            {
                string name = string.Create(CultureInfo.InvariantCulture, $"{(lookedUp ? "seen" : "new")}-{i}.txt");
                string target = Path.Combine(view, name);
                if (lookedUp && File.Exists(target))
                {
                    throw new BenchException($"{target} exists before it was written on A");
                }
                byte[] content = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"new file {name} {Stopwatch.GetTimestamp()}\n"));
                long start = Libc.CreateFile(Path.Combine(data, name), content);
                if (!lookedUp)
                {
                    // Not through the view until B's unreal.db has it: no lookup of the name before it can answer.
                    WaitFor($"{name} in B's unreal.db", () => unreal.FindPath(s_arena, "lat/" + name) is not null, a, b, poll: 1);
                }
                WaitFor($"{name} through B's view", () => ReadsAs(target, content), a, b, poll: 1);
                double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
                (lookedUp ? looked : fresh).Add(seconds);
                a.WaitUntilQuiet();
                b.WaitUntilQuiet();
            }
        }
        Measure.Series("unreal_new_file_s", fresh);
        Measure.Series("unreal_new_file_looked_up_s", looked);
    }

    // --- A burst of new 4 KiB files on A until every one reads right through B's view.
    private static void Burst(string dir, BenchDaemon a, BenchDaemon b, int count, int runs)
    {
        string data = Path.Combine(FilesDir(dir), "burst");
        string view = Path.Combine(ViewDir(dir), Arena, "burst");
        var totals = new List<double>();
        var afterLast = new List<double>();
        var random = new Random(7);
        for (int run = 0; run < runs; run++)
        {
            var contents = new byte[count][];
            var names = new string[count];
            for (int i = 0; i < count; i++)
            {
                contents[i] = new byte[4096];
                random.NextBytes(contents[i]);
                names[i] = string.Create(CultureInfo.InvariantCulture, $"b{run}-{i:D4}.bin");
            }
            long start = Stopwatch.GetTimestamp();
            long last = 0;
            for (int i = 0; i < count; i++)
            {
                last = Libc.CreateFile(Path.Combine(data, names[i]), contents[i]);
            }
            double created = Stopwatch.GetElapsedTime(start, last).TotalSeconds;
            // The names through a listing first (a lookup of a name not there yet would leave a negative entry), then every file read.
            string prefix = string.Create(CultureInfo.InvariantCulture, $"b{run}-");
            WaitFor($"{count} files listed in B's view", () => Directory.EnumerateFiles(view, prefix + "*").Count() == count, a, b, poll: 1);
            var pending = Enumerable.Range(0, count).ToList();
            WaitFor($"{count} files read right through B's view", () =>
            {
                pending.RemoveAll(i => ReadsAs(Path.Combine(view, names[i]), contents[i]));
                return pending.Count == 0;
            }, a, b, poll: 1);
            double total = Stopwatch.GetElapsedTime(start).TotalSeconds;
            totals.Add(total);
            afterLast.Add(total - created);
            Console.WriteLine($"burst {run}: {count} files created on A in {created:0.000} s, all read right through B's view {total:0.000} s after the first");
            a.WaitUntilQuiet();
            b.WaitUntilQuiet();
        }
        Measure.Result("unreal_burst_files", count);
        Measure.Series("unreal_burst_s", totals);
        Measure.Series("unreal_burst_after_last_s", afterLast);
    }

    // --- A directory of 100 files, cached on B, renamed on A until B's view shows them all under the new name.
    private static void Renames(string dir, BenchDaemon a, BenchDaemon b, int runs, int first, string key)
    {
        string data = Path.Combine(FilesDir(dir), "ren");
        string view = Path.Combine(ViewDir(dir), Arena, "ren");
        byte[][] contents = [.. Enumerable.Range(0, RenameFiles).Select(i => Encoding.UTF8.GetBytes(RenameContent(i)))];
        bool AllThere(string directory) => Enumerable.Range(0, RenameFiles).All(i => ReadsAs(Path.Combine(directory, RenameName(i)), contents[i]));
        // Cached on B: every file read once through the view.
        string start0 = string.Create(CultureInfo.InvariantCulture, $"r{first}");
        WaitFor($"ren/{start0} read through B's view", () => AllThere(Path.Combine(view, start0)), a, b);
        b.WaitUntilQuiet();
        var (blobs, blocks) = CacheCounts(b.Store);
        var times = new List<double>();
        for (int run = first; run < first + runs; run++)
        {
            string from = string.Create(CultureInfo.InvariantCulture, $"r{run}"), to = string.Create(CultureInfo.InvariantCulture, $"r{run + 1}");
            long start = Libc.Rename(Path.Combine(data, from), Path.Combine(data, to));
            // The new name through a listing of its parent first, then each file read.
            WaitFor($"ren/{to} in B's view", () => Directory.EnumerateDirectories(view).Contains(Path.Combine(view, to))
                && Directory.EnumerateFiles(Path.Combine(view, to)).Count() == RenameFiles && AllThere(Path.Combine(view, to)), a, b, poll: 1);
            times.Add(Stopwatch.GetElapsedTime(start).TotalSeconds);
            a.WaitUntilQuiet();
            b.WaitUntilQuiet();
        }
        var (blobsAfter, blocksAfter) = CacheCounts(b.Store);
        Measure.Series(key + "_s", times);
        Measure.Result(key + "_new_blobs", blobsAfter - blobs);
        Measure.Result(key + "_new_blocks", blocksAfter - blocks);
    }

    /// <summary>Whether <paramref name="path"/> reads exactly <paramref name="content"/> (false when missing).</summary>
    private static bool ReadsAs(string path, byte[] content)
    {
        try
        {
            return File.ReadAllBytes(path).AsSpan().SequenceEqual(content);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Blobs and blocks in B's cache, from its unreal.db (read-only): a fetch adds to them.</summary>
    private static (long Blobs, long Blocks) CacheCounts(Store store)
    {
        using var connection = new SqliteConnection($"Data Source={store.UnrealDbPath};Mode=ReadOnly");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT (SELECT count(*) FROM cached_blobs), (SELECT count(*) FROM cached_blocks)";
        using var reader = command.ExecuteReader();
        reader.Read();
        return (reader.GetInt64(0), reader.GetInt64(1));
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

    /// <summary>
    /// The time to write <paramref name="size"/> bytes of zeros to a new file beside B's store
    /// (page cache only, no sync), removed after: a first read has to bring that much new data
    /// into the page cache at least once (B writes its cache file), and this VM hands out new
    /// pages at a rate that moves a lot (from about 100 to 550 MB/s seen), so it is measured
    /// right before each first read.
    /// </summary>
    private static double FreshPages(string dir, long size)
    {
        string path = Path.Combine(dir, "b", "fresh-pages.bin");
        double seconds = Measure.Shell("dd if=/dev/zero of=\"$1\" bs=1M count=\"$2\" 2>/dev/null", path,
            (size >> 20).ToString(CultureInfo.InvariantCulture));
        File.Delete(path);
        Console.WriteLine($"fresh pages: {size / 1e6 / seconds:0} MB/s");
        return seconds;
    }

    private static void DropCaches()
    {
        Measure.Shell("sync");
        File.WriteAllText("/proc/sys/vm/drop_caches", "3\n");
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

    private static string RenameName(int i) => string.Create(CultureInfo.InvariantCulture, $"f{i:D3}.txt");

    private static string RenameContent(int i) => string.Create(CultureInfo.InvariantCulture, $"renamed file {i}\n");

    private static string FilesDir(string dir) => Path.Combine(dir, "a", "files");

    private static string StoreDir(string dir, string peer) => Path.Combine(dir, peer, "store");

    private static string ViewDir(string dir) => Path.Combine(dir, "b", "view");

    private static (double Seconds, string Output) RealizeCli(string cli, params string[] args) => Measure.Capture("dotnet", [cli, .. args]);

    /// <summary>The highest VmRSS of a process, read every 10 ms on a thread of its own until stopped.</summary>
    private sealed class RssSampler : IDisposable
    {
        private readonly string _status;
        private readonly Thread _thread;
        private volatile bool _stop;

        public RssSampler(int pid)
        {
            _status = $"/proc/{pid}/status";
            Peak = Measure.StatusMegabytes("VmRSS", _status);
            _thread = new Thread(() =>
            {
                while (!_stop)
                {
                    Peak = Math.Max(Peak, Measure.StatusMegabytes("VmRSS", _status));
                    Thread.Sleep(10);
                }
            })
            { IsBackground = true };
            _thread.Start();
        }

        public double Peak { get; private set; }

        public double Stop()
        {
            _stop = true;
            _thread.Join();
            return Peak;
        }

        public void Dispose() => Stop();
    }
}
