using Realize.Core;
using Realize.Storage;

namespace Realize.Network;

/// <summary>
/// Sends this peer's history of the agreed arenas over one link, from where the receiver
/// stands, and follows it as it grows: a window of batches in flight, each acknowledged with
/// the index the receiver durably applied; a reset when the receiver's position is gone from
/// the history (trimmed) or beyond it (this index.db is newer than what it saw).
/// </summary>
internal sealed class HistorySender : IDisposable
{
    private readonly Link _link;
    private readonly IndexDb _index;
    private readonly HistoryFeed _feed;
    private readonly HistoryOptions _options;
    private readonly PeerState _state;
    private readonly TimeSpan _refreshEvery;
    private readonly Dictionary<ArenaName, ArenaCursor> _arenas = [];
    private readonly AsyncSignal _wake = new();
    private GarbageBound _garbage = GarbageBound.StartForProcess();

    private sealed class ArenaCursor(long position, PeerCursor? stored)
    {
        public long Sent = position;
        public long Acked = position;

        // What index.db holds, and when it was written: a new link alone is not news of the receiver.
        public long Persisted = stored?.Acked ?? -1;
        public DateTimeOffset PersistedTime = stored?.AckedAt ?? DateTimeOffset.UtcNow;
        public long PersistedAt = Environment.TickCount64;
        public bool ResetNeeded;
        public readonly Queue<long> InFlight = new();
    }

    /// <param name="refreshEvery">How often the time of a receiver that holds all of the history is written again: it is not lagging.</param>
    public HistorySender(Link link, IndexDb index, HistoryFeed feed, HistoryOptions options, PeerState state, TimeSpan refreshEvery)
    {
        _refreshEvery = refreshEvery;
        _link = link;
        _index = index;
        _feed = feed;
        _options = options;
        _state = state;
    }

