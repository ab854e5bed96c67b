using Realize.Core;
using Realize.Storage;
using Realize.TestSupport;

namespace Realize.Network.Tests;

/// <summary>
/// A member of a household in this process: a real store (index.db, unreal.db), its identity and,
/// between <see cref="Start"/> and <see cref="StopAsync"/>, its <see cref="HistoryService"/>
/// speaking real TLS on loopback. Its configuration is written by the test.
/// </summary>
internal sealed class Member : IAsyncDisposable
{
    private CancellationTokenSource? _stop;
    private Task? _run;

    private Member(TempDir dir, string name, bool listens)
    {
        Name = name;
        Port = listens ? Loopback.FreePort() : null;
        Store = Store.Create(dir.Combine(name), new StoreConfig { Listen = Port is { } port ? $"127.0.0.1:{port}" : null });
        Identity = PeerIdentity.Load(Store);
    }

    public static ArenaName Docs { get; } = ArenaName.Parse("docs");

    public string Name { get; }

    /// <summary>Where it listens; null for a blind member.</summary>
    public int? Port { get; }

    public Store Store { get; }

    public PeerIdentity Identity { get; }

    public PeerId Id => Identity.Id;

    public HistoryFeed Feed { get; } = new();

    public RecordingLoggerFactory Logs { get; } = new();

    /// <summary>The running service, between <see cref="Start"/> and <see cref="StopAsync"/>.</summary>
    public HistoryService Service { get; private set; } = null!;

    public static Member Listening(TempDir dir, string name) => new(dir, name, listens: true);

    public static Member Blind(TempDir dir, string name) => new(dir, name, listens: false);

    /// <summary>How another member declares this one: with its address when it listens.</summary>
    public PeerConfig AsPeer() => new(Name, Id, Port is { } port ? $"127.0.0.1:{port}" : null);

    /// <summary>Writes realize.toml: arena docs shared with every peer, and <paramref name="peers"/>.</summary>
    public void Configure(params Member[] peers) =>
        Store.SaveConfig(Store.Config with { Arenas = [new ArenaConfig(Docs)], Peers = [.. peers.Select(p => p.AsPeer())] });

    public void Start(HistoryOptions? options = null)
    {
        Service = new HistoryService(Store, Identity, Feed, options ?? Fast, Logs.CreateLogger(Name));
        Service.Start();
        _stop = new CancellationTokenSource();
        var stop = _stop.Token;
        _run = Task.Run(() => Service.RunAsync(stop));
    }

    /// <summary>Retries soon after a failure: the tests wait for reconnections.</summary>
    public static HistoryOptions Fast { get; } = new()
    {
        MinBackoff = TimeSpan.FromMilliseconds(50),
        MaxBackoff = TimeSpan.FromMilliseconds(400),
        AckPersistInterval = TimeSpan.FromMilliseconds(20),
    };

    public async Task StopAsync()
    {
        if (_stop is null)
        {
            return;
        }
        await _stop.CancelAsync();
        await _run!.WaitAsync(TimeSpan.FromSeconds(30));
        Service.Dispose();
        _stop.Dispose();
        _stop = null;
    }

    /// <summary>Records files of docs as a scan would: their rows and their history, one commit each; then wakes the senders.</summary>
    public void Write(params (string Path, string Content)[] files)
    {
        using var index = Store.OpenIndex();
        var rows = index.LoadFiles(Docs);
        foreach (var (path, content) in files)
        {
            var blob = ContentHasher.HashBytes(System.Text.Encoding.UTF8.GetBytes(content));
            var old = rows.GetValueOrDefault(path)?.Blob;
            var type = old is null ? NotificationType.Added : NotificationType.Updated;
            index.Commit(Docs, [new PendingNotification(type, RelPath.Parse(path), blob, content.Length, new FileTime(1_700_000_000, 0), old)],
                [new RowChange(path, new IndexedFile(blob, content.Length, new FileTime(1_700_000_000, 0), 1, FileSource.Real))]);
        }
        Feed.Changed();
    }

    /// <summary>Records the removal of <paramref name="path"/> from docs.</summary>
    public void Remove(string path)
    {
        using var index = Store.OpenIndex();
        var old = index.LoadFiles(Docs)[path].Blob;
        index.Commit(Docs, [new PendingNotification(NotificationType.Removed, RelPath.Parse(path), null, null, null, old)], [new RowChange(path, IndexedFile.Tombstone)]);
        Feed.Changed();
    }

    /// <summary>This member's files of docs as its index has them: path → content hash.</summary>
    public Dictionary<string, string> OwnFiles()
    {
        using var index = Store.OpenIndex();
        return index.LoadFiles(Docs).Where(f => f.Value.Blob is not null).ToDictionary(f => f.Key, f => f.Value.Blob!.Value.Hex, StringComparer.Ordinal);
    }

    /// <summary>The files of docs its unreal.db holds of <paramref name="peer"/>: path → content hash.</summary>
    public Dictionary<string, string> FilesOf(Member peer)
    {
        using var unreal = Store.OpenUnreal();
        return unreal.ListFiles(Docs, peer.Id).ToDictionary(f => f.Path.Value, f => f.Blob.Hex, StringComparer.Ordinal);
    }

    public long ReceivedIndex(Member peer)
    {
        using var unreal = Store.OpenUnreal();
        return unreal.ReceivedIndex(peer.Id, Docs);
    }

    /// <summary>What this member's index.db says <paramref name="peer"/> acknowledged of docs, and when.</summary>
    public PeerCursor? CursorOf(Member peer)
    {
        using var index = Store.OpenIndex();
        return index.Cursor(peer.Id, Docs);
    }

    public long FirstIndex()
    {
        using var index = Store.OpenIndex();
        return index.FirstIndex(Docs);
    }

    public PeerStatus StatusOf(Member peer)
    {
        using var index = Store.OpenIndex();
        using var unreal = Store.OpenUnreal();
        return Service.Status(index, unreal).Single(p => p.Name == peer.Name);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        Identity.Dispose();
    }
}
