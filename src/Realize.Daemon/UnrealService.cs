using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Realize.Linux;
using Realize.Network;
using Realize.Storage;
using Realize.Unreal;

namespace Realize.Daemon;

/// <summary>
/// The Unreal as a service of the host, for a store whose merged view lies over it (a mount
/// point and no <c>--lower</c>): mounts it under <c>run/unreal</c> before the merged view is
/// mounted over it, serves the cache to peers, and tells the kernel what each batch of remote
/// history changed; unmounted after the merged view at stop.
/// </summary>
internal sealed class UnrealService(Store store, HistoryService history, ILoggerFactory loggers) : IHostedService, IAsyncDisposable
{
    private readonly ILogger _logger = loggers.CreateLogger("Realize.Unreal");
    private UnrealMount? _mount;
    private PeerBlockFetcher? _fetcher;
    private CachedBlobSource? _source;
    private SmallFilePrefetch? _prefetch;

    /// <summary>Whether this store's merged view lies over the Unreal.</summary>
    public static bool IsUsed(Store store) => store.Config.Mount is not null && store.Config.Lower is null;

    /// <summary>The blob cache; null when the Unreal is not used.</summary>
    public BlobCache? Cache { get; private set; }

    /// <summary>The fetches of content; null when the Unreal is not used.</summary>
    public BlobDownloads? Downloads { get; private set; }

    /// <summary>The mount point of the Unreal, the merged view's lower layer; null when not used.</summary>
    public string? Target => _mount?.Target;

    /// <summary>
    /// Raised with each batch's changes of the view. A handler (the merged view) must then call
    /// <see cref="Invalidate"/> itself, at the moment it chooses; without one, the Unreal does at once.
    /// </summary>
    public event Action<IReadOnlyList<ViewChange>>? Changed;

    /// <summary>Tells the kernel what changed in the Unreal, so that its long-lived caches show it.</summary>
    public void Invalidate(IReadOnlyList<ViewChange> changes) => _mount?.FileSystem.Invalidate(changes);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!IsUsed(store))
        {
            return;
        }
        Cache = BlobCache.Open(store, store.Config.CacheQuota ?? DefaultQuota(store));
        _fetcher = new PeerBlockFetcher(history.Blobs, () => store.Config, store.OpenUnreal());
        Downloads = new BlobDownloads(Cache, _fetcher, store.Config.FetchTimeout, _logger);
        var owner = Stat.Lstat(store.Root);
        var fileSystem = new UnrealFileSystem(store.OpenUnreal(), Cache, Downloads, owner.Uid, owner.Gid, _logger);
        _mount = await UnrealMount.StartAsync(store.UnrealMountDir, fileSystem, _logger);
        _prefetch = new SmallFilePrefetch(store.OpenUnreal(), Cache, Downloads, _logger);
        _source = new CachedBlobSource(Cache);
        history.BlobSource = _source;
        history.ViewChanged += OnViewChanged;
    }

    /// <summary>The cache as <c>realize cache</c> shows it; null when the Unreal is not used.</summary>
    public CacheStatus? CacheStatus()
    {
        if (Cache is not { } cache || Downloads is not { } downloads)
        {
            return null;
        }
        var stats = cache.Stats();
        return new CacheStatus(stats.BytesUsed, stats.Quota, stats.Complete, stats.Partial, stats.Held, stats.Hits, stats.Misses,
            [.. downloads.InProgress().Select(d => new FetchStatus(d.Blob.Hex, d.Size, d.BlocksPresent, d.Blocks))], Running: true)
        {
            BlocksFetched = downloads.BlocksFetched,
            FetchFailures = downloads.Failures,
            Evicted = stats.Evicted,
        };
    }

    /// <summary>10% of the filesystem the cache is on, as Dropbox and OneDrive leave room by default.</summary>
    public static long DefaultQuota(Store store) => new DriveInfo(store.UnrealDir).TotalSize / 10;

    private void OnViewChanged(IReadOnlyList<ViewChange> changes)
    {
        if (Changed is { } handlers)
        {
            handlers(changes);
        }
        else
        {
            Invalidate(changes);
        }
        _prefetch?.Offer(changes);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        history.ViewChanged -= OnViewChanged;
        history.BlobSource = null;
        await DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (_mount is { } mount)
        {
            _mount = null;
            await mount.DisposeAsync();
        }
        if (_prefetch is { } prefetch)
        {
            _prefetch = null;
            await prefetch.DisposeAsync();
        }
        _source = null;
        _fetcher?.Dispose();
        _fetcher = null;
        Downloads?.Dispose();
        Downloads = null;
        Cache?.Dispose();
        Cache = null;
    }
}
