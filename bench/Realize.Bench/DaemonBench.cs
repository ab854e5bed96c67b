using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;
using Realize.Core;

namespace Realize.Bench;

/// <summary>
/// The daemon's rows: <c>realize up</c>, run as a child process (<see cref="BenchDaemon"/>)
/// from the CLI built beside this program. The layout of DIR is <c>lower/</c> (the overlay's lower
/// layer, empty), <c>store/</c> (arena <c>bench</c> in the merged view), <c>view/</c> (the merged view, mounted by the daemon while
/// it runs), <c>daemon.log</c> and, while the daemon runs, <c>daemon.pid</c>. When a
/// notification is recorded is read from the store's index.db, read-only, as another process
/// sees it: a row a reader sees is committed, and the index commits with
/// <c>synchronous=FULL</c>, so it is durable.
/// </summary>
internal static class DaemonBench
{
    private const string ViewArena = "bench";
    private const int FilesPerDirectory = 100;
    private const int WarmUps = 3;
    private const string OverflowMark = "overflowed";
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
        Console.WriteLine($"daemon-setup: store {store}, arena '{ViewArena}' in the merged view {ViewDir(dir)}");
        return 0;
    }

    /// <summary>
    /// The row "close() to its durable notification": a new small file at a time in the merged
    /// view, from just before its close() to its notification in index.db; <paramref name="runs"/>
    /// files after <see cref="WarmUps"/> to warm up, the daemon at its default settings.
    /// </summary>
    public static int Latency(string dir, string cli, int runs)
    {
        dir = Path.GetFullPath(dir);
        CheckCli(cli);
        Rows.Measure("close() of a new small file in the merged view until its notification is durable in index.db", () =>
        {
            using var daemon = BenchDaemon.Start(cli, dir, settleMs: null);
            using var history = HistoryProbe.Open(daemon.Store, ViewArena);
            string folder = Path.Combine(ViewDir(dir), ViewArena, "latency");
            Directory.CreateDirectory(folder);
            var closes = new List<double>();
            CostMeter? cost = null;
            for (int run = -WarmUps; run < runs; run++)
            {
                cost ??= run == 0 ? CostMeter.Start(("daemon", daemon)) : null;
                double seconds = CloseLatency(daemon, history, folder, string.Create(CultureInfo.InvariantCulture, $"c{run + WarmUps:000}.txt"));
                if (run >= 0)
                {
                    closes.Add(seconds);
                }
            }
            string spent = cost!.Finish();
            Measure.Series("latency_close_s", closes);
            daemon.Stop();
            var ours = Figure.Of("Realize", closes, "s");
            return new Outcome(ours, Target: "≤ 250 ms", Met: ours.Median <= 0.250, Cost: new Cost(spent, null));
        });
        return 0;
    }

    /// <summary>
    /// Two rows, in one daemon at its default settings: <paramref name="batches"/> batches of
    /// <paramref name="count"/> files each, created through the merged view as fast as one thread
    /// can, each until all are recorded with their content (and no inotify overflow); then the
    /// daemon watching them all, idle for <paramref name="idleSeconds"/>: its RSS, sampled 5 times.
    /// </summary>
    public static int Load(string dir, string cli, int count, int batches, int idleSeconds)
    {
        dir = Path.GetFullPath(dir);
        CheckCli(cli);
        BenchDaemon? daemon = null;
        try
        {
            Rows.Measure($"{count:N0} new small files created through the merged view (one thread) until all are recorded", () =>
            {
                daemon = BenchDaemon.Start(cli, dir, settleMs: null);
                var cost = CostMeter.Start(("daemon", daemon));
                var times = new List<double>();
                var notes = new List<string>();
                for (int batch = 0; batch < batches; batch++)
                {
                    var (seconds, batchNote) = Throughput(daemon, ViewArena, Path.Combine(ViewDir(dir), ViewArena, string.Create(CultureInfo.InvariantCulture, $"t{batch}")), count);
                    times.Add(seconds);
                    notes.Add(batchNote);
                }
                bool overflowed = notes.Any(n => n.Contains("overflow rescans", StringComparison.Ordinal));
                string note = batches > 1 ? $"{batches} batches one after another, each in a directory of its own; the last {notes[^1]}" : notes[0];
                var ours = Figure.Rates("Realize", times, count, "/s", note);
                return new Outcome(ours, Target: "≥ 20000/s, no overflow rescan", Met: ours.Median >= 20_000 && !overflowed,
                    Cost: new Cost(cost.Finish(), null));
            });
            Rows.Measure($"RSS of the idle daemon watching {count * batches:N0} files, over {idleSeconds} s idle", () =>
            {
                var running = daemon ?? throw new BenchException("the daemon did not start (see the row before)");
                var (samples, note, cost) = Idle(running, idleSeconds);
                var ours = Figure.Of("Realize", samples, "MB", note);
                return new Outcome(ours, Target: "< 100 MB", Met: ours.Median < 100, Cost: new Cost(cost, null));
            });
            daemon?.Stop();
        }
        finally
        {
            daemon?.Dispose();
        }
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
    /// Creates <paramref name="count"/> files under <paramref name="root"/> as fast as this
    /// process can, while another thread polls the index every 10 ms until every file is
    /// recorded with its content. Returns the seconds from the first created to all recorded,
    /// and a note of the creation rate, the lag and the overflow rescans meanwhile.
    /// </summary>
    private static (double Seconds, string Note) Throughput(BenchDaemon daemon, string arena, string root, int count)
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
        Console.WriteLine($"throughput: {count} files created in {created:0.00} s = {count / created:0} files/s; {overflows} inotify overflows (rescans)");
        if (recordedAt is not { } at)
        {
            throw new BenchException($"only {recorded} of {count} files were recorded, and nothing new for {s_stallTimeout.TotalSeconds} s");
        }
        double reported = Stopwatch.GetElapsedTime(start, at).TotalSeconds;
        double lag = Stopwatch.GetElapsedTime(createdAt, at).TotalSeconds;
        Console.WriteLine($"throughput: all recorded {reported:0.00} s after the first was created ({lag:0.00} s after the last) = {count / reported:0} files/s");
        return (reported, string.Create(CultureInfo.InvariantCulture,
            $"created at {count / created:0}/s, all recorded {lag:0.00} s after the last{(overflows > 0 ? $", {overflows} overflow rescans" : "")}"));
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

    /// <summary>
    /// The daemon's VmRSS sampled 5 times over <paramref name="seconds"/> with nothing changing
    /// (a sample every fifth of it), a note of its CPU meanwhile, and the cost string.
    /// </summary>
    private static (List<double> Samples, string Note, string Cost) Idle(BenchDaemon daemon, int seconds)
    {
        const int Samples = 5;
        daemon.WaitUntilQuiet();
        long files = FilesIndexed(daemon, ViewArena);
        using var history = HistoryProbe.Open(daemon.Store, ViewArena);
        long last = history.LastIndex();
        var cost = CostMeter.Start(("daemon", daemon));
        double cpu = daemon.CpuSeconds();
        var clock = Stopwatch.StartNew();
        var samples = new List<double>();
        for (int sample = 1; sample <= Samples; sample++)
        {
            // The measured interval itself: nothing to wait for, and nothing may disturb the daemon.
            Thread.Sleep(TimeSpan.FromSeconds(seconds) * sample / Samples - clock.Elapsed);
            samples.Add(daemon.Megabytes("VmRSS"));
        }
        cpu = daemon.CpuSeconds() - cpu;
        double elapsed = clock.Elapsed.TotalSeconds;
        // VmRSS = RssAnon (the heaps) + RssFile (mapped files: the runtime, assemblies, SQLite) + RssShmem.
        double anonymous = daemon.Megabytes("RssAnon");
        if (history.LastIndex() != last)
        {
            throw new BenchException($"the daemon recorded {history.LastIndex() - last} notifications while idle: something changed the tree");
        }
        var status = daemon.WaitUntilQuiet();
        Console.WriteLine($"idle: {files} files indexed, {status.Watches} directories watched; over {elapsed:0.0} s {cpu:0.00} s of CPU; VmRSS {string.Join(", ", samples.Select(v => v.ToString("0.0", CultureInfo.InvariantCulture)))} MB (RssAnon {anonymous:0.0} MB at the end)");
        return (samples, string.Create(CultureInfo.InvariantCulture, $"VmRSS every {seconds / (double)Samples:0.#} s; {anonymous:0.0} MB anonymous at the end; CPU {cpu / elapsed * 100:0.00} % idle"), cost.Finish());
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

    private HistoryProbe(SqliteConnection connection, string arena)
    {
        _connection = connection;
        _last = Command("SELECT coalesce(max(idx), 0) FROM history WHERE arena = $arena", arena);
        _find = Command("SELECT count(*) FROM history WHERE arena = $arena AND idx > $after AND path = $path AND size = $size", arena, "$after", "$path", "$size");
        // Paths under a prefix ending in '/': from "p/" up to, not including, "p0" ('0' follows '/').
        _withContent = Command("SELECT count(*) FROM files WHERE arena = $arena AND path >= $from AND path < $to AND size > 0", arena, "$from", "$to");
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

    public void Dispose()
    {
        _last.Dispose();
        _find.Dispose();
        _withContent.Dispose();
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
