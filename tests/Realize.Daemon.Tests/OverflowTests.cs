using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Realize.Core;
using Realize.Storage;
using Realize.TestSupport;
using Xunit.Abstractions;

namespace Realize.Daemon.Tests;

/// <summary>Tests that change system-wide settings (sysctls): run alone, never beside another test.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SystemWideSettings
{
    public const string Name = "system-wide settings";
}

/// <summary>An inotify queue that overflows costs a whole rescan, logged, and loses nothing.</summary>
[Collection(SystemWideSettings.Name)]
public sealed class OverflowTests : IDisposable
{
    private const string QueueLimitFile = "/proc/sys/fs/inotify/max_queued_events";
    private const int SmallQueue = 64;

    // Generous: others build and benchmark on the same 2 cores.
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(120);

    private readonly TempDir _dir = new("overflow");
    private readonly ITestOutputHelper _output;
    private InProcessDaemon? _daemon;

    public OverflowTests(ITestOutputHelper output)
    {
        Root.Require();
        _output = output;
    }

    [Fact]
    public async Task OverflowedQueue_TriggersALoggedRescan_AndEveryFileIsReportedOnce()
    {
        Directory.CreateDirectory(_dir.Combine("lower", "docs"));
        Directory.CreateDirectory(_dir.Combine("photos"));
        var store = Store.Create(_dir.Combine("store"), new StoreConfig
        {
            Mount = _dir.Combine("view"),
            Lower = _dir.Combine("lower"),
            Arenas = [new ArenaConfig(ArenaName.Parse("docs")), PlainArenas.Marked("photos", _dir.Combine("photos"))],
        });
        string saved = File.ReadAllText(QueueLimitFile).Trim();
        try
        {
            // inotify_init1 takes the limit of the moment: the daemon's instance keeps the small queue.
            File.WriteAllText(QueueLimitFile, SmallQueue.ToString(CultureInfo.InvariantCulture));
            _daemon = await InProcessDaemon.StartAsync(store, new DaemonOptions { RaiseQueueLimit = false }, s_deadline);
            string during = File.ReadAllText(QueueLimitFile).Trim();
            Assert.True(during == SmallQueue.ToString(CultureInfo.InvariantCulture),
                $"something else set {QueueLimitFile} to {during} while the daemon started: its queue may not be small");
        }
        finally
        {
            File.WriteAllText(QueueLimitFile, saved);
        }

        // A burst: 1000 files through the merged view, 1000 in the plain arena, interleaved. Each
        // is written outside the arenas and renamed into place, so that it appears whole (a
        // rescan that found it half-written would rightly report it twice: Added, then Updated),
        // then opened for writing and closed: IN_CLOSE_WRITE has it examined at once.
        Directory.CreateDirectory(_dir.Combine("view", "staging"));
        Directory.CreateDirectory(_dir.Combine("staging"));
        var expected = new Dictionary<string, Dictionary<string, BlobHash>> { ["docs"] = new(StringComparer.Ordinal), ["photos"] = new(StringComparer.Ordinal) };
        void Make(int i)
        {
            string name = $"f{i:d4}";
            byte[] content = Encoding.UTF8.GetBytes(name);
            File.WriteAllBytes(_dir.Combine("view", "staging", name), content);
            Posix.Rename(_dir.Combine("view", "staging", name), _dir.Combine("view", "docs", name));
            File.OpenHandle(_dir.Combine("view", "docs", name), FileMode.Open, FileAccess.Write).Dispose();
            File.WriteAllBytes(_dir.Combine("staging", name), content);
            Posix.Rename(_dir.Combine("staging", name), _dir.Combine("photos", name));
            File.OpenHandle(_dir.Combine("photos", name), FileMode.Open, FileAccess.Write).Dispose();
            expected["docs"][name] = ContentHasher.HashBytes(content);
            expected["photos"][name] = ContentHasher.HashBytes(content);
        }
        using (var blocker = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = store.IndexPath, Pooling = false }.ToString()))
        {
            // So that the daemon surely falls behind, however fast this machine: while the first
            // files are made, its first commit waits for this write lock (BEGIN IMMEDIATE; its
            // busy timeout is 10 s) instead of reading the queue, which overflows.
            blocker.Open();
            using var hold = blocker.BeginTransaction(deferred: false);
            for (int i = 0; i < 200; i++)
            {
                Make(i);
            }
        }
        for (int i = 200; i < 1000; i++)
        {
            Make(i);
        }
        using (var index = store.OpenIndex())
        {
            await Poll.UntilAsync(
                () => index.LastIndex(ArenaName.Parse("docs")) >= 1000 && index.LastIndex(ArenaName.Parse("photos")) >= 1000,
                s_deadline,
                () => $"the history holds 1000 notifications per arena; it holds {index.LastIndex(ArenaName.Parse("docs"))} and {index.LastIndex(ArenaName.Parse("photos"))}; the daemon's log:\n{_daemon.Logs}");
        }
        var status = await _daemon.StatusAsync(s_deadline);
        await _daemon.StopAsync(s_deadline);
        _output.WriteLine($"overflow rescans: {status.Rescans}");

        Assert.True(status.Rescans >= 1, $"no rescan after an overflow; the daemon's log:\n{_daemon.Logs}");
        Assert.Contains(_daemon.Logs.Lines, l => l.Level == LogLevel.Warning && l.Message.Contains("inotify queue overflowed", StringComparison.Ordinal));
        var history = InProcessDaemon.History(store);
        foreach (var (arena, files) in expected)
        {
            HistoryAssert.EachAddedOnce(history.Where(n => n.Arena.Value == arena).ToList(), files, $"arena {arena}; the daemon's log:\n{_daemon.Logs}");
        }
    }

    public void Dispose() => Teardown.DaemonViewAndDir(_daemon, _dir.Combine("view"), _dir);
}
