using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Realize.Core;
using Realize.Storage;

namespace Realize.Network;

/// <summary>
/// HistoryService (DESIGN.md "HistoryService and the wire"): listens when this peer has an
/// address, connects to the peers that have one (HRCV to receive their history; HSND to send
/// ours when this peer is blind), sends and receives over those links, reconnects after any
/// interruption, and trims history every peer has acknowledged. <see cref="Reconfigure"/> applies a
/// changed realize.toml while it runs.
/// </summary>
public sealed partial class HistoryService : IDisposable
{
    private readonly Store _store;
    private readonly PeerIdentity _identity;
    private readonly HistoryFeed _feed;
    private readonly HistoryOptions _options;
    private readonly HistoryTrimmer _trimmer;
    private readonly ILogger _logger;
    // What Start binds, whatever later configurations say.
    private readonly string? _listen;
    private bool Listens => _listen is not null;
    // Guards the changes of the configuration and of the peers, and the loops started for them.
    private readonly Lock _gate = new();
    // Replaced, never changed: a reader takes the one in force as it is, without the lock.
    private volatile StoreConfig _config;
    private volatile Dictionary<PeerId, PeerState> _peers;
    private CancellationToken? _running;
    private readonly List<Task> _loops = [];
    private Socket? _listener;
    private readonly BlobServer _blobServer;

    public HistoryService(Store store, PeerIdentity identity, HistoryFeed feed, HistoryOptions options, ILogger logger)
    {
        _store = store;
        _identity = identity;
        _feed = feed;
        _options = options;
        _logger = logger;
        _trimmer = new HistoryTrimmer(options, logger);
        _config = store.Config;
        _listen = store.Config.Listen;
        _peers = store.Config.Peers.ToDictionary(p => p.Id, p => new PeerState(p));
        _blobServer = new BlobServer(store, () => _config, options.BlobServer, logger);
        Blobs = new BlobClient(identity, store.Config, options.BlobClient, logger);
    }

    /// <summary>
    /// Fetches blobs from the listening peers, with this peer's identity, following <see cref="Reconfigure"/>.
    /// Usable from construction until <see cref="RunAsync"/> ends, which closes its connections.
    /// </summary>
    public BlobClient Blobs { get; }

    /// <summary>
    /// Raised after a batch of a peer's history was applied to unreal.db, with what it changed
    /// in the Unreal's view (on the receiving link's thread: keep it short).
    /// </summary>
    public event Action<IReadOnlyList<ViewChange>>? ViewChanged;

    private void OnViewChanged(IReadOnlyList<ViewChange> changes) => ViewChanged?.Invoke(changes);

    /// <summary>
    /// Where the BLOB server finds blobs beyond this peer's own files (the daemon's cache); null:
    /// its own files only. May be set at any time.
    /// </summary>
    public IBlobSource? BlobSource
    {
        get => _blobServer.Source;
        set => _blobServer.Source = value;
    }

    /// <summary>Where this peer listens, once <see cref="Start"/> bound it.</summary>
    public IPEndPoint? ListenEndpoint => _listener?.LocalEndPoint as IPEndPoint;

    /// <summary>Binds the listening socket, so that a taken port stops the start with a clear error.</summary>
    public void Start()
    {
        if (_listen is not { } listen)
        {
            return;
        }
        var endpoint = HostPort.Parse(listen);
        string host = endpoint.Host;
        int port = endpoint.Port;
        IPAddress address = host is "" || endpoint.IsAnyHost ? IPAddress.IPv6Any
            : IPAddress.TryParse(host, out var literal) ? literal
            : Dns.GetHostAddresses(host).FirstOrDefault() ?? throw new RealizeException($"listen = \"{listen}\": {host} has no address");
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (address.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            socket.Bind(new IPEndPoint(address, port));
            socket.Listen(64);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new RealizeException($"cannot listen on {listen}: {e.Message} (change 'listen' in {_store.ConfigPath})", e);
        }
        _listener = socket;
        Log.Listening(_logger, ListenEndpoint!.ToString(), _identity.Id.ToString());
    }

