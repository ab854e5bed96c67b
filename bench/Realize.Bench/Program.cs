using Realize.Bench;

// realize-bench: the benchmarks of bench/README.md. bench/run.sh drives these modes.
const string Usage = """
    usage: realize-bench MODE ARGS
      hash FILE [--runs N]              ContentHasher.HashFile vs openssl dgst -sha256, warm cache, interleaved
      scan-setup DIR N [--via-view] [--per-dir K] [--plain]
                                        a store in DIR (lower/, store/, view/ mounted) with N new files in arena "bench",
                                        K to a directory (default 100); --plain: arena "bench" is the plain directory DIR/files
      memory-first DIR [--reset]        only the first scan of DIR's store; prints its time and VmHWM
                                        (--reset: first put back the index as scan-setup left it)
      memory-rescan DIR                 only a rescan of DIR's unchanged store; prints its time and VmHWM
      scan DIR [--runs N]               rescans of the unchanged tree vs find -printf, interleaved
      mount DIR | unmount DIR           the merged view of DIR's store
      daemon-setup DIR                  a store in DIR for the daemon: arena "bench" in the merged view, "plain" a plain directory
      daemon-latency DIR [--settle-ms MS] [--runs N]
                                        with 'realize up' running: close() and rename() to notification in index.db
      daemon-load DIR N [--runs N] [--idle-s S] [--latency-runs N]
                                        with 'realize up' running: N files created through the view, then in the
                                        plain arena; the rescan fallback; idle CPU and memory
      daemon-million DIR [--idle-s S] [--latency-runs N]
                                        on a store of scan-setup --plain, scanned: 'realize up's catch-up of it,
                                        peak and idle RSS, close() to notification in it
      peers-setup DIR N [--runs N]      a listening store DIR/nas with a history of N added files, and N fresh blind laptops
      peers DIR [--runs N] [--latency-runs N]
                                        'realize up' on nas and each laptop in turn: the whole history over TLS on
                                        loopback, applied and acknowledged; then close() on nas to the row on laptop-0
      blob DIR [--mib N] [--runs N] [--in-flight N]
                                        a file of N MiB (default 1024) in a listening store's real/, fetched over BLOB
                                        (TLS on loopback) by a blind store in the same process, every block verified
      unreal-setup DIR [--files N] [--mib M]
                                        two stores for the Unreal: A listening, its plain arena DIR/a/files holding
                                        big.bin (M MiB, default 1024) and N small files (default 100000); B blind,
                                        its merged view DIR/b/view over the Unreal
      unreal DIR [--runs N] [--first-runs N] [--cold-runs N] [--latency-runs N] [--burst N] [--burst-runs N] [--rename-runs N]
                                        'realize up' on A and B: find through B's view vs native, first read of an
                                        uncached big file, cached reads warm and cold vs the blob file, new files
                                        on A until they read right on B (alone and in a burst), a renamed directory
      The daemon modes run the CLI as 'dotnet realize.dll' (default: the one built beside
      realize-bench; --cli PATH/realize.dll for another).
    Figures are printed as lines "RESULT key value" (seconds, MB of 10^6 bytes, counts).
    """;

try
{
    return args switch
    {
        ["hash", var file, .. var rest] => HashBench.Run(file, Options.Runs(rest)),
        ["scan-setup", var dir, var count, .. var rest] => ScanBench.Setup(dir, Options.Count(count), rest.Contains("--via-view"),
            Options.Number(rest, "--per-dir", 100), rest.Contains("--plain")),
        ["memory-first", var dir, .. var rest] => ScanBench.MemoryFirst(dir, rest.Contains("--reset")),
        ["memory-rescan", var dir] => ScanBench.MemoryRescan(dir),
        ["scan", var dir, .. var rest] => ScanBench.Rescans(dir, Options.Runs(rest)),
        ["mount", var dir] => ScanBench.Mount(dir),
        ["unmount", var dir] => ScanBench.Unmount(dir),
        ["daemon-setup", var dir, .. var rest] => DaemonBench.Setup(dir, Cli(rest)),
        ["daemon-latency", var dir, .. var rest] => DaemonBench.Latency(dir, Cli(rest),
            Options.Number(rest, "--settle-ms", 200, zeroAllowed: true), Options.Number(rest, "--runs", 21)),
        ["daemon-load", var dir, var count, .. var rest] => DaemonBench.Load(dir, Cli(rest), Options.Count(count),
            Options.Runs(rest), Options.Number(rest, "--idle-s", 30), Options.Number(rest, "--latency-runs", 21)),
        ["daemon-million", var dir, .. var rest] => DaemonBench.Million(dir, Cli(rest), Options.Number(rest, "--idle-s", 30), Options.Number(rest, "--latency-runs", 21)),
        ["peers-setup", var dir, var count, .. var rest] => PeersBench.Setup(dir, Options.Count(count), Options.Runs(rest)),
        ["peers-baseline", var dir] => PeersBench.BaselineOnly(dir),
        ["peers", var dir, .. var rest] => PeersBench.Run(dir, Cli(rest), Options.Runs(rest), Options.Number(rest, "--latency-runs", 21)),
        ["blob", var dir, .. var rest] => BlobBench.Run(dir, Options.Number(rest, "--mib", 1024), Options.Runs(rest), Options.Number(rest, "--in-flight", 8)),
        ["unreal-setup", var dir, .. var rest] => UnrealBench.Setup(dir, Cli(rest), Options.Number(rest, "--files", 100_000), Options.Number(rest, "--mib", 1024)),
        ["unreal", var dir, .. var rest] => UnrealBench.Run(dir, Cli(rest), new UnrealBench.Settings(Options.Runs(rest),
            Options.Number(rest, "--first-runs", 3), Options.Number(rest, "--cold-runs", 3), Options.Number(rest, "--latency-runs", 21),
            Options.Number(rest, "--burst", 1000), Options.Number(rest, "--burst-runs", 3), Options.Number(rest, "--rename-runs", 7))),
        _ => Fail(Usage),
    };
}
catch (Exception e) when (e is BenchException or IOException or InvalidOperationException or UnauthorizedAccessException
    or Realize.Core.RealizeException or Microsoft.Data.Sqlite.SqliteException)
{
    return Fail($"realize-bench: {e.Message}");
}

static string Cli(string[] rest) => Options.Text(rest, "--cli") ?? DaemonBench.DefaultCli();

static int Fail(string message)
{
    Console.Error.WriteLine(message);
    return 2;
}
