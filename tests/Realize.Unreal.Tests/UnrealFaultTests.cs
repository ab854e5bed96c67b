using System.Diagnostics;
using Realize.Core;
using Realize.Linux;
using Realize.Storage;
using Realize.TestSupport;

namespace Realize.Unreal.Tests;

/// <summary>Peers that send bad blocks, none or stall; cache files changed behind the cache's back.</summary>
public sealed class UnrealFaultTests
{
    // A read must not wait long beyond the fetch timeout (1 s here): generous, for a loaded machine.
    private static readonly TimeSpan s_noHang = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task ACorruptingPeer_IsPassedOver_TheDataIsExact_AndNothingCorruptIsStored()
    {
        await using var unreal = await MountedUnreal.StartAsync();
        var bad = unreal.Fetcher.AddPeer("bad", PeerBehavior.Corrupt);
        var good = unreal.Fetcher.AddPeer("good");
        byte[] multi = MountedUnreal.Content((8 << 20) + 5, 10);
        byte[] single = MountedUnreal.Content(300_000, 11);
        var multiBlob = unreal.Add("multi.bin", multi);
        var singleBlob = unreal.Add("single.bin", single);

        byte[] readMulti = File.ReadAllBytes(unreal.PathOf("multi.bin"));
        byte[] readSingle = File.ReadAllBytes(unreal.PathOf("single.bin"));

        Assert.True(multi.AsSpan().SequenceEqual(readMulti));
        Assert.True(single.AsSpan().SequenceEqual(readSingle));
        // Every block was asked of the bad peer first, rejected, and then came from the good one.
        Assert.Equal(4, unreal.Fetcher.RequestsTo(bad));
        Assert.Equal(4, unreal.Fetcher.Rejected);
        Assert.Equal(4, unreal.Fetcher.RequestsTo(good));
        Assert.Contains(unreal.Logs.Lines, l => l.Message.Contains("does not match its hash", StringComparison.Ordinal));
        foreach (var blob in new[] { multiBlob, singleBlob })
        {
            Assert.True(unreal.Cache.Find(blob) is { Complete: true }, $"{blob} complete in the cache");
            Assert.Equal(blob, ContentHasher.HashFile(unreal.BlobFile(blob)));
        }
    }

    [Theory]
    [InlineData(null)]
    [InlineData(PeerBehavior.Stall)]
    [InlineData(PeerBehavior.Fail)]
    [InlineData(PeerBehavior.Corrupt)]
    public async Task ARead_FailsWithEio_AfterTheFetchTimeout_AndTheNextReadSucceedsOnceAPeerServes(PeerBehavior? behavior)
    {
        await using var unreal = await MountedUnreal.StartAsync(timeout: TimeSpan.FromSeconds(1));
        var peer = behavior is { } b ? unreal.Fetcher.AddPeer("nas", b) : (PeerId?)null;
        byte[] content = MountedUnreal.Content((4 << 20) + 1000, 12);
        var blob = unreal.Add("f.bin", content);
        byte[] buffer = new byte[4096];
        using var file = File.OpenHandle(unreal.PathOf("f.bin"));

        var clock = Stopwatch.StartNew();
        var (errno, _) = await Task.Run(() => Native.Pread(file, buffer, 1 << 20)).WaitAsync(s_noHang);
        var waited = clock.Elapsed;

        Assert.Equal(Errno.EIO, errno);
        Assert.True(waited >= TimeSpan.FromSeconds(0.9), $"the read failed after {waited.TotalSeconds:0.00} s, before the timeout");
        // Nothing stays stalled, nothing unverified was stored.
        await Poll.UntilAsync(() => unreal.Fetcher.Stalling == 0 && unreal.Downloads.InProgress().Count == 0, s_noHang,
            () => $"no fetch left; {unreal.Fetcher.Stalling} stalling, {unreal.Downloads.InProgress().Count} in progress");
        Assert.False(unreal.Cache.HasBlock(blob, 0));
        Assert.True(unreal.Downloads.Failures >= 1);

        if (peer is { } p)
        {
            unreal.Fetcher.SetBehavior(p, PeerBehavior.Serve);
        }
        else
        {
            unreal.Fetcher.AddPeer("late");
        }
        var (again, read) = await Task.Run(() => Native.Pread(file, buffer, 1 << 20)).WaitAsync(s_noHang);

        Assert.Equal((0, buffer.Length), (again, read));
        Assert.True(content.AsSpan(1 << 20, buffer.Length).SequenceEqual(buffer));
        Assert.True(content.AsSpan().SequenceEqual(File.ReadAllBytes(unreal.PathOf("f.bin"))));
    }

    [Fact]
    public async Task ACompleteBlobTruncatedInTheCache_IsDroppedAtTheNextOpen_AndFetchedAgain()
    {
        await using var unreal = await MountedUnreal.StartAsync();
        unreal.Fetcher.AddPeer("nas");
        byte[] content = MountedUnreal.Content((5 << 20) + 3, 13);
        var blob = await unreal.AddAndReadAsync("f.bin", content);
        int fetched = unreal.Fetcher.TotalBlockRequests;

        using (var damaged = File.OpenHandle(unreal.BlobFile(blob), FileMode.Open, FileAccess.ReadWrite))
        {
            RandomAccess.SetLength(damaged, 1 << 20);
        }
        byte[] read = File.ReadAllBytes(unreal.PathOf("f.bin"));

        Assert.True(content.AsSpan().SequenceEqual(read), $"read {read.Length} bytes of {content.Length}, or other bytes");
        // Dropped at the open: served by READ while fetched again.
        Assert.Equal((0L, 2L), unreal.FileSystem.Opens);
        Assert.Equal(fetched + 2, unreal.Fetcher.TotalBlockRequests);
        Assert.Equal(blob, ContentHasher.HashFile(unreal.BlobFile(blob)));
    }

