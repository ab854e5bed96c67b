using System.Buffers;
using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Realize.Core;

namespace Realize.Network;

/// <summary>Settings of the BLOB client.</summary>
public sealed record BlobClientOptions
{
    /// <summary>Timings and limits of its connections.</summary>
    public LinkOptions Link { get; init; } = new();

    /// <summary>Requests outstanding on one connection at most (more wait): the blocks in flight, 4 MiB each, that bound its memory.</summary>
    public int MaxInFlight { get; init; } = 8;
}

/// <summary>A blob's block list as its holder gave it, checked against the blob hash.</summary>
/// <param name="BlockHashes">The SHA-256 of each 4 MiB block, in order (none for an empty blob).</param>
public sealed record BlobBlockList(BlobHash Blob, long Size, IReadOnlyList<byte[]> BlockHashes);

/// <summary>
/// Fetches content from other peers over BLOB (docs/wire.md): one connection per peer, opened
/// on demand to peers that listen, reused by every request and opened anew after it fails.
/// Requests of any number of callers are pipelined on it. Every answer is verified before it is
/// returned: a block list against the blob hash, a block against its hash. Thread-safe.
/// </summary>
public sealed class BlobClient : IAsyncDisposable
{
    private readonly PeerIdentity _identity;
    private readonly BlobClientOptions _options;
    private readonly ILogger _logger;
    // Cancelled by DisposeAsync: connecting stops, and no request starts.
    private readonly CancellationTokenSource _disposed = new();
    // Guards _connections.
    private readonly Lock _gate = new();
    // The connection of each peer, connected or connecting; a failed or dead one is replaced by the next request.
    private readonly Dictionary<PeerId, Task<BlobConnection>> _connections = [];
    // Replaced as a whole by Reconfigure.
    private volatile StoreConfig _config;

    /// <summary>A client speaking as <paramref name="identity"/> to the peers of <paramref name="config"/>.</summary>
    public BlobClient(PeerIdentity identity, StoreConfig config, BlobClientOptions options, ILogger logger)
    {
        _identity = identity;
        _config = config;
        _options = options;
        _logger = logger;
    }

    /// <summary>Takes a changed realize.toml: connections of peers removed, or whose address or name changed, are closed.</summary>
    public void Reconfigure(StoreConfig config)
    {
        List<Task<BlobConnection>> stale = [];
        lock (_gate)
        {
            _config = config;
            foreach (var (id, connection) in _connections.ToArray())
            {
                if (config.FindPeer(id) is not { } peer || !connection.IsCompletedSuccessfully || connection.Result.Peer != peer)
                {
                    _connections.Remove(id);
                    stale.Add(connection);
                }
            }
        }
        foreach (var connection in stale)
        {
            _ = CloseAsync(connection);
        }
    }

    /// <summary>
    /// The block list of <paramref name="blob"/> from <paramref name="peer"/>, checked: SHA-256 of the
    /// concatenated block hashes is the blob, and the size has that many blocks.
    /// </summary>
    /// <exception cref="BlobUnavailableException">It refused, cannot be reached, or the connection broke.</exception>
    /// <exception cref="BadBlockException">The list does not hash to the blob.</exception>
    public async Task<BlobBlockList> GetBlockListAsync(PeerId peer, BlobHash blob, CancellationToken cancellation)
    {
        var (message, _) = await RequestAsync(peer, id => new BlockListRequest(id, blob), block: false, cancellation);
        if (message is BlobRefusal refusal)
        {
            throw Refused(peer, blob, refusal);
        }
        var list = (BlockList)message;
        int count = BlobBlocks.Count(list.Size);
        if (list.Hashes.Length != count * SHA256.HashSizeInBytes || !BlobHash.FromBytes(SHA256.HashData(list.Hashes)).Equals(blob))
        {
            throw Bad(peer, blob, null, $"the block list of {blob} from {NameOf(peer)} does not hash to the blob");
        }
        var hashes = new byte[count][];
        for (int i = 0; i < count; i++)
        {
            hashes[i] = list.Hashes.AsSpan(i * SHA256.HashSizeInBytes, SHA256.HashSizeInBytes).ToArray();
        }
        return new BlobBlockList(blob, list.Size, hashes);
    }

