using System.Diagnostics;
using System.Globalization;
using System.Text;
using Realize.Core;
using Realize.Linux;
using Realize.Storage;
using Realize.TestSupport;
using Xunit.Abstractions;

namespace Realize.Scenarios;

/// <summary>
/// The property of DESIGN.md "History" with the Unreal of a live peer as the merged view's
/// lower: A shares a plain directory holding a random tree, B does random operations on those
/// remote files and directories through its merged view while both daemons run; then the
/// history B sent, replayed strictly onto A's tree, gives exactly the files and blobs B's view
/// shows, A's unreal.db holds of each path exactly what B's history last said of it, and every
/// file reads through B's view with the content the operations gave it.
/// </summary>
/// <remarks>
/// Each run is drawn from a seeded <see cref="Random"/> (A's tree, in half the runs with a file
/// of random bytes over several 4 MiB blocks, the operations, the pauses between them), so the
/// seed and the operation log are in every failure message.
/// <c>REALIZE_REMOTE_PROPERTY_SEED</c> sets the first seed, <c>REALIZE_REMOTE_PROPERTY_RUNS</c>
/// the number of runs (default 4: two daemons start for each, which CI's 2 cores feel) and
/// <c>REALIZE_REMOTE_PROPERTY_OPS</c> the longest sequence (default 40).
/// Left out of the generator's mix: hard links, because overlay reports a write to a
/// hard-linked file under the name it first looked the file up by, and once that name is
/// deleted inotify says nothing (see HistoryPropertyTests; the daemon's hourly rescan finds
/// those changes, which no run waits for). Everything else the generator draws is in: a remote
/// file's writes, appends, truncates, deletes, renames, chmod and xattrs, remote directories
/// renamed, removed and made again, the arena's root itself moved away or replaced (in a third
/// of the runs); its scans are <c>realize scan</c> on B and its remounts restarts of either daemon.
/// </remarks>
public sealed class RemotePropertyScenarios(ITestOutputHelper output)
{
    private const int DefaultFirstSeed = 1;
    private const int DefaultRuns = 4;
    private const int DefaultMostOps = 40;
    private const string Arena = "docs";
    private static readonly string[] s_arenas = [Arena];

    public static TheoryData<int> Seeds() => [.. Realize.TestSupport.Seeds.FromEnvironment("REALIZE_REMOTE_PROPERTY_SEED", "REALIZE_REMOTE_PROPERTY_RUNS", DefaultFirstSeed, DefaultRuns)];

    [Theory]
    [MemberData(nameof(Seeds))]
    public async Task RandomOperationsOnRemoteFilesThroughBsView_ReachAAsAHistoryThatReplaysStrictlyToWhatBsViewShows(int seed)
    {
        using var pair = UnrealPair.Create("remote-property");
        var run = new Run(pair, seed);
        var clock = Stopwatch.StartNew();
        string? failure;
        try
        {
            failure = await run.ExecuteAsync();
        }
        catch (Exception e)
        {
            failure = $"{e.GetType().Name}: {e.Message}\n{e.StackTrace}";
        }
        output.WriteLine($"seed {seed}: {run.Summary} in {clock.Elapsed.TotalSeconds:0.0} s");
        if (failure is not null)
        {
            Assert.Fail(new StringBuilder()
                .AppendLine(CultureInfo.InvariantCulture, $"the remote property failed for seed {seed} after {clock.Elapsed.TotalSeconds:0.0} s; run it again with REALIZE_REMOTE_PROPERTY_SEED={seed} REALIZE_REMOTE_PROPERTY_RUNS=1 dotnet test tests/Realize.Scenarios -c Release --filter RemoteProperty")
                .Append(run.Describe(failure))
                .ToString());
        }
    }

    /// <summary>One seed's run: A's tree, B's operations, and the checks once they are done.</summary>
    private sealed class Run
    {
        private readonly UnrealPair _pair;
        private readonly Random _random;
        private readonly LowerSpec _tree;
        private readonly ViewOpModel _model;
        private readonly List<Notification> _history = [];
        private Dictionary<string, SeenVersion> _seenOnA = [];
        private readonly (string Path, byte[] Content)? _big;
        private int _done;

