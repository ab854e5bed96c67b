using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Realize.Storage;

namespace Realize.Unreal;

/// <summary>
/// Fetches small remote files into the cache as soon as the view shows them, added or changed,
/// so that the first read of a new small file needs no round trip to a peer: a burst of new
/// notes or sources reads at local speed. Larger files stay on demand. The changes are offered
/// without blocking the thread that applied them; beyond <see cref="QueueLength"/> waiting,
/// offers are dropped (those files are fetched when read). A failed fetch is not retried here:
/// the next read tries again, as for any file.
/// </summary>
public sealed class SmallFilePrefetch : IAsyncDisposable
{
    /// <summary>Files up to this size are fetched ahead (one block, one round trip each).</summary>
    public const long MaxSize = 64 * 1024;

    /// <summary>Entries waiting at most.</summary>
    public const int QueueLength = 10_000;

    // Two at a time: the other download slots (BlobDownloads has 4) stay free for the reads of
    // files in use. Six at a time read a burst of 1,000 new files on B in 0.8-1.0 s against
    // 1.1 s, but could take every slot from those reads; prefetch needs slots of its own first.
    private const int Parallel = 2;

    private readonly UnrealDb _db;
    // The workers share the connection.
    private readonly Lock _dbGate = new();
    private readonly BlobCache _cache;
    private readonly BlobDownloads _downloads;
    private readonly ILogger _logger;
    private readonly Channel<long> _ids = Channel.CreateBounded<long>(new BoundedChannelOptions(QueueLength)
    {
        FullMode = BoundedChannelFullMode.DropWrite,
        SingleReader = false,
        SingleWriter = true,
    });
    private readonly CancellationTokenSource _stop = new();
    private readonly Task[] _workers;
    private long _fetched;

    /// <summary>Starts the workers; <paramref name="db"/> is a connection of its own, disposed with this.</summary>
    public SmallFilePrefetch(UnrealDb db, BlobCache cache, BlobDownloads downloads, ILogger logger)
    {
        _db = db;
        _cache = cache;
        _downloads = downloads;
        _logger = logger;
        _workers = [.. Enumerable.Range(0, Parallel).Select(_ => Task.Run(WorkAsync))];
    }

    /// <summary>Small files fetched ahead since start.</summary>
    public long Fetched => Interlocked.Read(ref _fetched);

    /// <summary>Queues the entries a batch added or changed; never blocks.</summary>
    public void Offer(IReadOnlyList<ViewChange> changes)
    {
        foreach (var change in changes)
        {
            if (change.Kind is ViewChangeKind.Added or ViewChangeKind.Changed)
            {
                _ids.Writer.TryWrite(change.Id);
            }
        }
    }

    private async Task WorkAsync()
    {
        var stop = _stop.Token;
        try
        {
            await foreach (long id in _ids.Reader.ReadAllAsync(stop))
            {
                ViewEntry? entry;
                try
                {
                    lock (_dbGate)
                    {
                        entry = _db.Entry(id);
                    }
                }
                catch (StorageException e)
                {
                    Log.PrefetchFailed(_logger, $"entry {id}", e.Message);
                    continue;
                }
                if (entry is not { IsDirectory: false, Blob: { } blob, Arena: { } arena } || entry.Size is 0 or > MaxSize
                    || _cache.Find(blob) is { Complete: true })
                {
                    continue;
                }
                try
                {
                    await _downloads.EnsureAsync(new RemoteContent(blob, entry.Size, arena, entry.Path), 0, entry.Size, stop);
                    Interlocked.Increment(ref _fetched);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // Whatever failed (a peer, the disk, the cache): the read of that file tries again.
                    Log.PrefetchFailed(_logger, entry.Path, e.Message);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    public async ValueTask DisposeAsync()
    {
        _ids.Writer.TryComplete();
        await _stop.CancelAsync();
        await Task.WhenAll(_workers);
        _stop.Dispose();
        _db.Dispose();
    }
}
