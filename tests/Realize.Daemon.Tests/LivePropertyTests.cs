using System.Diagnostics;
using System.Globalization;
using System.Text;
using Realize.Core;
using Realize.Linux;
using Realize.Storage;
using Realize.TestSupport;

namespace Realize.Daemon.Tests;

/// <summary>
/// The property of DESIGN.md "History", live: random operations through the merged view and
/// in a plain-directory arena while the daemon runs, with no scan asked for; once it is
/// stopped (it examines all that is pending), the history replayed strictly onto the lower
/// tree gives exactly what the merged view showed, and onto nothing exactly the plain
/// directory's files.
/// </summary>
/// <remarks>
/// Each run is drawn from a seeded <see cref="Random"/> (the lower tree, the plain directory's
/// first files, the settle delay, the operations and the pauses between them), so the seed and
/// the log are in every failure message; where the daemon's work falls among the operations
/// differs from run to run. <c>REALIZE_LIVE_SEED</c> sets the first seed, <c>REALIZE_LIVE_RUNS</c>
/// the number of runs and <c>REALIZE_LIVE_OPS</c> the longest sequence in each tree (default 50).
/// No hard links: overlay reports a write to a hard-linked file under the name it first looked
/// it up by, and once that name is deleted inotify says nothing (see HistoryPropertyTests).
/// </remarks>
public sealed class LivePropertyTests : IDisposable
{
    private const int DefaultFirstSeed = 1;
    private const int DefaultRuns = 10;
    private static readonly string[] s_viewArenas = ["docs", "media"];
    private static readonly string s_plainArena = "photos";
    private static readonly int[] s_settleMs = [0, 20, 200];

    // Generous: others build and benchmark on the same 2 cores.
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(60);

    private readonly TempDir _dir;
    private readonly List<string> _log = [];
    private InProcessDaemon? _daemon;
    private List<Notification> _history = [];

    public LivePropertyTests()
    {
        Root.Require();
        _dir = new TempDir("live");
    }

    private string View => _dir.Combine("view");

    /// <summary>The parent of the plain arena's directory: the generator sees the arena as its top-level directory.</summary>
    private string PlainParent => _dir.Combine("plain");

    private string PlainDir => Path.Combine(PlainParent, s_plainArena);

    public static TheoryData<int> Seeds() => [.. Realize.TestSupport.Seeds.FromEnvironment("REALIZE_LIVE_SEED", "REALIZE_LIVE_RUNS", DefaultFirstSeed, DefaultRuns)];

    [Theory]
    [MemberData(nameof(Seeds))]
    public async Task RandomOperations_WhileTheDaemonRuns_ReplayStrictlyToTheMergedViewAndThePlainDirectory(int seed)
    {
        var random = new Random(seed);
        var lower = ViewOpGenerator.RandomLower(random, s_viewArenas);
        lower.Build(_dir.Combine("lower"));
        // Files already there when the daemon starts: its catch-up scan adds them.
        var plain = new LowerSpec(ViewOpGenerator.RandomLower(random, [s_plainArena]).Entries
            .Where(e => RelPaths.IsAtOrBelow(e.Path, s_plainArena)).ToArray());
        Directory.CreateDirectory(PlainDir);
        plain.Build(PlainParent);
        var store = Store.Create(_dir.Combine("store"), new StoreConfig
        {
            Mount = View,
            Lower = _dir.Combine("lower"),
            Arenas = [.. s_viewArenas.Select(a => new ArenaConfig(ArenaName.Parse(a))), PlainArenas.Marked(s_plainArena, PlainDir)],
        });
        int settle = s_settleMs[random.Next(s_settleMs.Length)];
        var clock = Stopwatch.StartNew();
        string? failure;
        try
        {
            failure = await RunAsync(random, store, settle);
        }
        catch (Exception e)
        {
            failure = $"{e.GetType().Name}: {e.Message}\n{e.StackTrace}";
        }
        if (failure is not null)
        {
            var message = new StringBuilder()
                .AppendLine(CultureInfo.InvariantCulture, $"live property failed for seed {seed} (settle {settle} ms) after {clock.Elapsed.TotalSeconds:0.0} s; run it again with REALIZE_LIVE_SEED={seed} REALIZE_LIVE_RUNS=1 dotnet test tests/Realize.Daemon.Tests -c Release --filter LivePropertyTests")
                .AppendLine(CultureInfo.InvariantCulture, $"lower: {lower}")
                .AppendLine(CultureInfo.InvariantCulture, $"plain directory at the start: {plain}")
                .AppendLine("what was done:")
                .AppendJoin('\n', _log.Select((line, i) => $"  {i + 1,3}. {line}")).AppendLine()
                .AppendLine(CultureInfo.InvariantCulture, $"failure: {failure}")
                .AppendLine("history:");
            foreach (var n in _history)
            {
                message.AppendLine(CultureInfo.InvariantCulture, $"  {n.Arena}{HistoryAssert.Describe(n)}");
            }
            message.AppendLine("daemon log:").Append(_daemon?.Logs.ToString());
            Assert.Fail(message.ToString());
        }
    }