        public Run(UnrealPair pair, int seed)
        {
            _pair = pair;
            _random = new Random(seed);
            // The generator's tree of one arena, its root A's directory; what lies outside the arena is not A's to share.
            _tree = new LowerSpec([.. ViewOpGenerator.RandomLower(_random, s_arenas).Entries.Where(e => RelPaths.IsAtOrBelow(e.Path, Arena))]);
            _model = new ViewOpModel(_tree);
            if (_random.Next(2) == 0)
            {
                // Random bytes over several of the Unreal's 4 MiB blocks: a block served or stored out of place reads wrong.
                var dirs = _tree.Entries.Where(e => e.Data is null).Select(e => e.Path).ToList();
                _big = (RelPaths.Join(dirs[_random.Next(dirs.Count)], "big.bin"), new byte[_random.Next(4 << 20, 10 << 20)]);
                _random.NextBytes(_big.Value.Content);
                _model.Add(_big.Value.Path, _big.Value.Content);
            }
        }

        /// <summary>What was done, in order.</summary>
        public List<string> Log { get; } = [];

        /// <summary>How much the run did, for the test's output.</summary>
        public string Summary => $"{_model.Under(Arena).Count} files in B's arena after {_done} operations{(_big is null ? "" : $" ({Log.Count(l => l.Contains("big.bin", StringComparison.Ordinal))} naming big.bin)")}, {Count("realize scan")} scans, {Count("restarted")} restarts, {_history.Count} notifications, {_seenOnA.Count} rows on A";

        private int Count(string start) => Log.Count(l => l.StartsWith(start, StringComparison.Ordinal));

        /// <summary>Builds A's tree, starts both daemons, does the operations and checks; returns why the property failed, or null.</summary>
        public async Task<string?> ExecuteAsync()
        {
            foreach (var entry in _tree.Entries.Where(e => e.Path != Arena))
            {
                new LowerSpec([entry with { Path = entry.Path[(Arena.Length + 1)..] }]).Build(_pair.ADocs);
            }
            if (_big is (string bigPath, byte[] bigContent))
            {
                File.WriteAllBytes(Path.Combine(_pair.ADocs, bigPath[(Arena.Length + 1)..]), bigContent);
            }
            var start = Tree.Files(_pair.ADocs);
            if (Mismatch(start, Hashes(_model.Under(Arena)), "A's directory", "its tree") is { } built)
            {
                return "A's tree was not built as described: " + built;
            }
            await _pair.StartBothAsync();
            Log.Add($"both daemons up; B's view shows A's {start.Count} files");

            // The arena's root moved or removed now and then only: once it is gone, none of A's files is left to work on.
            bool roots = _random.Next(3) == 0;
            var generator = new ViewOpGenerator(_random, s_arenas, Realize.TestSupport.Seeds.IntFromEnvironment("REALIZE_REMOTE_PROPERTY_OPS") ?? DefaultMostOps,
                new ViewOpMix { HardLinks = false, ArenaRootsChange = roots });
            Log.Add(roots ? "the arena's root may change" : "the arena's root stays");
            for (int step = 0; generator.Next(_pair.View, step) is { } op; step++)
            {
                if (op.Kind is ViewOpKind.Scan or ViewOpKind.Remount)
                {
                    if (await RunnerStepAsync(op.Kind) is { } refused)
                    {
                        return refused;
                    }
                    continue;
                }
                try
                {
                    op.Apply(_pair.View);
                }
                catch (LinuxException e) when (e.Errno == Errno.EXDEV)
                {
                    // Overlay could not represent it (a redirect longer than redirect_max): skipped, and said so.
                    Log.Add($"{op}   [skipped: EXDEV]");
                    continue;
                }
                catch
                {
                    Log.Add($"{op}   [failed]");
                    throw;
                }
                _model.Apply(op);
                _done++;
                Log.Add(op.ToString());
                if (_random.Next(100) < 30)
                {
                    // Pacing, so that B's daemon records some changes between the others and some together.
                    int pause = _random.Next(1, 250);
                    await Task.Delay(pause);
                    Log.Add($"pause {pause} ms");
                }
            }

            // Nothing changes from here on: what B's view shows now is what B's history must say.
            if (ContentMismatch() is { } content)
            {
                return "B's view does not read as the operations left it:\n" + content;
            }
            var shown = Tree.Files(_pair.BDocs);
            var clock = Stopwatch.StartNew();
            string? problems = null;
            try
            {
                await Poll.UntilAsync(() => (problems = Check(start, shown)) is null, UnrealPair.Deadline, () => "the history property");
            }
            catch (TimeoutException e)
            {
                return $"{e.Message}:\n{problems}";
            }
            Log.Add($"the property held after {clock.Elapsed.TotalSeconds:0.00} s");
            // Neither side changed anything of its own meanwhile: B's view is still what it was, A's directory its tree.
            if ((Mismatch(Tree.Files(_pair.BDocs), shown, "B's view now", "B's view then") ?? Mismatch(Tree.Files(_pair.ADocs), start, "A's directory now", "A's tree")) is { } changed)
            {
                return changed;
            }
            // And both stop cleanly, B leaving no mount behind.
            int b = _pair.DaemonB!.Stop(UnrealPair.Deadline);
            int a = _pair.DaemonA!.Stop(UnrealPair.Deadline);
            var left = UnrealPair.MountsUnder(_pair.B.Root).Concat(UnrealPair.MountsUnder(_pair.View)).ToList();
            return (a, b, left.Count) == (0, 0, 0) ? null
                : $"A exited with {a}, B with {b}; still mounted: [{string.Join(", ", left.Select(m => $"{m.Target} ({m.FsType})"))}]";
        }

