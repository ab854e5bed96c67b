using Realize.Bench;

// realize-bench: the benchmarks of bench/README.md. bench/run drives these modes.
const string Usage = """
    usage: realize-bench MODE ARGS [--rows FILE] [--group NAME]
      hash FILE [--runs N]              ContentHasher.HashFile vs openssl dgst -sha256, warm cache, interleaved
      scan-setup DIR N [--via-view] [--per-dir K] [--plain]
                                        a store in DIR (lower/, store/, view/ mounted) with N new files in arena "bench",
                                        K to a directory (default 100); --plain: arena "bench" is the plain directory DIR/files
      memory-first DIR [--reset]        only the first scan of DIR's store; prints its time and VmHWM
                                        (--reset: first put back the index as scan-setup left it)
      memory-rescan DIR                 only a rescan of DIR's unchanged store; prints its time and VmHWM
      scan DIR [--runs N]               the first scan and a rescan each in a fresh process (their peak RSS), then
                                        rescans of the unchanged tree vs find -printf, interleaved: a row
      mount DIR | unmount DIR           the merged view of DIR's store
      daemon-setup DIR                  a store in DIR for the daemon: arena "bench" in the merged view
      daemon-latency DIR [--runs N]     with 'realize up' running: close() to the durable notification in index.db: a row
      daemon-load DIR N [--batches K] [--idle-s S]
                                        with 'realize up' running: K batches (default 5) of N files created through the
                                        view, each until all recorded; then the daemon idle watching them (RSS): two rows
      peers-setup DIR N [--runs N]      a listening store DIR/nas with a history of N added files, and N fresh blind laptops
      peers DIR [--runs N]              'realize up' on nas and each laptop in turn: the whole history over TLS on
                                        loopback, applied and acknowledged, vs the same batches applied in-process: a row
      peers-baseline DIR                only that in-process baseline
      blob DIR [--mib N] [--runs N] [--in-flight N]
                                        a file of N MiB (default 1024) in a listening store's real/, fetched over BLOB
                                        (TLS on loopback) by a blind store in the same process, every block verified
      unreal-setup DIR [--files N] [--mib M]
                                        two stores for the Unreal: A listening, its plain arena DIR/a/files holding
                                        big.bin (M MiB, default 1024) and N small files (default 100000); B blind,
                                        its merged view DIR/b/view over the Unreal
      unreal DIR [--runs N] [--first-runs N] [--cold-runs N] [--find-runs N]
                                        'realize up' on A and B: find through B's view vs native (first and second
                                        run), the first read of an uncached big file vs rclone mount, the cached
                                        file warm and cold vs its blob file: five rows
      latency DIR [--runs N] [--dir-files N]
                                        Realize's two peers (A listening with a plain directory, B's merged view over
                                        the Unreal) and two Syncthing instances: create, edit, delete, rename a small
                                        file and rename a directory of N files (default 1000) on A until B shows it: five rows
      bulk DIR [--runs N] [--files N,N,...] [--mib M]
                                        the same peers and instances: N new 4 KiB files at once (default 1000,10000), then a
                                        new file of M MiB (default 1024), on A until B reads all of it: a row each
      household DIR [--peers N] [--changes K]
                                        N listening peers (default 10), each listing the others, each with its merged view
                                        over its Unreal: K new small files (default 10), each through another peer's view,
                                        until every other peer reads it through its own; each daemon's RSS: two rows
      row --measure TEXT --unit U --realize LABEL=V,V,... [--reference LABEL=V,V,...] [--ratio as-fast|time]
          [--target TEXT --met-if 'OP NUMBER'] [--cost TEXT [--reference-cost TEXT]]
                                        one row from runs measured elsewhere (a script's), medians computed here
      skip --measure TEXT --why TEXT    one row that could not run
      report ROWS --md FILE --json FILE [--header KEY=VALUE ...]
                                        the results files of a run from its rows
      The daemon modes run the CLI as 'dotnet realize.dll' (default: the one built beside
      realize-bench; --cli PATH/realize.dll for another).
    Rows (bench/README.md, "Row format") are appended as JSON lines to --rows FILE (printed
    on stdout without it), in group --group NAME (default: the mode's). Other figures are
    printed as lines "RESULT key value" (seconds, MB of 10^6 bytes, counts) for the log.
    """;

