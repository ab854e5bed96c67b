using System.Diagnostics;
using System.Globalization;
using Realize.Core;
using Realize.Real;
using Realize.Storage;

namespace Realize.Bench;

/// <summary>
/// The history between peers: 'realize up' on two stores of this machine, a listening one
/// ("nas") and blind ones ("laptop-K"), over TLS on loopback. The throughput of a long history
/// (N added notifications, in the order a scan of a tree makes them) and the latency from
/// close() of a new file on nas to its row in a laptop's unreal.db.
/// </summary>
internal static class PeersBench
{
    private static readonly ArenaName s_arena = ArenaName.Parse("bench");
    private static readonly TimeSpan s_deadline = TimeSpan.FromMinutes(10);

    /// <summary>DIR/nas with a history of <paramref name="count"/> added files, and <paramref name="runs"/> fresh laptops that nas knows.</summary>
    public static int Setup(string dir, int count, int runs)
    {
        if (Directory.Exists(dir) && Directory.EnumerateFileSystemEntries(dir).Any())
        {
            throw new BenchException($"{dir} is not empty: peers-setup wants a new directory");
        }
        int port = Realize.Network.Loopback.FreePort();
        string files = Path.Combine(dir, "nas", "files");
        Directory.CreateDirectory(files);
        var nas = Store.Create(Path.Combine(dir, "nas", "store"), new StoreConfig { Listen = $"127.0.0.1:{port}", Arenas = [Marked(s_arena, files)] });
        var peers = new List<PeerConfig>();
        for (int run = 0; run < runs; run++)
        {
            string laptopFiles = Path.Combine(dir, $"laptop-{run}", "files");
            Directory.CreateDirectory(laptopFiles);
            var laptop = Store.Create(Path.Combine(dir, $"laptop-{run}", "store"), new StoreConfig
            {
                Arenas = [Marked(s_arena, laptopFiles)],
                Peers = [new PeerConfig("nas", nas.LoadPeerId(), $"127.0.0.1:{port}")],
            });
            laptop.OpenUnreal().Dispose();
            peers.Add(new PeerConfig($"laptop-{run}", laptop.LoadPeerId()));
        }
        nas.SaveConfig(nas.Config with { Peers = peers });
        var clock = Stopwatch.StartNew();
        using (var index = nas.OpenIndex())
        {
            // As a scan of a tree of 100 files per directory, 100 directories per directory, makes them: by path.
            var blob = ContentHasher.HashBytes("bench"u8);
            for (int start = 0; start < count; start += 100_000)
            {
                var batch = Enumerable.Range(start, Math.Min(100_000, count - start))
                    .Select(i => new PendingNotification(NotificationType.Added, RelPath.Parse(PathOf(i)), blob, 5, new FileTime(1_700_000_000 + i, 0), null))
                    .ToArray();
                index.Commit(s_arena, batch, []);
            }
        }
        Console.WriteLine($"peers-setup: nas's history of {count} added files written in {clock.Elapsed.TotalSeconds:0.0} s; {runs} laptops");
        return 0;
    }

    private static string PathOf(int i) => string.Create(CultureInfo.InvariantCulture, $"d{i / 10_000:D4}/e{i / 100 % 100:D2}/f{i:D7}.txt");

    /// <summary>
    /// The row "notifications per second A → B over TLS": each laptop in turn receives nas's
    /// whole history, against the same batches applied in-process (<see cref="Baseline"/>).
    /// </summary>
    public static int Run(string dir, string cli, int runs)
    {
        var nasStore = Store.Open(Path.Combine(dir, "nas", "store"));
        long count;
        using (var index = nasStore.OpenIndex())
        {
            count = index.LastIndex(s_arena);
        }
        Rows.Measure($"{count:N0} added notifications from a listening peer to a blind one over TLS on loopback, applied and acknowledged", () =>
        {
            var baseline = new List<double>();
            using var nas = BenchDaemon.Start(cli, Path.Combine(dir, "nas"), settleMs: null);
            var cost = CostMeter.Start(("sender", nas));
            var rates = new List<double>();
            var receiverCpu = new List<double>();
            double receiverPeak = 0;
            for (int run = 0; run < runs; run++)
            {
                // Interleaved with the receivers, so both see the same machine.
                baseline.Add(Baseline(dir, count));
                var (rate, peak, cpu) = Throughput(dir, cli, nas, run, count);
                rates.Add(rate);
                receiverPeak = Math.Max(receiverPeak, peak);
                receiverCpu.Add(cpu);
            }
            string sender = cost.Finish();
            nas.Stop();
            Measure.Series("peers_rate", rates);
            var ours = Figure.Of("Realize", rates, "/s");
            var theirs = Figure.Of("the same batches applied to unreal.db in one process, no network", baseline, "/s");
            return new Outcome(ours, theirs, Rows.AsFast(ours, theirs), "≥ 200000/s", ours.Median >= 200_000,
                new Cost(string.Create(CultureInfo.InvariantCulture, $"{sender}; receiver: peak {receiverPeak:0.0} MB, {Measure.Median(receiverCpu):0.00} CPU s"), null));
        });
        return 0;
    }

