using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Realize.Core;
using Realize.Linux;
using Realize.Storage;
using Realize.TestSupport;

namespace Realize.Daemon.Tests;

/// <summary>The daemon on a real store: it mounts, watches real inotify events and stops cleanly.</summary>
public sealed class DaemonTests : IDisposable
{
    private readonly TempDir _dir = new("daemon");
    private readonly Store _store;
    private readonly CancellationTokenSource _stop = new();
    private Task? _daemon;

    public DaemonTests()
    {
        Root.Require();
        string lower = _dir.Combine("lower");
        Directory.CreateDirectory(Path.Combine(lower, "docs"));
        File.WriteAllText(Path.Combine(lower, "docs", "remote.txt"), "remote\n");
        _store = Store.Create(_dir.Combine("store"), new StoreConfig
        {
            Mount = _dir.Combine("view"),
            Lower = lower,
            Arenas = [new ArenaConfig(ArenaName.Parse("docs"))],
        });
    }

    private string View(string relative) => Path.Combine(_store.Config.Mount!, relative);

    private async Task StartAsync(DaemonOptions? options = null)
    {
        _daemon = Task.Run(() => Daemon.RunAsync(_store, options ?? new DaemonOptions(), NullLoggerFactory.Instance, _stop.Token));
        await Until(async () => _daemon.IsCompleted || await ControlClient.SendAsync(_store, new ControlRequest("status")) is { Status: not null }, "the daemon answers status");
        if (_daemon.IsCompleted)
        {
            await _daemon;
        }
    }

    private async Task StopAsync()
    {
        _stop.Cancel();
        await _daemon!;
    }

    private List<Notification> History()
    {
        using var index = _store.OpenIndex();
        return index.ReadHistory(null).ToList();
    }

