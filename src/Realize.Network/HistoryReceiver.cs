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
    public async Task RunAsync(IReadOnlySet<ArenaName> agreed, CancellationToken stop)
    {
        var peer = _link.Peer.Id;
        // Arenas in a reset -> the index it brings them to.
        var resetting = new Dictionary<ArenaName, long>();
        while (true)
        {
            var message = await _link.ReadAsync(stop);
            switch (message)
            {
                case Notify notify:
                    Agreed(agreed, notify.Arena);
                    if (resetting.ContainsKey(notify.Arena))
                    {
                        _unreal.StageReset(peer, notify.Arena, RequireAdded(notify));
                        break;
                    }
                    long applied;
                    try
                    {
                        applied = _unreal.Apply(peer, notify.Arena, notify.Batch);
                    }
                    catch (HistoryGapException e)
                    {
                        throw new ProtocolException(e.Message, e);
                    }
                    _state.Received(notify.Arena, applied);
                    await _link.WriteAsync(new Ack(notify.Arena, applied), stop);
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
                    _unreal.FinishReset(peer, end.Arena, end.Index);
                    _state.Received(end.Arena, end.Index);
                    await _link.WriteAsync(new Ack(end.Arena, end.Index), stop);
                    break;
                default:
                    throw new ProtocolException($"{message.GetType().Name} on a connection where {_link.Peer.Name} only sends history");
            }
        }
    }

    private static void Agreed(IReadOnlySet<ArenaName> agreed, ArenaName arena)
    {
        if (!agreed.Contains(arena))
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
