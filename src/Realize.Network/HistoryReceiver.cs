using System.Threading.Channels;
using Realize.Core;
using Realize.Storage;

namespace Realize.Network;

/// <summary>
/// Receives a peer's history of the agreed arenas over one link and applies it to
/// <c>unreal.db</c>: each batch in one transaction with the received cursor, then acknowledged
/// with the index durably applied. Anything out of order closes the link, applying nothing of it.
/// </summary>
internal sealed class HistoryReceiver
{
    private readonly Link _link;
    private readonly UnrealDb _unreal;
    private readonly PeerState _state;

    public HistoryReceiver(Link link, UnrealDb unreal, PeerState state)
    {
        _link = link;
        _unreal = unreal;
        _state = state;
    }

    /// <summary>Runs until the link fails or <paramref name="stop"/>.</summary>
    public async Task RunAsync(IReadOnlyDictionary<ArenaName, ArenaPosition> senders, CancellationToken stop)
    {
        // Frames are read and decoded while the batches before them are applied: TLS and
        // decoding on one core, SQLite on the other.
        var frames = Channel.CreateBounded<Message>(new BoundedChannelOptions(8) { SingleReader = true, SingleWriter = true });
        using var reading = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var reader = ReadAsync(frames.Writer, reading.Token);
        try
        {
            await ApplyAsync(frames.Reader, senders, stop);
        }
        finally
        {
            await reading.CancelAsync();
            try
            {
                await reader;
            }
            catch (OperationCanceledException)
            {
                // Stopped along with the applying.
            }
        }
    }

    private async Task ReadAsync(ChannelWriter<Message> frames, CancellationToken cancellation)
    {
        await Task.Yield();
        try
        {
            while (true)
            {
                await frames.WriteAsync(await _link.ReadAsync(cancellation), cancellation);
            }
        }
        catch (Exception e)
        {
            // What came before the failure is applied first; then the failure ends the link.
            frames.TryComplete(e);
        }
    }

    /// <summary>Applies what comes; <paramref name="agreed"/>: the agreed arenas with the sender's position, whose history id every batch is of.</summary>
    private async Task ApplyAsync(ChannelReader<Message> frames, IReadOnlyDictionary<ArenaName, ArenaPosition> agreed, CancellationToken stop)
    {
        var peer = _link.Peer.Id;
        // Arenas in a reset -> the index it brings them to.
        var resetting = new Dictionary<ArenaName, long>();
        var garbage = GarbageBound.StartForProcess();
        while (await frames.WaitToReadAsync(stop))
        {
            garbage.Check();
            var message = await frames.ReadAsync(stop);
            switch (message)
            {
                case Notify notify:
                    Agreed(agreed, notify.Arena);
                    if (resetting.ContainsKey(notify.Arena))
                    {
                        _unreal.StageReset(peer, notify.Arena, RequireAdded(notify));
                        break;
                    }
                    // Batches already waiting for the same arena go in the same transaction: one fsync.
                    var batches = new List<Notify> { notify };
                    while (batches.Count < 8 && frames.TryPeek(out var next) && next is Notify more && more.Arena == notify.Arena)
                    {
                        frames.TryRead(out _);
                        batches.Add(more);
                    }
                    long applied = Apply(peer, agreed[notify.Arena].History, batches);
                    _state.Received(notify.Arena, applied);
                    // Never more than this link sent: after a replaced link, the cursor may stand
                    // further than what this sender knows it sent (batches are never empty).
                    await _link.WriteAsync(new Ack(notify.Arena, Math.Min(applied, batches[^1].Batch[^1].Index)), stop);
                    break;
                case ResetStart start:
                    Agreed(agreed, start.Arena);
                    if (resetting.ContainsKey(start.Arena))
                    {
                        throw new ProtocolException($"a reset of {start.Arena} started twice");
                    }
                    _unreal.StartReset(peer, start.Arena);
                    resetting[start.Arena] = start.Index;
                    break;
                case ResetEnd end:
                    Agreed(agreed, end.Arena);
                    if (!resetting.Remove(end.Arena, out long index) || index != end.Index)
                    {
                        throw new ProtocolException($"the end of a reset of {end.Arena} at {end.Index} that was not started");
                    }
                    _unreal.FinishReset(peer, end.Arena, agreed[end.Arena].History, end.Index);
                    _state.Received(end.Arena, end.Index);
                    await _link.WriteAsync(new Ack(end.Arena, end.Index), stop);
                    break;
                default:
                    throw new ProtocolException($"{message.GetType().Name} on a connection where {_link.Peer.Name} only sends history");
            }
        }
        // The reader completed the channel without an error only when cancelled.
        await frames.Completion;
    }

    /// <summary>Applies consecutive batches of one arena, together when they follow on; returns the index applied.</summary>
    private long Apply(PeerId peer, long history, List<Notify> batches)
    {
        var arena = batches[0].Arena;
        try
        {
            return _unreal.Apply(peer, arena, history, batches.Count == 1 ? batches[0].Batch : batches.SelectMany(b => b.Batch).ToList());
        }
        catch (HistoryGapException) when (batches.Count > 1)
        {
            // One of them is bad (or repeats another): each on its own, so the ones before it count.
            long applied = 0;
            foreach (var batch in batches)
            {
                try
                {
                    applied = _unreal.Apply(peer, arena, history, batch.Batch);
                }
                catch (HistoryGapException e)
                {
                    throw new ProtocolException(e.Message, e);
                }
            }
            return applied;
        }
        catch (HistoryGapException e)
        {
            throw new ProtocolException(e.Message, e);
        }
    }

    private static void Agreed(IReadOnlyDictionary<ArenaName, ArenaPosition> agreed, ArenaName arena)
    {
        if (!agreed.ContainsKey(arena))
        {
            throw new ProtocolException($"history of arena {arena}, which is not shared on this connection");
        }
    }

    private static IReadOnlyList<Notification> RequireAdded(Notify notify)
    {
        foreach (var n in notify.Batch)
        {
            if (n.Type != NotificationType.Added)
            {
                throw new ProtocolException($"{n.Type} of {n.Path} inside a reset of {notify.Arena}, which carries only added files");
            }
        }
        return notify.Batch;
    }
}
