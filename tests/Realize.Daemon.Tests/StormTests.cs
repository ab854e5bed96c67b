using System.Diagnostics;
using System.Globalization;
using System.Text;
using Realize.Core;
using Realize.Storage;
using Realize.TestSupport;
using Xunit.Abstractions;

namespace Realize.Daemon.Tests;

/// <summary>
/// Storms of new files, made as fast as one thread can while the daemon runs: every file is
/// reported exactly once. Whether the inotify queue overflowed (and cost a rescan) depends on
/// the machine: it is reported in the test output, never asserted.
/// </summary>
public sealed class StormTests : IDisposable
{
    // Generous: others build and benchmark on the same 2 cores.
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(120);

    private readonly TempDir _dir = new("storm");
    private readonly ITestOutputHelper _output;
    private InProcessDaemon? _daemon;

    public StormTests(ITestOutputHelper output)
    {
        Root.Require();
        _output = output;
    }

    [Fact]
    public async Task HundredThousandFilesThroughTheMergedView_AreEachReportedAddedOnce()
    {
        Directory.CreateDirectory(_dir.Combine("lower", "docs"));
        var store = Store.Create(_dir.Combine("store"), new StoreConfig
        {
            Mount = _dir.Combine("view"),
            Lower = _dir.Combine("lower"),
            Arenas = [new ArenaConfig(ArenaName.Parse("docs"))],
        });
        await StormAsync(store, ArenaName.Parse("docs"), _dir.Combine("view", "docs"), dirs: 1000, filesPerDir: 100);
    }

    [Fact]
    public async Task ThirtyThousandFilesInAPlainArena_AreEachReportedAddedOnce()
    {
        Directory.CreateDirectory(_dir.Combine("photos"));
        var store = Store.Create(_dir.Combine("store"), new StoreConfig
        {
            Arenas = [PlainArenas.Marked("photos", _dir.Combine("photos"))],
        });
        await StormAsync(store, ArenaName.Parse("photos"), _dir.Combine("photos"), dirs: 300, filesPerDir: 100);
    }

    /// <summary>Creates <paramref name="dirs"/> directories of <paramref name="filesPerDir"/> small files under <paramref name="root"/> while the daemon runs, then checks the history.</summary>
    private async Task StormAsync(Store store, ArenaName arena, string root, int dirs, int filesPerDir)
    {
        // A file closed after writing is examined at once, whatever the settle delay; a long one
        // only keeps a stall of the loaded machine between a file's creation and its write from
        // being taken for a quiet, empty file (rightly reported Added, then Updated).
        _daemon = await InProcessDaemon.StartAsync(store, new DaemonOptions { SettleDelay = TimeSpan.FromSeconds(2) }, s_deadline);
        int total = dirs * filesPerDir;
        var expected = new Dictionary<string, BlobHash>(StringComparer.Ordinal);
        var clock = Stopwatch.StartNew();
        for (int d = 0; d < dirs; d++)
        {
            string dir = Path.Combine(root, d.ToString("d4", CultureInfo.InvariantCulture));
            Directory.CreateDirectory(dir);
            for (int f = 0; f < filesPerDir; f++)
            {
                string name = f.ToString("d3", CultureInfo.InvariantCulture);
                byte[] content = Encoding.UTF8.GetBytes($"{d}/{f}\n");
                File.WriteAllBytes(Path.Combine(dir, name), content);
                expected.Add($"{d:d4}/{name}", ContentHasher.HashBytes(content));
            }
        }
        var made = clock.Elapsed;
        using (var index = store.OpenIndex())
        {
            await Poll.UntilAsync(() => index.LastIndex(arena) >= total, s_deadline, () => $"the history holds {total} notifications; it holds {index.LastIndex(arena)}; the daemon's log:\n{_daemon.Logs}");
        }
        var recorded = clock.Elapsed;
        var status = await _daemon.StatusAsync(s_deadline);
        await _daemon.StopAsync(s_deadline);
        _output.WriteLine($"{total} files made in {made.TotalSeconds:0.0} s, all in the history after {recorded.TotalSeconds:0.0} s; overflow rescans: {status.Rescans}, watches: {status.Watches}");

        var stopped = clock.Elapsed;
        var history = InProcessDaemon.History(store);
        _output.WriteLine($"stopped after {stopped.TotalSeconds:0.0} s, history read after {clock.Elapsed.TotalSeconds:0.0} s");
        HistoryAssert.EachAddedOnce(history, expected, $"the daemon's log:\n{_daemon.Logs}");
    }

    public void Dispose() => Teardown.DaemonViewAndDir(_daemon, _dir.Combine("view"), _dir);
}