    private static async Task Until(Func<Task<bool>> condition, string what, int seconds = 20)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(seconds), $"timed out waiting until {what}");
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task ChangesThroughTheView_AppearInTheHistory_WhileItRuns()
    {
        await StartAsync();
        Assert.Equal("overlay", Mounts.FindMount(_store.Config.Mount!));
        await File.WriteAllTextAsync(View("docs/new.txt"), "new");
        await File.AppendAllTextAsync(View("docs/remote.txt"), "edited");
        await Until(() => Task.FromResult(History().Count == 2), "both changes are in the history");
        Assert.Equal(
            ["Added new.txt", "Updated remote.txt"],
            History().Select(n => $"{n.Type} {n.Path}").Order(StringComparer.Ordinal));
        await StopAsync();
    }

    [Fact]
    public async Task Stop_RecordsPendingChanges_AndUnmounts()
    {
        await StartAsync();
        // Written without closing, so only the settle delay would report it: stopping must not wait for it.
        await using (var stream = new FileStream(View("docs/open.txt"), FileMode.CreateNew))
        {
            stream.Write("x"u8);
            stream.Flush();
        }
        await StopAsync();
        Assert.Null(Mounts.FindMount(_store.Config.Mount!));
        Assert.Contains(History(), n => n.Path.Value == "open.txt" && n.Type == NotificationType.Added);
    }

    [Fact]
    public async Task SecondDaemon_OnTheSameStore_IsRefused_NamingTheFirst()
    {
        await StartAsync();
        var e = await Assert.ThrowsAsync<RealizeException>(() => Daemon.RunAsync(_store, new DaemonOptions(), NullLoggerFactory.Instance, CancellationToken.None));
        Assert.Contains($"pid {Environment.ProcessId}", e.Message, StringComparison.Ordinal);
        await StopAsync();
    }

    [Fact]
    public async Task ChangesMadeWhileDown_AreReportedOnce_AtTheNextStart()
    {
        await StartAsync();
        await StopAsync();
        MergedViewMount();
        await File.WriteAllTextAsync(View("docs/offline.txt"), "made while down");
        Mounts.Unmount(_store.Config.Mount!);
        _daemon = null;
        using var second = new CancellationTokenSource();
        var run = Task.Run(() => Daemon.RunAsync(_store, new DaemonOptions(), NullLoggerFactory.Instance, second.Token));
        await Until(() => Task.FromResult(History().Count == 1), "the catch-up scan reports the offline change");
        await Until(async () => await ControlClient.SendAsync(_store, new ControlRequest("status")) is { Status: not null }, "the daemon answers status");
        second.Cancel();
        await run;
        Assert.Equal(["Added offline.txt"], History().Select(n => $"{n.Type} {n.Path}"));
    }

    [Fact]
    public async Task ScanRequest_IsAnsweredByTheRunningDaemon()
    {
        await StartAsync();
        var answer = await ControlClient.SendAsync(_store, new ControlRequest("scan"));
        Assert.NotNull(answer?.Summary);
        Assert.StartsWith("scanned 1 arena", answer.Summary, StringComparison.Ordinal);
        await StopAsync();
    }

    [Fact]
    public async Task ChangeInotifyCannotSee_IsFoundByThePeriodicRescan()
    {
        string photos = _dir.Combine("photos");
        Directory.CreateDirectory(Path.Combine(photos, "sub"));
        _store.SaveConfig(_store.Config with { Arenas = [.. _store.Config.Arenas, PlainArenas.Marked("photos", photos)] });
        await StartAsync(new DaemonOptions { RescanInterval = TimeSpan.FromSeconds(1) });
        // Mounted after the daemon watched sub/: its watch is on the directory below the mount,
        // so inotify tells nothing of what is written in the new filesystem.
        Shell.Check("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", Path.Combine(photos, "sub"));
        try
        {
            await File.WriteAllTextAsync(Path.Combine(photos, "sub", "unseen.txt"), "unseen by inotify");

            await Until(() => Task.FromResult(History().Any(n => n.Type == NotificationType.Added && n.Path.Value == "sub/unseen.txt")), "the rescan records the file");
            await StopAsync();
        }
        finally
        {
            Mounts.Unmount(Path.Combine(photos, "sub"), detach: true);
        }
    }

    [Fact]
    public async Task PeriodicRescan_OfAStoreWithoutArenas_LetsTheDaemonStop()
    {
        _store.SaveConfig(_store.Config with { Arenas = [] });
        await StartAsync(new DaemonOptions { RescanInterval = TimeSpan.FromMilliseconds(50) });
        await Until(async () => await ControlClient.SendAsync(_store, new ControlRequest("status")) is { Status: not null }, "it still answers after some rescans");
        await StopAsync().WaitAsync(TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task Status_WithoutDaemon_IsNull()
    {
        Assert.Null(await ControlClient.SendAsync(_store, new ControlRequest("status")));
        await Task.CompletedTask;
    }

    [Fact]
    public async Task ScanRequest_IsAnswered_EvenWithoutArenas()
    {
        _store.SaveConfig(_store.Config with { Arenas = [] });
        await StartAsync();
        var answer = await ControlClient.SendAsync(_store, new ControlRequest("scan")).WaitAsync(TimeSpan.FromSeconds(20));
        Assert.StartsWith("scanned 0 arenas", answer?.Summary, StringComparison.Ordinal);
        await StopAsync();
    }

    [Fact]
    public async Task Daemon_IsRefused_WhileAScanHoldsTheIndex()
    {
        using (ProcessLock.TryAcquire(Daemon.IndexLockPath(_store), out _))
        {
            var e = await Assert.ThrowsAsync<RealizeException>(() => Daemon.RunAsync(_store, new DaemonOptions(), NullLoggerFactory.Instance, CancellationToken.None));
            Assert.Contains("realize scan", e.Message, StringComparison.Ordinal);
        }
        Assert.Null(Mounts.FindMount(_store.Config.Mount!));
    }

    private void MergedViewMount() => Real.MergedView.Mount(_store);

    public void Dispose()
    {
        _stop.Cancel();
        try
        {
            _daemon?.GetAwaiter().GetResult();
        }
        catch (RealizeException)
        {
        }
        if (_store.Config.Mount is { } mount && Mounts.FindMount(mount) is not null)
        {
            Mounts.Unmount(mount, detach: true);
        }
        _stop.Dispose();
        _dir.Dispose();
    }
}