    /// <summary>Runs until <paramref name="stop"/>: accepts, connects, sends, receives, trims.</summary>
    public async Task RunAsync(CancellationToken stop)
    {
        var tasks = new List<Task> { Task.Delay(Timeout.Infinite, stop).ContinueWith(_ => { }, TaskScheduler.Default) };
        if (_listener is not null)
        {
            tasks.Add(AcceptLoopAsync(_listener, stop));
        }
        EnsureCursors(_config);
        lock (_gate)
        {
            _running = stop;
            foreach (var state in _peers.Values)
            {
                StartLoops(state, stop);
            }
        }
        if (_options.TrimInterval > TimeSpan.Zero)
        {
            tasks.Add(TrimLoopAsync(stop));
        }
        try
        {
            await Task.WhenAll(tasks);
        }
        finally
        {
            _listener?.Dispose();
            Task[] running;
            lock (_gate)
            {
                // A change from now on starts nothing: the loops started are all awaited here.
                _running = null;
                running = [.. _loops];
            }
            lock (_serving)
            {
                running = [.. running, .. _serving];
            }
            // The connections end with the same stop; none may outlive the identity they use.
            try
            {
                await Task.WhenAll(running);
            }
            finally
            {
                await Blobs.DisposeAsync();
            }
        }
    }

    /// <summary>Starts the connectors of one peer (under the lock): to a peer with an address, HRCV; and HSND when this peer is blind.</summary>
    private void StartLoops(PeerState state, CancellationToken stop)
    {
        if (state.Peer.Address is null)
        {
            return;
        }
        _loops.RemoveAll(t => t.IsCompleted);
        _loops.Add(ConnectLoopAsync(state, Handshake.Receive, stop));
        if (!Listens)
        {
            // A listening peer never calls a blind one: this one brings its history over.
            _loops.Add(ConnectLoopAsync(state, Handshake.Send, stop));
        }
    }

    /// <summary>
    /// Applies a changed realize.toml (already validated) to the running service: new peers are
    /// accepted, and connected when they listen; removed peers are refused from now on and their
    /// links closed at once; a peer whose address, name or shared arenas changed starts its links
    /// over (the arenas are agreed anew). <c>listen</c> is bound once: a change of it waits for a
    /// restart. Safe to call from any thread, at any time, also before <see cref="RunAsync"/>.
    /// </summary>
    public void Reconfigure(StoreConfig config)
    {
        var changes = new List<string>();
        lock (_gate)
        {
            var old = _config;
            var current = _peers;
            var peers = new Dictionary<PeerId, PeerState>();
            foreach (var peer in config.Peers)
            {
                bool same = current.TryGetValue(peer.Id, out var state) && state.Peer == peer
                    && old.ArenasSharedWith(peer.Name).ToHashSet().SetEquals(config.ArenasSharedWith(peer.Name));
                peers[peer.Id] = same ? state! : new PeerState(peer);
                if (!same)
                {
                    changes.Add(state is null ? $"added {peer.Name}" : $"{peer.Name} changed");
                }
            }
            var retired = current.Values.Where(s => peers.GetValueOrDefault(s.Peer.Id) != s).ToArray();
            changes.AddRange(retired.Where(s => !peers.ContainsKey(s.Peer.Id)).Select(s => $"removed {s.Peer.Name}"));
            // The new configuration first: a link that starts from now on reads it.
            _config = config;
            _peers = peers;
            foreach (var state in retired)
            {
                state.Retire();
            }
            if (_running is { } stop)
            {
                foreach (var state in peers.Values.Where(s => !current.ContainsValue(s)))
                {
                    StartLoops(state, stop);
                }
            }
            if (config.Listen != old.Listen && config.Listen != _listen)
            {
                Log.ListenChanged(_logger, config.Listen ?? "(none)", _listen ?? "(none: blind)");
            }
        }
        Blobs.Reconfigure(config);
        if (changes.Count > 0)
        {
            Log.Reconfigured(_logger, string.Join(", ", changes));
        }
        EnsureCursors(config);
    }

