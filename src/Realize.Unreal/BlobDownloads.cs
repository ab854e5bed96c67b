using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Realize.Core;
using Realize.Storage;

namespace Realize.Unreal;

/// <summary>The content of a remote file: its blob and size, and the file it is fetched for (its holders are asked).</summary>
public readonly record struct RemoteContent(BlobHash Blob, long Size, ArenaName Arena, string Path);

/// <summary>A blob being fetched: how many of its blocks are in the cache.</summary>
public sealed record DownloadProgress(BlobHash Blob, long Size, int BlocksPresent, int Blocks);

/// <summary>
/// Fetches the blocks of blobs into the <see cref="BlobCache"/>, each block once whoever asks
/// (two readers of one blob share its download), from the peers that hold it: a bad block is
/// fetched again from another peer and never stored; a block no peer gives within the fetch
/// timeout fails the reads waiting for it, and the next read tries again.
/// </summary>
public sealed class BlobDownloads : IDisposable
{
    private readonly BlobCache _cache;
    private readonly IBlockFetcher _fetcher;
    private readonly TimeSpan _timeout;
    private readonly ILogger _logger;
    // Guards _blocks, _lists and _active.
    private readonly Lock _gate = new();
    // The block fetches in flight; removed when they end, so a failed one is tried again next time.
    private readonly Dictionary<(BlobHash Blob, int Index), Task> _blocks = [];
    // The block-list fetches in flight.
    private readonly Dictionary<BlobHash, Task<IReadOnlyList<byte[]>>> _lists = [];
    // Blobs with fetches in flight, with their size and how many fetches: what 'realize cache' shows.
    private readonly Dictionary<BlobHash, (long Size, int Fetches)> _active = [];
    // Bounds the blocks held in memory at once (each is 4 MiB until written).
    private readonly SemaphoreSlim _slots;

    public BlobDownloads(BlobCache cache, IBlockFetcher fetcher, TimeSpan timeout, ILogger logger, int parallel = 4)
    {
        _cache = cache;
        _fetcher = fetcher;
        _timeout = timeout;
        _logger = logger;
        _slots = new SemaphoreSlim(parallel);
    }

    /// <summary>Number of block fetches that failed for good (every peer tried until the timeout).</summary>
    public long Failures => Interlocked.Read(ref _failures);

    private long _failures;

    /// <summary>Number of blocks fetched and stored since start.</summary>
    public long BlocksFetched => Interlocked.Read(ref _fetched);

    private long _fetched;

    /// <summary>Returns once the bytes [offset, offset + length) of the blob are in the cache; throws <see cref="IOException"/> when no peer gives them in time.</summary>
    public Task EnsureAsync(RemoteContent content, long offset, long length, CancellationToken cancellation)
    {
        var (blob, size) = (content.Blob, content.Size);
        long end = Math.Min(size, offset + length);
        if (end <= offset)
        {
            return Task.CompletedTask;
        }
        int first = (int)(offset / BlobHash.BlockSize);
        int last = (int)((end - 1) / BlobHash.BlockSize);
        List<Task>? waits = null;
        for (int i = first; i <= last; i++)
        {
            if (!_cache.HasBlock(blob, i))
            {
                (waits ??= []).Add(Block(content, i));
            }
        }
        return waits is null ? Task.CompletedTask : Task.WhenAll(waits).WaitAsync(cancellation);
    }

    /// <summary>Starts fetching <paramref name="count"/> blocks from <paramref name="from"/> on, without waiting: the reads to come find them there.</summary>
    public void FetchAhead(RemoteContent content, int from, int count)
    {
        var blob = content.Blob;
        int blocks = Blocks(content.Size);
        for (int i = from; i < Math.Min(blocks, from + count); i++)
        {
            if (!_cache.HasBlock(blob, i))
            {
                // A failure here is seen again by the read that needs the block.
                _ = Block(content, i).ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
            }
        }
    }

    /// <summary>The blobs being fetched now, with their progress.</summary>
    public List<DownloadProgress> InProgress()
    {
        List<(BlobHash Blob, long Size)> active;
        lock (_gate)
        {
            active = [.. _active.Select(a => (a.Key, a.Value.Size))];
        }
        return [.. active.Select(a => new DownloadProgress(a.Blob, a.Size, CountPresent(a.Blob, a.Size), Blocks(a.Size)))];
    }

    private int CountPresent(BlobHash blob, long size)
    {
        int present = 0;
        for (int i = 0; i < Blocks(size); i++)
        {
            present += _cache.HasBlock(blob, i) ? 1 : 0;
        }
        return present;
    }

    private static int Blocks(long size) => (int)((size + BlobHash.BlockSize - 1) / BlobHash.BlockSize);

    private Task Block(RemoteContent content, int index)
    {
        var (blob, size) = (content.Blob, content.Size);
        lock (_gate)
        {
            if (_blocks.TryGetValue((blob, index), out var running))
            {
                return running;
            }
            var fetch = FetchBlockAsync(content, index);
            if (!fetch.IsCompleted)
            {
                _blocks[(blob, index)] = fetch;
                _active[blob] = _active.TryGetValue(blob, out var a) ? (size, a.Fetches + 1) : (size, 1);
            }
            return fetch;
        }
    }

