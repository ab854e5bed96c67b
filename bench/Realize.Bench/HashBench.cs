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
    public static int Run(string file, int runs)
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
        Console.WriteLine(differs
            ? "sanity: the blob differs from the plain SHA-256, as it should (it is a hash of block hashes)"
            : "sanity: FAILED, the blob equals the plain SHA-256");
        double realizeMedian = Measure.Series("hash_realize_s", realize);
        double opensslMedian = Measure.Series("hash_openssl_s", openssl);
        // Cores ContentHasher kept busy, and cores the rest of the machine took meanwhile:
        // with 2 cores, anything else running shows at once in the speed-up.
        Measure.Series("hash_realize_cores", realizeCores);
        Measure.Series("hash_other_cores", otherCores);
        Measure.Result("hash_mb", megabytes);
        Measure.Result("hash_realize_mbps", megabytes / realizeMedian);
        Measure.Result("hash_openssl_mbps", megabytes / opensslMedian);
        Measure.Result("hash_speedup", opensslMedian / realizeMedian);
        // Of the fastest runs: less sensitive to other load on the machine than the medians.
        Measure.Result("hash_speedup_best", openssl.Min() / realize.Min());
        // A failed sanity check is a figure of the table (run.sh), not a failure of the run.
        Measure.Result("hash_differs", differs ? 1 : 0);
        return 0;
    }
}
