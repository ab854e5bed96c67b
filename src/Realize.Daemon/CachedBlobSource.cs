using Realize.Core;
using Realize.Network;
using Realize.Storage;

namespace Realize.Daemon;

/// <summary>
/// Lets this peer's BLOB server serve blobs from its cache too: a blob is given to a peer only
/// when the file it was fetched for is of an arena shared with that peer, and only the blocks
/// the cache holds.
/// </summary>
internal sealed class CachedBlobSource(BlobCache cache) : IBlobSource
{
    public BlobReader? Open(BlobHash blob, IReadOnlyCollection<ArenaName> sharedWithAsker) =>
        cache.ArenaOf(blob) is { } arena && sharedWithAsker.Contains(arena) && cache.Find(blob) is { } cached
            ? new CachedBlobReader(cache, blob, cached.Size, cache.Hold(blob))
            : null;

    private sealed class CachedBlobReader(BlobCache cache, BlobHash blob, long size, IDisposable hold) : BlobReader
    {
        public override long Size => size;

        public override byte[]? BlockHashes => cache.BlockList(blob) is { } list ? [.. list.SelectMany(h => h)] : null;

        public override bool HasBlock(int index) => cache.HasBlock(blob, index);

        public override void ReadBlock(int index, Span<byte> destination)
        {
            if (cache.Read(blob, (long)index * BlobHash.BlockSize, destination) != destination.Length)
            {
                throw new IOException($"block {index} of {blob} is no longer in the cache");
            }
        }

        protected override void Dispose(bool disposing)
        {
            hold.Dispose();
            base.Dispose(disposing);
        }
    }
}
