using Realize.Core;

namespace Realize.Network;

/// <summary>How a blob divides into the 4 MiB blocks that BLOB carries and verifies one by one.</summary>
public static class BlobBlocks
{
    /// <summary>The number of blocks of a blob of <paramref name="size"/> bytes (0 for an empty one).</summary>
    public static int Count(long size)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        return checked((int)((size + BlobHash.BlockSize - 1) / BlobHash.BlockSize));
    }

    /// <summary>The length of block <paramref name="index"/> of a blob of <paramref name="size"/> bytes: 4 MiB but for the last.</summary>
    public static int Length(long size, int index)
    {
        if (index < 0 || index >= Count(size))
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"a blob of {size} bytes has {Count(size)} blocks");
        }
        return (int)Math.Min(BlobHash.BlockSize, size - ((long)index * BlobHash.BlockSize));
    }

    /// <summary>The offset in the blob where block <paramref name="index"/> starts.</summary>
    public static long Offset(int index) => (long)index * BlobHash.BlockSize;
}
