using System.Security.Cryptography;
using Realize.Core;

namespace Realize.Network;

/// <summary>
/// A blob open for a BLOB server to read, from a file of this peer or from a cache. Held by one
/// connection, used by one thread at a time, disposed when the connection is done with it.
/// </summary>
public abstract class BlobReader : IDisposable
{
    /// <summary>The blob's size in bytes.</summary>
    public abstract long Size { get; }

    /// <summary>
    /// The SHA-256 of each 4 MiB block, concatenated, when the source knows them (a cache that
    /// fetched the blob's block list); null: the server reads and hashes the blob to answer a
    /// block list request.
    /// </summary>
    public virtual byte[]? BlockHashes => null;

    /// <summary>Whether block <paramref name="index"/> can be read now; false refuses the request (a cache holding part of the blob).</summary>
    public virtual bool HasBlock(int index) => true;

    /// <summary>
    /// Reads block <paramref name="index"/> whole into <paramref name="destination"/>, which has its
    /// length. An <see cref="IOException"/> (the content changed or is gone) refuses the request
    /// and closes this reader.
    /// </summary>
    public abstract void ReadBlock(int index, Span<byte> destination);

    /// <summary>Whether the content is still what was opened; false: the server opens the blob anew.</summary>
    internal virtual bool IsUnchanged() => true;

    /// <summary>Hashes every block, reading them one after the other.</summary>
    internal virtual byte[] ComputeBlockHashes()
    {
        int blocks = BlobBlocks.Count(Size);
        byte[] hashes = new byte[blocks * SHA256.HashSizeInBytes];
        byte[] buffer = BlockBuffers.Rent();
        try
        {
            for (int i = 0; i < blocks; i++)
            {
                if (!HasBlock(i))
                {
                    throw new IOException($"block {i} is not here");
                }
                var block = buffer.AsSpan(0, BlobBlocks.Length(Size, i));
                ReadBlock(i, block);
                SHA256.HashData(block, hashes.AsSpan(i * SHA256.HashSizeInBytes, SHA256.HashSizeInBytes));
            }
        }
        finally
        {
            BlockBuffers.Return(buffer);
        }
        return hashes;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases what the reader holds (a file, a hold on a cached blob).</summary>
    protected virtual void Dispose(bool disposing)
    {
    }
}

/// <summary>
/// Blobs a BLOB server may serve beyond this peer's own files: the daemon gives one over its
/// blob cache and unreal.db (<see cref="HistoryService.BlobSource"/>).
/// </summary>
public interface IBlobSource
{
    /// <summary>
    /// Opens <paramref name="blob"/> when this source holds it as the content of a file of an arena
    /// in <paramref name="sharedWithAsker"/>; null otherwise (the request is refused). Called from
    /// any thread, concurrently. The server disposes the reader once its connection is done with it
    /// (it keeps the last few blobs each connection read open), so a hold taken here lasts as long.
    /// </summary>
    BlobReader? Open(BlobHash blob, IReadOnlyCollection<ArenaName> sharedWithAsker);
}
