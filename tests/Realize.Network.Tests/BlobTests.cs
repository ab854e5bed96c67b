using System.Security.Cryptography;
using Realize.Core;
using Realize.TestSupport;

namespace Realize.Network.Tests;

/// <summary>BLOB between two live members on loopback TLS: a holder's files fetched by an asker's <see cref="BlobClient"/>, block by block, verified.</summary>
public sealed class BlobTests : IDisposable
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(30);
    private const int Block = BlobHash.BlockSize;
    private readonly TempDir _dir = new("blob");

    public void Dispose() => _dir.Dispose();

    private static async Task<byte[]> FetchAllAsync(BlobClient client, PeerId peer, BlobBlockList list)
    {
        byte[] content = new byte[list.Size];
        for (int i = 0; i < list.BlockHashes.Count; i++)
        {
            using var block = await client.GetBlockAsync(peer, list.Blob, i, list.Size, list.BlockHashes[i], CancellationToken.None);
            block.Memory.Span.CopyTo(content.AsSpan(i * Block));
        }
        return content;
    }

    [Fact]
    public async Task AMultiBlockBlob_ComesWithItsBlockList_AndEveryBlockByteForByte()
    {
        await using var household = BlobHousehold.Start(_dir);
        byte[] content = BlobHousehold.Content((2 * Block) + 12345, seed: 1);
        var blob = household.AddFile(BlobHousehold.Docs, "big/file.bin", content);

        var list = await household.Client.GetBlockListAsync(household.Holder.Id, blob, CancellationToken.None);

        Assert.Equal(content.Length, list.Size);
        Assert.Equal(3, list.BlockHashes.Count);
        Assert.Equal(SHA256.HashData(content.AsSpan(2 * Block)), list.BlockHashes[2]);
        Assert.Equal(content, await FetchAllAsync(household.Client, household.Holder.Id, list));
        // Kept in the holder's index.db: the file is hashed once, whatever restarts.
        using var index = household.Holder.Store.OpenIndex();
        Assert.Equal(list.BlockHashes.SelectMany(h => h).ToArray(), index.FindBlockList(blob));
    }

    [Fact]
    public async Task AOneBlockBlob_IsFetchedWithoutItsList_FromAPlainArena()
    {
        await using var household = BlobHousehold.Start(_dir);
        byte[] content = BlobHousehold.Content(1000, seed: 2);
        var blob = household.AddFile(BlobHousehold.Plain, "notes/small.txt", content);

        using var block = await household.Client.GetBlockAsync(household.Holder.Id, blob, 0, content.Length, null, CancellationToken.None);

        Assert.Equal(content, block.Memory.ToArray());
    }

    [Fact]
    public async Task ABlobOnlyInAnArenaNotSharedWithTheAsker_ClosesTheConnection_WithALoggedReason_AndTheNextRequestIsServed()
    {
        await using var household = BlobHousehold.Start(_dir);
        var secret = household.AddFile(BlobHousehold.Private, "secret.txt", BlobHousehold.Content(100, seed: 3));
        byte[] content = BlobHousehold.Content(200, seed: 4);
        var shared = household.AddFile(BlobHousehold.Docs, "shared.txt", content);

        var refused = await Assert.ThrowsAsync<BlobUnavailableException>(() => household.Client.GetBlockAsync(household.Holder.Id, secret, 0, 100, null, CancellationToken.None));

        Assert.Contains("ended", refused.Message);
        await Poll.UntilAsync(() => household.Holder.Logs.Lines.Any(l => l.Message.Contains("protocol error", StringComparison.Ordinal) && l.Message.Contains("not shared with it", StringComparison.Ordinal)),
            s_deadline, () => $"the holder logs why it closed the connection; its log:\n{household.Holder.Logs}");
        // A new connection serves what is shared.
        using var block = await household.Client.GetBlockAsync(household.Holder.Id, shared, 0, content.Length, null, CancellationToken.None);
        Assert.Equal(content, block.Memory.ToArray());
    }

    [Fact]
    public async Task ABlobNotHere_IsRefused_AndTheConnectionGoesOn()
    {
        await using var household = BlobHousehold.Start(_dir);
        byte[] content = BlobHousehold.Content(300, seed: 5);
        var blob = household.AddFile(BlobHousehold.Docs, "here.txt", content);
        var nowhere = Storage.ContentHasher.HashBytes([1, 2, 3]);

        var refused = await Assert.ThrowsAsync<BlobUnavailableException>(() => household.Client.GetBlockListAsync(household.Holder.Id, nowhere, CancellationToken.None));

        Assert.Contains("not here", refused.Message);
        using var block = await household.Client.GetBlockAsync(household.Holder.Id, blob, 0, content.Length, null, CancellationToken.None);
        Assert.Equal(content, block.Memory.ToArray());
        Assert.DoesNotContain(household.Holder.Logs.Lines, l => l.Message.Contains("protocol error", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AFileChangedSinceItWasIndexed_IsRefused()
    {
        await using var household = BlobHousehold.Start(_dir);
        byte[] content = BlobHousehold.Content(Block + 10, seed: 6);
        var blob = household.AddFile(BlobHousehold.Docs, "changing.bin", content);
        // Rewritten in place with as many bytes, after the scan recorded it: its mtime (and ctime) moved.
        string file = household.FileOf(BlobHousehold.Docs, "changing.bin");
        File.WriteAllBytes(file, BlobHousehold.Content(Block + 10, seed: 7));
        File.SetLastWriteTimeUtc(file, DateTime.UtcNow.AddMinutes(1));

        var refused = await Assert.ThrowsAsync<BlobUnavailableException>(() => household.Client.GetBlockListAsync(household.Holder.Id, blob, CancellationToken.None));

        Assert.Contains("changed since it was indexed", refused.Message);
        var block = await Assert.ThrowsAsync<BlobUnavailableException>(() => household.Client.GetBlockAsync(household.Holder.Id, blob, 1, content.Length, new byte[32], CancellationToken.None));
        Assert.Contains("changed since it was indexed", block.Message);
    }

    [Fact]
    public async Task AFileTouchedSinceItWasIndexed_IsHashedAgain_AndServed()
    {
        await using var household = BlobHousehold.Start(_dir);
        byte[] content = BlobHousehold.Content((2 * Block) + 10, seed: 16);
        var blob = household.AddFile(BlobHousehold.Docs, "touched.bin", content);
        // Its content kept, its mtime (and so its ctime) moved after the scan: the row is in doubt, not the blob.
        File.SetLastWriteTimeUtc(household.FileOf(BlobHousehold.Docs, "touched.bin"), DateTime.UtcNow.AddMinutes(1));

        var list = await household.Client.GetBlockListAsync(household.Holder.Id, blob, CancellationToken.None);
        using var second = await household.Client.GetBlockAsync(household.Holder.Id, blob, 1, list.Size, list.BlockHashes[1], CancellationToken.None);

        Assert.Equal(content.Length, list.Size);
        Assert.Equal(content.AsSpan(Block, Block).ToArray(), second.Memory.ToArray());
    }

    [Fact]
    public async Task AFileChangedWhileItsBlobIsOpen_IsRefusedAtTheNextBlock()
    {
        await using var household = BlobHousehold.Start(_dir);
        byte[] content = BlobHousehold.Content((2 * Block) + 10, seed: 8);
        var blob = household.AddFile(BlobHousehold.Docs, "open.bin", content);
        var list = await household.Client.GetBlockListAsync(household.Holder.Id, blob, CancellationToken.None);
        using (var first = await household.Client.GetBlockAsync(household.Holder.Id, blob, 0, list.Size, list.BlockHashes[0], CancellationToken.None))
        {
            Assert.Equal(content.AsSpan(0, Block).ToArray(), first.Memory.ToArray());
        }

        // The same file (the server holds it open), written in place.
        using (var stream = new FileStream(household.FileOf(BlobHousehold.Docs, "open.bin"), FileMode.Open, FileAccess.Write))
        {
            stream.Position = Block;
            stream.Write(new byte[100]);
        }
        File.SetLastWriteTimeUtc(household.FileOf(BlobHousehold.Docs, "open.bin"), DateTime.UtcNow.AddMinutes(1));

        var refused = await Assert.ThrowsAsync<BlobUnavailableException>(() => household.Client.GetBlockAsync(household.Holder.Id, blob, 1, list.Size, list.BlockHashes[1], CancellationToken.None));
        Assert.Contains("changed", refused.Message);
    }

    [Fact]
    public async Task CorruptBlocks_RaiseBadBlockException_AndAreNeverReturned()
    {
        await using var household = BlobHousehold.Start(_dir, holderOptions: Member.Fast with { BlobServer = new BlobServerOptions { CorruptBlocks = true } });
        byte[] content = BlobHousehold.Content(Block + 5, seed: 9);
        var blob = household.AddFile(BlobHousehold.Docs, "corrupt.bin", content);
        byte[] small = BlobHousehold.Content(50, seed: 10);
        var one = household.AddFile(BlobHousehold.Docs, "small.bin", small);
        // The list is computed from the file, not corrupted: the blocks are.
        var list = await household.Client.GetBlockListAsync(household.Holder.Id, blob, CancellationToken.None);

        var bad = await Assert.ThrowsAsync<BadBlockException>(() => household.Client.GetBlockAsync(household.Holder.Id, blob, 1, list.Size, list.BlockHashes[1], CancellationToken.None));
        var badOne = await Assert.ThrowsAsync<BadBlockException>(() => household.Client.GetBlockAsync(household.Holder.Id, one, 0, small.Length, null, CancellationToken.None));

        Assert.Equal((household.Holder.Id, blob, 1), (bad.Peer, bad.Blob, bad.Index));
        Assert.Equal((one, 0), (badOne.Blob, badOne.Index));
    }

    [Fact]
    public async Task ABlockWithTheWrongHash_RaisesBadBlockException()
    {
        await using var household = BlobHousehold.Start(_dir);
        byte[] content = BlobHousehold.Content(Block + 5, seed: 11);
        var blob = household.AddFile(BlobHousehold.Docs, "two.bin", content);
        var list = await household.Client.GetBlockListAsync(household.Holder.Id, blob, CancellationToken.None);

        // Block 1 asked for with block 0's hash: the bytes are right, the expectation is not.
        await Assert.ThrowsAsync<BadBlockException>(() => household.Client.GetBlockAsync(household.Holder.Id, blob, 1, list.Size, list.BlockHashes[0], CancellationToken.None));
    }

    [Fact]
    public async Task ConcurrentRequestsOfSeveralCallers_ArePipelinedOnOneConnection_AndEachGetsItsOwnBlock()
    {
        await using var household = BlobHousehold.Start(_dir, askerOptions: Member.Fast with { BlobClient = new BlobClientOptions { MaxInFlight = 3 } });
        var files = Enumerable.Range(0, 3).Select(i => BlobHousehold.Content((3 * Block) + (i * 1000) + 1, seed: 20 + i)).ToArray();
        var blobs = files.Select((content, i) => household.AddFile(BlobHousehold.Docs, $"many/{i}.bin", content)).ToArray();
        var lists = await Task.WhenAll(blobs.Select(b => household.Client.GetBlockListAsync(household.Holder.Id, b, CancellationToken.None)));

        // Every block of every file at once, twice over: more callers than places in flight.
        var fetches = Enumerable.Range(0, 2).SelectMany(_ => lists.SelectMany((list, f) => Enumerable.Range(0, list.BlockHashes.Count).Select(async i =>
        {
            using var block = await household.Client.GetBlockAsync(household.Holder.Id, list.Blob, i, list.Size, list.BlockHashes[i], CancellationToken.None);
            return (File: f, Index: i, Same: block.Memory.Span.SequenceEqual(files[f].AsSpan(i * Block, BlobBlocks.Length(list.Size, i))));
        }))).ToArray();
        var results = await Task.WhenAll(fetches);

        Assert.Equal(24, results.Length);
        Assert.All(results, r => Assert.True(r.Same, $"block {r.Index} of file {r.File} differs"));
    }

    [Fact]
    public async Task APeerRemovedFromTheConfiguration_IsNoLongerAsked()
    {
        await using var household = BlobHousehold.Start(_dir);
        byte[] content = BlobHousehold.Content(40, seed: 12);
        var blob = household.AddFile(BlobHousehold.Docs, "before.txt", content);
        using (var block = await household.Client.GetBlockAsync(household.Holder.Id, blob, 0, content.Length, null, CancellationToken.None))
        {
            Assert.Equal(content, block.Memory.ToArray());
        }

        household.Asker.Service.Reconfigure(household.Asker.Store.Config with { Peers = [] });

        var refused = await Assert.ThrowsAsync<BlobUnavailableException>(() => household.Client.GetBlockAsync(household.Holder.Id, blob, 0, content.Length, null, CancellationToken.None));
        Assert.Contains("not a peer", refused.Message);
    }

    [Fact]
    public async Task ABlindPeer_IsNeverAskedForBlobs()
    {
        await using var household = BlobHousehold.Start(_dir);
        // The holder asks the asker, which does not listen.
        var refused = await Assert.ThrowsAsync<BlobUnavailableException>(() =>
            household.Holder.Service.Blobs.GetBlockListAsync(household.Asker.Id, Storage.ContentHasher.HashBytes([1]), CancellationToken.None));

        Assert.Contains("does not listen", refused.Message);
    }

    [Fact]
    public async Task ABlobSourceOfTheDaemon_ServesBlobsBeyondTheOwnFiles_OnlyForTheArenasSharedWithTheAsker()
    {
        await using var household = BlobHousehold.Start(_dir);
        byte[] content = BlobHousehold.Content(Block + 77, seed: 30);
        var blob = Storage.ContentHasher.HashBytes(content);
        var source = new MemorySource(blob, content);
        household.Holder.Service.BlobSource = source;

        var list = await household.Client.GetBlockListAsync(household.Holder.Id, blob, CancellationToken.None);

        Assert.Equal(content, await FetchAllAsync(household.Client, household.Holder.Id, list));
        Assert.Equal(["docs", "plain"], source.AskedWith!.Select(a => a.Value).Order(StringComparer.Ordinal));
    }

    /// <summary>A cache of one blob in memory, recording which arenas it was asked for.</summary>
    private sealed class MemorySource(BlobHash blob, byte[] content) : IBlobSource
    {
        public IReadOnlyCollection<ArenaName>? AskedWith { get; private set; }

        public BlobReader? Open(BlobHash asked, IReadOnlyCollection<ArenaName> sharedWithAsker)
        {
            AskedWith = [.. sharedWithAsker];
            return asked == blob ? new MemoryReader(content) : null;
        }
    }

    private sealed class MemoryReader(byte[] content) : BlobReader
    {
        public override long Size => content.Length;

        public override void ReadBlock(int index, Span<byte> destination) =>
            content.AsSpan(index * Block, destination.Length).CopyTo(destination);
    }
}
