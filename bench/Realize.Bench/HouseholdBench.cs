using System.Diagnostics;
using System.Globalization;
using System.Text;
using Realize.Core;
using Realize.Storage;

namespace Realize.Bench;

/// <summary>
/// The household rows (<c>household DIR</c>): N listening peers on this machine, each listing
/// the N - 1 others (127.0.0.1, a port each), each with its merged view <c>DIR/pK/view</c> over
/// its Unreal and arena <c>bench</c> there; <c>realize up</c> on each (<see cref="BenchDaemon"/>,
/// <c>DIR/pK/daemon.pid</c> while it runs). A new small file written through one peer's view,
/// a different peer each time, until every other peer reads it through its own view; then
/// each daemon's RSS.
/// </summary>
internal static class HouseholdBench
{
    private const string Arena = "bench";
    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(2);

    // Before each change: more than a settle delay since the last one, every daemon with nothing waiting.
    private static readonly TimeSpan s_rest = TimeSpan.FromMilliseconds(300);

    /// <summary>The two rows, <paramref name="changes"/> changes among <paramref name="count"/> peers.</summary>
    public static int Run(string dir, string cli, int count, int changes)
    {
        dir = Path.GetFullPath(dir);
        string change = $"a new small file through one peer's merged view until each of the {count - 1} others reads it through its own ({count} listening peers on loopback, each listing the others; a different peer each change)";
        string rss = $"RSS of each of the {count} daemons of that household after the changes (median, min–max over the daemons)";
        var daemons = new List<BenchDaemon>();
        try
        {
            Create(dir, count);
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < count; i++)
            {
                daemons.Add(BenchDaemon.Start(cli, PeerDir(dir, i), settleMs: null));
            }
            Console.WriteLine($"household: {count} daemons answering after {clock.Elapsed.TotalSeconds:0.0} s");
            WaitFor("every peer connected to every other", () => daemons.All(d => d.Status() is { } s && s.Peers.Count(p => p.Connected) == count - 1), daemons);
            Console.WriteLine($"household: all {count} connected to each other after {clock.Elapsed.TotalSeconds:0.0} s");
        }
        catch (Exception e) when (e is BenchException or IOException or InvalidOperationException or TimeoutException or RealizeException)
        {
            Rows.Skip(change, $"the household did not start: {e.Message.Split('\n')[0]}");
            Rows.Skip(rss, $"the household did not start: {e.Message.Split('\n')[0]}");
            Stop(daemons);
            return 0;
        }
        try
        {
            Rows.Measure(change, () => Changes(dir, daemons, changes));
            Rows.Measure(rss, () => Rss(daemons));
        }
        finally
        {
            Stop(daemons);
        }
        return 0;
    }

    // The stores, as 'realize init --listen --mount', 'arena add' and 'peer add' make them (in-process: N² CLI starts would take minutes).
    private static void Create(string dir, int count)
    {
        var stores = new List<Store>();
        var ports = new List<int>();
        for (int i = 0; i < count; i++)
        {
            ports.Add(Realize.Network.Loopback.FreePort());
            stores.Add(Store.Create(Path.Combine(PeerDir(dir, i), "store"), new StoreConfig
            {
                Mount = ViewDir(dir, i),
                Listen = string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{ports[i]}"),
                Arenas = [new ArenaConfig(ArenaName.Parse(Arena))],
            }));
        }
        var ids = stores.Select(s => s.LoadPeerId()).ToArray();
        for (int i = 0; i < count; i++)
        {
            var peers = Enumerable.Range(0, count).Where(j => j != i)
                .Select(j => new PeerConfig(Name(j), ids[j], string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{ports[j]}")));
            stores[i].SaveConfig(stores[i].Config with { Peers = [.. peers] });
        }
        Console.WriteLine($"household: {count} stores in {dir}, listening on 127.0.0.1 ports {string.Join(", ", ports)}");
    }

    private static Outcome Changes(string dir, List<BenchDaemon> daemons, int changes)
    {
        int count = daemons.Count;
        // The arena's directory through peer 0's view, if the views do not show it yet, until every view has it.
        if (!Directory.Exists(Path.Combine(ViewDir(dir, 0), Arena)))
        {
            Directory.CreateDirectory(Path.Combine(ViewDir(dir, 0), Arena));
        }
        byte[] ready = "ready\n"u8.ToArray();
        Libc.CreateFile(Path.Combine(ViewDir(dir, 0), Arena, "ready.txt"), ready);
        WaitFor("ready.txt in every view", () => Enumerable.Range(0, count).All(i => ChangeSides.ReadsAs(Path.Combine(ViewDir(dir, i), Arena, "ready.txt"), ready)), daemons);
        // Each peer's first file: its arena directory, until then only in its lower layer (the
        // Unreal), is copied up first and watched anew; a note, not the figure.
        var first = Enumerable.Range(0, count).Select(origin => Change(dir, daemons, origin, $"first-{origin}.txt")).ToList();
        Measure.Series("household_first_change_s", first);
        var cost = CostMeter.Start([.. daemons.Select((d, i) => (Name(i), d.Pid))]);
        var times = Enumerable.Range(0, changes).Select(change => Change(dir, daemons, change % count, $"change-{change}.txt")).ToList();
        Measure.Series("household_change_s", times);
        var figures = cost.Figures();
        string summary = string.Create(CultureInfo.InvariantCulture,
            $"{count} daemons: peak max {figures.Max(f => f.PeakMegabytes):0.0} MB, median {Measure.Median([.. figures.Select(f => f.PeakMegabytes)]):0.0} MB; CPU {figures.Sum(f => f.CpuSeconds):0.00} s in all, max {figures.Max(f => f.CpuSeconds):0.00} s");
        string note = string.Create(CultureInfo.InvariantCulture,
            $"until the last of the others reads it; before these, each peer's first file (its directory copied up from the Unreal): {Figure.Format(Measure.Median(first), "s", withUnit: true)} median, max {Figure.Format(first.Max(), "s", withUnit: true)}");
        return new Outcome(Figure.Of($"Realize, {count} peers", times, "s", note), Cost: new Cost(summary, null));
    }

    // A new small file through ORIGIN's view, at rest, until every other peer reads it through its own: the seconds from just before its close().
    private static double Change(string dir, List<BenchDaemon> daemons, int origin, string name)
    {
        int count = daemons.Count;
        Thread.Sleep(s_rest);
        foreach (var daemon in daemons)
        {
            daemon.WaitUntilQuiet();
        }
        byte[] content = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{name} on {Name(origin)} {Stopwatch.GetTimestamp()}\n"));
        long start = Libc.CreateFile(Path.Combine(ViewDir(dir, origin), Arena, name), content);
        var pending = Enumerable.Range(0, count).Where(i => i != origin).ToList();
        for (int polls = 0; ; polls++)
        {
            pending.RemoveAll(i => ChangeSides.ReadsAs(Path.Combine(ViewDir(dir, i), Arena, name), content));
            if (pending.Count == 0)
            {
                break;
            }
            if (Stopwatch.GetElapsedTime(start) > s_timeout)
            {
                throw new TimeoutException($"{name}, written on {Name(origin)}, not read right on {string.Join(", ", pending.Select(Name))} within {s_timeout.TotalSeconds:0} s");
            }
            if (polls % 64 == 0)
            {
                daemons.ForEach(d => d.EnsureRunning());
            }
            Thread.Sleep(1);
        }
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        Console.WriteLine($"household: {name} from {Name(origin)} read right on all {count - 1} others after {seconds * 1000:0.0} ms");
        return seconds;
    }

    private static Outcome Rss(List<BenchDaemon> daemons)
    {
        var rss = daemons.Select(d => d.Megabytes("VmRSS")).ToList();
        var peaks = daemons.Select(d => d.Megabytes("VmHWM")).ToList();
        double median = Measure.Median(rss);
        string text = string.Create(CultureInfo.InvariantCulture, $"{median:0.0} MB ({rss.Min():0.0}–{rss.Max():0.0}, {rss.Count} daemons)");
        Measure.Series("household_rss_mb", rss);
        return new Outcome(new Figure($"Realize, {daemons.Count} daemons", median, rss.Min(), rss.Max(), "MB", rss.Count, text),
            Cost: new Cost(string.Create(CultureInfo.InvariantCulture, $"VmHWM since the start of the last changes row: max {peaks.Max():0.0} MB, median {Measure.Median(peaks):0.0} MB"), null));
    }

    private static void Stop(List<BenchDaemon> daemons)
    {
        // In reverse, each stopped cleanly (its views unmounted), the others still stopped when one fails.
        List<Exception> failures = [];
        for (int i = daemons.Count - 1; i >= 0; i--)
        {
            try
            {
                daemons[i].Stop();
            }
            catch (BenchException e)
            {
                failures.Add(e);
            }
            finally
            {
                daemons[i].Dispose();
            }
        }
        foreach (var failure in failures)
        {
            Console.WriteLine($"household: {failure.Message}");
        }
    }

    private static void WaitFor(string what, Func<bool> done, List<BenchDaemon> daemons)
    {
        var clock = Stopwatch.StartNew();
        while (!done())
        {
            if (clock.Elapsed > s_timeout)
            {
                throw new TimeoutException($"waited {s_timeout.TotalSeconds:0} s for {what}");
            }
            daemons.ForEach(d => d.EnsureRunning());
            Thread.Sleep(20);
        }
    }

    private static string Name(int i) => string.Create(CultureInfo.InvariantCulture, $"p{i}");

    private static string PeerDir(string dir, int i) => Path.Combine(dir, Name(i));

    private static string ViewDir(string dir, int i) => Path.Combine(PeerDir(dir, i), "view");
}
