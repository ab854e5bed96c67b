using System.Diagnostics;
using System.Globalization;

namespace Realize.Bench;

/// <summary>
/// One side of a change-propagation row: where the operations on peer A go (<see cref="Source"/>),
/// where peer B shows them (<see cref="Target"/>), how to wait until both peers are at rest
/// before a change, and what the side's processes cost.
/// </summary>
/// <see cref="After"/> adds to the cost what the side holds after a row (Realize: B's open files).
internal sealed record Side(string Label, string Source, string Target, Action Quiet, Action EnsureRunning, Func<CostMeter> Meter, string Logs, Func<string> After);

/// <summary>
/// Realize and Syncthing side by side on this machine, for the latency and bulk rows: Realize's
/// two daemons (<see cref="PeerPair"/>: A listening with the plain directory <c>DIR/realize/a/files</c>,
/// B blind, its merged view <c>DIR/realize/b/view</c> over the Unreal, B reading only through
/// it), and two Syncthing instances (<see cref="Syncthing"/>, folders under <c>DIR/syncthing</c>).
/// </summary>
internal sealed class ChangeSides : IDisposable
{
    /// <summary>A's settle delay, the daemon's default: a change not closed after writing (a delete, a rename) is recorded once quiet for that long.</summary>
    public const int SettleMs = 200;

    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(2);

    // Before each change on Realize: more than a settle delay since the last one, so that no
    // path is still "examined lately" (it would wait a settle delay), as a lone change meets it.
    private static readonly TimeSpan s_rest = TimeSpan.FromMilliseconds(SettleMs + 100);

    private readonly BenchDaemon _a;
    private readonly BenchDaemon _b;
    private readonly Syncthing _syncthing;

    private ChangeSides(BenchDaemon a, BenchDaemon b, Syncthing syncthing, string dir)
    {
        _a = a;
        _b = b;
        _syncthing = syncthing;
        Realize = new Side("Realize, B's merged view", Path.Combine(dir, "realize", "a", "files"),
            Path.Combine(dir, "realize", "b", "view", PeerPair.Arena), RealizeQuiet,
            () =>
            {
                a.EnsureRunning();
                b.EnsureRunning();
            },
            () => CostMeter.Start(("A", a), ("B", b)), $"{a.LogPath} and {b.LogPath}", () => $"; B has {OpenFiles(b.Pid):N0} files open after");
        Reference = new Side($"{syncthing.Label}, B's folder", syncthing.FolderA, syncthing.FolderB, syncthing.WaitUntilQuiet,
            syncthing.EnsureRunning, () => CostMeter.Start(syncthing.Processes()), syncthing.Logs, () => "");
    }

    /// <summary>Realize's side.</summary>
    public Side Realize { get; }

    /// <summary>Syncthing's side.</summary>
    public Side Reference { get; }

    /// <summary>Both sides, each in the order the rows measure them.</summary>
    public IEnumerable<Side> Both => [Realize, Reference];

    /// <summary>Makes Realize's stores with the CLI, starts its daemons and Syncthing's instances.</summary>
    public static ChangeSides Start(string dir, string cli, long cacheQuota)
    {
        dir = Path.GetFullPath(dir);
        string realize = Path.Combine(dir, "realize");
        string data = Path.Combine(realize, "a", "files");
        Directory.CreateDirectory(data);
        PeerPair.Create(cli, Path.Combine(realize, "a", "store"), Path.Combine(realize, "b", "store"), data, Path.Combine(realize, "b", "view"), cacheQuota);
        // Syncthing starts meanwhile (its instances take seconds to connect).
        var syncthing = Task.Run(() => Syncthing.Start(Path.Combine(dir, "syncthing")));
        BenchDaemon? a = null, b = null;
        try
        {
            a = BenchDaemon.Start(cli, Path.Combine(realize, "a"), settleMs: SettleMs);
            b = BenchDaemon.Start(cli, Path.Combine(realize, "b"), settleMs: SettleMs);
            return new ChangeSides(a, b, syncthing.GetAwaiter().GetResult(), dir);
        }
        catch
        {
            b?.Dispose();
            a?.Dispose();
            try
            {
                syncthing.GetAwaiter().GetResult().Dispose();
            }
            catch (Exception e) when (e is BenchException or IOException or InvalidOperationException or TimeoutException)
            {
                // It failed too; the first failure is the one to report.
            }
            throw;
        }
    }

