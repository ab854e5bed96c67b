using Realize.Core;

namespace Realize.Network;

/// <summary>One arena as <c>realize status</c> shows it for a peer.</summary>
/// <param name="Acked">The last index of this peer's history the other acknowledged.</param>
/// <param name="Pending">Notifications it has not acknowledged yet.</param>
/// <param name="Received">The last index of its history applied here.</param>
/// <param name="AckedAt">When it last acknowledged (or, connected, was seen holding all of it); null before its cursor exists.</param>
/// <param name="Lapsed">It has been behind for longer than <c>history.keep_days</c>: the history it lacks is no longer kept for it, and it gets a reset when it returns.</param>
public sealed record PeerArenaStatus(string Arena, long Acked, long Pending, long Received, DateTimeOffset? AckedAt = null, bool Lapsed = false);

/// <summary>A member of the household as <c>realize status</c> shows it.</summary>
/// <param name="Connected">Whether any connection with it is up.</param>
/// <param name="Since">Since when it is connected, or since when not.</param>
/// <param name="Sending">A connection carries this peer's history to it.</param>
/// <param name="Receiving">A connection carries its history here.</param>
/// <param name="OnlyHere">Arenas shared with it here that it does not share back: not exchanged.</param>
/// <param name="OnlyThere">Arenas it offers that this peer does not share with it: not exchanged.</param>
/// <param name="Note">Why it is never connected, when that is so.</param>
public sealed record PeerStatus(
    string Name,
    string Id,
    string? Address,
    bool Connected,
    DateTimeOffset? Since,
    string? LastError,
    bool Sending,
    bool Receiving,
    IReadOnlyList<PeerArenaStatus> Arenas,
    IReadOnlyList<string> OnlyHere,
    IReadOnlyList<string> OnlyThere,
    string? Note);

/// <summary>What the history service knows of one peer right now; shared by its connections and the status.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "the token source has no timer; its token outlives any point where disposing it would be safe")]
public sealed class PeerState(PeerConfig peer)
{
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _retired = new();
    private readonly Dictionary<string, (CancellationTokenSource Stop, int Generation)> _links = new(StringComparer.Ordinal);
    private int _generation;

    public PeerConfig Peer { get; } = peer;

    /// <summary>Cancelled once the peer is removed from realize.toml or changed: its loops and links end at once.</summary>
    internal CancellationToken Retired => _retired.Token;

    internal void Retire() => _retired.Cancel();

    public DateTimeOffset Since { get; private set; } = DateTimeOffset.UtcNow;

    public string? LastError { get; private set; }

    public IReadOnlyList<string> OnlyHere { get; private set; } = [];

    public IReadOnlyList<string> OnlyThere { get; private set; } = [];

    /// <summary>Whether a link carries history in that direction now.</summary>
    public bool IsUp(bool send)
    {
        lock (_gate)
        {
            return _links.ContainsKey(Direction(send));
        }
    }

    // By direction, not by tag: two listening peers both connect with HRCV, one link each way.
    private static string Direction(bool send) => send ? "send" : "receive";

    /// <summary>Registers a new link in that direction, stopping the one it replaces (a half-dead connection the other side gave up on); returns its generation.</summary>
    internal int Up(bool send, CancellationTokenSource stop)
    {
        lock (_gate)
        {
            string tag = Direction(send);
            if (_links.Remove(tag, out var old))
            {
                old.Stop.Cancel();
            }
            if (_links.Count == 0)
            {
                Since = DateTimeOffset.UtcNow;
            }
            _links[tag] = (stop, ++_generation);
            return _generation;
        }
    }

    /// <summary>A link ended (generation 0: before it was registered); <paramref name="error"/> is why, when it failed.</summary>
    internal void Down(bool send, int generation, string? error)
    {
        lock (_gate)
        {
            string tag = Direction(send);
            if (_links.TryGetValue(tag, out var current) && current.Generation == generation)
            {
                _links.Remove(tag);
                if (_links.Count == 0)
                {
                    Since = DateTimeOffset.UtcNow;
                }
            }
            if (error is not null)
            {
                LastError = $"{DateTimeOffset.UtcNow:u} {error}";
            }
        }
    }

    internal void Failed(string error)
    {
        lock (_gate)
        {
            LastError = $"{DateTimeOffset.UtcNow:u} {error}";
        }
    }

    internal void Agreement(IEnumerable<ArenaName> onlyHere, IEnumerable<ArenaName> onlyThere)
    {
        lock (_gate)
        {
            OnlyHere = [.. onlyHere.Select(a => a.Value).Order(StringComparer.Ordinal)];
            OnlyThere = [.. onlyThere.Select(a => a.Value).Order(StringComparer.Ordinal)];
        }
    }

    private readonly Dictionary<ArenaName, long> _acked = [];
    private readonly Dictionary<ArenaName, long> _received = [];

    /// <summary>The last acknowledged index of <paramref name="arena"/> seen on a link, newer than the persisted one.</summary>
    public long? AckedIndex(ArenaName arena)
    {
        lock (_gate)
        {
            return _acked.TryGetValue(arena, out long index) ? index : null;
        }
    }

    /// <summary>The last index of its history of <paramref name="arena"/> applied here on a link.</summary>
    public long? ReceivedIndex(ArenaName arena)
    {
        lock (_gate)
        {
            return _received.TryGetValue(arena, out long index) ? index : null;
        }
    }

    internal void Acknowledged(ArenaName arena, long index)
    {
        lock (_gate)
        {
            _acked[arena] = index;
        }
    }

    internal void Received(ArenaName arena, long index)
    {
        lock (_gate)
        {
            _received[arena] = index;
        }
    }
}
