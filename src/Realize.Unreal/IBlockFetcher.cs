using System.Buffers;
using Realize.Core;

namespace Realize.Unreal;

/// <summary>
/// Where the Unreal gets content it does not have: the peers that hold a blob, and its block
/// list and blocks from one of them. The daemon implements it over the network's BLOB
/// connections; the Unreal knows nothing of the wire.
/// </summary>
public interface IBlockFetcher
{
    /// <summary>The peers this one could ask now for <paramref name="blob"/>, the content of <paramref name="path"/> in <paramref name="arena"/>; best first.</summary>
    IReadOnlyList<PeerId> Holders(BlobHash blob, ArenaName arena, string path);

    /// <summary>The SHA-256 of each 4 MiB block of <paramref name="blob"/>, checked against the blob hash.</summary>
    Task<IReadOnlyList<byte[]>> GetBlockListAsync(PeerId peer, BlobHash blob, long size, CancellationToken cancellation);

    /// <summary>
    /// Block <paramref name="index"/> of <paramref name="blob"/>, verified against
    /// <paramref name="expected"/> (null for a blob of one block: then against the blob hash).
    /// Throws <see cref="FetchException"/> when the peer refuses or sends a bad block.
    /// </summary>
    Task<IMemoryOwner<byte>> GetBlockAsync(PeerId peer, BlobHash blob, int index, long size, byte[]? expected, CancellationToken cancellation);
}

/// <summary>A peer could not give a block: it refused, it sent one that did not match its hash, or it went away.</summary>
public sealed class FetchException : Exception
{
    public FetchException(string message, bool corrupt = false, Exception? inner = null)
        : base(message, inner) => Corrupt = corrupt;

    public FetchException()
    {
    }

    public FetchException(string message)
        : base(message)
    {
    }

    public FetchException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The peer sent data that did not match its hash.</summary>
    public bool Corrupt { get; }
}
