using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using Realize.Core;

namespace Realize.Bench;

/// <summary>
/// Targets 4 to 6: the daemon, <c>realize up</c>, run as a child process (<see cref="BenchDaemon"/>)
/// from the CLI built beside this program. The layout of DIR is <c>lower/</c> (the overlay's lower
/// layer, empty), <c>store/</c> (arena <c>bench</c> in the merged view, arena <c>plain</c> the
/// plain directory <c>plain/</c>), <c>view/</c> (the merged view, mounted by the daemon while
/// it runs), <c>daemon.log</c> and, while the daemon runs, <c>daemon.pid</c>. When a
/// notification is recorded is read from the store's index.db, read-only, as another process
/// sees it: a row a reader sees is committed, and the index commits with
/// <c>synchronous=FULL</c>, so it is durable.
/// </summary>
internal static partial class DaemonBench
{
    private const string ViewArena = "bench";
    private const string PlainArena = "plain";
    private const int FilesPerDirectory = 100;
    private const int WarmUps = 3;
    private const string OverflowMark = "overflowed";
    private static readonly TimeSpan s_fileTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan s_stallTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan s_throughputPoll = TimeSpan.FromMilliseconds(10);

    /// <summary>The CLI built beside this program: <c>artifacts/bin/Realize.Cli/CONFIGURATION/realize.dll</c>.</summary>
    public static string DefaultCli()
    {
        string here = Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory);
        return Path.GetFullPath(Path.Combine(here, "..", "..", "Realize.Cli", Path.GetFileName(here), "realize.dll"));
    }

    /// <summary>Creates the store of DIR (see the class summary) with the CLI, as a user would.</summary>
    public static int Setup(string dir, string cli)
    {
        dir = Path.GetFullPath(dir);
        CheckCli(cli);
        if (Directory.Exists(dir) && Directory.EnumerateFileSystemEntries(dir).Any())
        {
            throw new BenchException($"{dir} is not empty: daemon-setup needs a new or empty directory");
        }
        string store = StoreDir(dir);
        Directory.CreateDirectory(Path.Combine(dir, "lower"));
        Directory.CreateDirectory(PlainDir(dir));
        Realize(cli, "--store", store, "init", "--mount", ViewDir(dir), "--lower", Path.Combine(dir, "lower"));
        // The arena's directory is made through the merged view, as 'arena add' does when it is mounted.
        Realize(cli, "--store", store, "mount");
        try
        {
            Realize(cli, "--store", store, "arena", "add", ViewArena);
        }
        finally
        {
            Realize(cli, "--store", store, "unmount");
        }
        Realize(cli, "--store", store, "arena", "add", PlainArena, "--path", PlainDir(dir));
        Console.WriteLine($"daemon-setup: store {store}, arena '{ViewArena}' in the merged view {ViewDir(dir)}, arena '{PlainArena}' the directory {PlainDir(dir)}");
        return 0;
    }

    /// <summary>
    /// Target 4: from the close() of a new small file, and from the rename() of a file into
    /// place, to its notification in index.db; one file at a time, <paramref name="runs"/> of each.
    /// </summary>
    public static int Latency(string dir, string cli, int settleMs, int runs)
    {
        dir = Path.GetFullPath(dir);
        CheckCli(cli);
        string key = string.Create(CultureInfo.InvariantCulture, $"settle{settleMs}");
        using var daemon = BenchDaemon.Start(cli, dir, settleMs);
        using var history = HistoryProbe.Open(daemon.Store, ViewArena);
        string folder = Path.Combine(ViewDir(dir), ViewArena, "latency-" + key);
        Directory.CreateDirectory(folder);
        var closes = new List<double>();
        var renames = new List<double>();
        for (int run = -WarmUps; run < runs; run++)
        {
            string name = string.Create(CultureInfo.InvariantCulture, $"{run + WarmUps:000}");
            double closeSeconds = CloseLatency(daemon, history, folder, "c" + name + ".txt");
            double renameSeconds = RenameLatency(daemon, history, folder, "r" + name + ".txt");
            if (run >= 0)
            {
                closes.Add(closeSeconds);
                renames.Add(renameSeconds);
            }
        }
        Console.WriteLine($"latency, --settle-ms {settleMs}: {runs} files written and {runs} renamed into place, one at a time, after {WarmUps} of each to warm up");
        Measure.Result($"latency_{key}_runs", runs);
        Measure.Series($"latency_close_{key}_s", closes);
        double rename = Measure.Series($"latency_rename_{key}_s", renames);
        Measure.Result($"latency_rename_{key}_over_settle_s", rename - (settleMs / 1000.0));
        daemon.Stop();
        return 0;
    }

    /// <summary>
    /// Targets 5 and 6, in one daemon with the default settle delay: <paramref name="count"/>
    /// files created through the merged view as fast as possible, and when they are all
    /// recorded; the rescan fallback (<c>realize scan</c> while the daemon runs); the daemon's
    /// CPU and memory while it watches them, idle; for information, the close latency with them
    /// watched; then the same creation in the plain-directory arena.
    /// </summary>
    public static int Load(string dir, string cli, int count, int runs, int idleSeconds, int latencyRuns)
    {
        dir = Path.GetFullPath(dir);
        CheckCli(cli);
        using var daemon = BenchDaemon.Start(cli, dir, settleMs: null);

        Throughput(daemon, "view", ViewArena, Path.Combine(ViewDir(dir), ViewArena, "t"), count);
        RescanFallback(daemon, cli, runs);
        Idle(daemon, idleSeconds);

        using (var history = HistoryProbe.Open(daemon.Store, ViewArena))
        {
            string folder = Path.Combine(ViewDir(dir), ViewArena, "latency-loaded");
            Directory.CreateDirectory(folder);
            long watched = FilesIndexed(daemon, ViewArena);
            var closes = new List<double>();
            for (int run = -WarmUps; run < latencyRuns; run++)
            {
                double close = CloseLatency(daemon, history, folder, string.Create(CultureInfo.InvariantCulture, $"c{run + WarmUps:000}.txt"));
                if (run >= 0)
                {
                    closes.Add(close);
                }
            }
            Console.WriteLine($"latency with {watched} files watched: {latencyRuns} files written one at a time, after {WarmUps} to warm up");
            Measure.Result("latency_close_loaded_files", watched);
            Measure.Series("latency_close_loaded_s", closes);
        }

        var status = daemon.WaitUntilQuiet();
        if (status.Arenas.Any(a => a.Name == PlainArena))
        {
            Measure.Result("throughput_plain_watched", 1);
            Throughput(daemon, "plain", PlainArena, Path.Combine(PlainDir(dir), "t"), count);
        }
        else
        {
            Console.WriteLine($"plain-directory arena: not measured, the daemon does not watch it (its status lists only {string.Join(", ", status.Arenas.Select(a => a.Name))})");
            Measure.Result("throughput_plain_watched", 0);
        }
        daemon.Stop();
        return 0;
    }

    /// <summary>
    /// The daemon's rows of the million-file scans (3b), on the store scan-setup --plain made and
    /// the scans left indexed: <c>realize up</c>'s catch-up of that unchanged tree (its peak RSS
    /// once it answers), its RSS once idle for <paramref name="idleSeconds"/>, and close() of a new
    /// small file in that tree to its notification in index.db.
    /// </summary>
    public static int Million(string dir, string cli, int idleSeconds, int latencyRuns)
    {
        dir = Path.GetFullPath(dir);
        CheckCli(cli);
        var clock = Stopwatch.StartNew();
        using var daemon = BenchDaemon.Start(cli, dir, settleMs: null);
        double answered = clock.Elapsed.TotalSeconds;
        var plain = daemon.Store.Config.Arenas.Single(a => a.PlainPath is not null);
        long files = FilesIndexed(daemon, plain.Name.Value);
        double catchUpPeak = daemon.Megabytes("VmHWM");
        Console.WriteLine($"daemon catch-up of {files} files: answering after {answered:0.00} s, VmHWM {catchUpPeak:0.0} MB");
        Measure.Result("daemon_catchup_files", files);
        Measure.Result("daemon_catchup_s", answered);
        Measure.Result("daemon_catchup_vmhwm_mb", catchUpPeak);

        daemon.WaitUntilQuiet();
        Thread.Sleep(TimeSpan.FromSeconds(idleSeconds));
        double idle = daemon.Megabytes("VmRSS");
        Console.WriteLine($"daemon idle for {idleSeconds} s: VmRSS {idle:0.0} MB (RssAnon {daemon.Megabytes("RssAnon"):0.0} MB)");
        Measure.Result("daemon_idle_vmrss_mb", idle);

        using (var history = HistoryProbe.Open(daemon.Store, plain.Name.Value))
        {
            string folder = Path.Combine(plain.PlainPath!, "latency");
            Directory.CreateDirectory(folder);
            daemon.WaitUntilQuiet();
            var closes = new List<double>();
            for (int run = -WarmUps; run < latencyRuns; run++)
            {
                double close = CloseLatency(daemon, history, folder, string.Create(CultureInfo.InvariantCulture, $"c{run + WarmUps:000}.txt"));
                if (run >= 0)
                {
                    closes.Add(close);
                }
            }
            Measure.Series("daemon_close_s", closes);
        }
        Measure.Result("daemon_vmhwm_mb", daemon.Megabytes("VmHWM"));
        daemon.Stop();
        return 0;
    }

    /// <summary>Creates a file and returns the seconds from just before its close to its notification.</summary>
    private static double CloseLatency(BenchDaemon daemon, HistoryProbe history, string folder, string name)
    {
        byte[] content = Content(name);
        long after = history.LastIndex();
        long closed = Libc.CreateFile(Path.Combine(folder, name), content);
        double seconds = history.WaitForRow(RelativePath(daemon, folder, name), content.Length, after, closed, daemon);
        daemon.WaitUntilQuiet();
        return seconds;
    }

    /// <summary>
    /// Creates <c>NAME.part</c>, waits for it to be recorded, renames it to NAME and returns the
    /// seconds from just before the rename to NAME's notification. A rename is no close after
    /// writing: the daemon waits for the settle delay.
    /// </summary>
    private static double RenameLatency(BenchDaemon daemon, HistoryProbe history, string folder, string name)
    {
        string temporary = name + ".part";
        byte[] content = Content(name);
        long after = history.LastIndex();
        long closed = Libc.CreateFile(Path.Combine(folder, temporary), content);
        history.WaitForRow(RelativePath(daemon, folder, temporary), content.Length, after, closed, daemon);
        daemon.WaitUntilQuiet();
        after = history.LastIndex();
        long renamed = Libc.Rename(Path.Combine(folder, temporary), Path.Combine(folder, name));
        double seconds = history.WaitForRow(RelativePath(daemon, folder, name), content.Length, after, renamed, daemon);
        daemon.WaitUntilQuiet();
        return seconds;
    }

    /// <summary>
    /// Creates <paramref name="count"/> files under <paramref name="root"/> as fast as this
    /// process can, while another thread polls the index every 10 ms until every file is
    /// recorded with its content; reports both rates and the overflow rescans meanwhile.
    /// </summary>
    private static void Throughput(BenchDaemon daemon, string key, string arena, string root, int count)
    {
        daemon.WaitUntilQuiet();
        long after;
        using (var history = HistoryProbe.Open(daemon.Store, arena))
        {
            after = history.LastIndex();
        }
        string prefix = RelativePath(daemon, root, null);
        int overflowsBefore = daemon.CountLogLines(OverflowMark);
        long createdAt = 0;
        using var stop = new CancellationTokenSource();
        long start = Stopwatch.GetTimestamp();
        var poll = Task.Factory.StartNew(
            () => PollUntilRecorded(daemon, arena, prefix, count, after, () => Volatile.Read(ref createdAt), stop.Token),
            CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        try
        {
            CreateFiles(root, count);
            Volatile.Write(ref createdAt, Stopwatch.GetTimestamp());
        }
        catch
        {
            stop.Cancel();
            throw;
        }
        var (recordedAt, recorded) = poll.GetAwaiter().GetResult();
        daemon.WaitUntilQuiet();
        int overflows = daemon.CountLogLines(OverflowMark) - overflowsBefore;

        double created = Stopwatch.GetElapsedTime(start, createdAt).TotalSeconds;
        Console.WriteLine($"throughput ({key}): {count} files in {(count + FilesPerDirectory - 1) / FilesPerDirectory} directories created in {created:0.00} s = {count / created:0} files/s");
        Measure.Result($"throughput_{key}_files", count);
        Measure.Result($"throughput_{key}_create_s", created);
        Measure.Result($"throughput_{key}_create_rate", count / created);
        Measure.Result($"throughput_{key}_recorded_files", recorded);
        if (recordedAt is { } at)
        {
            double reported = Stopwatch.GetElapsedTime(start, at).TotalSeconds;
            Console.WriteLine($"throughput ({key}): all recorded {reported:0.00} s after the first was created ({Stopwatch.GetElapsedTime(createdAt, at).TotalSeconds:0.00} s after the last) = {count / reported:0} files/s");
            Measure.Result($"throughput_{key}_complete", 1);
            Measure.Result($"throughput_{key}_reported_s", reported);
            Measure.Result($"throughput_{key}_reported_rate", count / reported);
            Measure.Result($"throughput_{key}_lag_s", Stopwatch.GetElapsedTime(createdAt, at).TotalSeconds);
        }
        else
        {
            Console.WriteLine($"throughput ({key}): only {recorded} of {count} files recorded, and nothing new for {s_stallTimeout.TotalSeconds} s");
            Measure.Result($"throughput_{key}_complete", 0);
        }
        using (var history = HistoryProbe.Open(daemon.Store, arena))
        {
            var types = history.CountTypes(after);
            Console.WriteLine($"throughput ({key}): notifications {string.Join(", ", types.Select(t => $"{t.Value} {TypeName(t.Key)}"))}; {overflows} inotify overflows (rescans)");
            Measure.Result($"throughput_{key}_added", types.GetValueOrDefault(1));
            Measure.Result($"throughput_{key}_updated", types.GetValueOrDefault(2));
        }
        Measure.Result($"throughput_{key}_overflows", overflows);
    }

    /// <summary>
    /// Polls until the <c>files</c> table holds all <paramref name="count"/> files under
    /// <paramref name="prefix"/> with their content (a file seen between its creation and its
    /// write is recorded empty first, then updated). Returns when that was first seen, or null
    /// when nothing new was recorded for a minute after the last file was created.
    /// </summary>
    private static (long? RecordedAt, long Recorded) PollUntilRecorded(
        BenchDaemon daemon, string arena, string prefix, int count, long after, Func<long> createdAt, CancellationToken stop)
    {
        using var history = HistoryProbe.Open(daemon.Store, arena);
        long seen = after;
        long checkedAt = -1;
        long recorded = 0;
        long progressAt = Stopwatch.GetTimestamp();
        while (!stop.IsCancellationRequested)
        {
            long last = history.LastIndex();
            long now = Stopwatch.GetTimestamp();
            if (last != seen)
            {
                seen = last;
                progressAt = now;
            }
            // Only when enough has been recorded: the count reads every row of the tree.
            if (last - after >= count && last != checkedAt)
            {
                checkedAt = last;
                recorded = history.CountWithContent(prefix);
                if (recorded >= count)
                {
                    return (now, recorded);
                }
            }
            if (createdAt() != 0 && Stopwatch.GetElapsedTime(Math.Max(progressAt, createdAt()), now) > s_stallTimeout)
            {
                return (null, history.CountWithContent(prefix));
            }
            daemon.EnsureRunning();
            Thread.Sleep(s_throughputPoll);
        }
        return (null, recorded);
    }

    /// <summary>The rescan fallback: <c>realize scan</c>, which asks the running daemon to rescan every arena, timed as a command.</summary>
    private static void RescanFallback(BenchDaemon daemon, string cli, int runs)
    {
        daemon.WaitUntilQuiet();
        var warm = RescanOnce(daemon, cli);
        Console.WriteLine($"rescan fallback, warm-up: {warm.Seconds:0.000} s");
        var commands = new List<double>();
        var inside = new List<double>();
        long files = 0;
        for (int run = 0; run < runs; run++)
        {
            var (seconds, daemonSeconds, scanned) = RescanOnce(daemon, cli);
            commands.Add(seconds);
            inside.Add(daemonSeconds);
            files = scanned;
        }
        Measure.Result("rescan_fallback_files", files);
        Measure.Series("rescan_fallback_s", commands);
        Measure.Series("rescan_fallback_daemon_s", inside);
    }

    private static (double Seconds, double DaemonSeconds, long Files) RescanOnce(BenchDaemon daemon, string cli)
    {
        var (seconds, output) = Realize(cli, "--store", daemon.Store.Root, "scan");
        // "scanned 1 arena, 100000 files in 0.83 s: 0 added, 0 updated, 0 removed; ..."
        var match = SummaryPattern().Match(output);
        if (!match.Success)
        {
            throw new BenchException($"'realize scan' printed no scan summary: {output.Trim()}");
        }
        if (match.Groups["changed"].Value != "0 added, 0 updated, 0 removed")
        {
            throw new BenchException($"a rescan of the unchanged tree should change nothing: {output.Trim()}");
        }
        return (seconds, double.Parse(match.Groups["seconds"].Value, CultureInfo.InvariantCulture),
            long.Parse(match.Groups["files"].Value, CultureInfo.InvariantCulture));
    }

    /// <summary>The daemon's CPU and memory over <paramref name="seconds"/> with nothing changing.</summary>
    private static void Idle(BenchDaemon daemon, int seconds)
    {
        daemon.WaitUntilQuiet();
        long files = FilesIndexed(daemon, ViewArena);
        using var history = HistoryProbe.Open(daemon.Store, ViewArena);
        long last = history.LastIndex();
        double rssBefore = daemon.Megabytes("VmRSS");
        double cpu = daemon.CpuSeconds();
        var clock = Stopwatch.StartNew();
        // The measured interval itself: nothing to wait for, and nothing may disturb the daemon.
        Thread.Sleep(TimeSpan.FromSeconds(seconds));
        cpu = daemon.CpuSeconds() - cpu;
        double elapsed = clock.Elapsed.TotalSeconds;
        double rss = daemon.Megabytes("VmRSS");
        double peak = daemon.Megabytes("VmHWM");
        // VmRSS = RssAnon (the heaps) + RssFile (mapped files: the runtime, assemblies, SQLite) + RssShmem.
        double anonymous = daemon.Megabytes("RssAnon");
        double mapped = daemon.Megabytes("RssFile");
        if (history.LastIndex() != last)
        {
            throw new BenchException($"the daemon recorded {history.LastIndex() - last} notifications while idle: something changed the tree");
        }
        var status = daemon.WaitUntilQuiet();
        Console.WriteLine($"idle: {files} files indexed, {status.Watches} directories watched; over {elapsed:0.0} s {cpu:0.00} s of CPU; " +
            $"VmRSS {rssBefore:0.0} MB before, {rss:0.0} MB after (RssAnon {anonymous:0.0} MB, RssFile {mapped:0.0} MB); VmHWM {peak:0.0} MB");
        Measure.Result("idle_files", files);
        Measure.Result("idle_watches", status.Watches);
        Measure.Result("idle_s", elapsed);
        Measure.Result("idle_cpu_s", cpu);
        Measure.Result("idle_cpu_percent", cpu / elapsed * 100);
        Measure.Result("idle_vmrss_mb", rss);
        Measure.Result("idle_vmhwm_mb", peak);
        Measure.Result("idle_rssanon_mb", anonymous);
        Measure.Result("idle_rssfile_mb", mapped);
    }

    private static long FilesIndexed(BenchDaemon daemon, string arena) =>
        daemon.WaitUntilQuiet().Arenas.FirstOrDefault(a => a.Name == arena)?.FilesIndexed
            ?? throw new BenchException($"the daemon's status has no arena '{arena}'");

    /// <summary>Directories d0000... of <see cref="FilesPerDirectory"/> files f000.txt... of a few bytes each.</summary>
    private static void CreateFiles(string root, int count)
    {
        Directory.CreateDirectory(root);
        string directory = root;
        Span<byte> content = stackalloc byte[32];
        "file "u8.CopyTo(content);
        for (int i = 0; i < count; i++)
        {
            if (i % FilesPerDirectory == 0)
            {
                directory = Path.Combine(root, string.Create(CultureInfo.InvariantCulture, $"d{i / FilesPerDirectory:0000}"));
                Directory.CreateDirectory(directory);
            }
            i.TryFormat(content[5..], out int digits, provider: CultureInfo.InvariantCulture);
            content[5 + digits] = (byte)'\n';
            Libc.CreateFile(Path.Combine(directory, string.Create(CultureInfo.InvariantCulture, $"f{i % FilesPerDirectory:000}.txt")), content[..(6 + digits)]);
        }
    }

    private static byte[] Content(string name) => Encoding.ASCII.GetBytes($"latency {name}\n");

    /// <summary>The path of <paramref name="name"/> in <paramref name="folder"/> relative to its arena, as the history holds it.</summary>
    private static string RelativePath(BenchDaemon daemon, string folder, string? name)
    {
        string full = name is null ? folder : Path.Combine(folder, name);
        foreach (var arena in daemon.Store.Config.Arenas)
        {
            string root = arena.PlainPath ?? Path.Combine(daemon.Store.Config.Mount!, arena.Name.Value);
            if (RelPaths.IsBelow(full, root))
            {
                return full[(root.Length + 1)..];
            }
        }
        throw new BenchException($"{full} is in no arena of {daemon.Store.Root}");
    }

    private static string TypeName(long type) => type switch
    {
        1 => "added",
        2 => "updated",
        3 => "removed",
        _ => $"of type {type}",
    };

    private static void CheckCli(string cli)
    {
        if (!File.Exists(cli))
        {
            throw new BenchException($"{cli} does not exist: build src/Realize.Cli (building this project does), or give --cli PATH/realize.dll");
        }
    }

    /// <summary>Runs <c>dotnet realize.dll ARGS</c>; throws when it fails.</summary>
    private static (double Seconds, string Output) Realize(string cli, params string[] args) => Measure.Capture("dotnet", [cli, .. args]);

    private static string StoreDir(string dir) => Path.Combine(dir, "store");

    private static string ViewDir(string dir) => Path.Combine(dir, "view");

    private static string PlainDir(string dir) => Path.Combine(dir, PlainArena);

    [GeneratedRegex(@"^scanned \d+ arenas?, (?<files>\d+) files? in (?<seconds>[0-9.]+) s: (?<changed>\d+ added, \d+ updated, \d+ removed);", RegexOptions.Multiline)]
    private static partial Regex SummaryPattern();
}

