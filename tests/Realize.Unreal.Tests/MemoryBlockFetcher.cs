using System.Buffers;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using Realize.Core;

namespace Realize.Unreal.Tests;

/// <summary>What a peer of a <see cref="MemoryBlockFetcher"/> does when asked for a block.</summary>
public enum PeerBehavior
{
    /// <summary>Sends the block.</summary>
    Serve,

    /// <summary>Sends the block with a byte changed: the check of its hash rejects it.</summary>
    Corrupt,

    /// <summary>Never answers, until the request is cancelled.</summary>
    Stall,

    /// <summary>Refuses at once.</summary>
    Fail,
}

/// <summary>
/// Stands in for the network only (BLOB connections are tested in tests/Realize.Network.Tests):
/// serves the blocks of in-memory blobs from named peers, checks each block against its hash as
/// the real fetcher does (a corrupt one throws <see cref="FetchException"/> with Corrupt), counts
/// every request, and can be told to make a peer corrupt its blocks, stall or fail.
/// </summary>
internal sealed class MemoryBlockFetcher : IBlockFetcher
{
    private readonly ConcurrentDictionary<BlobHash, byte[]> _blobs = new();
    // Guards _peers and _behavior.
    private readonly Lock _gate = new();
    private readonly List<PeerId> _peers = [];
    private readonly Dictionary<PeerId, PeerBehavior> _behavior = [];
    private readonly ConcurrentDictionary<(BlobHash Blob, int Index), int> _blockRequests = new();
    private readonly ConcurrentDictionary<PeerId, int> _requestsTo = new();
    private int _listRequests, _rejected, _stalling;

    /// <summary>Adds a blob the peers hold; returns its hash.</summary>
    public BlobHash Add(byte[] content)
    {
        var blob = Storage.ContentHasher.HashBytes(content);
        _blobs[blob] = content;
        return blob;
    }

    /// <summary>A peer holding every blob, asked after those added before it.</summary>
    public PeerId AddPeer(string name, PeerBehavior behavior = PeerBehavior.Serve)
    {
        var peer = PeerId.FromSubjectPublicKeyInfo(System.Text.Encoding.UTF8.GetBytes(name));
        lock (_gate)
        {
            _peers.Add(peer);
            _behavior[peer] = behavior;
        }
        return peer;
    }

    public void SetBehavior(PeerId peer, PeerBehavior behavior)
    {
        lock (_gate)
        {
            _behavior[peer] = behavior;
        }
    }

    /// <summary>Requests for block <paramref name="index"/> of <paramref name="blob"/>, to any peer.</summary>
    public int BlockRequests(BlobHash blob, int index) => _blockRequests.GetValueOrDefault((blob, index));

    /// <summary>Block requests of every blob to any peer.</summary>
    public int TotalBlockRequests => _blockRequests.Values.Sum();

    /// <summary>Block requests to <paramref name="peer"/>.</summary>
    public int RequestsTo(PeerId peer) => _requestsTo.GetValueOrDefault(peer);

    public int ListRequests => Volatile.Read(ref _listRequests);

    /// <summary>Blocks that did not match their hash (from corrupting peers).</summary>
    public int Rejected => Volatile.Read(ref _rejected);

    /// <summary>Requests stalled now, not yet cancelled.</summary>
    public int Stalling => Volatile.Read(ref _stalling);

    public IReadOnlyList<PeerId> Holders(BlobHash blob, ArenaName arena, string path)
    {
        lock (_gate)
        {
            return _blobs.ContainsKey(blob) ? [.. _peers] : [];
        }
    }

    public Task<IReadOnlyList<byte[]>> GetBlockListAsync(PeerId peer, BlobHash blob, long size, CancellationToken cancellation)
    {
        Interlocked.Increment(ref _listRequests);
        if (Behavior(peer) is PeerBehavior.Fail || !_blobs.TryGetValue(blob, out byte[]? content))
        {
            return Task.FromException<IReadOnlyList<byte[]>>(new FetchException($"{peer} refuses {blob}"));
        }
        IReadOnlyList<byte[]> list = [.. Enumerable.Range(0, Blocks(content.Length)).Select(i => SHA256.HashData(Block(content, i)))];
        return Task.FromResult(list);
    }

    public async Task<IMemoryOwner<byte>> GetBlockAsync(PeerId peer, BlobHash blob, int index, long size, byte[]? expected, CancellationToken cancellation)
    {
        _blockRequests.AddOrUpdate((blob, index), 1, (_, n) => n + 1);
        _requestsTo.AddOrUpdate(peer, 1, (_, n) => n + 1);
        var behavior = Behavior(peer);
        if (behavior is PeerBehavior.Fail || !_blobs.TryGetValue(blob, out byte[]? content) || index >= Blocks(content.Length))
        {
            throw new FetchException($"{peer} refuses block {index} of {blob}");
        }
        if (behavior is PeerBehavior.Stall)
        {
            Interlocked.Increment(ref _stalling);
            try
            {
                await Task.Delay(Timeout.Infinite, cancellation);
            }
            finally
            {
                Interlocked.Decrement(ref _stalling);
            }
        }
        byte[] data = Block(content, index).ToArray();
        if (behavior is PeerBehavior.Corrupt)
        {
            data[data.Length / 2] ^= 0x5A;
        }
        // As BlobClient does: the block's SHA-256 against the list, or for a blob of one block SHA-256(SHA-256(data)) against the blob.
        byte[] digest = SHA256.HashData(data);
        bool good = expected is null ? BlobHash.FromBytes(SHA256.HashData(digest)) == blob : digest.AsSpan().SequenceEqual(expected);
        if (!good)
        {
            Interlocked.Increment(ref _rejected);
            throw new FetchException($"block {index} of {blob} from {peer} does not match its hash", corrupt: true);
        }
        return new Owned(data);
    }

    private PeerBehavior Behavior(PeerId peer)
    {
        lock (_gate)
        {
            return _behavior[peer];
        }
    }

    private static int Blocks(long size) => (int)((size + BlobHash.BlockSize - 1) / BlobHash.BlockSize);

    private static ReadOnlySpan<byte> Block(byte[] content, int index)
    {
        int start = index * BlobHash.BlockSize;
        return content.AsSpan(start, Math.Min(BlobHash.BlockSize, content.Length - start));
    }

    private sealed class Owned(byte[] data) : IMemoryOwner<byte>
    {
        public Memory<byte> Memory { get; } = data;

        public void Dispose()
        {
        }
    }
}
