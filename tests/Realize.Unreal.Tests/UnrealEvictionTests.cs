using Realize.Core;
using Realize.Storage;

namespace Realize.Unreal.Tests;

/// <summary>The blob cache under a small quota while files are open through the mount.</summary>
public sealed class UnrealEvictionTests
{
    // Blobs of one block; the quota holds two of them, not three.
    private const int Size = (1 << 20) + 100;
    private const long Quota = (5L << 20) / 2;

    [Fact]
    public async Task AnOpenBlob_IsNeverEvicted_AnUnheldOneGoesInstead()
    {
        await using var unreal = await MountedUnreal.StartAsync(quota: Quota);
        unreal.Fetcher.AddPeer("nas");
        byte[][] contents = [.. Enumerable.Range(0, 4).Select(i => MountedUnreal.Content(Size, 30 + i))];
        BlobHash[] blobs = [.. contents.Select((c, i) => unreal.Add($"f{i}.bin", c))];

        using var held = File.OpenHandle(unreal.PathOf("f0.bin"));
        byte[] buffer = new byte[Size];
        Assert.Equal((0, Size), Native.Pread(held, buffer, 0));
        Assert.True(contents[1].AsSpan().SequenceEqual(File.ReadAllBytes(unreal.PathOf("f1.bin"))));
        await Poll(unreal, held: 1);
        Assert.True(contents[2].AsSpan().SequenceEqual(File.ReadAllBytes(unreal.PathOf("f2.bin"))));
        await Poll(unreal, held: 1);

        Assert.True(unreal.Cache.Find(blobs[0]) is { Complete: true }, "the open blob was evicted");
        Assert.Null(unreal.Cache.Find(blobs[1]));
        Assert.True(unreal.Cache.Find(blobs[2]) is { Complete: true });
        Assert.Equal(new CacheStats(2L * Size, Quota, 2, 0, 1, 0, 3, 1), unreal.Cache.Stats());
        Assert.False(File.Exists(unreal.BlobFile(blobs[1])));

        Assert.True(contents[3].AsSpan().SequenceEqual(File.ReadAllBytes(unreal.PathOf("f3.bin"))));
        await Poll(unreal, held: 1);

        Assert.True(unreal.Cache.Find(blobs[0]) is { Complete: true }, "the open blob was evicted");
        Assert.Null(unreal.Cache.Find(blobs[2]));
        Assert.Equal(new CacheStats(2L * Size, Quota, 2, 0, 1, 0, 4, 2), unreal.Cache.Stats());
        Array.Clear(buffer);
        Assert.Equal((0, Size), Native.Pread(held, buffer, 0));
        Assert.True(contents[0].AsSpan().SequenceEqual(buffer));
    }

    [Fact]
    public async Task TheLeastRecentlyUsedBlob_IsEvictedFirst()
    {
        await using var unreal = await MountedUnreal.StartAsync(quota: Quota);
        unreal.Fetcher.AddPeer("nas");
        byte[][] contents = [.. Enumerable.Range(0, 3).Select(i => MountedUnreal.Content(Size, 40 + i))];
        BlobHash[] blobs = [.. contents.Select((c, i) => unreal.Add($"f{i}.bin", c))];

        File.ReadAllBytes(unreal.PathOf("f0.bin"));
        File.ReadAllBytes(unreal.PathOf("f1.bin"));
        await unreal.WaitReleasedAsync();
        // f0 used again: f1 is now the least recently used.
        Assert.True(contents[0].AsSpan().SequenceEqual(File.ReadAllBytes(unreal.PathOf("f0.bin"))));
        await unreal.WaitReleasedAsync();
        Assert.True(contents[2].AsSpan().SequenceEqual(File.ReadAllBytes(unreal.PathOf("f2.bin"))));
        await unreal.WaitReleasedAsync();

        Assert.True(unreal.Cache.Find(blobs[0]) is { Complete: true });
        Assert.Null(unreal.Cache.Find(blobs[1]));
        Assert.True(unreal.Cache.Find(blobs[2]) is { Complete: true });
        Assert.Equal(new CacheStats(2L * Size, Quota, 2, 0, 0, 1, 3, 1), unreal.Cache.Stats());
    }

    private static Task Poll(MountedUnreal unreal, int held) =>
        TestSupport.Poll.UntilAsync(() => unreal.Cache.Stats().Held == held, TimeSpan.FromSeconds(20), () => $"{held} held; {unreal.Cache.Stats()}");
}
