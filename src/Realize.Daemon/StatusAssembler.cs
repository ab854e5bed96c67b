using Realize.Network;
using Realize.Storage;

namespace Realize.Daemon;

/// <summary>Puts together what <c>realize status</c> shows, from every service.</summary>
internal sealed class StatusAssembler(Store store, PeerIdentity identity, WatcherService watcher, HistoryService history, DaemonErrors errors)
{
    private readonly DateTimeOffset _since = DateTimeOffset.UtcNow;

    /// <summary>The status now; null during the catch-up scan.</summary>
    public DaemonStatus? Current()
    {
        if (watcher.Status is not { } loop)
        {
            return null;
        }
        // The arenas as the watcher records them: a change of realize.toml shows once applied.
        var config = loop.Config;
        // Counted on connections of its own: the watch loop's is busy, and WAL lets both read.
        using var index = store.OpenIndex();
        using var unreal = store.OpenUnreal();
        var arenas = config.Arenas
            .Select(a => new ArenaStatus(a.Name.Value, index.CountFiles(a.Name), index.LastIndex(a.Name), a.PlainPath)
            {
                State = loop.Failing.TryGetValue(a.Name, out var problem) ? problem.State : "recorded",
                Problem = problem?.Problem,
                ProblemSince = problem?.Since,
                NextTry = problem?.NextTry,
            })
            .ToArray();
        var names = config.Peers.ToDictionary(p => p.Id, p => p.Name);
        var conflicts = unreal.FindConflicts()
            .Select(c => new ConflictStatus(c.Arena.Value, c.Path.Value,
                c.Versions.Select(v => $"{names.GetValueOrDefault(v.Peer, v.Peer.ToString())}: {(v.Blob is { } blob ? blob.Hex[..12] : "removed")}").ToArray()))
            .ToArray();
        return new DaemonStatus(Environment.ProcessId, _since, config.Mount, arenas, loop.Waiting, loop.Skipped,
            loop.Watches, loop.Unwatched, loop.Rescans, loop.WatchProblem, errors.Last())
        {
            PeerId = identity.Id.ToString(),
            Listening = history.ListenEndpoint?.ToString(),
            Peers = history.Status(index, unreal),
            Conflicts = conflicts,
        };
    }
}
