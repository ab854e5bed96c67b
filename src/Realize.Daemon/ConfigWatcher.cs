using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Realize.Core;
using Realize.Linux;
using Realize.Network;
using Realize.Storage;

namespace Realize.Daemon;

/// <summary>
/// Applies changes of <c>realize.toml</c> to the running daemon: <c>arena add</c>,
/// <c>peer add</c> and the like, or an edit by hand. The file is checked a few times a second;
/// a new version is validated first (an invalid one is refused with its line and reason, and the
/// running configuration stays), then handed to the watcher and the history service. Where the
/// view is mounted and where this peer listens are only read at start.
/// </summary>
internal sealed class ConfigWatcher(Store store, DaemonOptions options, WatcherService watcher, HistoryService history, DaemonErrors errors, ILogger<ConfigWatcher> logger)
    : BackgroundService
{
    // The configuration last handed to the services: what a change is measured against.
    private StoreConfig _applied = store.Config;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var seen = Stamp();
        // Edited between the start of 'realize up' and now (the catch-up scan may take minutes)?
        Guarded(Apply);
        using var timer = new PeriodicTimer(options.ConfigPollInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                Guarded(() =>
                {
                    var stamp = Stamp();
                    if (stamp != seen)
                    {
                        seen = stamp;
                        Apply();
                    }
                });
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    // Never the end of the daemon: the next change of the file is tried again.
    private void Guarded(Action step)
    {
        try
        {
            step();
        }
        catch (Exception e)
        {
            errors.Record($"applying {store.ConfigPath}: {e.Message}");
        }
    }

    // What changes when the file is written in place or replaced by a rename.
    private (ulong Inode, long Size, FileTime MTime, FileTime CTime)? Stamp() =>
        Stat.TryLstat(store.ConfigPath) is { } status ? (status.Inode, status.Size, status.MTime, status.CTime) : null;

    private void Apply()
    {
        var running = _applied;
        StoreConfig read;
        try
        {
            read = store.ReadConfig();
        }
        catch (Exception e) when (e is RealizeException or IOException or UnauthorizedAccessException)
        {
            errors.Record($"{e.Message}; the running configuration stays until the file is fixed");
            return;
        }
        var config = read with { Mount = running.Mount, Lower = running.Lower, Listen = running.Listen };
        foreach (var (setting, before, after) in new[] { ("mount", running.Mount, read.Mount), ("lower", running.Lower, read.Lower), ("listen", running.Listen, read.Listen) })
        {
            if (before != after)
            {
                Log.ConfigNeedsRestart(logger, setting);
            }
        }
        string change = Describe(running, config);
        if (change.Length == 0)
        {
            return;
        }
        _applied = config;
        store.UseConfig(config);
        watcher.Reconfigure(config);
        history.Reconfigure(config);
        Log.ConfigApplied(logger, change);
    }

    /// <summary>What differs, for the log; empty when nothing the daemon uses does.</summary>
    private static string Describe(StoreConfig before, StoreConfig after)
    {
        var changes = new List<string>();
        var arenas = before.Arenas.ToDictionary(a => a.Name);
        foreach (var arena in after.Arenas)
        {
            if (!arenas.Remove(arena.Name, out var was))
            {
                changes.Add($"arena '{arena.Name}' added");
            }
            else if (was.PlainPath != arena.PlainPath || !SamePeers(was.SharedWith, arena.SharedWith))
            {
                changes.Add($"arena '{arena.Name}' changed");
            }
        }
        changes.AddRange(arenas.Keys.Select(a => $"arena '{a}' removed"));
        var peers = before.Peers.ToDictionary(p => p.Name, StringComparer.Ordinal);
        foreach (var peer in after.Peers)
        {
            if (!peers.Remove(peer.Name, out var was))
            {
                changes.Add($"peer '{peer.Name}' added");
            }
            else if (was != peer)
            {
                changes.Add($"peer '{peer.Name}' changed");
            }
        }
        changes.AddRange(peers.Keys.Select(p => $"peer '{p}' removed"));
        if (changes.Count == 0 && before.ToToml() != after.ToToml())
        {
            changes.Add("settings changed");
        }
        return string.Join(", ", changes);
    }

    private static bool SamePeers(IReadOnlyList<string>? a, IReadOnlyList<string>? b) =>
        a is null ? b is null : b is not null && a.SequenceEqual(b, StringComparer.Ordinal);
}
