using Realize.Core;
using Realize.TestSupport;

namespace Realize.Storage.Tests;

public sealed class BlobCacheTests : IDisposable
{
    private readonly TempDir _dir = new("blobcache");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void WriteBlock_RecordsEachBlock_SoThatAReopenedCacheHasItsData()
    {
        // The cache's records no longer wait for an fsync each: they must still be there after a clean close.
        var (store, blob, content) = ThreeBlocks();
        using (var cache = BlobCache.Open(store, 1L << 30))
        {
            cache.SetBlockList(blob, content.Length, BlockHashes(content));
            cache.WriteBlock(blob, content.Length, 0, content.AsSpan(0, BlobHash.BlockSize));
            cache.WriteBlock(blob, content.Length, 2, content.AsSpan(2 * BlobHash.BlockSize));
        }
        using var reopened = BlobCache.Open(store, 1L << 30);
        Assert.True(reopened.HasBlock(blob, 0));
        Assert.False(reopened.HasBlock(blob, 1));
        Assert.True(reopened.HasBlock(blob, 2));
        Assert.False(reopened.Find(blob)!.Complete);
        byte[] read = new byte[100];
        Assert.Equal(100, reopened.Read(blob, 2 * BlobHash.BlockSize, read));
        Assert.Equal(content.AsSpan(2 * BlobHash.BlockSize, 100).ToArray(), read);
        Assert.Equal(100, reopened.Read(blob, 4096, read));
        Assert.Equal(content.AsSpan(4096, 100).ToArray(), read);
    }

    [Fact]
    public void Open_ForgetsABlockOfAPartialBlob_WhoseBytesNoLongerMatchItsHash()
    {
        // As after a power cut that kept the block's record but not its bytes.
        var (store, blob, content) = ThreeBlocks();
        using (var cache = BlobCache.Open(store, 1L << 30))
        {
            cache.SetBlockList(blob, content.Length, BlockHashes(content));
            cache.WriteBlock(blob, content.Length, 0, content.AsSpan(0, BlobHash.BlockSize));
            cache.WriteBlock(blob, content.Length, 1, content.AsSpan(BlobHash.BlockSize, BlobHash.BlockSize));
        }
        using (var file = File.OpenHandle(Path.Combine(store.UnrealDir, "blobs", blob.Hex), FileMode.Open, FileAccess.Write))
        {
            RandomAccess.Write(file, new byte[4096], BlobHash.BlockSize + 8192);
        }

        using var reopened = BlobCache.Open(store, 1L << 30);

        Assert.True(reopened.HasBlock(blob, 0));
        Assert.False(reopened.HasBlock(blob, 1));
        Assert.Equal(BlobHash.BlockSize, reopened.Stats().BytesUsed);
    }

    private (Store Store, BlobHash Blob, byte[] Content) ThreeBlocks()
    {
        var store = Store.Create(_dir.Combine("store"), new StoreConfig());
        byte[] content = new byte[(2 * BlobHash.BlockSize) + 100];
        new Random(3).NextBytes(content);
        return (store, ContentHasher.HashBytes(content), content);
    }

    private static List<byte[]> BlockHashes(byte[] content) =>
        [.. Enumerable.Range(0, (content.Length + BlobHash.BlockSize - 1) / BlobHash.BlockSize)
            .Select(i => System.Security.Cryptography.SHA256.HashData(content.AsSpan(i * BlobHash.BlockSize, Math.Min(BlobHash.BlockSize, content.Length - (i * BlobHash.BlockSize)))))];
}
