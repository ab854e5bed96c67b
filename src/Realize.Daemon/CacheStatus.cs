using Realize.Storage;

namespace Realize.Daemon;

/// <summary>The blob cache as <c>realize cache</c> shows it.</summary>
/// <param name="BytesUsed">Bytes of blocks in <c>unreal/blobs/</c>.</param>
/// <param name="Quota">The most bytes the cache keeps: least recently used blobs go first beyond it.</param>
/// <param name="Complete">Blobs whose every block is there: they open with passthrough.</param>
/// <param name="Partial">Blobs with some blocks.</param>
/// <param name="Held">Blobs open now: never evicted.</param>
/// <param name="Hits">Opens of a blob complete in the cache, since the daemon started.</param>
/// <param name="Misses">Opens of a blob that had to be fetched, since the daemon started.</param>
/// <param name="Fetches">Blobs being fetched now.</param>
/// <param name="Running">Whether a daemon answered: without one, held, hits, misses and fetches are 0.</param>
public sealed record CacheStatus(long BytesUsed, long Quota, int Complete, int Partial, int Held, long Hits, long Misses, IReadOnlyList<FetchStatus> Fetches, bool Running)
{
    /// <summary>Blocks fetched from peers since the daemon started.</summary>
    public long BlocksFetched { get; init; }

    /// <summary>Blocks that no peer gave within the fetch timeout since the daemon started (each failed a read with EIO).</summary>
    public long FetchFailures { get; init; }

    /// <summary>Blobs evicted to stay under the quota since the daemon started.</summary>
    public long Evicted { get; init; }

    /// <summary>What unreal.db records of the cache, without a daemon.</summary>
    public static CacheStatus Stored(Store store)
    {
        using var unreal = store.OpenUnreal();
        var rows = unreal.ReadCachedBlobs();
        long bytes = rows.Sum(r => r.Complete ? r.Size : Math.Min(r.Size, (long)r.Blocks.Count * Core.BlobHash.BlockSize));
        int complete = rows.Count(r => r.Complete);
        return new CacheStatus(bytes, store.Config.CacheQuota ?? UnrealService.DefaultQuota(store), complete, rows.Count - complete, 0, 0, 0, [], Running: false);
    }
}

/// <summary>A blob being fetched: its hash, size and blocks there of all.</summary>
public sealed record FetchStatus(string Blob, long Size, int BlocksPresent, int Blocks);
