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
        var store = Store.Create(_dir.Combine("store"), new StoreConfig());
        long size = (2 * BlobHash.BlockSize) + 100;
        var blob = ContentHasher.HashBytes("three blocks"u8);
        byte[] first = new byte[BlobHash.BlockSize], last = new byte[100];
        new Random(3).NextBytes(first);
        new Random(4).NextBytes(last);
        using (var cache = BlobCache.Open(store, 1L << 30))
        {
            cache.WriteBlock(blob, size, 0, first);
            cache.WriteBlock(blob, size, 2, last);
        }
        using var reopened = BlobCache.Open(store, 1L << 30);
        Assert.True(reopened.HasBlock(blob, 0));
        Assert.False(reopened.HasBlock(blob, 1));
        Assert.True(reopened.HasBlock(blob, 2));
        Assert.False(reopened.Find(blob)!.Complete);
        byte[] read = new byte[100];
        Assert.Equal(100, reopened.Read(blob, 2 * BlobHash.BlockSize, read));
        Assert.Equal(last, read);
        Assert.Equal(100, reopened.Read(blob, 4096, read));
        Assert.Equal(first.AsSpan(4096, 100).ToArray(), read);
    }
}
