using System.Diagnostics;
using Realize.Core;
using Realize.Harness;
using Realize.Storage;
using Realize.TestSupport;

namespace Realize.Daemon.Tests;

/// <summary>
/// The daemon under an inotify watch limit too low for its tree. The limit is real: the daemon
/// runs in a user namespace of its own, whose <c>/proc/sys/user/max_inotify_watches</c> the
/// test lowers (the kernel counts watches per user namespace), so nothing else on the machine
/// is touched.
/// </summary>
public sealed class WatchLimitTests : IDisposable
{
    private const int Limit = 20;
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(90);
    private readonly TempDir _dir = new("watch-limit");
    private readonly string _photos;
    private readonly Store _store;

    public WatchLimitTests()
    {
        Root.Require();
        _photos = _dir.Combine("photos");
        for (int i = 0; i < 60; i++)
        {
            Directory.CreateDirectory(Path.Combine(_photos, $"d{i:00}"));
        }
        _store = Store.Create(_dir.Combine("store"), new StoreConfig
        {
            Arenas = [PlainArenas.Marked("photos", _photos)],
        });
    }

    [Fact]
    public async Task TooLowWatchLimit_IsShownInStatus_AndChangesBelowUnwatchedDirectories_AreStillRecorded()
    {
        using var daemon = DaemonProcess.Start(RealizeCommand.Executable, _store, [],
            ["unshare", "--user", "--map-root-user", "sh", "-c", $"echo {Limit} > /proc/sys/user/max_inotify_watches && exec \"$0\" \"$@\""]);
        await daemon.WaitUntilAnsweringAsync(s_deadline);

        var status = (await daemon.SendAsync("status", s_deadline)).Status!;
        Assert.True(status.Unwatched > 0, $"no directory is unwatched with a limit of {Limit} watches for 61 directories; log:\n{daemon.Log}");
        Assert.True(status.Watches <= Limit, $"{status.Watches} watches under a limit of {Limit}");
        Assert.Contains("max_user_watches", status.WatchProblem, StringComparison.Ordinal);
        Assert.Contains("sysctl", status.WatchProblem, StringComparison.Ordinal);

        // Every directory gets a file: those below unwatched ones are found by the periodic rescan.
        for (int i = 0; i < 60; i++)
        {
            await File.WriteAllTextAsync(Path.Combine(_photos, $"d{i:00}", "new.txt"), $"file {i}");
        }
        var clock = Stopwatch.StartNew();
        while (History().Count(n => n.Type == NotificationType.Added) < 60)
        {
            Assert.True(clock.Elapsed < s_deadline, $"only {History().Count} of 60 files recorded; log:\n{daemon.Log}");
            await Task.Delay(50);
        }
        Assert.Equal(0, daemon.Stop(s_deadline));
        var history = History();
        Assert.Equal(60, history.Count);
        Assert.Equal(60, history.Select(n => n.Path.Value).Distinct().Count());
    }

    private List<Notification> History()
    {
        using var index = _store.OpenIndex();
        return index.ReadHistory(null).ToList();
    }

    public void Dispose() => _dir.Dispose();
}
