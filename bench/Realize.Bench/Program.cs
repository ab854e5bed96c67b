using Realize.Bench;

// realize-bench: the benchmarks of bench/README.md. bench/run.sh drives these modes.
const string Usage = """
    usage: realize-bench MODE ARGS
      hash FILE [--runs N]              ContentHasher.HashFile vs openssl dgst -sha256, warm cache, interleaved
      scan-setup DIR N [--via-view]     a store in DIR (lower/, store/, view/ mounted) with N new files in arena "bench"
      memory-first DIR [--reset]        only the first scan of DIR's store; prints its time and VmHWM
                                        (--reset: first put back the index as scan-setup left it)
      memory-rescan DIR                 only a rescan of DIR's unchanged store; prints its time and VmHWM
      scan DIR [--runs N]               rescans of the unchanged tree vs find -printf, interleaved
      mount DIR | unmount DIR           the merged view of DIR's store
    Figures are printed as lines "RESULT key value" (seconds, MB of 10^6 bytes, counts).
    """;

try
{
    return args switch
    {
        ["hash", var file, .. var rest] => HashBench.Run(file, Options.Runs(rest)),
        ["scan-setup", var dir, var count, .. var rest] => ScanBench.Setup(dir, Options.Count(count), rest.Contains("--via-view")),
        ["memory-first", var dir, .. var rest] => ScanBench.MemoryFirst(dir, rest.Contains("--reset")),
        ["memory-rescan", var dir] => ScanBench.MemoryRescan(dir),
        ["scan", var dir, .. var rest] => ScanBench.Rescans(dir, Options.Runs(rest)),
        ["mount", var dir] => ScanBench.Mount(dir),
        ["unmount", var dir] => ScanBench.Unmount(dir),
        _ => Fail(Usage),
    };
}
catch (Exception e) when (e is BenchException or IOException or InvalidOperationException or UnauthorizedAccessException or Realize.Storage.RealizeException)
{
    return Fail($"realize-bench: {e.Message}");
}

static int Fail(string message)
{
    Console.Error.WriteLine(message);
    return 2;
}
