using System.Diagnostics;
using Realize.Core;
using Realize.Linux;
using Realize.Storage;
using Realize.TestSupport;

namespace Realize.Daemon.Tests;

/// <summary>A plain-directory arena on a disk that goes away while the daemon runs: nothing may be reported removed.</summary>
public sealed class UnmountedDiskTests : IDisposable
{
    private readonly TempDir _dir = new("unmounted");
    private readonly string _photos;
    private readonly Store _store;
    private readonly CancellationTokenSource _stop = new();

    public UnmountedDiskTests()
    {
        Root.Require();
        _photos = _dir.Combine("photos");
        Directory.CreateDirectory(_photos);
        Shell.Check("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", _photos);
        File.WriteAllText(Path.Combine(_photos, "cat.jpg"), "meow");
        _store = Store.Create(_dir.Combine("store"), new StoreConfig { Arenas = [PlainArenas.Marked("photos", _photos)] });
    }

    [Fact]
    public async Task DiskUnmounted_UnderARunningDaemon_RecordsNoRemoval_AndShowsTheError()
    {
        using var logs = new RecordingLoggerFactory();
        var daemon = Task.Run(() => Daemon.RunAsync(_store, new DaemonOptions(), logs, _stop.Token));
        await Until(() => History().Count == 1, daemon, "the catch-up scan records cat.jpg");

        Mounts.Unmount(_photos);
        // The mount point is an empty directory now, as under a disk that failed to mount: its
        // rescan finds no marker.
        await Until(() => Status()?.Arenas.Single().Problem?.Contains("has no .realize-arena marker", StringComparison.Ordinal) == true, daemon, "status shows why photos is not scanned");
        Assert.Equal("unavailable", Status()!.Arenas.Single().State);

        _stop.Cancel();
        await daemon;
        Assert.Equal(["Added cat.jpg"], History().Select(n => $"{n.Type} {n.Path}"));
    }

    private DaemonStatus? Status() => ControlClient.SendAsync(_store, new ControlRequest("status")).GetAwaiter().GetResult()?.Status;

    private List<Notification> History()
    {
        using var index = _store.OpenIndex();
        return index.ReadHistory(null).ToList();
    }

    private static async Task Until(Func<bool> condition, Task daemon, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (daemon.IsCompleted)
            {
                await daemon;
            }
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"timed out waiting until {what}");
            await Task.Delay(20);
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        if (Mounts.FindMount(_photos) is not null)
        {
            Mounts.Unmount(_photos, detach: true);
        }
        _stop.Dispose();
        _dir.Dispose();
    }
}
