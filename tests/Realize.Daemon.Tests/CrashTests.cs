using System.Diagnostics;
using System.Globalization;
using System.Text;
using Realize.Core;
using Realize.Harness;
using Realize.Linux;
using Realize.Storage;
using Realize.TestSupport;

namespace Realize.Daemon.Tests;

/// <summary>
/// <c>realize up</c> crashes: killed with SIGKILL at random points while changes are made
/// through the merged view, and started again. The kernel keeps the view mounted, so changes go
/// on while the daemon is down. In the end the history, replayed strictly onto the lower tree,
/// gives exactly the files the merged view shows: no change lost, none recorded twice.
/// </summary>
/// <remarks>
/// Each run is drawn from a seeded <see cref="Random"/>: the lower tree, the operations and
/// where the kills fall among them. The seed and the log of operations and kills are in every
/// failure message. Where a kill lands in the daemon's own work differs from run to run.
/// <c>REALIZE_CRASH_SEED</c> sets the first seed and <c>REALIZE_CRASH_RUNS</c> the number of runs.
/// </remarks>
public sealed class CrashTests : IDisposable
{
    private const int DefaultFirstSeed = 1;
    private const int DefaultRuns = 5;

    private static readonly string[] s_arenas = ["docs", "media"];

    // A small pool of names, so that a file lands where a directory was and renames replace files.
    private static readonly string[] s_names = ["a", "b", "c.txt", "d", "e f", "ü"];
    private static readonly int[] s_settleMs = [0, 50, 200];

    // Generous: others build and benchmark on the same 2 cores.
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(60);

    private readonly TempDir _dir;
    private readonly List<string> _log = [];
    private readonly StringBuilder _daemonLogs = new();
    private DaemonProcess? _daemon;
    private int _fresh;

    public CrashTests()
    {
        Root.Require();
        _dir = new TempDir("crash");
    }

    private string View => _dir.Combine("view");

    public static TheoryData<int> Seeds() => [.. Realize.TestSupport.Seeds.FromEnvironment("REALIZE_CRASH_SEED", "REALIZE_CRASH_RUNS", DefaultFirstSeed, DefaultRuns)];

    [Theory]
    [MemberData(nameof(Seeds))]
    public async Task DaemonKilledAtRandomPoints_RecordsEveryChangeOnce(int seed)
    {
        var random = new Random(seed);
        var lower = RandomLower(random);
        lower.Build(_dir.Combine("lower"));
        var store = Store.Create(_dir.Combine("store"), new StoreConfig
        {
            Mount = View,
            Lower = _dir.Combine("lower"),
            Arenas = s_arenas.Select(a => new ArenaConfig(ArenaName.Parse(a))).ToArray(),
        });
        var clock = Stopwatch.StartNew();
        string? failure;
        try
        {
            failure = await RunAsync(random, store);
        }
        catch (Exception e)
        {
            failure = $"{e.GetType().Name}: {e.Message}\n{e.StackTrace}";
        }
        if (failure is not null)
        {
            Assert.Fail(new StringBuilder()
                .AppendLine(CultureInfo.InvariantCulture, $"crash test failed for seed {seed} after {clock.Elapsed.TotalSeconds:0.0} s; run it again with REALIZE_CRASH_SEED={seed} REALIZE_CRASH_RUNS=1 dotnet test tests/Realize.Daemon.Tests -c Release --filter CrashTests")
                .AppendLine(CultureInfo.InvariantCulture, $"lower: {lower}")
                .AppendLine("what was done:")
                .AppendJoin('\n', _log.Select((line, i) => $"  {i + 1,3}. {line}")).AppendLine()
                .AppendLine(CultureInfo.InvariantCulture, $"failure: {failure}")
                .AppendLine("daemon logs:")
                .Append(_daemonLogs)
                .ToString());
        }
    }

    /// <summary>Rounds of: start the daemon, a burst of operations with a kill somewhere in it. Then the check; returns why it failed, or null.</summary>
    private async Task<string?> RunAsync(Random random, Store store)
    {
        int kills = random.Next(3, 6);
        for (int round = 0; round < kills; round++)
        {
            // Before the first start nothing is mounted: the daemon must be up before anything is done through the view.
            bool waitForStatus = round == 0 || random.Next(100) < 70;
            await StartAsync(random, store, waitForStatus);
            int burst = random.Next(4, 17);
            int killAfter = random.Next(0, burst + 1);
            for (int i = 0; i <= burst; i++)
            {
                if (i == killAfter)
                {
                    // Now and then it is given time to pick the changes up, so that the kill lands while it settles or scans.
                    int pause = random.Next(100) < 60 ? random.Next(0, 500) : 0;
                    await Task.Delay(pause);
                    KillDaemon($"after {i} of {burst} operations and {pause} ms");
                }
                if (i == burst)
                {
                    break;
                }
                DoRandomOperation(random);
                if (random.Next(100) < 30)
                {
                    // Pacing, so that the daemon records some changes live, between the others.
                    await Task.Delay(random.Next(1, 250));
                }
            }
        }

        await StartAsync(random, store, waitForStatus: true);
        var scan = await _daemon!.SendAsync("scan", s_deadline);
        if (scan.Summary is null)
        {
            return $"the last daemon did not scan: {scan.Error}";
        }
        _log.Add($"scan: {scan.Summary}");
        var shown = s_arenas.ToDictionary(a => a, a => Tree.Files(Path.Combine(View, a)));
        int exit = _daemon.Stop(s_deadline);
        _log.Add($"SIGTERM: exit {exit}");
        CloseDaemonLog();
        if (exit != 0)
        {
            return $"realize up exited {exit} on SIGTERM, expected 0";
        }
        return Check(store, shown);
    }

