using Realize.Core;

namespace Realize.Storage;

/// <summary>What each peer acknowledged of each arena's history in <see cref="IndexDb"/> (<c>peer_cursors</c>), and when.</summary>
public sealed partial class IndexDb
{
    /// <summary>The index of <paramref name="arena"/>'s history that <paramref name="peer"/> last acknowledged, 0 when none.</summary>
    public long AckedIndex(PeerId peer, ArenaName arena) => Cursor(peer, arena)?.Acked ?? 0;

    /// <summary>What <paramref name="peer"/> last acknowledged of <paramref name="arena"/>'s history, and when; null when it has no cursor yet.</summary>
    public PeerCursor? Cursor(PeerId peer, ArenaName arena) => Guarded(() =>
    {
        var (command, p) = Prepared("SELECT acked, acked_at_ms FROM peer_cursors WHERE peer = $peer AND arena = $arena", "$peer", "$arena");
        p[0].Value = peer.ToString();
        p[1].Value = arena.Value;
        using var reader = command.ExecuteReader();
        return reader.Read() ? new PeerCursor(reader.GetInt64(0), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1))) : null;
    });

    /// <summary>
    /// Records that <paramref name="peer"/> durably applied <paramref name="arena"/>'s history up to
    /// <paramref name="acked"/>, as it said (or was seen to hold) at <paramref name="at"/>.
    /// </summary>
    public void SetAckedIndex(PeerId peer, ArenaName arena, long acked, DateTimeOffset at) => Guarded(() =>
    {
        InTransaction(() =>
        {
            var (command, p) = Prepared("INSERT INTO peer_cursors (peer, arena, acked, acked_at_ms) VALUES ($peer, $arena, $acked, $at) "
                + "ON CONFLICT (peer, arena) DO UPDATE SET acked = excluded.acked, acked_at_ms = excluded.acked_at_ms",
                "$peer", "$arena", "$acked", "$at");
            p[0].Value = peer.ToString();
            p[1].Value = arena.Value;
            p[2].Value = acked;
            p[3].Value = at.ToUnixTimeMilliseconds();
            return command.ExecuteNonQuery();
        });
    });

    /// <summary>
    /// Gives each (peer, arena) that has no cursor one at index 0, dated <paramref name="now"/>: a peer
    /// never heard of counts its silence from when it was configured to share the arena.
    /// </summary>
    public void EnsureCursors(IEnumerable<(PeerId Peer, ArenaName Arena)> pairs, DateTimeOffset now) => Guarded(() =>
    {
        InTransaction(() =>
        {
            var (command, p) = Prepared("INSERT INTO peer_cursors (peer, arena, acked, acked_at_ms) VALUES ($peer, $arena, 0, $at) ON CONFLICT (peer, arena) DO NOTHING",
                "$peer", "$arena", "$at");
            p[2].Value = now.ToUnixTimeMilliseconds();
            int added = 0;
            foreach (var (peer, arena) in pairs)
            {
                p[0].Value = peer.ToString();
                p[1].Value = arena.Value;
                added += command.ExecuteNonQuery();
            }
            return added;
        });
    });
}
