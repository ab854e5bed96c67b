using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Realize.Core;
using Realize.Linux;
using Realize.TestSupport;
using Xunit.Sdk;

namespace Realize.Real.Tests;

/// <summary>
/// The property of DESIGN.md "History": whatever is done through the merged view, and
/// whenever the scans happen, replaying the whole history onto the initial lower tree gives
/// exactly the files and blobs the merged view shows.
/// </summary>
/// <remarks>
/// Each sequence is drawn from a seeded <see cref="Random"/>: the seed and the operation log
/// are in every failure message. <c>REALIZE_PROPERTY_SEED</c> sets the first seed and
/// <c>REALIZE_PROPERTY_RUNS</c> the number of sequences (seeds first, first+1, ...); a
/// failing sequence is shrunk (for at most <c>REALIZE_PROPERTY_SHRINK_SECONDS</c>, default
/// 30; 0 turns it off) and printed as the code of a regression test.
/// <c>REALIZE_PROPERTY_OPS</c> sets the longest sequence (default 60; the shortest is a third of it);
/// <c>REALIZE_PROPERTY_LOG=FILE</c> appends every sequence's log to FILE;
/// Sequences include same-size rewrites whose mtime is set back (as <c>cp -p</c> or a tag
/// editor that keeps timestamps may do), which only the ctime reveals;
/// <c>REALIZE_PROPERTY_MTIME_SETBACK=0</c> leaves them out.
/// </remarks>
public sealed class HistoryPropertyTests
{
    private const int DefaultFirstSeed = 1;
    private const int DefaultRuns = 100;

    // The generator's long name (ViewOpGenerator): a moved directory's absolute redirect can
    // exceed overlay's redirect_max (256), and rename then fails with EXDEV.
    private static readonly string s_long = new('l', 100);
    private static readonly bool s_mtimeSetBack = Environment.GetEnvironmentVariable("REALIZE_PROPERTY_MTIME_SETBACK") != "0";
    private static readonly Lock s_logLock = new();
    private static int s_shrunk;

    public static TheoryData<int> Seeds() => [.. Realize.TestSupport.Seeds.FromEnvironment("REALIZE_PROPERTY_SEED", "REALIZE_PROPERTY_RUNS", DefaultFirstSeed, DefaultRuns)];

    [Theory]
    [MemberData(nameof(Seeds))]
    public void RandomOperations_ReplayedOntoTheLowerTree_GiveTheMergedView(int seed) => RandomOperations(seed, watched: false);

    /// <summary>
    /// The same, with scans of only the paths inotify named (as the daemon does), then a
    /// whole scan that must find nothing left to report.
    /// </summary>
    [Theory]
    [MemberData(nameof(Seeds))]
    public void RandomOperations_ScannedWhereInotifySaysOnly_GiveTheMergedView(int seed) => RandomOperations(seed, watched: true);

