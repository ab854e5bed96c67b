using System.Security.Cryptography;
using Realize.Core;
using Realize.TestSupport;

namespace Realize.Storage.Tests;

public sealed class BlobCacheTests : IDisposable
{
    private const int Block = BlobHash.BlockSize;

    private readonly TempDir _dir = new("blobcache");
    private readonly Store _store;

    public BlobCacheTests() => _store = Store.Create(_dir.Combine("store"), new StoreConfig());

    public void Dispose() => _dir.Dispose();

    /// <summary>Random content of <paramref name="size"/> bytes, its hash and its block hashes.</summary>
    private static (byte[] Data, BlobHash Blob, byte[][] Blocks) Content(long size, int seed)
    {
        byte[] data = new byte[size];
        new Random(seed).NextBytes(data);
        var blocks = data.Chunk(Block).Select(SHA256.HashData).ToArray();
        return (data, ContentHasher.HashBytes(data), blocks);
    }

    private static ReadOnlySpan<byte> BlockOf(byte[] data, int index) => data.AsSpan(index * Block, Math.Min(Block, data.Length - (index * Block)));

    private BlobCache Open(long quota = 1L << 40) => BlobCache.Open(_store, quota);

    [Fact]
    public void WriteBlock_ThenRead_GivesThePresentBlocks_AndTheLastBlockCompletesTheBlob()
    {
        var (data, blob, blocks) = Content((2L * Block) + 1000, 1);
        using var cache = Open();

        cache.SetBlockList(blob, data.Length, blocks);
        cache.WriteBlock(blob, data.Length, 1, BlockOf(data, 1));

        Assert.Equal(blocks, cache.BlockList(blob));
        Assert.Equal((3, 1, false, true), (cache.Find(blob)!.BlockCount, cache.Find(blob)!.BlocksPresent, cache.Find(blob)!.IsComplete, cache.Find(blob)!.HasBlockList));
        Assert.True(cache.HasBlock(blob, 1));
        Assert.False(cache.HasBlock(blob, 0));
        byte[] read = new byte[2 * Block];
        // From inside block 1, as far as it goes: block 2 is missing.
        Assert.Equal(Block - 10, cache.Read(blob, Block + 10, read));
        Assert.Equal(data.AsSpan(Block + 10, Block - 10), read.AsSpan(0, Block - 10));
        Assert.Equal(0, cache.Read(blob, 5, read));
        Assert.Throws<InvalidOperationException>(() => cache.OpenRead(blob));

        cache.WriteBlock(blob, data.Length, 2, BlockOf(data, 2));
        cache.WriteBlock(blob, data.Length, 0, BlockOf(data, 0));

        var found = cache.Find(blob)!;
        Assert.True(found.IsComplete);
        Assert.Equal(_store.BlobsDir + "/" + blob.Hex, found.Path);
        using (var handle = cache.OpenRead(blob))
        {
            Assert.Equal(data.Length, RandomAccess.GetLength(handle));
            byte[] all = new byte[data.Length];
            Assert.Equal(data.Length, RandomAccess.Read(handle, all, 0));
            Assert.Equal(data, all);
        }
        Assert.Equal(data.AsSpan(Block - 3, 1003 + Block), read.AsSpan(0, cache.Read(blob, Block - 3, read.AsSpan(0, 1003 + Block))));
        var stats = cache.Stats();
        Assert.Equal((data.Length, 1, 0, 0), (stats.BytesUsed, stats.Complete, stats.Partial, stats.Held));
    }

    [Fact]
    public void Find_CountsHitsForCompleteBlobs_AndMissesOtherwise()
    {
        var (data, blob, blocks) = Content(100, 2);
        var (_, other, _) = Content(100, 3);
        using var cache = Open();
        cache.SetBlockList(blob, data.Length, blocks);

        Assert.NotNull(cache.Find(blob));
        Assert.Null(cache.Find(other));
        cache.WriteBlock(blob, data.Length, 0, data);
        Assert.NotNull(cache.Find(blob));

        Assert.Equal((1L, 2L), (cache.Stats().Hits, cache.Stats().Misses));
    }

