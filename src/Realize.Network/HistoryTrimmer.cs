using Microsoft.Extensions.Logging;
using Realize.Core;
using Realize.Storage;

namespace Realize.Network;

/// <summary>
/// The trimming of the history (DESIGN.md "History"): what every peer sharing an arena has
/// acknowledged is deleted, and a peer silent for longer than <c>history.keep_days</c> no
/// longer holds it back: it gets a reset when it returns. Used by the history service's trim
/// loop alone, but for the static and pure members.
/// </summary>
internal sealed class HistoryTrimmer(HistoryOptions options, ILogger logger)
{
    /// <summary>The lag limit in force: the options' when a test sets it, else realize.toml's <c>history.keep_days</c>.</summary>
    public TimeSpan KeepFor(StoreConfig config) => options.KeepFor ?? TimeSpan.FromDays(config.HistoryKeepDays);

    /// <summary>Whether a peer lacks some of the history and has been silent for longer than the limit: it no longer holds trimming back.</summary>
    public static bool IsLapsed(PeerCursor cursor, long last, DateTimeOffset now, TimeSpan keep) => cursor.Acked < last && now - cursor.AckedAt > keep;

    /// <summary>The peers the trimming passed by (lapsed), per arena, once logged: logged again only after they came back.</summary>
    private readonly HashSet<(PeerId, ArenaName)> _passed = [];

    /// <summary>
    /// Deletes, of each arena, the history every peer sharing it has acknowledged, but for the
    /// peers silent for longer than the limit: they hold nothing back, and get a reset when they return.
    /// </summary>
    public void Trim(IndexDb index, StoreConfig config)
    {
        if (config.Peers.Count == 0)
        {
            // A store of its own: its history is for 'realize history' alone, kept whole.
            return;
        }
        var now = DateTimeOffset.UtcNow;
        var keep = KeepFor(config);
        foreach (var arena in config.Arenas)
        {
            var sharers = config.Peers.Where(p => arena.IsSharedWith(p.Name)).ToArray();
            // Shared with none of the peers (after 'peer remove'): nobody needs its history; a
            // peer it is shared with later gets a reset.
            long last = index.LastIndex(arena.Name);
            long through = last;
            var lapsed = new List<(PeerConfig Peer, PeerCursor Cursor)>();
            foreach (var peer in sharers)
            {
                // No cursor yet (configured a moment ago): it holds everything back, as if just heard of.
                var cursor = index.Cursor(peer.Id, arena.Name) ?? new PeerCursor(0, now);
                if (IsLapsed(cursor, last, now, keep))
                {
                    lapsed.Add((peer, cursor));
                    continue;
                }
                _passed.Remove((peer.Id, arena.Name));
                through = Math.Min(through, cursor.Acked);
            }
            if (through < index.FirstIndex(arena.Name) || index.TrimHistory(arena.Name, through) is not (var trimmed and > 0))
            {
                continue;
            }
            Log.Trimmed(logger, arena.Name.Value, trimmed, through);
            foreach (var (peer, cursor) in lapsed.Where(l => l.Cursor.Acked < through && _passed.Add((l.Peer.Id, arena.Name))))
            {
                Log.TrimmedPast(logger, arena.Name.Value, peer.Name, cursor.AckedAt.ToString("u", System.Globalization.CultureInfo.InvariantCulture), keep.TotalDays);
            }
        }
    }
}