    /// <summary>
    /// One row: <paramref name="runs"/> runs of <paramref name="operation"/> on each side, Realize's
    /// first, each after <paramref name="prepare"/> (not timed) and each run at rest; each side's
    /// cost over its own runs. An operation returns its time and, when it wrote data on A first,
    /// how long the writing took (the figures' note). <paramref name="key"/> names the RESULT lines.
    /// </summary>
    public Outcome Compare(int runs, string key, (string Text, double Limit)? target, Action<Side> prepare, Func<Side, int, (double Seconds, double? Written)> operation)
    {
        var figures = new List<Figure>();
        var costs = new List<string>();
        foreach (var side in Both)
        {
            side.EnsureRunning();
            prepare(side);
            var cost = side.Meter();
            var times = new List<double>();
            var written = new List<double>();
            for (int run = 0; run < runs; run++)
            {
                side.Quiet();
                var (seconds, writing) = operation(side, run);
                times.Add(seconds);
                if (writing is { } w)
                {
                    written.Add(w);
                }
            }
            costs.Add(cost.Finish() + side.After());
            string name = side == Realize ? "realize" : "syncthing";
            Measure.Series($"{key}_{name}_s", times);
            string? note = null;
            if (written.Count > 0)
            {
                Measure.Series($"{key}_{name}_written_s", written);
                note = string.Create(CultureInfo.InvariantCulture, $"written on A in {Measure.Median(written):0.00} s");
            }
            figures.Add(Figure.Of(side.Label, times, "s", note));
        }
        return new Outcome(figures[0], figures[1], Rows.AsFast(figures[0], figures[1]), target?.Text, target is { } t ? figures[0].Median <= t.Limit : null,
            new Cost(costs[0], costs[1]));
    }

    /// <summary>
    /// Polls <paramref name="done"/> every millisecond until it holds and returns the seconds
    /// since <paramref name="start"/> (a <see cref="Stopwatch"/> timestamp); throws a
    /// <see cref="TimeoutException"/> (the row is then skipped, with why) after <paramref name="timeout"/>
    /// (two minutes by default) or when a process of the side has stopped.
    /// </summary>
    public static double Until(Side side, long start, string what, Func<bool> done, TimeSpan? timeout = null)
    {
        var limit = timeout ?? s_timeout;
        for (int polls = 0; !done(); polls++)
        {
            if (Stopwatch.GetElapsedTime(start) > limit)
            {
                throw new TimeoutException($"{side.Label.Split(',')[0]}: {what} not seen within {limit.TotalSeconds:0} s; see {side.Logs}");
            }
            if (polls % 64 == 0)
            {
                side.EnsureRunning();
            }
            Thread.Sleep(1);
        }
        return Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    /// <summary>Whether <paramref name="path"/> reads exactly <paramref name="content"/> (false when missing or unreadable).</summary>
    public static bool ReadsAs(string path, ReadOnlySpan<byte> content)
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

    /// <summary>Whether <paramref name="path"/> is gone: its open fails with ENOENT (any other failure is not an answer yet).</summary>
    public static bool Gone(string path)
    {
        try
        {
            using var handle = File.OpenHandle(path);
            return false;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A directory opens too; anything else (EIO) is no answer.
            return false;
        }
    }

    /// <summary>How many entries <paramref name="directory"/> lists (0 when it is missing or unreadable).</summary>
    public static int Listed(string directory)
    {
        try
        {
            return Directory.EnumerateFileSystemEntries(directory).Count();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }

    public void Dispose()
    {
        _syncthing.Dispose();
        _b.Dispose();
        _a.Dispose();
    }

    /// <summary>Stops the daemons, checking they stop cleanly, and Syncthing.</summary>
    public void Stop()
    {
        _syncthing.Dispose();
        _b.Stop();
        _a.Stop();
    }

    // How many file descriptors a process holds (B's daemon keeps files of its cache open).
    private static int OpenFiles(int pid) => Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd").Count();

    private void RealizeQuiet()
    {
        Thread.Sleep(s_rest);
        _a.WaitUntilQuiet();
        _b.WaitUntilQuiet();
    }
}