    /// <summary>Only <see cref="Baseline"/>.</summary>
    public static int BaselineOnly(string dir)
    {
        using var index = Store.Open(Path.Combine(dir, "nas", "store")).OpenIndex();
        Baseline(dir, index.LastIndex(s_arena));
        return 0;
    }

    /// <summary>The same batches applied to a fresh unreal.db in this process: what the receiver costs without TLS, framing and acknowledgements. Returns the rate.</summary>
    private static double Baseline(string dir, long count)
    {
        var nas = Store.Open(Path.Combine(dir, "nas", "store")).LoadPeerId();
        string path = Path.Combine(dir, "baseline-unreal.db");
        var batches = new List<List<Notification>>();
        using (var index = Store.Open(Path.Combine(dir, "nas", "store")).OpenIndex())
        {
            for (long since = 0; since < count; since = batches[^1][^1].Index)
            {
                var batch = new List<Notification>(4096);
                index.ReadHistory(s_arena, since, 4096, batch);
                batches.Add(batch);
            }
        }
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        using (var unreal = UnrealDb.Open(path))
        {
            foreach (var batch in batches)
            {
                unreal.Apply(nas, s_arena, 1, batch);
            }
        }
        double seconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine($"baseline cpu: {(Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds:0.00} s");
        Console.WriteLine($"baseline: {count} notifications applied to unreal.db in-process, 4096 a transaction, in {seconds:0.00} s");
        Measure.Result("peers_baseline_apply_rate", count / seconds);
        foreach (string file in Directory.GetFiles(dir, "baseline-unreal.db*"))
        {
            File.Delete(file);
        }
        return count / seconds;
    }

    private static (double Rate, double Peak, double Cpu) Throughput(string dir, string cli, BenchDaemon nas, int run, long count)
    {
        string laptopDir = Path.Combine(dir, $"laptop-{run}");
        var laptopStore = Store.Open(Path.Combine(laptopDir, "store"));
        var nasId = nas.Store.LoadPeerId();
        var laptopId = laptopStore.LoadPeerId();
        // Polled from before the laptop starts: its first batch may land before it answers status.
        double first = -1, all = -1;
        var clock = Stopwatch.StartNew();
        using var done = new CancellationTokenSource();
        var watcher = Task.Run(() =>
        {
            using var unreal = UnrealDb.Open(laptopStore.UnrealDbPath);
            while (!done.IsCancellationRequested)
            {
                long received = unreal.ReceivedIndex(nasId, s_arena);
                if (received > 0 && first < 0)
                {
                    first = clock.Elapsed.TotalSeconds;
                }
                if (received == count)
                {
                    all = clock.Elapsed.TotalSeconds;
                    return;
                }
                Thread.Sleep(10);
            }
        });
        double nasCpu = nas.CpuSeconds();
        using var laptop = BenchDaemon.Start(cli, laptopDir, settleMs: null);
        double peak = 0;
        while (!watcher.IsCompleted)
        {
            laptop.EnsureRunning();
            nas.EnsureRunning();
            peak = Math.Max(peak, laptop.Megabytes("VmHWM"));
            if (clock.Elapsed > s_deadline)
            {
                done.Cancel();
                throw new BenchException($"laptop-{run} did not receive {count} notifications within {s_deadline.TotalMinutes} minutes; see {laptop.LogPath}");
            }
            Thread.Sleep(10);
        }
        watcher.GetAwaiter().GetResult();
        double acked;
        using (var index = nas.Store.OpenIndex())
        {
            while (index.AckedIndex(laptopId, s_arena) != count)
            {
                if (clock.Elapsed > s_deadline)
                {
                    throw new BenchException($"nas did not record laptop-{run}'s acknowledgement of {count} within {s_deadline.TotalMinutes} minutes; see {nas.LogPath}");
                }
                Thread.Sleep(5);
            }
            acked = clock.Elapsed.TotalSeconds;
        }
        peak = Math.Max(peak, laptop.Megabytes("VmHWM"));
        double laptopCpu = laptop.CpuSeconds();
        Console.WriteLine($"run {run}: CPU of nas {nas.CpuSeconds() - nasCpu:0.00} s, of laptop {laptopCpu:0.00} s");
        laptop.Stop();
        // From the first batch applied (the connection is up) to the last acknowledgement nas persisted.
        double rate = count / (acked - first);
        Console.WriteLine($"run {run}: first batch applied at {first:0.000} s, all {count} at {all:0.000} s, acknowledged (persisted on nas) at {acked:0.000} s: {rate:0} notifications/s; laptop VmHWM {peak:0.0} MB");
        return (rate, peak, laptopCpu);
    }

    /// <summary>A plain-directory arena as 'realize arena add --path' declares it, with its marker.</summary>
    private static ArenaConfig Marked(ArenaName arena, string directory)
    {
        ArenaMarker.Write(directory, arena);
        return new ArenaConfig(arena, directory);
    }
}
