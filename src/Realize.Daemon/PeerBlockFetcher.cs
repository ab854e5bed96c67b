using System.Buffers;
using Realize.Core;
using Realize.Network;
using Realize.Storage;
using Realize.Unreal;

namespace Realize.Daemon;

/// <summary>
/// The Unreal's <see cref="IBlockFetcher"/> over BLOB connections: the holders of a file's blob
/// are the peers whose current version of that file has it (unreal.db), that listen (only those
/// can be connected to) and share its arena with this peer.
/// </summary>
internal sealed class PeerBlockFetcher(BlobClient client, Func<StoreConfig> config, UnrealDb unreal) : IBlockFetcher, IDisposable
{
    // One thread at a time on the connection.
    private readonly Lock _gate = new();

    public IReadOnlyList<PeerId> Holders(BlobHash blob, ArenaName arena, string path)
    {
        List<PeerId> holders;
        lock (_gate)
        {
            holders = unreal.HoldersOf(blob, arena, path);
        }
        var now = config();
        return [.. holders.Where(h => now.FindPeer(h) is { Address: not null } peer && now.ArenasSharedWith(peer.Name).Contains(arena))];
    }

    public async Task<IReadOnlyList<byte[]>> GetBlockListAsync(PeerId peer, BlobHash blob, long size, CancellationToken cancellation)
    {
        try
        {
            var list = await client.GetBlockListAsync(peer, blob, cancellation);
            return list.Size == size ? list.BlockHashes
                : throw new FetchException($"{Name(peer)} gives {blob} a size of {list.Size} bytes, its history {size}", corrupt: true);
        }
        catch (BadBlockException e)
        {
            throw new FetchException(e.Message, corrupt: true, e);
        }
        catch (BlobUnavailableException e)
        {
            throw new FetchException(e.Message, corrupt: false, e);
        }
    }

    public async Task<IMemoryOwner<byte>> GetBlockAsync(PeerId peer, BlobHash blob, int index, long size, byte[]? expected, CancellationToken cancellation)
    {
        try
        {
            return await client.GetBlockAsync(peer, blob, index, size, expected, cancellation);
        }
        catch (BadBlockException e)
        {
            throw new FetchException(e.Message, corrupt: true, e);
        }
        catch (BlobUnavailableException e)
        {
            throw new FetchException(e.Message, corrupt: false, e);
        }
    }

    private string Name(PeerId peer) => config().FindPeer(peer)?.Name ?? peer.ToString();

    public void Dispose() => unreal.Dispose();
}
