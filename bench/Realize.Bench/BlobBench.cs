using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Realize.Core;
using Realize.Linux;
using Realize.Network;
using Realize.Storage;

namespace Realize.Bench;

/// <summary>
/// BLOB throughput: a file of the given size in a listening store's real/, fetched by a blind
/// store's <see cref="BlobClient"/> over TLS on loopback, every 4 MiB block verified, with
/// <c>--in-flight</c> requests outstanding. Both stores live in this process, as two daemons'
/// services would on one host; the block list is timed apart (the server hashes the file once).
/// </summary>
internal static class BlobBench
{
    public static int Run(string dir, int megabytes, int runs, int inFlight)
    {
        var docs = ArenaName.Parse("docs");
        Directory.CreateDirectory(dir);
        int port = Loopback.FreePort();
        var holder = Store.Create(Path.Combine(dir, "holder"), new StoreConfig { Listen = $"127.0.0.1:{port}" });
        var asker = Store.Create(Path.Combine(dir, "asker"), new StoreConfig());
        using var holderIdentity = PeerIdentity.Load(holder);
        using var askerIdentity = PeerIdentity.Load(asker);
        holder.SaveConfig(holder.Config with { Arenas = [new ArenaConfig(docs)], Peers = [new PeerConfig("asker", askerIdentity.Id)] });
        asker.SaveConfig(asker.Config with { Arenas = [new ArenaConfig(docs)], Peers = [new PeerConfig("holder", holderIdentity.Id, $"127.0.0.1:{port}")] });

        string file = Path.Combine(holder.RealDir, "docs", "big.bin");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        long size = (long)megabytes << 20;
        using (var output = File.Create(file))
        {
            byte[] chunk = new byte[1 << 20];
            var random = new Random(1);
            for (long written = 0; written < size; written += chunk.Length)
            {
                random.NextBytes(chunk);
                output.Write(chunk);
            }
        }
        var status = Stat.Lstat(file);
        var blob = ContentHasher.HashFile(file);
        using (var index = holder.OpenIndex())
        {
            index.Commit(docs, [], [new RowChange("big.bin", new IndexedFile(blob, status.Size, status.MTime, status.Inode, FileSource.Real, status.CTime))]);
        }
        Console.WriteLine($"blob: {size / 1e6:0} MB over TLS on loopback, {inFlight} requests in flight, {Environment.ProcessorCount} cores, {runs} runs");

        var options = new HistoryOptions { BlobClient = new BlobClientOptions { MaxInFlight = inFlight } };
        using var serving = new HistoryService(holder, holderIdentity, new HistoryFeed(), options, NullLogger.Instance);
        using var fetching = new HistoryService(asker, askerIdentity, new HistoryFeed(), options, NullLogger.Instance);
        serving.Start();
        fetching.Start();
        using var stop = new CancellationTokenSource();
        var runningHolder = Task.Run(() => serving.RunAsync(stop.Token));
        var runningAsker = Task.Run(() => fetching.RunAsync(stop.Token));
        try
        {
            var clock = Stopwatch.StartNew();
            var list = fetching.Blobs.GetBlockListAsync(holderIdentity.Id, blob, CancellationToken.None).GetAwaiter().GetResult();
            Measure.Result("blob_list_first_s", clock.Elapsed.TotalSeconds);
            // Writing and hashing the file come before: the peak of the fetches alone is what follows.
            Measure.Result("blob_vmhwm_before_fetch_mb", PeakMegabytes());
            var times = new List<double>();
            var cores = new List<double>();
            for (int run = 0; run < runs; run++)
            {
                var cpu = Measure.CpuSeconds();
                var (reads, writes) = Syscalls();
                clock.Restart();
                FetchAll(fetching.Blobs, holderIdentity.Id, list, inFlight).GetAwaiter().GetResult();
                times.Add(clock.Elapsed.TotalSeconds);
                var after = Measure.CpuSeconds();
                var (readsAfter, writesAfter) = Syscalls();
                cores.Add((after.Process - cpu.Process) / times[^1]);
                Console.WriteLine($"run {run}: {size / 1e6 / times[^1]:0} MB/s, {after.Process - cpu.Process:0.00} CPU s in this process (both sides), "
                    + $"{Math.Max(0, (after.Machine - cpu.Machine) - (after.Process - cpu.Process)) / times[^1]:0.00} cores busy elsewhere, {readsAfter - reads} reads, {writesAfter - writes} writes");
            }
            Measure.Series("blob_fetch_cores", cores);
            double median = Measure.Series("blob_fetch_s", times);
            Measure.Result("blob_fetch_mb_per_s", size / 1e6 / median);
            Measure.Result("blob_vmhwm_mb", PeakMegabytes());
        }
        finally
        {
            stop.Cancel();
            Task.WhenAll(runningHolder, runningAsker).GetAwaiter().GetResult();
            Directory.Delete(dir, recursive: true);
        }
        return 0;
    }

    /// <summary>Every block, <paramref name="inFlight"/> at a time, each verified by the client and dropped.</summary>
    private static async Task FetchAll(BlobClient client, PeerId peer, BlobBlockList list, int inFlight)
    {
        int next = 0;
        async Task Worker()
        {
            while (true)
            {
                int i = Interlocked.Increment(ref next) - 1;
                if (i >= list.BlockHashes.Count)
                {
                    return;
                }
                using var block = await client.GetBlockAsync(peer, list.Blob, i, list.Size, list.BlockHashes[i], CancellationToken.None);
            }
        }
        await Task.WhenAll(Enumerable.Range(0, inFlight).Select(_ => Task.Run(Worker)));
    }

    private static (long Reads, long Writes) Syscalls()
    {
        var lines = File.ReadAllLines("/proc/self/io");
        long Field(string name) => long.Parse(lines.First(l => l.StartsWith(name, StringComparison.Ordinal)).Split(' ')[^1], System.Globalization.CultureInfo.InvariantCulture);
        return (Field("syscr:"), Field("syscw:"));
    }

    private static double PeakMegabytes()
    {
        string line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024 / 1e6;
    }
}