    /// <summary>
    /// Block <paramref name="index"/> of <paramref name="blob"/> (of <paramref name="blobSize"/> bytes) from
    /// <paramref name="peer"/>, verified: its SHA-256 is <paramref name="expectedHash"/>, from the block
    /// list; for a blob of one block the list may be skipped (null), the check then being
    /// SHA-256(SHA-256(data)) = blob. Dispose the result to give its buffer back.
    /// </summary>
    /// <exception cref="BlobUnavailableException">It refused, cannot be reached, or the connection broke.</exception>
    /// <exception cref="BadBlockException">The bytes do not match the hash.</exception>
    public async Task<IMemoryOwner<byte>> GetBlockAsync(PeerId peer, BlobHash blob, int index, long blobSize, byte[]? expectedHash, CancellationToken cancellation)
    {
        int length = BlobBlocks.Length(blobSize, index);
        if (expectedHash is null && BlobBlocks.Count(blobSize) != 1)
        {
            throw new ArgumentNullException(nameof(expectedHash), "only a blob of one block can be fetched without its block list");
        }
        if (expectedHash is { Length: not SHA256.HashSizeInBytes })
        {
            throw new ArgumentException("a block hash has 32 bytes", nameof(expectedHash));
        }
        var (message, rented) = await RequestAsync(peer, id => new BlockRequest(id, blob, index), block: true, cancellation);
        if (message is BlobRefusal refusal)
        {
            throw Refused(peer, blob, refusal);
        }
        var data = ((BlockData)message).Data;
        if (!MemoryMarshal.TryGetArray(data, out ArraySegment<byte> segment))
        {
            throw new UnreachableException("a block's bytes are always in an array");
        }
        var owner = new RentedBlock(rented ?? segment.Array!, segment.Offset, segment.Count);
        try
        {
            if (data.Length != length)
            {
                throw Bad(peer, blob, index, $"block {index} of {blob} from {NameOf(peer)} has {data.Length} bytes, not {length}");
            }
            Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(data.Span, hash);
            bool good;
            if (expectedHash is not null)
            {
                good = hash.SequenceEqual(expectedHash);
            }
            else
            {
                Span<byte> whole = stackalloc byte[SHA256.HashSizeInBytes];
                SHA256.HashData(hash, whole);
                good = BlobHash.FromBytes(whole).Equals(blob);
            }
            if (!good)
            {
                throw Bad(peer, blob, index, $"block {index} of {blob} from {NameOf(peer)} does not match its hash");
            }
            return owner;
        }
        catch
        {
            owner.Dispose();
            throw;
        }
    }

    private async Task<(Message Message, byte[]? Rented)> RequestAsync(PeerId peer, Func<long, Message> make, bool block, CancellationToken cancellation)
    {
        var connection = await ConnectionAsync(peer, cancellation);
        return await connection.RequestAsync(make, block, cancellation);
    }

    private async Task<BlobConnection> ConnectionAsync(PeerId id, CancellationToken cancellation)
    {
        Task<BlobConnection> connecting;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
            if (!_connections.TryGetValue(id, out connecting!) || connecting.IsFaulted || connecting.IsCanceled
                || (connecting.IsCompletedSuccessfully && !connecting.Result.IsAlive))
            {
                var peer = _config.FindPeer(id) ?? throw new BlobUnavailableException($"{id} is not a peer of this store");
                if (peer.Address is null)
                {
                    throw new BlobUnavailableException($"{peer.Name} does not listen: blobs are fetched from listening peers only");
                }
                connecting = ConnectAsync(peer);
                _connections[id] = connecting;
            }
        }
        try
        {
            return await connecting.WaitAsync(cancellation);
        }
        catch (Exception e) when (e is RealizeException or ProtocolException or IOException or SocketException or TimeoutException)
        {
            throw new BlobUnavailableException($"cannot fetch blobs from {NameOf(id)}: {e.Message}", e);
        }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
        {
            throw new ObjectDisposedException(nameof(BlobClient));
        }
    }

    private async Task<BlobConnection> ConnectAsync(PeerConfig peer)
    {
        try
        {
            var link = await Handshake.ConnectAsync(peer, Handshake.Blob, _identity, _options.Link, _disposed.Token);
            return new BlobConnection(link, Math.Max(1, _options.MaxInFlight), _logger);
        }
        catch (Exception e) when (e is RealizeException or ProtocolException or IOException or SocketException or TimeoutException)
        {
            Log.BlobConnectFailed(_logger, peer.Name, e.Message);
            throw;
        }
    }

    private static async Task CloseAsync(Task<BlobConnection> connection)
    {
        try
        {
            await (await connection).DisposeAsync();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // It never connected: nothing to close.
        }
    }

    private string NameOf(PeerId peer) => _config.FindPeer(peer)?.Name ?? peer.ToString();

    private BlobUnavailableException Refused(PeerId peer, BlobHash blob, BlobRefusal refusal) =>
        new($"{NameOf(peer)} refused blob {blob}: {refusal.Reason}");

    private BadBlockException Bad(PeerId peer, BlobHash blob, int? index, string message)
    {
        Log.BadBlock(_logger, NameOf(peer), message);
        return new BadBlockException(peer, blob, index, message);
    }

    /// <summary>Closes every connection; requests outstanding fail with <see cref="BlobUnavailableException"/>, later ones with <see cref="ObjectDisposedException"/>.</summary>
    public async ValueTask DisposeAsync()
    {
        Task<BlobConnection>[] connections;
        lock (_gate)
        {
            if (_disposed.IsCancellationRequested)
            {
                return;
            }
            _disposed.Cancel();
            connections = [.. _connections.Values];
            _connections.Clear();
        }
        foreach (var connection in connections)
        {
            await CloseAsync(connection);
        }
        _disposed.Dispose();
    }
}