    [Fact]
    public void TheCache_SurvivesARestart_WithThePresentBlocksOfPartialBlobs()
    {
        var (data, blob, blocks) = Content((2L * Block) + 7, 4);
        var (small, complete, _) = Content(1234, 5);
        var (_, gone, _) = Content(10, 6);
        using (var cache = Open())
        {
            cache.SetBlockList(blob, data.Length, blocks);
            cache.WriteBlock(blob, data.Length, 0, BlockOf(data, 0));
            cache.WriteBlock(blob, data.Length, 2, BlockOf(data, 2));
            cache.WriteBlock(complete, small.Length, 0, small);
            cache.WriteBlock(gone, 10, 0, new byte[10]);
        }
        // A blob file lost, and one that no row records.
        File.Delete(Path.Combine(_store.BlobsDir, gone.Hex));
        string stray = Path.Combine(_store.BlobsDir, Content(5, 7).Blob.Hex);
        File.WriteAllBytes(stray, [1, 2, 3]);

        using var again = Open();

        var partial = again.Find(blob)!;
        Assert.Equal((2, false, true), (partial.BlocksPresent, partial.IsComplete, partial.HasBlockList));
        Assert.True(again.HasBlock(blob, 2));
        Assert.False(again.HasBlock(blob, 1));
        Assert.Equal(blocks, again.BlockList(blob));
        byte[] read = new byte[Block];
        Assert.Equal(7, again.Read(blob, 2L * Block, read));
        Assert.Equal(data.AsSpan(2 * Block, 7), read.AsSpan(0, 7));
        Assert.True(again.Find(complete)!.IsComplete);
        Assert.Null(again.Find(gone));
        Assert.False(File.Exists(stray));
        Assert.Equal(Block + 7 + 1234, again.Stats().BytesUsed);
        again.WriteBlock(blob, data.Length, 1, BlockOf(data, 1));
        Assert.True(again.Find(blob)!.IsComplete);
    }

    [Fact]
    public void Eviction_TakesTheLeastRecentlyUsedUnheldBlobs_ToStayUnderTheQuota()
    {
        var blobs = Enumerable.Range(10, 4).Select(seed => Content(Block, seed)).ToArray();
        var (a, b, c, d) = (blobs[0], blobs[1], blobs[2], blobs[3]);
        using var cache = Open(quota: 2L * Block);
        cache.WriteBlock(a.Blob, Block, 0, a.Data);
        cache.WriteBlock(b.Blob, Block, 0, b.Data);
        var hold = cache.Hold(a.Blob);
        cache.Touch(b.Blob);
        cache.Touch(a.Blob);
        cache.Touch(b.Blob);

        // a is the least recently used, but held: b goes.
        cache.WriteBlock(c.Blob, Block, 0, c.Data);

        Assert.Null(cache.Find(b.Blob));
        Assert.False(File.Exists(Path.Combine(_store.BlobsDir, b.Blob.Hex)));
        Assert.True(cache.Find(a.Blob)!.IsComplete);
        Assert.True(cache.Find(c.Blob)!.IsComplete);
        Assert.Equal((2L * Block, 1), (cache.Stats().BytesUsed, cache.Stats().Held));

        hold.Dispose();
        hold.Dispose();
        cache.WriteBlock(d.Blob, Block, 0, d.Data);

        Assert.Null(cache.Find(a.Blob));
        Assert.NotNull(cache.Find(c.Blob));
        Assert.NotNull(cache.Find(d.Blob));
        Assert.Equal((2L * Block, 0), (cache.Stats().BytesUsed, cache.Stats().Held));
    }

