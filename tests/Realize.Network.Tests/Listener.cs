using System.Net;
using Realize.Core;
using Realize.Storage;
using Realize.TestSupport;

namespace Realize.Network.Tests;

/// <summary>
/// A store listening on loopback with its <see cref="HistoryService"/> running in this process:
/// arena "docs" shared with every peer, "photos" with "other" alone; "client" and "other" are
/// blind members of its household, "stranger" is not. Disposing stops the service.
/// </summary>
internal sealed class Listener : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _run;
    private readonly HistoryService _service;
    private readonly PeerIdentity _identity;

    private Listener(TempDir dir, HistoryOptions options)
    {
        Client = Identity(dir, "client");
        Other = Identity(dir, "other");
        Stranger = Identity(dir, "stranger");
        int port = Loopback.FreePort();
        Store = Store.Create(dir.Combine("listener"), new StoreConfig
        {
            Listen = $"127.0.0.1:{port}",
            Arenas = [new ArenaConfig(Docs), new ArenaConfig(Photos, SharedWith: ["other"])],
            Peers = [new PeerConfig("client", Client.Id), new PeerConfig("other", Other.Id)],
        });
        _identity = PeerIdentity.Load(Store);
        Endpoint = new IPEndPoint(IPAddress.Loopback, port);
        _service = new HistoryService(Store, _identity, Feed, options, Logs.CreateLogger("listener"));
        _service.Start();
        _run = Task.Run(() => _service.RunAsync(_stop.Token));
    }

    public static ArenaName Docs { get; } = ArenaName.Parse("docs");

    public static ArenaName Photos { get; } = ArenaName.Parse("photos");

    public Store Store { get; }

    public IPEndPoint Endpoint { get; }

    public PeerIdentity Client { get; }

    public PeerIdentity Other { get; }

    public PeerIdentity Stranger { get; }

    public HistoryFeed Feed { get; } = new();

    public RecordingLoggerFactory Logs { get; } = new();

    public PeerId Id => _identity.Id;

    public static Listener Start(TempDir dir, HistoryOptions? options = null) => new(dir, options ?? new HistoryOptions());

    /// <summary>The files the listener's unreal.db holds of <paramref name="peer"/>: path → content hash.</summary>
    public Dictionary<string, string> FilesOf(PeerId peer)
    {
        using var unreal = Store.OpenUnreal();
        return unreal.ListFiles(null, peer).ToDictionary(f => $"{f.Arena}/{f.Path}", f => f.Blob.Hex, StringComparer.Ordinal);
    }

    public long ReceivedIndex(PeerId peer, ArenaName arena)
    {
        using var unreal = Store.OpenUnreal();
        return unreal.ReceivedIndex(peer, arena);
    }

    public List<PeerStatus> Status()
    {
        using var index = Store.OpenIndex();
        using var unreal = Store.OpenUnreal();
        return _service.Status(index, unreal);
    }

    private static PeerIdentity Identity(TempDir dir, string name) => PeerIdentity.Load(Store.Create(dir.Combine(name), new StoreConfig()));

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _run.WaitAsync(TimeSpan.FromSeconds(30));
        _service.Dispose();
        _identity.Dispose();
        Client.Dispose();
        Other.Dispose();
        Stranger.Dispose();
        _stop.Dispose();
    }
}