try
{
    args = RowOptions(args);
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
        ["daemon-latency", var dir, .. var rest] => DaemonBench.Latency(dir, Cli(rest), Options.Number(rest, "--runs", 21)),
        ["daemon-load", var dir, var count, .. var rest] => DaemonBench.Load(dir, Cli(rest), Options.Count(count), Options.Number(rest, "--batches", 5),
            Options.Number(rest, "--idle-s", 30)),
        ["peers-setup", var dir, var count, .. var rest] => PeersBench.Setup(dir, Options.Count(count), Options.Runs(rest)),
        ["peers-baseline", var dir] => PeersBench.BaselineOnly(dir),
        ["peers", var dir, .. var rest] => PeersBench.Run(dir, Cli(rest), Options.Runs(rest)),
        ["blob", var dir, .. var rest] => BlobBench.Run(dir, Options.Number(rest, "--mib", 1024), Options.Runs(rest), Options.Number(rest, "--in-flight", 8)),
        ["unreal-setup", var dir, .. var rest] => UnrealBench.Setup(dir, Cli(rest), Options.Number(rest, "--files", 100_000), Options.Number(rest, "--mib", 1024)),
        ["unreal", var dir, .. var rest] => UnrealBench.Run(dir, Cli(rest), new UnrealBench.Settings(Options.Runs(rest),
            Options.Number(rest, "--first-runs", 5), Options.Number(rest, "--cold-runs", 5), Options.Number(rest, "--find-runs", 5))),
        ["latency", var dir, .. var rest] => LatencyBench.Run(dir, Cli(rest), Options.Number(rest, "--runs", 5), Options.Number(rest, "--dir-files", 1000)),
        ["bulk", var dir, .. var rest] => BulkBench.Run(dir, Cli(rest), Options.Number(rest, "--runs", 5),
            [.. (Options.Text(rest, "--files") ?? "1000,10000").Split(',').Select(Options.Count)], Options.Number(rest, "--mib", 1024)),
        ["household", var dir, .. var rest] => HouseholdBench.Run(dir, Cli(rest), Options.Number(rest, "--peers", 10), Options.Number(rest, "--changes", 10)),
        ["row", .. var rest] => ScriptRows.Row(rest),
        ["skip", .. var rest] => ScriptRows.Skip(rest),
        ["report", var rows, .. var rest] => Report.Write(rows, rest),
        _ => Fail(Usage),
    };
}
catch (Exception e) when (e is BenchException or IOException or InvalidOperationException or UnauthorizedAccessException
    or Realize.Core.RealizeException or Microsoft.Data.Sqlite.SqliteException)
{
    return Fail($"realize-bench: {e.Message}");
}

// --rows FILE and --group NAME, taken out of the arguments (every mode has them); the group
// defaults to the mode's name.
static string[] RowOptions(string[] args)
{
    var rest = new List<string>(args);
    for (int at = rest.IndexOf("--rows"); at >= 0; at = rest.IndexOf("--rows"))
    {
        Rows.File = at + 1 < rest.Count ? Path.GetFullPath(rest[at + 1]) : throw new BenchException("--rows needs a file");
        rest.RemoveRange(at, 2);
    }
    Rows.Group = rest.Count > 0 ? rest[0] : "bench";
    for (int at = rest.IndexOf("--group"); at >= 0; at = rest.IndexOf("--group"))
    {
        Rows.Group = at + 1 < rest.Count ? rest[at + 1] : throw new BenchException("--group needs a name");
        rest.RemoveRange(at, 2);
    }
    return [.. rest];
}

static string Cli(string[] rest) => Options.Text(rest, "--cli") ?? DaemonBench.DefaultCli();

static int Fail(string message)
{
    Console.Error.WriteLine(message);
    return 2;
}