    private async Task StartAsync(Random random, Store store, bool waitForStatus)
    {
        string settle = s_settleMs[random.Next(s_settleMs.Length)].ToString(CultureInfo.InvariantCulture);
        _daemon = DaemonProcess.Start(RealizeCommand.Executable, store, ["--settle-ms", settle]);
        _daemonLogs.AppendLine(CultureInfo.InvariantCulture, $"--- pid {_daemon.Pid}, realize up --settle-ms {settle}");
        if (waitForStatus)
        {
            var clock = Stopwatch.StartNew();
            await _daemon.WaitUntilAnsweringAsync(s_deadline);
            _log.Add($"start pid {_daemon.Pid} (--settle-ms {settle}): answered status after {clock.Elapsed.TotalSeconds:0.0} s");
        }
        else
        {
            _log.Add($"start pid {_daemon.Pid} (--settle-ms {settle}), not waiting for it");
        }
        Assert.True(Mounts.FindMount(View) is "overlay", $"the merged view is not mounted at {View}");
    }

    private void KillDaemon(string when)
    {
        var daemon = _daemon!;
        if (daemon.HasExited)
        {
            // Only a kill may end it: exiting by itself is a crash of its own.
            daemon.Kill();
            int exit = daemon.ExitCode;
            CloseDaemonLog();
            throw new InvalidOperationException($"realize up (pid {daemon.Pid}) exited {exit} by itself before the kill {when}");
        }
        daemon.Kill();
        _log.Add($"SIGKILL pid {daemon.Pid} {when}");
        CloseDaemonLog();
    }

    private void CloseDaemonLog()
    {
        _daemonLogs.Append(_daemon!.Log);
        _daemon.Dispose();
        _daemon = null;
    }

