using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;

namespace Realize.Bench;

/// <summary>
/// The bulk rows (<c>bulk DIR</c>): many small files, then one big file, created on peer A until
/// peer B can read all of it, Realize (through B's merged view) against Syncthing (B's folder),
/// <see cref="ChangeSides"/>; Realize's runs first, then Syncthing's, each at rest before.
/// </summary>
internal static class BulkBench
{
    private const int SmallSize = 4096;
    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(5);

    /// <summary>Two rows of <paramref name="counts"/> small files created at once, and one of a file of <paramref name="mib"/> MiB.</summary>
    public static int Run(string dir, string cli, int runs, int[] counts, int mib)
    {
        // The big file first: it needs one open file on B, the small files one each (a daemon
        // that runs out of them fails the rows after).
        string[] measures =
        [
            $"a new {mib:N0} MiB file on A (from its close()) until B has read it whole, its SHA-256 right",
            .. counts.Select(n => $"{n:N0} new 4 KiB files created at once on A (from the first) until B reads every one with its content"),
        ];
        ChangeSides sides;
        try
        {
            // Every big file of the run stays in B's cache: eviction is not what is measured.
            sides = ChangeSides.Start(dir, cli, cacheQuota: ((long)(runs + 1) * mib << 20) + (1L << 30));
        }
        catch (Exception e) when (e is BenchException or IOException or InvalidOperationException or TimeoutException or Realize.Core.RealizeException)
        {
            foreach (string measure in measures)
            {
                Rows.Skip(measure, $"the peers did not start: {e.Message.Split('\n')[0]}");
            }
            return 0;
        }
        using (sides)
        {
            Rows.Measure(measures[0], () => sides.Compare(runs, "bulk_big", null, _ => { }, (side, run) => BigFile(side, run, (long)mib << 20)));
            for (int i = 0; i < counts.Length; i++)
            {
                int count = counts[i];
                Rows.Measure(measures[i + 1], () => sides.Compare(runs, $"bulk_files_{count}", count == 1000 ? ("≤ 1 s", 1.0) : null,
                    side => Directories(side, runs, count), (side, run) => SmallFiles(side, run, count)));
            }
            sides.Stop();
        }
        return 0;
    }

    private static string Directory(int count, int run) => string.Create(CultureInfo.InvariantCulture, $"bulk-{count}-{run}");

    // A directory for each run's files (holding one file, so that B has it), until B has them all.
    private static void Directories(Side side, int runs, int count)
    {
        for (int run = 0; run < runs; run++)
        {
            string source = Path.Combine(side.Source, Directory(count, run));
            System.IO.Directory.CreateDirectory(source);
            Libc.CreateFile(Path.Combine(source, "keep.txt"), "keep\n"u8);
        }
        ChangeSides.Until(side, Stopwatch.GetTimestamp(), $"the {runs} directories bulk-{count}-* on B",
            () => Enumerable.Range(0, runs).All(run => ChangeSides.ReadsAs(Path.Combine(side.Target, Directory(count, run), "keep.txt"), "keep\n"u8)));
    }

    // COUNT new files in a directory of their own (made and on B before), from just before the
    // first is created until B lists them all and each reads right.
    private static (double, double?) SmallFiles(Side side, int run, int count)
    {
        string name = Directory(count, run);
        string source = Path.Combine(side.Source, name), target = Path.Combine(side.Target, name);
        var random = new Random(count + run);
        var contents = new byte[count][];
        for (int i = 0; i < count; i++)
        {
            contents[i] = new byte[SmallSize];
            random.NextBytes(contents[i]);
        }
        long start = Stopwatch.GetTimestamp(), last = start;
        for (int i = 0; i < count; i++)
        {
            last = Libc.CreateFile(Path.Combine(source, FileName(i)), contents[i]);
        }
        double written = Stopwatch.GetElapsedTime(start, last).TotalSeconds;
        List<int>? pending = null;
        double seconds = ChangeSides.Until(side, start, $"{count} files in {name}/", () =>
        {
            // The names through a listing first, then each read.
            if (pending is null)
            {
                if (ChangeSides.Listed(target) < count + 1)
                {
                    return false;
                }
                pending = [.. Enumerable.Range(0, count)];
            }
            pending.RemoveAll(i => ChangeSides.ReadsAs(Path.Combine(target, FileName(i)), contents[i]));
            return pending.Count == 0;
        }, s_timeout);
        Console.WriteLine($"bulk: {side.Label}: {count} files written on A in {written:0.000} s, all read right on B {seconds:0.000} s after the first");
        return (seconds, written);
    }

    private static string FileName(int i) => string.Create(CultureInfo.InvariantCulture, $"f{i:D5}.bin");

    // A new file of random bytes written on A, from just before its close() until B's copy
    // hashes right (Realize: read through the merged view, which fetches it; Syncthing: once its
    // complete copy is in B's folder). Removed from A after.
    private static (double, double?) BigFile(Side side, int run, long size)
    {
        string name = string.Create(CultureInfo.InvariantCulture, $"big-{run}.bin");
        string source = Path.Combine(side.Source, name), target = Path.Combine(side.Target, name);
        var clock = Stopwatch.StartNew();
        byte[] expected;
        long start;
        using (var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
        using (var output = new FileStream(source, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0))
        {
            byte[] chunk = new byte[1 << 20];
            var random = new Random(1000 + run);
            for (long done = 0; done < size; done += chunk.Length)
            {
                random.NextBytes(chunk);
                var part = chunk.AsSpan(0, (int)Math.Min(chunk.Length, size - done));
                output.Write(part);
                hash.AppendData(part);
            }
            expected = hash.GetHashAndReset();
            start = Stopwatch.GetTimestamp();
        }
        double written = clock.Elapsed.TotalSeconds;
        int reads = 0;
        double seconds = ChangeSides.Until(side, start, $"{name} whole", () =>
        {
            if (new FileInfo(target) is not { Exists: true } file || file.Length != size)
            {
                return false;
            }
            reads++;
            try
            {
                using var input = new FileStream(target, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 1 << 20);
                return SHA256.HashData(input).AsSpan().SequenceEqual(expected);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return false;
            }
        }, s_timeout);
        Console.WriteLine($"bulk: {side.Label}: {name} ({size >> 20} MiB) written on A in {written:0.00} s, read whole with the right SHA-256 on B {seconds:0.00} s after its close() ({reads} read{(reads == 1 ? "" : "s")})");
        File.Delete(source);
        return (seconds, written);
    }
}