/// <summary>
/// A read-only connection to a store's index.db, to see the history as another process does
/// while the daemon writes it. Queries use the history's key (arena, idx) to read only what
/// is new, so that polling every millisecond costs the daemon nothing.
/// </summary>
internal sealed class HistoryProbe : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly SqliteCommand _last;
    private readonly SqliteCommand _find;
    private readonly SqliteCommand _withContent;
    private readonly SqliteCommand _types;

    private HistoryProbe(SqliteConnection connection, string arena)
    {
        _connection = connection;
        _last = Command("SELECT coalesce(max(idx), 0) FROM history WHERE arena = $arena", arena);
        _find = Command("SELECT count(*) FROM history WHERE arena = $arena AND idx > $after AND path = $path AND size = $size", arena, "$after", "$path", "$size");
        // Paths under a prefix ending in '/': from "p/" up to, not including, "p0" ('0' follows '/').
        _withContent = Command("SELECT count(*) FROM files WHERE arena = $arena AND path >= $from AND path < $to AND size > 0", arena, "$from", "$to");
        _types = Command("SELECT type, count(*) FROM history WHERE arena = $arena AND idx > $after GROUP BY type", arena, "$after");
    }

    public static HistoryProbe Open(Realize.Storage.Store store, string arena)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = store.IndexPath,
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = false,
        }.ToString());
        connection.Open();
        return new HistoryProbe(connection, arena);
    }

    /// <summary>The arena's last history index; 0 when it has none.</summary>
    public long LastIndex() => (long)_last.ExecuteScalar()!;

    /// <summary>
    /// Polls about every millisecond until a notification after index <paramref name="after"/>
    /// gives <paramref name="path"/> with <paramref name="size"/> bytes; returns the seconds
    /// since the <see cref="Stopwatch"/> timestamp <paramref name="since"/> when it was first seen.
    /// </summary>
    public double WaitForRow(string path, long size, long after, long since, BenchDaemon daemon)
    {
        _find.Parameters["$after"].Value = after;
        _find.Parameters["$path"].Value = path;
        _find.Parameters["$size"].Value = size;
        for (int poll = 0; ; poll++)
        {
            if ((long)_find.ExecuteScalar()! > 0)
            {
                return Stopwatch.GetElapsedTime(since).TotalSeconds;
            }
            if (poll % 100 == 0)
            {
                daemon.EnsureRunning();
                if (Stopwatch.GetElapsedTime(since) > TimeSpan.FromMinutes(1))
                {
                    throw new BenchException($"{path} was not recorded within a minute; see {daemon.LogPath}");
                }
            }
            Thread.Sleep(1);
        }
    }

    /// <summary>Files below the directory <paramref name="prefix"/> recorded with some content.</summary>
    public long CountWithContent(string prefix)
    {
        _withContent.Parameters["$from"].Value = prefix + "/";
        _withContent.Parameters["$to"].Value = prefix + "0";
        return (long)_withContent.ExecuteScalar()!;
    }

    /// <summary>Notifications after index <paramref name="after"/>, by type (1 added, 2 updated, 3 removed).</summary>
    public Dictionary<long, long> CountTypes(long after)
    {
        _types.Parameters["$after"].Value = after;
        var counts = new Dictionary<long, long>();
        using var reader = _types.ExecuteReader();
        while (reader.Read())
        {
            counts[reader.GetInt64(0)] = reader.GetInt64(1);
        }
        return counts;
    }

    public void Dispose()
    {
        _last.Dispose();
        _find.Dispose();
        _withContent.Dispose();
        _types.Dispose();
        _connection.Dispose();
    }

    private SqliteCommand Command(string sql, string arena, params string[] parameters)
    {
        var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddWithValue("$arena", arena);
        foreach (string name in parameters)
        {
            command.Parameters.Add(new SqliteParameter { ParameterName = name });
        }
        command.Prepare();
        return command;
    }
}
