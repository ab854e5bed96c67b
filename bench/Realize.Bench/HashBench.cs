using System.Diagnostics;
using Realize.Storage;

namespace Realize.Bench;

/// <summary>
/// Target 1: the content hash of a file in page cache against <c>openssl dgst -sha256</c>.
/// Both are measured in one process, interleaved, each right after <c>cat FILE &gt; /dev/null</c>
/// (this VM pages out data left idle for a minute).
/// </summary>
internal static class HashBench
{
    /// <summary>Writes the row "hashing FILE in page cache": ContentHasher's MB/s against openssl's.</summary>
    public static int Run(string file, int runs)
    {
        long size = File.Exists(file) ? new FileInfo(file).Length : 0;
        Rows.Measure($"hashing a {size >> 20:N0} MiB file in page cache (ContentHasher.HashFile) vs openssl dgst -sha256", () => Measured(file, runs));
        return 0;
    }

    private static Outcome Measured(string file, int runs)
    {
        if (!File.Exists(file))
        {
            throw new BenchException($"{file} does not exist");
        }
        double megabytes = new FileInfo(file).Length / 1e6;
        Console.WriteLine($"hash: {file}, {megabytes:0} MB, {Environment.ProcessorCount} cores, {runs} runs each");

        // Warm-up: JIT, thread creation, the ArrayPool's buffers, and the page cache.
        Measure.Warm(file);
        string blob = ContentHasher.HashFile(file).Hex;
        Console.WriteLine($"realize blob: {blob}");

        var realize = new List<double>();
        var openssl = new List<double>();
        var realizeCores = new List<double>();
        var otherCores = new List<double>();
        string? sha256 = null;
        for (int run = 0; run < runs; run++)
        {
            // Alternate which goes first, so neither always follows the other's cache state.
            for (int turn = 0; turn < 2; turn++)
            {
                Measure.Warm(file);
                if ((run + turn) % 2 == 0)
                {
                    var cpu = Measure.CpuSeconds();
                    var clock = Stopwatch.StartNew();
                    string again = ContentHasher.HashFile(file).Hex;
                    double seconds = clock.Elapsed.TotalSeconds;
                    var cpuAfter = Measure.CpuSeconds();
                    realize.Add(seconds);
                    realizeCores.Add((cpuAfter.Process - cpu.Process) / seconds);
                    otherCores.Add(Math.Max(0, (cpuAfter.Machine - cpu.Machine) - (cpuAfter.Process - cpu.Process)) / seconds);
                    if (again != blob)
                    {
                        throw new BenchException($"ContentHasher gave {again}, then {blob}: is {file} changing?");
                    }
                }
                else
                {
                    var (seconds, output) = Measure.Capture("openssl", "dgst", "-sha256", file);
                    openssl.Add(seconds);
                    // "SHA2-256(FILE)= hex"
                    sha256 ??= output.Trim().Split(' ')[^1];
                }
            }
        }

        Console.WriteLine($"openssl sha256: {sha256}");
        bool differs = sha256 is not null && !string.Equals(sha256, blob, StringComparison.OrdinalIgnoreCase);
        if (!differs)
        {
            throw new BenchException("the blob equals the plain SHA-256 of the file: it should be a hash of block hashes");
        }
        double realizeMedian = Measure.Series("hash_realize_s", realize);
        double opensslMedian = Measure.Series("hash_openssl_s", openssl);
        // Cores ContentHasher kept busy, and cores the rest of the machine took meanwhile:
        // with 2 cores, anything else running shows at once in the speed-up.
        double cores = Measure.Series("hash_realize_cores", realizeCores);
        double others = Measure.Series("hash_other_cores", otherCores);
        Measure.Result("hash_speedup", opensslMedian / realizeMedian);
        var ours = Figure.Rates("Realize", realize, megabytes, "MB/s",
            string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{cores:0.0} cores busy, others {others:0.0}"));
        // "OpenSSL 3.0.19 27 Jan 2026 (Library: ...)": its name and version.
        string version = string.Join(' ', Measure.Capture("openssl", "version").Output.Split(' ').Take(2));
        var theirs = Figure.Rates($"openssl dgst -sha256 ({version})", openssl, megabytes, "MB/s");
        double speedup = Rows.Speedup(ours, theirs);
        return new Outcome(ours, theirs, Rows.AsFast(ours, theirs), "≥ 1.7x as fast", speedup >= 1.7);
    }
}