        /// <summary>
        /// The generator's steps for a runner, done to the daemons: a scan is <c>realize scan</c>
        /// on B (it must find nothing the watching missed, once B has settled, so only its
        /// answer is checked); a remount restarts B's daemon (a fresh Unreal and view over the
        /// same tables, and a catch-up scan) or, one time in three, A's (B's history resumes
        /// from A's cursor). Returns why it failed, or null.
        /// </summary>
        private async Task<string?> RunnerStepAsync(ViewOpKind kind)
        {
            if (kind == ViewOpKind.Scan)
            {
                var answer = await _pair.DaemonB!.SendAsync("scan", UnrealPair.Deadline);
                Log.Add($"realize scan on B: {answer.Error ?? answer.Summary}");
                return answer.Error is { } error ? "B refused to scan: " + error : null;
            }
            bool a = _random.Next(3) == 0;
            var clock = Stopwatch.StartNew();
            int code = (a ? _pair.DaemonA! : _pair.DaemonB!).Stop(UnrealPair.Deadline);
            if (code != 0)
            {
                Log.Add($"{(a ? "A" : "B")}'s daemon stopped with {code}");
                return $"{(a ? "A" : "B")}'s daemon exited with {code} when stopped";
            }
            await (a ? _pair.StartAAsync() : _pair.StartBAsync());
            Log.Add($"restarted {(a ? "A" : "B")}'s daemon in {clock.Elapsed.TotalSeconds:0.00} s");
            return null;
        }

        /// <summary>Every regular file of B's whole view, read byte for byte, against the model; null when they agree.</summary>
        private string? ContentMismatch()
        {
            var problems = new List<string>();
            var read = Tree.Files(_pair.View);
            foreach (var (path, expected) in _model.Files)
            {
                string full = Path.Combine(_pair.View, path);
                if (!read.ContainsKey(path))
                {
                    problems.Add($"{Content.Literal(path)}: missing, expected {expected.Length} bytes");
                }
                else if (File.ReadAllBytes(full) is var bytes && !bytes.AsSpan().SequenceEqual(expected))
                {
                    problems.Add($"{Content.Literal(path)}: reads {Label(bytes)}, expected {Label(expected)}");
                }
            }
            problems.AddRange(read.Keys.Where(path => !_model.Files.ContainsKey(path)).Select(path => $"{Content.Literal(path)}: there, yet no operation left it"));
            return problems.Count == 0 ? null : string.Join('\n', problems);
        }

