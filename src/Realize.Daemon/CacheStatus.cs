namespace Realize.Daemon;

/// <summary>The blob cache as <c>realize cache</c> shows it.</summary>
/// <param name="BytesUsed">Bytes of blob files in <c>unreal/blobs/</c>.</param>
/// <param name="Quota">The most bytes the cache keeps: least recently used blobs go first beyond it.</param>
/// <param name="Complete">Blobs whose every block is there: they open with passthrough.</param>
/// <param name="Partial">Blobs with some blocks.</param>
/// <param name="Held">Blobs open now: never evicted.</param>
/// <param name="Hits">Opens of a blob complete in the cache, since the daemon started.</param>
/// <param name="Misses">Opens of a blob that had to be fetched, since the daemon started.</param>
/// <param name="Fetches">Blobs being fetched now.</param>
/// <param name="Running">Whether a daemon answered: without one, held, hits, misses and fetches are 0.</param>
public sealed record CacheStatus(long BytesUsed, long Quota, int Complete, int Partial, int Held, long Hits, long Misses, IReadOnlyList<FetchStatus> Fetches, bool Running);

/// <summary>A blob being fetched: its hash, size and blocks there of all.</summary>
public sealed record FetchStatus(string Blob, long Size, int BlocksPresent, int Blocks);