    /// <summary>Starts the daemon, does the operations, stops it and checks; returns why the property failed, or null.</summary>
    private async Task<string?> RunAsync(Random random, Store store, int settleMs)
    {
        _daemon = await InProcessDaemon.StartAsync(store, new DaemonOptions { SettleDelay = TimeSpan.FromMilliseconds(settleMs) }, s_deadline);
        Assert.True(Mounts.FindMount(View) is "overlay", $"the merged view is not mounted at {View}");
        _log.Add($"daemon started, settle delay {settleMs} ms");
        int most = Realize.TestSupport.Seeds.IntFromEnvironment("REALIZE_LIVE_OPS") ?? 50;
        var mix = new ViewOpMix { HardLinks = false, ScansAndRemounts = false };
        var trees = new (string Name, string Root, ViewOpGenerator Generator)[]
        {
            ("view", View, new ViewOpGenerator(random, s_viewArenas, most, mix)),
            ("plain", PlainParent, new ViewOpGenerator(random, [s_plainArena], most, mix with { ArenaRootsChange = false })),
        };
        var steps = new int[trees.Length];
        while (Enumerable.Range(0, trees.Length).Where(t => steps[t] < trees[t].Generator.Count).ToArray() is { Length: > 0 } left)
        {
            int t = left[random.Next(left.Length)];
            var (name, root, generator) = trees[t];
            var op = generator.Next(root, steps[t]++)!;
            try
            {
                op.Apply(root);
                _log.Add($"{name}: {op}");
            }
            catch (LinuxException e) when (e.Errno == Errno.EXDEV && name == "view")
            {
                // Overlay could not represent it (a redirect longer than redirect_max): skipped, and said so.
                _log.Add($"{name}: {op}   [skipped: EXDEV]");
            }
            catch
            {
                _log.Add($"{name}: {op}   [failed]");
                throw;
            }
            if (random.Next(100) < 30)
            {
                // Pacing, so that the daemon records some changes between the others and some together.
                int pause = random.Next(1, 250);
                await Task.Delay(pause);
                _log.Add($"pause {pause} ms");
            }
        }

        // Nothing changes from here on: what the trees show now is what the history must say.
        var shown = s_viewArenas.ToDictionary(a => a, a => Tree.Files(Path.Combine(View, a)));
        shown[s_plainArena] = Tree.Files(PlainDir);
        var clock = Stopwatch.StartNew();
        await _daemon.StopAsync(s_deadline);
        _log.Add($"daemon stopped in {clock.Elapsed.TotalSeconds:0.00} s");
        _history = InProcessDaemon.History(store);
        return Check(store, shown);
    }

    /// <summary>Replays the history strictly per arena, onto the lower tree or (plain arena) onto nothing, and compares it with what was shown.</summary>
    private string? Check(Store store, Dictionary<string, SortedDictionary<string, BlobHash>> shown)
    {
        var problems = new List<string>();
        foreach (string name in (string[])[.. s_viewArenas, s_plainArena])
        {
            var arena = ArenaName.Parse(name);
            if (Tree.IndexGap(_history.Where(n => n.Arena == arena)) is { } gap)
            {
                problems.Add($"{name}: {gap}");
            }
            var start = name == s_plainArena ? new SortedDictionary<string, BlobHash>() : Tree.Files(Path.Combine(store.Config.Lower!, name));
            var replayed = Tree.ReplayStrictly(start, _history, arena, problems);
            problems.AddRange(Tree.Differences(shown[name], replayed, name == s_plainArena ? "the directory" : "the merged view", "the replayed history", prefix: name + "/"));
        }
        return problems.Count == 0 ? null : string.Join('\n', problems);
    }

    public void Dispose() => Teardown.DaemonViewAndDir(_daemon, View, _dir);
}
