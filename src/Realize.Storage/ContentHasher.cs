using System.Buffers;
using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;
using Realize.Core;

namespace Realize.Storage;

/// <summary>
/// Computes a <see cref="BlobHash"/>: SHA-256 of the concatenated SHA-256 of each 4 MiB
/// block. Blocks of a large file are read and hashed on all cores at once.
/// </summary>
public static class ContentHasher
{
    /// <summary>Hashes the file at <paramref name="path"/>, which must not change meanwhile.</summary>
    /// <exception cref="FileChangedException">The file grew or shrank while it was read.</exception>
    public static BlobHash HashFile(string path)
    {
        using SafeFileHandle handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, FileOptions.None);
        return Hash(handle, RandomAccess.GetLength(handle), path);
    }

    /// <summary>Hashes the first <paramref name="length"/> bytes of an open file.</summary>
    public static BlobHash Hash(SafeFileHandle handle, long length, string pathForErrors) =>
        BlobHash.FromBytes(SHA256.HashData(BlockHashes(handle, length, pathForErrors)));

    /// <summary>
    /// The SHA-256 of each 4 MiB block of the first <paramref name="length"/> bytes of an open file,
    /// concatenated (the blob hash is their SHA-256): a blob's block list.
    /// </summary>
    /// <exception cref="FileChangedException">The file shrank while it was read.</exception>
    public static byte[] BlockHashes(SafeFileHandle handle, long length, string pathForErrors)
    {
        int blocks = (int)((length + BlobHash.BlockSize - 1) / BlobHash.BlockSize);
        byte[] digests = new byte[blocks * SHA256.HashSizeInBytes];
        int workers = Math.Min(blocks, Environment.ProcessorCount);
        if (workers <= 1)
        {
            int counter = 0;
            HashBlocks(handle, length, digests, blocks, ref counter, pathForErrors);
        }
        else
        {
            int next = 0;
            var threads = new Thread[workers - 1];
            Exception? failure = null;
            for (int i = 0; i < threads.Length; i++)
            {
                threads[i] = new Thread(() =>
                {
                    try
                    {
                        HashBlocks(handle, length, digests, blocks, ref next, pathForErrors);
                    }
                    catch (Exception e)
                    {
                        Interlocked.CompareExchange(ref failure, e, null);
                    }
                })
                { IsBackground = true };
                threads[i].Start();
            }
            try
            {
                HashBlocks(handle, length, digests, blocks, ref next, pathForErrors);
            }
            finally
            {
                foreach (var thread in threads)
                {
                    thread.Join();
                }
            }
            if (failure is not null)
            {
                throw failure;
            }
        }
        return digests;
    }

    /// <summary>Hashes an in-memory content, for tests and small blobs.</summary>
    public static BlobHash HashBytes(ReadOnlySpan<byte> content)
    {
        int blocks = (content.Length + BlobHash.BlockSize - 1) / BlobHash.BlockSize;
        byte[] digests = new byte[blocks * SHA256.HashSizeInBytes];
        for (int i = 0; i < blocks; i++)
        {
            int start = i * BlobHash.BlockSize;
            SHA256.HashData(content.Slice(start, Math.Min(BlobHash.BlockSize, content.Length - start)), digests.AsSpan(i * 32, 32));
        }
        return BlobHash.FromBytes(SHA256.HashData(digests));
    }

    private static void HashBlocks(SafeFileHandle handle, long length, byte[] digests, int blocks, ref int next, string path)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(BlobHash.BlockSize);
        try
        {
            while (true)
            {
                int block = Interlocked.Increment(ref next) - 1;
                if (block >= blocks)
                {
                    return;
                }
                long offset = (long)block * BlobHash.BlockSize;
                int wanted = (int)Math.Min(BlobHash.BlockSize, length - offset);
                int filled = 0;
                while (filled < wanted)
                {
                    int n = RandomAccess.Read(handle, buffer.AsSpan(filled, wanted - filled), offset + filled);
                    if (n == 0)
                    {
                        throw new FileChangedException(path);
                    }
                    filled += n;
                }
                SHA256.HashData(buffer.AsSpan(0, wanted), digests.AsSpan(block * 32, 32));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}

/// <summary>A file changed while it was being read; it will be examined again once quiet.</summary>
public sealed class FileChangedException : IOException
{
    public FileChangedException(string path)
        : base($"{path} changed while it was read")
    {
    }

    public FileChangedException()
    {
    }

    public FileChangedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