    /// <summary>Replays the history strictly onto the lower tree, per arena, and compares it with what the view showed.</summary>
    private static string? Check(Store store, Dictionary<string, SortedDictionary<string, BlobHash>> shown)
    {
        List<Notification> history;
        using (var index = store.OpenIndex())
        {
            history = index.ReadHistory(null).ToList();
        }
        var problems = new List<string>();
        foreach (string name in s_arenas)
        {
            var arena = ArenaName.Parse(name);
            var indexes = history.Where(n => n.Arena == arena).Select(n => n.Index).ToList();
            if (!indexes.SequenceEqual(Enumerable.Range(1, indexes.Count).Select(i => (long)i)))
            {
                problems.Add($"history indexes of {name} are not 1..n: {string.Join(",", indexes)}");
            }
            var start = Tree.Files(Path.Combine(store.Config.Lower!, name));
            var replayed = Tree.ReplayStrictly(start, history, arena, problems);
            var view = shown[name];
            foreach (string path in view.Keys.Union(replayed.Keys).Order(StringComparer.Ordinal))
            {
                bool inView = view.TryGetValue(path, out var viewBlob);
                bool inHistory = replayed.TryGetValue(path, out var historyBlob);
                if (inView != inHistory || viewBlob != historyBlob)
                {
                    problems.Add($"{name}/{path}: the merged view has {(inView ? viewBlob.Hex[..8] : "nothing")}, the replayed history {(inHistory ? historyBlob.Hex[..8] : "nothing")}");
                }
            }
        }
        if (problems.Count == 0)
        {
            return null;
        }
        var text = new StringBuilder().AppendJoin('\n', problems).AppendLine().AppendLine("history:");
        foreach (var n in history)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  {n.Arena}#{n.Index} {n.Type} {n.Path} {n.Blob?.Hex[..8]}{(n.OldBlob is { } old ? $" (was {old.Hex[..8]})" : "")}");
        }
        return text.ToString();
    }

    /// <summary>Draws an operation on what the view shows now and does it; only EXDEV is tolerated (skipped, and said so).</summary>
    private void DoRandomOperation(Random random)
    {
        var view = ViewTree.Read(View, s_arenas);
        ViewOp? op = null;
        for (int attempt = 0; op is null && attempt < 100; attempt++)
        {
            op = Draw(random, view);
        }
        if (op is null)
        {
            return;
        }
        try
        {
            op.Apply(View);
            _log.Add(op.ToString());
        }
        catch (LinuxException e) when (e.Errno == Errno.EXDEV)
        {
            _log.Add($"{op}   [skipped: EXDEV]");
        }
        catch
        {
            _log.Add($"{op}   [failed]");
            throw;
        }
    }

    private ViewOp? Draw(Random random, ViewTree view)
    {
        var dirs = view.Dirs;
        var files = view.Files;
        var nonRoot = dirs.Where(d => d.Contains('/', StringComparison.Ordinal)).ToList();
        T Pick<T>(IReadOnlyList<T> items) => items[random.Next(items.Count)];
        return random.Next(100) switch
        {
            < 22 when dirs.Count > 0 => ViewOp.Create(NewPath(random, Pick(dirs)), RandomContent(random)),
            < 34 when files.Count > 0 => ViewOp.Overwrite(Pick(files), RandomContent(random)),
            < 44 when files.Count > 0 => ViewOp.Append(Pick(files), RandomContent(random)),
            < 47 when files.Count > 0 => ViewOp.Truncate(Pick(files), random.Next(0, 3)),
            < 56 when files.Count > 0 => ViewOp.Delete(Pick(files)),
            < 70 when files.Count > 0 => RenameFile(random, view, Pick),
            < 79 when nonRoot.Count > 0 => RenameDir(random, view, Pick(nonRoot), Pick),
            < 90 when dirs.Count > 0 => ViewOp.Mkdir(NewPath(random, Pick(dirs))),
            < 95 when view.EmptyDirs.Count > 0 => ViewOp.Rmdir(Pick(view.EmptyDirs)),
            < 98 when nonRoot.Count > 0 => ViewOp.DeleteTree(Pick(nonRoot)),
            _ => null,
        };
    }

    /// <summary>Within its directory, into another (also of the other arena), or over an existing file.</summary>
    private ViewOp RenameFile(Random random, ViewTree view, Func<IReadOnlyList<string>, string> pick)
    {
        string source = pick(view.Files);
        var others = view.Files.Where(f => f != source).ToList();
        if (others.Count > 0 && random.Next(100) < 25)
        {
            return ViewOp.RenameFile(source, pick(others));
        }
        return ViewOp.RenameFile(source, NewPath(random, random.Next(100) < 50 ? RelPaths.Parent(source) : pick(view.Dirs)));
    }

    private ViewOp? RenameDir(Random random, ViewTree view, string source, Func<IReadOnlyList<string>, string> pick)
    {
        var parents = view.Dirs.Where(d => !RelPaths.IsAtOrBelow(d, source)).ToList();
        return parents.Count == 0 ? null : ViewOp.RenameDir(source, NewPath(random, pick(parents)));
    }

    /// <summary>A name from the pool not taken in <paramref name="dir"/>, or a fresh one.</summary>
    private string NewPath(Random random, string dir)
    {
        for (int attempt = 0; attempt < 8; attempt++)
        {
            string path = RelPaths.Join(dir, s_names[random.Next(s_names.Length)]);
            if (Stat.TryLstat(Path.Combine(View, path)) is null)
            {
                return path;
            }
        }
        return RelPaths.Join(dir, "n" + _fresh++.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>Mostly a word; now and then kilobytes, or up to a megabyte.</summary>
    private static Content RandomContent(Random random) => random.Next(20) switch
    {
        < 15 => RandomWord(random),
        < 19 => new Content(RandomWord(random) + "\n", random.Next(100, 3000)),
        _ => new Content(RandomWord(random) + "\n", random.Next(50_000, 100_000)),
    };

    private static string RandomWord(Random random)
    {
        var chars = new char[random.Next(1, 12)];
        for (int i = 0; i < chars.Length; i++)
        {
            chars[i] = (char)('a' + random.Next(26));
        }
        return new string(chars);
    }

    /// <summary>Both arena roots, each with a few files and directories, some nested.</summary>
    private static LowerSpec RandomLower(Random random)
    {
        var entries = new List<LowerEntry>();
        void Fill(string dir, int depth)
        {
            entries.Add(new LowerEntry(dir, null));
            var names = s_names.OrderBy(_ => random.Next()).ToList();
            int dirs = depth >= 2 ? 0 : random.Next(0, 3);
            int files = random.Next(depth == 0 ? 1 : 0, 4);
            foreach (string name in names.Take(dirs))
            {
                Fill(RelPaths.Join(dir, name), depth + 1);
            }
            foreach (string name in names.Skip(dirs).Take(files))
            {
                entries.Add(new LowerEntry(RelPaths.Join(dir, name), RandomContent(random)));
            }
        }
        foreach (string arena in s_arenas)
        {
            Fill(arena, 0);
        }
        return new LowerSpec(entries);
    }

    private static int? IntFromEnvironment(string name) => Realize.TestSupport.Seeds.IntFromEnvironment(name);

    public void Dispose()
    {
        try
        {
            _daemon?.Dispose();
        }
        finally
        {
            // A killed daemon leaves the view mounted, and one that found it mounted leaves it so.
            if (Mounts.FindMount(View) is not null)
            {
                Mounts.Unmount(View, detach: true);
            }
            _dir.Dispose();
        }
    }
}