    /// <summary>
    /// Runs until the link fails or <paramref name="stop"/>; <paramref name="positions"/>: what the
    /// receiver holds of each agreed arena, of which history; <paramref name="history"/>: this index.db's.
    /// </summary>
    public async Task RunAsync(IReadOnlyDictionary<ArenaName, ArenaPosition> positions, long history, CancellationToken stop)
    {
        foreach (var (arena, (_, position, of)) in positions)
        {
            long first = _index.FirstIndex(arena), last = _index.LastIndex(arena);
            // Trimmed away, beyond this history, or of another history (this index.db made anew).
            bool reset = position > last || position < first - 1 || (position > 0 && of != history);
            // Beyond this history (an index.db made anew): the reset's acknowledgement will be
            // lower than what the receiver said it had, and is what counts.
            _arenas[arena] = new ArenaCursor(Math.Min(position, last), _index.Cursor(_link.Peer.Id, arena)) { ResetNeeded = reset };
        }
        _feed.Subscribe(_wake);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stop, _link.Closed);
        var acks = ReadAcksAsync(linked.Token);
        try
        {
            var persistEvery = _options.AckPersistInterval;
            long lastPersist = Environment.TickCount64;
            while (true)
            {
                if (acks.IsCompleted)
                {
                    await acks;
                }
                bool progressed = false;
                foreach (var (arena, cursor) in _arenas)
                {
                    progressed |= await SendAsync(arena, cursor, linked.Token);
                }
                if (Environment.TickCount64 - lastPersist >= persistEvery.TotalMilliseconds)
                {
                    Persist();
                    lastPersist = Environment.TickCount64;
                }
                if (!progressed)
                {
                    await Task.WhenAny(_wake.WaitAsync(persistEvery, linked.Token), acks);
                }
            }
        }
        finally
        {
            _feed.Unsubscribe(_wake);
            // Whatever ended the loop, the acknowledgement reader must end too, or this waits forever.
            await linked.CancelAsync();
            Persist(ending: true);
            try
            {
                await acks;
            }
            catch (Exception)
            {
                // The link is going; what broke it was thrown above or is the caller's.
            }
        }
    }

    /// <summary>Sends what the window allows of one arena; true when something was sent.</summary>
    private async Task<bool> SendAsync(ArenaName arena, ArenaCursor cursor, CancellationToken cancellation)
    {
        bool sent = false;
        while (InFlight() < _options.Window)
        {
            if (cursor.ResetNeeded)
            {
                await ResetAsync(arena, cursor, cancellation);
                return true;
            }
            var batch = new List<Notification>(Math.Min(_options.BatchSize, 1024));
            _index.ReadHistory(arena, cursor.Sent, _options.BatchSize, batch);
            if (batch.Count == 0)
            {
                if (_index.FirstIndex(arena) > cursor.Sent + 1)
                {
                    // Trimmed away, all that came after what was sent, while the receiver was behind.
                    cursor.ResetNeeded = true;
                    continue;
                }
                return sent;
            }
            if (batch[0].Index != cursor.Sent + 1)
            {
                // Trimmed away while the receiver was behind.
                cursor.ResetNeeded = true;
                continue;
            }
            TrimToBytes(batch);
            // Before writing: the acknowledgement may come back before the write returns.
            lock (cursor.InFlight)
            {
                cursor.Sent = batch[^1].Index;
                cursor.InFlight.Enqueue(cursor.Sent);
            }
            await _link.WriteAsync(new Notify(arena, batch), cancellation);
            _garbage.Check();
            sent = true;
        }
        return sent;
    }

    private async Task ResetAsync(ArenaName arena, ArenaCursor cursor, CancellationToken cancellation)
    {
        using var snapshot = _index.ReadSnapshot(arena);
        await _link.WriteAsync(new ResetStart(arena, snapshot.Index), cancellation);
        // At most 1,024 files a batch: even of 4 KiB paths, far below the frame limit.
        foreach (var batch in snapshot.Batches(Math.Min(_options.BatchSize, 1024)))
        {
            await _link.WriteAsync(new Notify(arena, batch), cancellation);
            _garbage.Check();
        }
        cursor.ResetNeeded = false;
        lock (cursor.InFlight)
        {
            cursor.Sent = snapshot.Index;
            cursor.InFlight.Enqueue(snapshot.Index);
        }
        await _link.WriteAsync(new ResetEnd(arena, snapshot.Index), cancellation);
    }

    /// <summary>Shortens a batch to about 4 MiB encoded: 4,096 notifications of long paths would pass the frame limit.</summary>
    private static void TrimToBytes(List<Notification> batch)
    {
        const long Budget = 4 << 20;
        long bytes = 0;
        for (int i = 0; i < batch.Count; i++)
        {
            // Path (UTF-8 at most 3 bytes a char), two blobs in hex, numbers and headers.
            bytes += (batch[i].Path.Value.Length * 3L) + 200;
            if (bytes > Budget && i > 0)
            {
                batch.RemoveRange(i, batch.Count - i);
                return;
            }
        }
    }

    private int InFlight()
    {
        int count = 0;
        foreach (var cursor in _arenas.Values)
        {
            lock (cursor.InFlight)
            {
                count += cursor.InFlight.Count;
            }
        }
        return count;
    }

    private async Task ReadAcksAsync(CancellationToken cancellation)
    {
        await Task.Yield();
        while (true)
        {
            var message = await _link.ReadAsync(cancellation);
            if (message is not Ack ack)
            {
                throw new ProtocolException($"{message.GetType().Name} on a connection where {_link.Peer.Name} only acknowledges");
            }
            if (!_arenas.TryGetValue(ack.Arena, out var cursor))
            {
                throw new ProtocolException($"an acknowledgement for arena {ack.Arena}, which is not shared on this connection");
            }
            lock (cursor.InFlight)
            {
                if (ack.Index > cursor.Sent || ack.Index < cursor.Acked)
                {
                    throw new ProtocolException($"an acknowledgement of index {ack.Index} of {ack.Arena}, outside what was sent ({cursor.Acked}..{cursor.Sent})");
                }
                cursor.Acked = ack.Index;
                while (cursor.InFlight.TryPeek(out long last) && last <= ack.Index)
                {
                    cursor.InFlight.Dequeue();
                }
            }
            _state.Acknowledged(ack.Arena, ack.Index);
            _wake.Set();
        }
    }

    public void Dispose() => _wake.Dispose();

    /// <summary>
    /// Writes the acknowledged cursors that moved (not at each acknowledgement, which would cost an
    /// fsync each), with the time; and, now and then and as the link ends, the time of a receiver
    /// that holds all of the history: it has nothing to acknowledge, yet it is not lagging.
    /// </summary>
    private void Persist(bool ending = false)
    {
        long now = Environment.TickCount64;
        foreach (var (arena, cursor) in _arenas)
        {
            long acked = Interlocked.Read(ref cursor.Acked);
            bool moved = acked != cursor.Persisted;
            bool holdsAll = acked == _index.LastIndex(arena);
            if (moved || ((ending || now - cursor.PersistedAt >= _refreshEvery.TotalMilliseconds) && holdsAll))
            {
                // Dated now only when the receiver moved on or holds everything: a lower position
                // (a link that started behind what was stored) keeps the time it had.
                var at = acked > cursor.Persisted || holdsAll ? DateTimeOffset.UtcNow : cursor.PersistedTime;
                _index.SetAckedIndex(_link.Peer.Id, arena, acked, at);
                cursor.Persisted = acked;
                cursor.PersistedTime = at;
                cursor.PersistedAt = now;
            }
        }
    }
}