    /// <summary>Every peer's state, for <c>status</c>; <paramref name="index"/> and <paramref name="unreal"/> are the caller's connections.</summary>
    public List<PeerStatus> Status(IndexDb index, UnrealDb unreal)
    {
        var config = _config;
        bool blind = !Listens;
        var keep = _trimmer.KeepFor(config);
        var now = DateTimeOffset.UtcNow;
        var statuses = new List<PeerStatus>();
        foreach (var state in _peers.Values)
        {
            var peer = state.Peer;
            var arenas = config.ArenasSharedWith(peer.Name)
                .Select(arena =>
                {
                    var cursor = index.Cursor(peer.Id, arena);
                    long last = index.LastIndex(arena);
                    long acked = Math.Max(state.AckedIndex(arena) ?? 0, cursor?.Acked ?? 0);
                    long received = Math.Max(state.ReceivedIndex(arena) ?? 0, unreal.ReceivedIndex(peer.Id, arena));
                    bool lapsed = cursor is not null && HistoryTrimmer.IsLapsed(cursor with { Acked = acked }, last, now, keep);
                    return new PeerArenaStatus(arena.Value, acked, Math.Max(0, last - acked), received, cursor?.AckedAt, lapsed);
                })
                .ToArray();
            bool sending = state.IsUp(send: true);
            bool receiving = state.IsUp(send: false);
            string? note = blind && peer.Address is null
                ? "neither this peer nor it listens, so they never connect: they see each other's files through a listening peer"
                : null;
            statuses.Add(new PeerStatus(peer.Name, peer.Id.ToString(), peer.Address, sending || receiving, state.Since, state.LastError,
                sending, receiving, arenas, state.OnlyHere, state.OnlyThere, note));
        }
        return statuses;
    }

    /// <summary>How often a connected receiver holding all of the history has its time written: well within the limit.</summary>
    private TimeSpan RefreshEvery(StoreConfig config) => TimeSpan.FromTicks(Math.Min(TimeSpan.FromMinutes(1).Ticks, _trimmer.KeepFor(config).Ticks / 4));

    /// <summary>Gives every peer a dated cursor of each arena it shares: one never heard of counts its silence from now.</summary>
    private void EnsureCursors(StoreConfig config)
    {
        try
        {
            using var index = _store.OpenIndex();
            index.EnsureCursors(config.Peers.SelectMany(p => config.ArenasSharedWith(p.Name).Select(a => (p.Id, a))), DateTimeOffset.UtcNow);
        }
        catch (Exception e) when (e is StorageException or IOException)
        {
            // The trimming takes a missing cursor for one just made; the next change or start writes it.
            Log.TrimFailed(_logger, e.Message);
        }
    }

    private async Task ConnectLoopAsync(PeerState state, string tag, CancellationToken serviceStop)
    {
        var peer = state.Peer;
        // Until the service stops, or this peer is removed or changed.
        using var both = CancellationTokenSource.CreateLinkedTokenSource(serviceStop, state.Retired);
        var stop = both.Token;
        await Task.Yield();
        using var wake = new AsyncSignal();
        _feed.Subscribe(wake);
        try
        {
            int failures = 0;
            // After a drop, call again once whatever the cursor says: the other side may have lost
            // what it acknowledged (a restored unreal.db), and only the connection tells.
            bool dropped = false;
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    if (tag == Handshake.Send && !dropped && !HasPending(peer))
                    {
                        // A blind peer calls only when it has something to say.
                        await wake.WaitAsync(TimeSpan.FromSeconds(5), stop);
                        continue;
                    }
                    dropped = false;
                    var link = await Handshake.ConnectAsync(peer, tag, _identity, _options.Link, stop);
                    failures = 0;
                    await RunLinkAsync(link, state, send: tag == Handshake.Send, stop);
                    dropped = true;
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception e) when (e is RealizeException or ProtocolException or IOException or SocketException or TimeoutException)
                {
                    state.Failed(e.Message);
                    Log.ConnectFailed(_logger, peer.Name, tag, e.Message);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // The boundary of this peer's loop: whatever broke, try again later rather than never.
                    state.Failed($"unexpected: {e.Message}");
                    Log.Unexpected(_logger, peer.Name, e);
                }
                failures++;
                await Task.Delay(Backoff(failures), stop).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
        finally
        {
            _feed.Unsubscribe(wake);
        }
    }