    [Fact]
    public void Eviction_NeverTakesAHeldBlob_EvenOverTheQuota()
    {
        var a = Content(Block, 20);
        var b = Content(Block, 21);
        using var cache = Open(quota: Block);
        using var holdA = cache.Hold(a.Blob);
        using var holdB = cache.Hold(b.Blob);

        cache.WriteBlock(a.Blob, Block, 0, a.Data);
        cache.WriteBlock(b.Blob, Block, 0, b.Data);

        Assert.True(cache.Find(a.Blob)!.IsComplete);
        Assert.True(cache.Find(b.Blob)!.IsComplete);
        Assert.Equal(2L * Block, cache.Stats().BytesUsed);
    }

    [Fact]
    public void Drop_RemovesABlob_HeldOrNot_AndAnOpenHandleStillReads()
    {
        var (data, blob, _) = Content(5000, 30);
        using var cache = Open();
        cache.WriteBlock(blob, data.Length, 0, data);
        using var hold = cache.Hold(blob);
        using var open = cache.OpenRead(blob);

        cache.Drop(blob);

        Assert.Null(cache.Find(blob));
        Assert.False(File.Exists(Path.Combine(_store.BlobsDir, blob.Hex)));
        Assert.Equal(0, cache.Stats().BytesUsed);
        byte[] read = new byte[data.Length];
        Assert.Equal(data.Length, RandomAccess.Read(open, read, 0));
        using var again = Open();
        Assert.Null(again.Find(blob));
    }

    [Fact]
    public void SetBlockList_RefusesAListThatDoesNotHashToTheBlobOrFitItsSize()
    {
        var (data, blob, blocks) = Content(Block + 1, 40);
        using var cache = Open();

        Assert.Throws<ArgumentException>(() => cache.SetBlockList(blob, data.Length, [blocks[1], blocks[0]]));
        Assert.Throws<ArgumentException>(() => cache.SetBlockList(blob, data.Length, [blocks[0]]));
        Assert.Throws<ArgumentException>(() => cache.SetBlockList(blob, 3L * Block, blocks));
        Assert.Null(cache.BlockList(blob));
    }

    [Fact]
    public void WriteBlock_RefusesABlockOfTheWrongLengthOrIndex()
    {
        var (data, blob, _) = Content(Block + 1, 41);
        using var cache = Open();

        Assert.Throws<ArgumentException>(() => cache.WriteBlock(blob, data.Length, 1, data.AsSpan(0, 2)));
        Assert.Throws<ArgumentOutOfRangeException>(() => cache.WriteBlock(blob, data.Length, 2, data.AsSpan(0, 1)));
        cache.WriteBlock(blob, data.Length, 1, data.AsSpan(Block, 1));
        Assert.Throws<ArgumentException>(() => cache.WriteBlock(blob, data.Length + 1, 0, data.AsSpan(0, Block)));
    }

    [Fact]
    public void AnEmptyBlob_IsCompleteOnceItsBlockListIsKnown()
    {
        var (_, blob, _) = Content(0, 42);
        using var cache = Open();

        cache.SetBlockList(blob, 0, []);

        Assert.True(cache.Find(blob)!.IsComplete);
        using var handle = cache.OpenRead(blob);
        Assert.Equal(0, RandomAccess.GetLength(handle));
    }

    [Fact]
    public async Task Blocks_WrittenAndReadFromSeveralThreadsAtOnce_GiveTheBlob()
    {
        var (data, blob, blocks) = Content(6L * Block, 50);
        using var cache = Open();
        cache.SetBlockList(blob, data.Length, blocks);

        await Task.WhenAll(Enumerable.Range(0, 6).Select(i => Task.Run(() =>
        {
            cache.WriteBlock(blob, data.Length, i, BlockOf(data, i));
            // Another writer of the same block, as two fetches that raced.
            cache.WriteBlock(blob, data.Length, i, BlockOf(data, i));
            byte[] read = new byte[Block];
            Assert.Equal(Block, cache.Read(blob, (long)i * Block, read));
            Assert.Equal(BlockOf(data, i), read);
        })));

        Assert.True(cache.Find(blob)!.IsComplete);
        Assert.Equal(data.Length, cache.Stats().BytesUsed);
    }
}
