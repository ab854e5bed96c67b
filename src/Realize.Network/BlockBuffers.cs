using System.Buffers;
using System.Collections.Concurrent;
using Realize.Core;

namespace Realize.Network;

/// <summary>
/// Buffers of one block and its frame header, shared by BLOB servers and clients: a block is read
/// from disk, or from TLS, straight into one and leaves it only when consumed. ArrayPool would hand
/// out 8 MiB for 4 MiB and a little; a few are kept for reuse (a client's 8 in flight, a server connection's 3), the rest left to the GC.
/// </summary>
internal static class BlockBuffers
{
    /// <summary>Each buffer's length: a whole block after the room for its frame header.</summary>
    public const int Length = Wire.BlockHeaderRoom + BlobHash.BlockSize;

    /// <summary>How many idle buffers are kept (48 MiB): more are in flight only while a caller holds them.</summary>
    private const int Kept = 12;

    private static readonly ConcurrentQueue<byte[]> s_idle = new();

    public static byte[] Rent() => s_idle.TryDequeue(out var buffer) ? buffer : GC.AllocateUninitializedArray<byte>(Length);

    public static void Return(byte[] buffer)
    {
        if (buffer.Length == Length && s_idle.Count < Kept)
        {
            s_idle.Enqueue(buffer);
        }
    }
}

/// <summary>A block's bytes in a rented buffer; disposing gives the buffer back (once).</summary>
internal sealed class RentedBlock : IMemoryOwner<byte>
{
    private byte[]? _buffer;
    private readonly int _start;
    private readonly int _length;

    public RentedBlock(byte[] buffer, int start, int length)
    {
        _buffer = buffer;
        _start = start;
        _length = length;
    }

    public Memory<byte> Memory => (_buffer ?? throw new ObjectDisposedException(nameof(RentedBlock))).AsMemory(_start, _length);

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _buffer, null) is { } buffer)
        {
            BlockBuffers.Return(buffer);
        }
    }
}