    private static void RandomOperations(int seed, bool watched)
    {
        var random = new Random(seed);
        string[] arenas = random.Next(2) == 0 ? ["docs"] : ["docs", "media"];
        var lower = ViewOpGenerator.RandomLower(random, arenas);
        // Without hard links when watched: overlay reports a write to a hard-linked file under
        // the name it first looked the file up by, and once that name and its directory are
        // deleted, inotify reports nothing at all; the daemon's hourly rescan finds those
        // changes (docs/watching.md). The tests below pin what inotify does tell.
        var generator = new ViewOpGenerator(random, arenas, IntFromEnvironment("REALIZE_PROPERTY_OPS") ?? 60, new ViewOpMix { HardLinks = !watched, MTimeSetBack = s_mtimeSetBack });
        var run = new Runner(arenas, lower, lenient: false, watched);
        string? failure = run.Run((store, step) => generator.Next(store.View, step));
        if (Environment.GetEnvironmentVariable("REALIZE_PROPERTY_LOG") is { } log)
        {
            lock (s_logLock)
            {
                File.AppendAllText(log, $"=== seed {seed}\n" + run.Describe(failure ?? "none"));
            }
        }
        if (failure is null)
        {
            return;
        }
        var message = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"History property{(watched ? " (scans where inotify says)" : "")} failed for seed {seed}; reproduce with REALIZE_PROPERTY_SEED={seed} REALIZE_PROPERTY_RUNS=1 dotnet test tests/Realize.Real.Tests -c Release --filter HistoryPropertyTests")
            .Append(run.Describe(failure));
        int budget = IntFromEnvironment("REALIZE_PROPERTY_SHRINK_SECONDS") ?? 30;
        if (budget > 0 && Interlocked.Exchange(ref s_shrunk, 1) == 0)
        {
            message.AppendLine().Append(Shrinker.Shrink(arenas, lower, run.Applied, run.Crashed, watched, TimeSpan.FromSeconds(budget)));
        }
        Assert.Fail(message.ToString());
    }

    // Deterministic sequences for corners the property reaches only now and then.

    // The next four pin what makes the "unchanged file" shortcut of 16e7556 safe (such a
    // file of real/ is left out of what the merged view shows). The property found the
    // first three in an intermediate version of it: on the second scan the file was
    // reported removed, or back to its lower content. It finds the fourth when Resolve's
    // check for an unchanged file above a path is taken out: the lower files it hides come back.

    [Fact]
    public void UnchangedFile_InAnOpaqueArenaRoot_StaysOnTheSecondScan()
    {
        AssertHolds(["docs", "media"], LowerSpec.Of(("docs/new\nline", "lower")),
            ViewOp.DeleteTree("docs"),
            ViewOp.Mkdir("docs"),
            ViewOp.Create("docs/new\nline", "w2"));
    }

    [Fact]
    public void UnchangedFile_InADirectoryRenamedTwice_OverAWhiteout_StaysOnTheSecondScan()
    {
        AssertHolds(["docs"], LowerSpec.Of(("docs/b/ü", "et"), ("docs/e f/d", "x")),
            ViewOp.RenameDir("docs/e f", "docs/" + s_long),
            ViewOp.RenameDir("docs/b", "docs/d"),
            ViewOp.Create("docs/d/d", "w2"),
            ViewOp.RenameDir("docs/d", "docs/c.txt"),
            ViewOp.RenameDir("docs/c.txt", "docs/e f"));
    }

    [Fact]
    public void UnchangedCopiedUpFile_InARedirectedDirectory_DoesNotRevertToTheLowerContent()
    {
        AssertHolds(["docs"], LowerSpec.Of(("docs/d/" + s_long, new Content("imga\n", 2248)), ("docs/a/" + s_long, new Content("p\n", 991))),
            ViewOp.DeleteTree("docs/d"),
            ViewOp.RenameDir("docs/a", "docs/d"),
            ViewOp.Truncate("docs/d/" + s_long, 2116));
    }

    [Fact]
    public void UnchangedFile_OverADeletedLowerDirectory_KeepsItsFilesHidden()
    {
        AssertHolds(["docs"], LowerSpec.Of(("docs/a/b", ""), ("docs/c", "content")),
            ViewOp.DeleteTree("docs/a"),
            ViewOp.RenameFile("docs/c", "docs/a"));
    }

    [Fact]
    public void LowerDirectory_RenamedAway_AndBack_ShowsItsFilesAgain()
    {
        AssertHolds(["docs"], LowerSpec.Of(("docs/d/a", "one"), ("docs/d/s/b", "two")),
            ViewOp.Chmod("docs/d/a", 0x180),
            ViewOp.RenameDir("docs/d", "docs/e"),
            ViewOp.Scan(),
            ViewOp.RenameDir("docs/e", "docs/d"),
            ViewOp.Scan(),
            ViewOp.RenameDir("docs/d/s", "docs/s"));
    }

    [Fact]
    public void ArenaRoot_MovedIntoAnotherArena_AndReplacedByOneOfItsDirectories()
    {
        AssertHolds(["docs", "media"], LowerSpec.Of(("docs/a", "one"), ("docs/x/b", "two"), ("media/c", "three")),
            ViewOp.RenameDir("docs", "media/old"),
            ViewOp.Scan(),
            ViewOp.RenameDir("media/old/x", "docs"),
            ViewOp.Remount(),
            ViewOp.Create("docs/new", "four"));
    }

    [Fact]
    public void ArenaRoot_ReplacedByAFile_ShowsNothing_UntilADirectoryIsBack()
    {
        AssertHolds(["docs", "media"], LowerSpec.Of(("docs/a", "one"), ("docs/b", "two")),
            ViewOp.RenameFile("docs/a", "media"),
            ViewOp.RenameFile("docs/b", "docs/a"),
            ViewOp.Scan(),
            ViewOp.RenameFile("media", "docs/b"),
            ViewOp.Mkdir("media"),
            ViewOp.Create("media/c", "three"));
    }

    [Fact]
    public void Directory_FromOutsideEveryArena_MovedIn_AndFilesMovedOut()
    {
        AssertHolds(["docs"], LowerSpec.Of(("docs/a", "one"), ("other/outside", "not in any arena"), ("other/sub/deeper", "deep")),
            ViewOp.RenameDir("other", "docs/o"),
            ViewOp.Scan(),
            ViewOp.RenameFile("docs/o/outside", "t1"),
            ViewOp.RenameFile("docs/a", "t2"),
            ViewOp.Remount());
    }

    [Fact]
    public void HardLinks_OfLowerAndLocalFiles_AcrossArenas_SurviveARemount()
    {
        AssertHolds(["docs", "media"], LowerSpec.Of(("docs/a", "one"), ("media/d/b", "two")),
            ViewOp.Link("docs/a", "media/d/a"),
            ViewOp.Create("media/c", "three"),
            ViewOp.Link("media/c", "docs/c"),
            ViewOp.Remount(),
            ViewOp.Append("media/d/a", "+"),
            ViewOp.Overwrite("docs/c", "changed"),
            ViewOp.Scan(),
            ViewOp.Delete("docs/a"),
            ViewOp.RenameDir("media/d", "docs/d"),
            ViewOp.Remount());
    }

    [Fact]
    public void MetacopyFiles_InDirectoriesMovedTwice_KeepTheirLowerContent()
    {
        AssertHolds(["docs"], LowerSpec.Of(("docs/d/a", "one"), ("docs/d/b", "two"), ("docs/e/c", "three")),
            ViewOp.Chmod("docs/d/a", 0x180),
            ViewOp.RenameFile("docs/d/b", "docs/d/c"),
            ViewOp.SetXattr("docs/e/c", "user.realize.mark", "keep"),
            ViewOp.Scan(),
            ViewOp.RenameDir("docs/d", "docs/e/d"),
            ViewOp.RenameFile("docs/e/c", "docs/e/d/b"),
            ViewOp.Scan(),
            ViewOp.RenameDir("docs/e", "docs/d"),
            ViewOp.Remount());
    }

    // A same-size rewrite whose mtime is set back: only the ctime tells, also after a rename
    // or through a hard link, where another path's row is reused only when its ctime matches.

    [Fact]
    public void SameSizeOverwrite_OfLocalFile_WithMtimeSetBack_IsUpdated()
    {
        AssertHolds(["docs"], LowerSpec.Of(("docs/a", "one")),
            ViewOp.Create("docs/b", "two"),
            ViewOp.Scan(),
            ViewOp.OverwriteKeepingMTime("docs/b", "TWO"));
    }

    [Fact]
    public void SameSizeOverwrite_OfMetacopyFile_WithMtimeSetBack_IsUpdated()
    {
        AssertHolds(["docs"], LowerSpec.Of(("docs/a", "one")),
            ViewOp.Chmod("docs/a", 0x180),
            ViewOp.Scan(),
            ViewOp.OverwriteKeepingMTime("docs/a", "ONE"));
    }

    [Fact]
    public void SameSizeOverwrite_OfRemoteFile_WithMtimeSetBack_IsUpdated()
    {
        AssertHolds(["docs"], LowerSpec.Of(("docs/a", "one")),
            ViewOp.OverwriteKeepingMTime("docs/a", "ONE"));
    }

    private static void AssertHolds(string[] arenas, LowerSpec lower, params ViewOp[] ops) => AssertHolds(watched: false, arenas, lower, ops);

    /// <summary>Runs <paramref name="ops"/>; with <paramref name="watched"/>, scans only what inotify names, as the daemon does.</summary>
    private static void AssertHolds(bool watched, string[] arenas, LowerSpec lower, params ViewOp[] ops)
    {
        var run = new Runner(arenas, lower, lenient: false, watched);
        using var source = ((IEnumerable<ViewOp>)ops).GetEnumerator();
        string? failure = run.Run((_, _) => source.MoveNext() ? source.Current : null);
        if (failure is not null)
        {
            Assert.Fail(run.Describe(failure));
        }
    }

    private static int? IntFromEnvironment(string name) => Realize.TestSupport.Seeds.IntFromEnvironment(name);

    /// <summary>
    /// Runs one sequence on a fresh store: applies the operations through the merged view,
    /// scans where asked, and after every scan checks that the history replayed onto the
    /// lower tree gives the merged view; at the end scans, checks, and checks that a second
    /// scan finds nothing.
    /// </summary>
    private sealed class Runner
    {
        private readonly string[] _arenas;
        private readonly LowerSpec _lower;
        private readonly bool _lenient;
        private readonly bool _watched;
        private readonly List<(ViewOp Op, string? Note)> _log = [];
        private readonly Dictionary<BlobHash, string> _labels = [];
        private List<Notification> _history = [];

        /// <param name="lenient">Skip operations that fail (a shrunk sequence may refer to what is no longer there); otherwise only EXDEV is skipped.</param>
        /// <param name="watched">Scan only the paths inotify on real/ named since the last scan, as the daemon does; the last check is a whole scan that must find nothing.</param>
        public Runner(string[] arenas, LowerSpec lower, bool lenient, bool watched = false)
        {
            _arenas = arenas;
            _lower = lower;
            _lenient = lenient;
            _watched = watched;
        }

        /// <summary>True when the run ended with an exception rather than a broken property.</summary>
        public bool Crashed { get; private set; }

        /// <summary>The operations that took effect, in order.</summary>
        public List<ViewOp> Applied => _log.Where(e => e.Note is null).Select(e => e.Op).ToList();

        /// <summary>Runs the sequence <paramref name="next"/> yields (null ends it); returns why the property failed, or null.</summary>
        public string? Run(Func<OverlayStore, int, ViewOp?> next)
        {
            using var store = new OverlayStore(_arenas, _lower.Build);
            using var watcher = _watched ? new TreeWatcher([store.Store.RealDir], NullLogger.Instance) : null;
            watcher?.Start();
            ScanSummary Scan() => watcher is null ? store.Scan() : store.ScanWatched(watcher);
            string stage = "before the first operation";
            try
            {
                for (int step = 0; next(store, step) is { } op; step++)
                {
                    stage = $"at operation {step + 1} ({op})";
                    if (Do(store, op, Scan) is { } note)
                    {
                        _log.Add((op, note));
                        continue;
                    }
                    _log.Add((op, null));
                    if (op.Kind is ViewOpKind.Scan or ViewOpKind.Remount && Check(store) is { } failure)
                    {
                        return $"{stage}: {failure}";
                    }
                }
                stage = "at the final scan";
                Scan();
                if (Check(store) is { } last)
                {
                    return $"{stage}: {last}";
                }
                stage = "at the second final scan";
                int length = store.History().Count;
                var second = store.Scan();
                _history = store.History();
                // After scans of only what inotify named, a hard link's other names may still
                // have to be hashed once (a link or unlink changes the ctime of every name), but
                // never to any effect.
                if (second.Added + second.Updated + second.Removed != 0 || (second.Hashed != 0 && !_watched) || _history.Count != length)
                {
                    return $"{stage}: a scan right after a scan must find nothing, yet: {second}; the history grew from {length} to {_history.Count}";
                }
                return null;
            }
            catch (Exception e)
            {
                Crashed = true;
                return $"{stage}: {e.GetType().Name}: {e.Message}\n{e.StackTrace}";
            }
        }

        /// <summary>Does <paramref name="op"/>; returns why it was skipped, or null when it took effect.</summary>
        private string? Do(OverlayStore store, ViewOp op, Func<ScanSummary> scan)
        {
            switch (op.Kind)
            {
                case ViewOpKind.Scan:
                    scan();
                    return null;
                case ViewOpKind.Remount:
                    store.Unmount();
                    scan();
                    store.Mount();
                    return null;
            }
            try
            {
                op.Apply(store.View);
                return null;
            }
            catch (LinuxException e) when (e.Errno == Errno.EXDEV)
            {
                // Overlay could not represent it (it should not happen with redirect_dir=on): skipped, and said so in the log.
                return "skipped: EXDEV";
            }
            catch (Exception e) when (_lenient && e is IOException or UnauthorizedAccessException)
            {
                return "skipped: " + e.Message;
            }
        }

        /// <summary>Compares, per arena, the merged view with the history replayed onto the lower tree.</summary>
        private string? Check(OverlayStore store)
        {
            _history = store.History();
            if (!store.IsMounted)
            {
                return null;
            }
            var problems = new StringBuilder();
            foreach (string name in _arenas)
            {
                var arena = ArenaName.Parse(name);
                var indexes = _history.Where(n => n.Arena == arena).Select(n => n.Index).ToList();
                if (!indexes.SequenceEqual(Enumerable.Range(1, indexes.Count).Select(i => (long)i)))
                {
                    problems.AppendLine(CultureInfo.InvariantCulture, $"history indexes of {name} are not 1..n: {string.Join(",", indexes)}");
                }
                var view = Label(Tree.Files(store.InView(name)), store.InView(name));
                var start = Label(Tree.Files(Path.Combine(store.Lower, name)), Path.Combine(store.Lower, name));
                SortedDictionary<string, BlobHash> replayed;
                try
                {
                    replayed = Tree.Replay(start, _history, arena);
                }
                catch (XunitException e)
                {
                    problems.AppendLine(CultureInfo.InvariantCulture, $"arena {name}: {e.Message}");
                    continue;
                }
                foreach (string path in view.Keys.Union(replayed.Keys).Order(StringComparer.Ordinal))
                {
                    bool shown = view.TryGetValue(path, out var shownBlob);
                    bool said = replayed.TryGetValue(path, out var saidBlob);
                    if (shown != said || shownBlob != saidBlob)
                    {
                        problems.AppendLine(CultureInfo.InvariantCulture,
                            $"{name}/{path}: the merged view has {(shown ? LabelOf(shownBlob) : "nothing")}, the replayed history {(said ? LabelOf(saidBlob) : "nothing")}");
                    }
                }
            }
            return problems.Length == 0 ? null : problems.ToString();
        }

        private SortedDictionary<string, BlobHash> Label(SortedDictionary<string, BlobHash> files, string root)
        {
            foreach (var (path, blob) in files)
            {
                if (!_labels.ContainsKey(blob))
                {
                    byte[] bytes = File.ReadAllBytes(Path.Combine(root, path));
                    string text = Encoding.UTF8.GetString(bytes, 0, Math.Min(bytes.Length, 24));
                    _labels[blob] = $"{blob.Hex[..8]} {Content.Literal(text)}{(bytes.Length > 24 ? $"... ({bytes.Length} bytes)" : "")}";
                }
            }
            return files;
        }

        private string LabelOf(BlobHash? blob) => blob is not { } b ? "-" : _labels.TryGetValue(b, out string? label) ? label : b.Hex[..8];

        /// <summary>The failure, the lower tree, the operation log and the history, for the assertion message.</summary>
        public string Describe(string failure)
        {
            var text = new StringBuilder()
                .AppendLine(CultureInfo.InvariantCulture, $"arenas: {string.Join(", ", _arenas)}")
                .AppendLine(CultureInfo.InvariantCulture, $"lower: {_lower}")
                .AppendLine("operations:");
            for (int i = 0; i < _log.Count; i++)
            {
                var (op, note) = _log[i];
                text.AppendLine(CultureInfo.InvariantCulture, $"  {i + 1,3}. {op}{(note is null ? "" : $"   [{note}]")}");
            }
            text.AppendLine(CultureInfo.InvariantCulture, $"failure {failure}").AppendLine("history:");
            foreach (var n in _history)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"  {n.Arena}#{n.Index} {n.Type} {n.Path} {(n.Blob is null ? "" : LabelOf(n.Blob))}{(n.OldBlob is null ? "" : $" (was {LabelOf(n.OldBlob)})")}");
            }
            return text.ToString();
        }
    }

    /// <summary>Shrinks a failing sequence (delta debugging over operations, then lower entries, then contents).</summary>
    private static class Shrinker
    {
        /// <param name="crashed">Whether the failure to keep is an exception (otherwise a broken property).</param>
        public static string Shrink(string[] arenas, LowerSpec lower, List<ViewOp> ops, bool crashed, bool watched, TimeSpan budget)
        {
            var clock = Stopwatch.StartNew();
            int runs = 0;
            bool Fails(LowerSpec l, List<ViewOp> o)
            {
                if (clock.Elapsed > budget)
                {
                    return false;
                }
                runs++;
                var run = new Runner(arenas, l, lenient: true, watched);
                using var source = o.GetEnumerator();
                return run.Run((_, _) => source.MoveNext() ? source.Current : null) is not null && run.Crashed == crashed;
            }
            if (!Fails(lower, ops))
            {
                return "shrinking: the sequence did not fail again when replayed (flaky?)";
            }
            for (int round = 0; round < 3; round++)
            {
                ops = MinimiseList(ops, o => Fails(lower, o));
                lower = new LowerSpec(MinimiseList(lower.Entries.ToList(), e => Fails(new LowerSpec(e), ops)));
                ops = SimplifyContents(ops, o => Fails(lower, o));
            }
            var final = new Runner(arenas, lower, lenient: true, watched);
            using (var source = ops.GetEnumerator())
            {
                string failure = final.Run((_, _) => source.MoveNext() ? source.Current : null) ?? "(did not fail on the last run)";
                ops = final.Applied;
                var text = new StringBuilder()
                    .AppendLine(CultureInfo.InvariantCulture, $"shrunk in {clock.Elapsed.TotalSeconds:0.0} s ({runs} runs{(clock.Elapsed > budget ? ", budget exhausted" : "")}) to:")
                    .Append(final.Describe(failure))
                    .AppendLine("as a test:")
                    .AppendLine(CultureInfo.InvariantCulture, $"AssertHolds({(watched ? "watched: true, " : "")}[{string.Join(", ", arenas.Select(a => Content.Literal(a)))}], {lower.ToCode()},")
                    .AppendLine(string.Join(",\n", ops.Select(o => "    " + o.ToCode())) + ");");
                return text.ToString();
            }
        }

        private static List<T> MinimiseList<T>(List<T> items, Func<List<T>, bool> fails)
        {
            int chunks = 2;
            while (items.Count > 0)
            {
                int size = Math.Max(1, (items.Count + chunks - 1) / chunks);
                bool removed = false;
                for (int start = 0; start < items.Count; start += size)
                {
                    var candidate = items.Take(start).Concat(items.Skip(start + size)).ToList();
                    if (fails(candidate))
                    {
                        items = candidate;
                        chunks = Math.Max(chunks - 1, 2);
                        removed = true;
                        break;
                    }
                }
                if (!removed)
                {
                    if (size == 1)
                    {
                        break;
                    }
                    chunks = Math.Min(chunks * 2, items.Count);
                }
            }
            return items;
        }

        private static List<ViewOp> SimplifyContents(List<ViewOp> ops, Func<List<ViewOp>, bool> fails)
        {
            for (int i = 0; i < ops.Count; i++)
            {
                if (ops[i].Data is { } data && ops[i].Kind != ViewOpKind.SetXattr && (data.Repeat > 1 || data.Unit.Length > 4))
                {
                    var candidate = ops.ToList();
                    candidate[i] = ops[i] with { Data = new Content("w" + i.ToString(CultureInfo.InvariantCulture)) };
                    if (fails(candidate))
                    {
                        ops = candidate;
                    }
                }
            }
            return ops;
        }
    }

    [Fact]
    public void RenamedLocalFile_RewrittenWithMtimeSetBack_IsUpdated() =>
        AssertHolds(["docs"], LowerSpec.Of(("docs/x", "lower")),
            ViewOp.Create("docs/a", "one"), ViewOp.Scan(),
            ViewOp.RenameFile("docs/a", "docs/b"), ViewOp.OverwriteKeepingMTime("docs/b", "TWO"));

    [Fact]
    public void HardLinkedFile_RewrittenWithMtimeSetBack_IsUpdated() =>
        AssertHolds(["docs"], LowerSpec.Of(("docs/x", "lower")),
            ViewOp.Create("docs/a", "one"), ViewOp.Link("docs/a", "docs/b"), ViewOp.Scan(),
            ViewOp.OverwriteKeepingMTime("docs/b", "TWO"));

    [Fact]
    public void HardLink_WrittenThroughItsOtherName_IsUpdatedUnderBoth_WhenScannedWhereInotifySays() =>
        AssertHolds(watched: true, ["docs", "media"], LowerSpec.Of(("docs/x", "lower")),
            ViewOp.Create("docs/a", "one"),
            ViewOp.Mkdir("media"),
            ViewOp.Link("docs/a", "media/b"),
            ViewOp.Link("docs/a", "docs/c"),
            ViewOp.Scan(),
            ViewOp.Append("media/b", "two"),
            ViewOp.Scan(),
            ViewOp.Truncate("docs/c", 1));

    [Fact]
    public void HardLink_WrittenAfterItsFirstNameIsDeleted_IsUpdated_WhenScannedWhereInotifySays()
    {
        {
            AssertHolds(watched: true, ["docs"], LowerSpec.Of(),
                ViewOp.Mkdir("docs"),
                ViewOp.Mkdir("docs/d"),
                ViewOp.Create("docs/ü", "w3"),
                ViewOp.RenameFile("docs/ü", "docs/e f"),
                ViewOp.RenameFile("docs/e f", "docs/" + s_long),
                ViewOp.Link("docs/" + s_long, "docs/d/e f"),
                ViewOp.RenameDir("docs/d", "docs/new\nline"),
                ViewOp.Mkdir("docs/d"),
                ViewOp.Scan(),
                ViewOp.Delete("docs/" + s_long),
                ViewOp.RenameDir("docs/new\nline", "docs/d/" + s_long),
                ViewOp.Scan(),
                ViewOp.Truncate("docs/d/" + s_long + "/e f", 0));
        }
    }
}