    private async Task FetchBlockAsync(RemoteContent content, int index)
    {
        var blob = content.Blob;
        await Task.Yield();
        try
        {
            await _slots.WaitAsync();
            try
            {
                await FetchFromSomePeerAsync(content, index);
            }
            finally
            {
                _slots.Release();
            }
        }
        finally
        {
            lock (_gate)
            {
                _blocks.Remove((blob, index));
                var a = _active[blob];
                if (a.Fetches == 1)
                {
                    _active.Remove(blob);
                }
                else
                {
                    _active[blob] = (a.Size, a.Fetches - 1);
                }
            }
        }
    }

    private async Task FetchFromSomePeerAsync(RemoteContent content, int index)
    {
        var (blob, size) = (content.Blob, content.Size);
        // Recorded first: a cached blob is served to peers that share the arena it came from.
        _cache.NoteArena(blob, size, content.Arena);
        var clock = Stopwatch.StartNew();
        // Peers that sent a bad block of this blob are not asked again for it.
        var corrupt = new HashSet<PeerId>();
        string? lastProblem = null;
        var retry = TimeSpan.FromMilliseconds(50);
        while (true)
        {
            if (_cache.HasBlock(blob, index))
            {
                return;
            }
            foreach (var peer in _fetcher.Holders(blob, content.Arena, content.Path))
            {
                if (corrupt.Contains(peer))
                {
                    continue;
                }
                // Within the time left: the timeout counts from the first attempt, whatever the holders.
                using var attempt = new CancellationTokenSource(_timeout > clock.Elapsed ? _timeout - clock.Elapsed : TimeSpan.FromMilliseconds(1));
                try
                {
                    byte[]? expected = Blocks(size) == 1 ? null : (await BlockListAsync(peer, blob, size, attempt.Token))[index];
                    using var data = await _fetcher.GetBlockAsync(peer, blob, index, size, expected, attempt.Token);
                    int length = (int)Math.Min(BlobHash.BlockSize, size - ((long)index * BlobHash.BlockSize));
                    _cache.WriteBlock(blob, size, index, data.Memory.Span[..length]);
                    Interlocked.Increment(ref _fetched);
                    return;
                }
                catch (FetchException e) when (e.Corrupt)
                {
                    corrupt.Add(peer);
                    lastProblem = e.Message;
                    Log.CorruptBlock(_logger, blob.ToString(), index, peer.ToString(), e.Message);
                }
                catch (Exception e) when (e is FetchException or IOException or OperationCanceledException or TimeoutException)
                {
                    lastProblem = attempt.IsCancellationRequested ? $"{peer.ToString()} sent nothing for {_timeout.TotalSeconds:0.#} s" : e.Message;
                    Log.FetchFailed(_logger, blob.ToString(), index, peer.ToString(), lastProblem);
                }
            }
            if (clock.Elapsed >= _timeout)
            {
                Interlocked.Increment(ref _failures);
                throw new IOException($"block {index} of {blob} could not be fetched within {_timeout.TotalSeconds:0.#} s: {lastProblem ?? "no connected peer holds it"}");
            }
            // No peer now: one may connect or come back before the timeout.
            await Task.Delay(retry);
            retry = TimeSpan.FromTicks(Math.Min(retry.Ticks * 2, TimeSpan.FromSeconds(1).Ticks));
        }
    }

    private Task<IReadOnlyList<byte[]>> BlockListAsync(PeerId peer, BlobHash blob, long size, CancellationToken cancellation)
    {
        if (_cache.BlockList(blob) is { } known)
        {
            return Task.FromResult(known);
        }
        lock (_gate)
        {
            // Again under the lock: a fetch that ended since the look above has kept its list and left _lists.
            if (_cache.BlockList(blob) is { } kept)
            {
                return Task.FromResult(kept);
            }
            if (!_lists.TryGetValue(blob, out var running))
            {
                running = FetchListAsync(peer, blob, size, cancellation);
                // One that ended at once (a peer refusing without a round trip) has run its finally
                // already: kept here, its failure would be every later caller's, for good.
                if (!running.IsCompleted)
                {
                    _lists[blob] = running;
                }
            }
            return running;
        }
    }

    private async Task<IReadOnlyList<byte[]>> FetchListAsync(PeerId peer, BlobHash blob, long size, CancellationToken cancellation)
    {
        // Never completes before BlockListAsync has stored it, so its removal below always comes after.
        await Task.Yield();
        try
        {
            var list = await _fetcher.GetBlockListAsync(peer, blob, size, cancellation);
            _cache.SetBlockList(blob, size, list);
            return list;
        }
        finally
        {
            lock (_gate)
            {
                _lists.Remove(blob);
            }
        }
    }

    public void Dispose() => _slots.Dispose();
}