        /// <summary>
        /// Reads what is new of B's history and what A holds of it: the history must replay
        /// strictly onto A's tree to <paramref name="shown"/>, and A's rows must be what it
        /// last said of each path. Returns the problems, or null.
        /// </summary>
        private string? Check(SortedDictionary<string, BlobHash> start, SortedDictionary<string, BlobHash> shown)
        {
            using (var index = _pair.B.OpenIndex())
            {
                long last = _history.Count > 0 ? _history[^1].Index : 0;
                _history.AddRange(index.ReadHistory(Household.DocsArena, last));
            }
            _seenOnA = _pair.SeenOnAOfB();
            var problems = new List<string>();
            if (Tree.IndexGap(_history) is { } gap)
            {
                problems.Add($"B's {gap} (trimmed before it was read?)");
            }
            var replayed = Tree.ReplayStrictly(start, _history, Household.DocsArena, problems);
            problems.AddRange(Tree.Differences(shown, replayed, "B's view", "B's history replayed onto A's tree"));
            // What A holds is what B's history last said of each path, nothing more.
            var lastSaid = new SortedDictionary<string, SeenVersion>(StringComparer.Ordinal);
            foreach (var n in _history)
            {
                lastSaid[n.Path.Value] = new SeenVersion(n.Blob?.Hex, n.OldBlob?.Hex);
            }
            foreach (string path in lastSaid.Keys.Union(_seenOnA.Keys).Order(StringComparer.Ordinal))
            {
                var said = lastSaid.GetValueOrDefault(path);
                var held = _seenOnA.GetValueOrDefault(path);
                if (said != held)
                {
                    problems.Add($"{Content.Literal(path)}: B's history last said {Describe(said)}, A's unreal.db holds {Describe(held)}");
                }
            }
            // And A's tree with B's versions over it is B's view: the files other peers learn from B.
            var onA = new SortedDictionary<string, BlobHash>(start, StringComparer.Ordinal);
            foreach (var (path, version) in _seenOnA)
            {
                if (version.Blob is { } blob)
                {
                    onA[path] = BlobHash.Parse(blob);
                }
                else
                {
                    onA.Remove(path);
                }
            }
            problems.AddRange(Tree.Differences(shown, onA, "B's view", "A's tree with what A's unreal.db holds of B over it"));
            return problems.Count == 0 ? null : string.Join('\n', problems);
        }

        private static SortedDictionary<string, BlobHash> Hashes(SortedDictionary<string, byte[]> files) =>
            new(files.ToDictionary(f => f.Key, f => ContentHasher.HashBytes(f.Value)), StringComparer.Ordinal);

        /// <summary>Where two trees of path → blob differ, a line a path; null when they are equal.</summary>
        private static string? Mismatch(SortedDictionary<string, BlobHash> left, SortedDictionary<string, BlobHash> right, string leftName, string rightName) =>
            Tree.Differences(left, right, leftName, rightName).ToList() is { Count: > 0 } lines ? string.Join('\n', lines) : null;

        private static string Describe(SeenVersion? version) =>
            version is null ? "nothing" : $"{version.Blob?[..8] ?? "removed"} over {version.OldBlob?[..8] ?? "nothing"}";

        private static string Label(byte[] bytes)
        {
            string text = Encoding.UTF8.GetString(bytes, 0, Math.Min(bytes.Length, 24));
            return $"{ContentHasher.HashBytes(bytes).Hex[..8]} {Content.Literal(text)}{(bytes.Length > 24 ? $"... ({bytes.Length} bytes)" : "")}";
        }

        /// <summary>A's tree, the operation log, the failure, B's history and what A holds of it, and both daemons' logs.</summary>
        public string Describe(string failure)
        {
            var text = new StringBuilder()
                .AppendLine(CultureInfo.InvariantCulture, $"A's tree: {_tree}{(_big is (string bigPath, byte[] bigContent) ? $", {bigPath} = {bigContent.Length} random bytes" : "")}")
                .AppendLine("what was done through B's view:")
                .AppendJoin('\n', Log.Select((line, i) => $"  {i + 1,3}. {line}")).AppendLine()
                .AppendLine(CultureInfo.InvariantCulture, $"failure: {failure}")
                .AppendLine("B's history:");
            foreach (var n in _history)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"  {HistoryAssert.Describe(n)}");
            }
            text.AppendLine("A's unreal.db of B:");
            foreach (var (path, version) in _seenOnA.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"  {Content.Literal(path)}: {Describe(version)}");
            }
            return text
                .AppendLine("B's log:").AppendLine(_pair.DaemonB?.LogTail(60))
                .AppendLine("A's log:").AppendLine(_pair.DaemonA?.LogTail(30))
                .ToString();
        }
    }
}
