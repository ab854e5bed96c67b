namespace Realize.Unreal.Tests;

/// <summary>A blob complete in the cache opens with passthrough (reads go to the cache file in the kernel); one being fetched is served by READ.</summary>
public sealed class UnrealPassthroughTests
{
    [Fact]
    public async Task ACompleteBlob_OpensWithPassthrough_AndReadsTheExactBytes()
    {
        await using var unreal = await MountedUnreal.StartAsync();
        unreal.Fetcher.AddPeer("nas");
        byte[] content = MountedUnreal.Content((9 << 20) + 17, 20);
        await unreal.AddAndReadAsync("f.bin", content);
        Assert.Equal((0L, 1L), unreal.FileSystem.Opens);
        int fetched = unreal.Fetcher.TotalBlockRequests;

        byte[] read = File.ReadAllBytes(unreal.PathOf("f.bin"));
        byte[] tail = new byte[100];
        using (var file = File.OpenHandle(unreal.PathOf("f.bin")))
        {
            Assert.Equal((0, 100), Native.Pread(file, tail, content.Length - 100));
        }

        Assert.True(content.AsSpan().SequenceEqual(read));
        Assert.True(content.AsSpan(content.Length - 100).SequenceEqual(tail));
        Assert.Equal((2L, 1L), unreal.FileSystem.Opens);
        Assert.Equal(fetched, unreal.Fetcher.TotalBlockRequests);
    }

    [Fact]
    public async Task ABlobBeingFetched_IsServedByRead_AndTheNextOpenAfterItsReadHandlesClosed_IsPassthrough()
    {
        await using var unreal = await MountedUnreal.StartAsync();
        unreal.Fetcher.AddPeer("nas");
        byte[] content = MountedUnreal.Content((6 << 20) + 1, 21);
        var blob = unreal.Add("f.bin", content);
        byte[] first = new byte[content.Length];
        byte[] second = new byte[content.Length];

        using (var reading = File.OpenHandle(unreal.PathOf("f.bin")))
        {
            Assert.Equal((0, content.Length), Native.Pread(reading, first, 0));
            Assert.True(unreal.Cache.Find(blob) is { Complete: true });
            // Complete now, but a READ-mode handle of the inode is open: the kernel allows one I/O mode per inode.
            using var beside = File.OpenHandle(unreal.PathOf("f.bin"));
            Assert.Equal((0, content.Length), Native.Pread(beside, second, 0));
            Assert.Equal((0L, 2L), unreal.FileSystem.Opens);
        }
        await unreal.WaitReleasedAsync();
        byte[] third = File.ReadAllBytes(unreal.PathOf("f.bin"));

        Assert.True(content.AsSpan().SequenceEqual(first));
        Assert.True(content.AsSpan().SequenceEqual(second));
        Assert.True(content.AsSpan().SequenceEqual(third));
        Assert.Equal((1L, 2L), unreal.FileSystem.Opens);
    }

    [Fact]
    public async Task AfterARestart_ACachedBlobOpensWithPassthrough_WithoutAnyFetch()
    {
        await using var unreal = await MountedUnreal.StartAsync();
        unreal.Fetcher.AddPeer("nas");
        byte[] content = MountedUnreal.Content((4 << 20) + 4096, 22);
        var blob = await unreal.AddAndReadAsync("dir/f.bin", content);
        int fetched = unreal.Fetcher.TotalBlockRequests;

        await unreal.RestartAsync();
        byte[] read = File.ReadAllBytes(unreal.PathOf("dir/f.bin"));

        Assert.True(content.AsSpan().SequenceEqual(read));
        Assert.Equal((1L, 0L), unreal.FileSystem.Opens);
        Assert.Equal(fetched, unreal.Fetcher.TotalBlockRequests);
        Assert.Equal((1, 0, 1L, 0L), (unreal.Cache.Stats().Complete, unreal.Cache.Stats().Partial, unreal.Cache.Stats().Hits, unreal.Cache.Stats().Misses));
        Assert.True(unreal.Cache.Find(blob) is { Complete: true });
    }
}