    /// <summary>Capped exponential backoff with jitter: between half and all of min·2^(n-1), at most the cap.</summary>
    internal TimeSpan Backoff(int failures)
    {
        double full = Math.Min(_options.MaxBackoff.TotalMilliseconds, _options.MinBackoff.TotalMilliseconds * Math.Pow(2, Math.Min(failures - 1, 30)));
        return TimeSpan.FromMilliseconds(full * (0.5 + (Random.Shared.NextDouble() / 2)));
    }

    private bool HasPending(PeerConfig peer)
    {
        using var index = _store.OpenIndex();
        return _config.ArenasSharedWith(peer.Name).Any(arena => index.LastIndex(arena) > index.AckedIndex(peer.Id, arena));
    }

    /// <summary>Runs an established link to its end: arena agreement, then sending or receiving. Never throws but for <paramref name="stop"/>.</summary>
    private async Task RunLinkAsync(Link link, PeerState state, bool send, CancellationToken stop)
    {
        using var linkStop = CancellationTokenSource.CreateLinkedTokenSource(stop, state.Retired);
        // Registered once the arenas are agreed: status never shows a link whose agreement it does not know.
        int generation = 0;
        string? error = null;
        try
        {
            await using (link)
            {
                var ours = _config.ArenasSharedWith(link.Peer.Name).ToArray();
                using var index = send ? _store.OpenIndex() : null;
                using var unreal = send ? null : _store.OpenUnreal();
                unreal?.ViewChanged += OnViewChanged;
                long history = index?.HistoryId ?? 0;
                var positions = ours.Select(a =>
                {
                    var (at, of) = send ? (index!.LastIndex(a), history) : unreal!.Received(link.Peer.Id, a);
                    return new ArenaPosition(a, at, of);
                }).ToArray();
                await link.WriteAsync(new ArenaList(positions), linkStop.Token);
                var theirs = await link.ReadAsync(linkStop.Token) as ArenaList
                    ?? throw new ProtocolException("the first message after the welcome must be the list of arenas");
                var agreed = ours.Intersect(theirs.Arenas.Select(a => a.Arena)).ToHashSet();
                state.Agreement(ours.Except(agreed), theirs.Arenas.Select(a => a.Arena).Except(agreed));
                var shared = theirs.Arenas.Where(a => agreed.Contains(a.Arena)).ToDictionary(a => a.Arena);
                generation = state.Up(send, linkStop);
                Log.Connected(_logger, link.Peer.Name, send ? "sending to" : "receiving from");
                link.StartKeepAlive();
                if (send)
                {
                    using var sender = new HistorySender(link, index!, _feed, _options, state, RefreshEvery(_config));
                    await sender.RunAsync(shared, history, linkStop.Token);
                }
                else
                {
                    await new HistoryReceiver(link, unreal!, state).RunAsync(shared, linkStop.Token);
                }
            }
        }
        catch (OperationCanceledException) when (linkStop.IsCancellationRequested)
        {
            // Stopping, or replaced by a newer connection of the same peer.
        }
        catch (OperationCanceledException) when (link.Failure is { } failure)
        {
            // The link failed while a write or the database waited: what failed is the reason.
            error = failure is ProtocolException ? $"protocol error: {failure.Message}" : failure.Message;
            Log.Disconnected(_logger, link.Peer.Name, error);
        }
        catch (ProtocolException e)
        {
            error = $"protocol error: {e.Message}";
            Log.ProtocolError(_logger, link.Peer.Name, e.Message);
        }
        catch (Exception e) when (e is IOException or TimeoutException or SocketException or System.Security.Authentication.AuthenticationException
            or RealizeException or InvalidDataException)
        {
            error = e.Message;
            Log.Disconnected(_logger, link.Peer.Name, e.Message);
        }
        finally
        {
            state.Down(send, generation, error);
        }
    }

    private async Task TrimLoopAsync(CancellationToken stop)
    {
        using var timer = new PeriodicTimer(_options.TrimInterval);
        while (true)
        {
            try
            {
                await timer.WaitForNextTickAsync(stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            try
            {
                using var index = _store.OpenIndex();
                _trimmer.Trim(index, _config);
                index.TrimBlockLists();
            }
            catch (Exception e) when (e is StorageException or IOException)
            {
                Log.TrimFailed(_logger, e.Message);
            }
        }
    }

    public void Dispose()
    {
        _listener?.Dispose();
        _handshakes.Dispose();
    }
}
