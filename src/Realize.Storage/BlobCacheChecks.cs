using Microsoft.Win32.SafeHandles;
using Realize.Core;

namespace Realize.Storage;

/// <summary>
/// How the cache catches a file changed behind its back (a power cut, a disk error, a person):
/// at start every partial blob's blocks, and every complete blob whose file lost its seal, are
/// hashed again; at each open a complete blob's file must still have its length and seal.
/// </summary>
public sealed partial class BlobCache
{
    private void Load()
    {
        foreach (var row in _db.ReadCachedBlobs())
        {
            string path = PathOf(row.Blob);
            var entry = new Entry(row.Size) { BlockList = row.BlockList, LastUseNs = row.LastUseNs, PersistedUseNs = row.LastUseNs, Arena = row.Arena };
            foreach (int index in row.Blocks.Where(i => i >= 0 && i < entry.Present.Length))
            {
                entry.Present[index] = true;
            }
            // A file gone or of another length than its blob is not trusted.
            if (!File.Exists(path) || new FileInfo(path).Length != row.Size)
            {
                _db.DeleteCachedBlob(row.Blob);
                File.Delete(path);
                continue;
            }
            if (!row.Complete)
            {
                // The blocks of a partial blob were recorded without a sync of their bytes: a
                // power cut may have kept a record and lost its block. Each is checked again.
                VerifyBlocks(row.Blob, path, entry);
            }
            else if (row.Size > 0 && (row.Seal is not { } seal || SealOf(path) != seal))
            {
                // Changed behind the cache's back (or complete before seals were kept): its
                // blocks are checked, the good ones kept, the others fetched again at next use.
                VerifyBlocks(row.Blob, path, entry);
                if (entry.Present.All(p => p) && SealOf(path) is { } now)
                {
                    entry.Seal = now;
                    _db.SaveCachedSeal(row.Blob, now);
                }
                else
                {
                    _db.SaveCachedBlob(row.Blob, row.Size, row.BlockList, complete: false, row.LastUseNs);
                }
            }
            else
            {
                entry.Seal = row.Seal;
            }
            entry.Count = entry.Present.Count(p => p);
            entry.Complete = entry.Count == entry.Present.Length;
            if (entry.Complete && !row.Complete)
            {
                // Every block was written but the mark was lost (a crash before it): sync, then mark.
                using (var handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite))
                {
                    RandomAccess.FlushToDisk(handle);
                    entry.Seal = SealOf(handle);
                }
                _db.SaveCachedBlob(row.Blob, row.Size, row.BlockList, complete: true, row.LastUseNs);
                _db.SaveCachedSeal(row.Blob, entry.Seal.Value);
            }
            _entries[row.Blob] = entry;
            _bytes += entry.Bytes();
        }
        // Files the table does not know (a crash between creating one and recording it) go.
        foreach (string file in Directory.EnumerateFiles(_directory))
        {
            if (!BlobHash.TryParse(Path.GetFileName(file), out var blob) || !_entries.ContainsKey(blob))
            {
                File.Delete(file);
            }
        }
    }

    /// <summary>Unmarks the blocks of a partial blob whose bytes do not match their hash (or cannot be checked: no block list yet).</summary>
    private static void VerifyBlocks(BlobHash blob, string path, Entry entry)
    {
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        byte[] buffer = new byte[BlobHash.BlockSize];
        Span<byte> digest = stackalloc byte[32];
        for (int i = 0; i < entry.Present.Length; i++)
        {
            if (!entry.Present[i])
            {
                continue;
            }
            var block = buffer.AsSpan(0, entry.BlockLength(i));
            bool good = RandomAccess.Read(handle, block, (long)i * BlobHash.BlockSize) == block.Length;
            if (good)
            {
                System.Security.Cryptography.SHA256.HashData(block, digest);
                if (entry.BlockList is { } list && list.Length == entry.Present.Length * 32)
                {
                    good = digest.SequenceEqual(list.AsSpan(i * 32, 32));
                }
                else
                {
                    // One block and no list: the blob is the hash of that block's hash.
                    good = entry.Present.Length == 1 && BlobHash.FromBytes(System.Security.Cryptography.SHA256.HashData(digest)).Equals(blob);
                }
            }
            entry.Present[i] = good;
        }
    }

    /// <summary>Whether a complete blob's file is still there, of its length, with its seal.</summary>
    private bool IsIntact(BlobHash blob, Entry entry) =>
        Realize.Linux.Stat.TryLstat(PathOf(blob)) is { } status && status.Size == entry.Size
        && (entry.Seal is not { } seal || new CacheSeal(status.Inode, status.CTime.TotalNanoseconds) == seal);

    private static CacheSeal? SealOf(string path) =>
        Realize.Linux.Stat.TryLstat(path) is { } status ? new CacheSeal(status.Inode, status.CTime.TotalNanoseconds) : null;

    private static CacheSeal SealOf(SafeFileHandle handle)
    {
        var status = Realize.Linux.RegularFile.Status(handle);
        return new CacheSeal(status.Inode, status.CTime.TotalNanoseconds);
    }
}