    [Fact]
    public async Task ABlobTruncatedInTheCacheWhileStopped_IsDroppedAtRestart_AndFetchedAgain()
    {
        await using var unreal = await MountedUnreal.StartAsync();
        unreal.Fetcher.AddPeer("nas");
        byte[] content = MountedUnreal.Content((5 << 20) + 3, 14);
        var blob = await unreal.AddAndReadAsync("f.bin", content);
        int fetched = unreal.Fetcher.TotalBlockRequests;

        await unreal.RestartAsync();
        using (var damaged = File.OpenHandle(unreal.BlobFile(blob), FileMode.Open, FileAccess.ReadWrite))
        {
            RandomAccess.SetLength(damaged, 1 << 20);
        }
        await unreal.RestartAsync();
        Assert.Null(unreal.Cache.Find(blob));
        byte[] read = File.ReadAllBytes(unreal.PathOf("f.bin"));

        Assert.True(content.AsSpan().SequenceEqual(read));
        Assert.Equal(fetched + 2, unreal.Fetcher.TotalBlockRequests);
    }

    [Fact]
    public async Task ACompleteBlobAlteredInTheCache_KeepingItsLength_IsDroppedAtTheNextOpen_AndFetchedAgain()
    {
        await using var unreal = await MountedUnreal.StartAsync();
        unreal.Fetcher.AddPeer("nas");
        byte[] content = MountedUnreal.Content((5 << 20) + 3, 16);
        var blob = await unreal.AddAndReadAsync("f.bin", content);
        int fetched = unreal.Fetcher.TotalBlockRequests;

        Alter(unreal.BlobFile(blob), 4 << 20);
        byte[] read = File.ReadAllBytes(unreal.PathOf("f.bin"));

        Assert.True(content.AsSpan().SequenceEqual(read), "the altered bytes were served");
        Assert.Equal(fetched + 2, unreal.Fetcher.TotalBlockRequests);
        Assert.Equal(blob, ContentHasher.HashFile(unreal.BlobFile(blob)));
    }

    [Fact]
    public async Task ABlobAlteredInTheCacheWhileStopped_KeepingItsLength_LosesOnlyItsBadBlockAtRestart()
    {
        await using var unreal = await MountedUnreal.StartAsync();
        unreal.Fetcher.AddPeer("nas");
        byte[] content = MountedUnreal.Content((5 << 20) + 3, 17);
        var blob = await unreal.AddAndReadAsync("f.bin", content);
        int fetched = unreal.Fetcher.TotalBlockRequests;

        await unreal.RestartAsync();
        Alter(unreal.BlobFile(blob), 4 << 20);
        await unreal.RestartAsync();
        Assert.True(unreal.Cache.Find(blob) is { Complete: false, BlocksPresent: 1 }, $"the cache has {unreal.Cache.Find(blob)}");
        byte[] read = File.ReadAllBytes(unreal.PathOf("f.bin"));

        Assert.True(content.AsSpan().SequenceEqual(read), "the altered bytes were served");
        Assert.Equal(fetched + 1, unreal.Fetcher.TotalBlockRequests);
    }

    /// <summary>Flips a byte of the file in place: its length stays, its ctime moves.</summary>
    private static void Alter(string path, long offset)
    {
        using var file = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite);
        byte[] one = new byte[1];
        RandomAccess.Read(file, one, offset);
        one[0] ^= 0xFF;
        RandomAccess.Write(file, one, offset);
    }

    [Fact]
    public async Task APartialBlobTruncatedInTheCache_IsDroppedAtTheNextRead_AndThatReadIsServedExact()
    {
        await using var unreal = await MountedUnreal.StartAsync();
        unreal.Fetcher.AddPeer("nas");
        byte[] content = MountedUnreal.Content((11 << 20) + 5, 15);
        var blob = unreal.Add("f.bin", content);
        byte[] buffer = new byte[4096];
        using var file = File.OpenHandle(unreal.PathOf("f.bin"));
        // Not at the start: no fetch-ahead, only block 2 comes.
        Assert.Equal((0, buffer.Length), Native.Pread(file, buffer, 8 << 20));
        Assert.True(unreal.Cache.Find(blob) is { Complete: false, BlocksPresent: 1 });
        int fetched = unreal.Fetcher.TotalBlockRequests;

        using (var damaged = File.OpenHandle(unreal.BlobFile(blob), FileMode.Open, FileAccess.ReadWrite))
        {
            RandomAccess.SetLength(damaged, 1 << 20);
        }
        // Pages the kernel has not cached yet: the read reaches the cache file.
        var (errno, read) = Native.Pread(file, buffer, (10 << 20) + 8192);

        Assert.Equal((0, buffer.Length), (errno, read));
        Assert.True(content.AsSpan((10 << 20) + 8192, buffer.Length).SequenceEqual(buffer));
        Assert.True(unreal.Fetcher.TotalBlockRequests > fetched, "block 2 was not fetched again");
        Assert.Contains(unreal.Logs.Lines, l => l.Message.Contains("shorter than the blob", StringComparison.Ordinal));
    }
}
