using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;
using Realize.Core;
using Realize.Linux;
using Realize.Storage;

namespace Realize.Network;

/// <summary>
/// A blob served from one of this peer's files (of real/ or of a plain arena's directory), open
/// once for as long as a connection reads it. Opened when the file still has the size, mtime,
/// inode and ctime its index.db row recorded, or, on doubt (the size is right but another of them
/// moved: touched, restored from a backup, copied back), when it hashes to the blob again. Each
/// block read first checks that the open file has not changed since it was opened.
/// </summary>
internal sealed class FileBlobReader : BlobReader
{
    private readonly SafeFileHandle _handle;
    private readonly FileStatus _opened;
    private readonly string _path;
    private readonly byte[]? _blockHashes;

    private FileBlobReader(SafeFileHandle handle, FileStatus opened, string path, byte[]? blockHashes)
    {
        _handle = handle;
        _opened = opened;
        _path = path;
        _blockHashes = blockHashes;
    }

    /// <summary>
    /// Opens <paramref name="path"/>, the file of <paramref name="row"/>, whose content is
    /// <paramref name="blob"/>; null when it is gone, cannot be opened, has another size, or no
    /// longer matches the row (mtime, and the inode and ctime when recorded) and no longer hashes
    /// to the blob either.
    /// </summary>
    public static FileBlobReader? TryOpen(string path, BlobFile row, BlobHash blob)
    {
        SafeFileHandle? handle;
        FileStatus status;
        try
        {
            handle = RegularFile.TryOpenRead(path, out status);
        }
        catch (LinuxException)
        {
            // Not readable (EACCES, say): another file of the blob may be.
            return null;
        }
        if (handle is null)
        {
            return null;
        }
        if (status.Size != row.Size)
        {
            handle.Dispose();
            return null;
        }
        if (status.MTime == row.MTime && (row.Inode is not { } inode || inode == status.Inode) && (row.CTime is not { } ctime || ctime == status.CTime))
        {
            return new FileBlobReader(handle, status, path, null);
        }
        return Rehashed(handle, status, path, blob);
    }

    /// <summary>The reader of a file in doubt, when it still hashes to <paramref name="blob"/> and did not change while it was hashed.</summary>
    private static FileBlobReader? Rehashed(SafeFileHandle handle, FileStatus status, string path, BlobHash blob)
    {
        try
        {
            byte[] hashes = ContentHasher.BlockHashes(handle, status.Size, path);
            var after = RegularFile.Status(handle);
            if (Same(after, status) && BlobHash.FromBytes(SHA256.HashData(hashes)).Equals(blob))
            {
                return new FileBlobReader(handle, status, path, hashes);
            }
        }
        catch (IOException)
        {
            // Changed or unreadable while it was hashed: as good as changed.
        }
        handle.Dispose();
        return null;
    }

    private static bool Same(FileStatus a, FileStatus b) => a.Size == b.Size && a.MTime == b.MTime && a.CTime == b.CTime && a.Inode == b.Inode;

    public override long Size => _opened.Size;

    /// <summary>The block list hashed when the file was opened on doubt; null when its row was trusted.</summary>
    public override byte[]? BlockHashes => _blockHashes;

    internal override bool IsUnchanged() => Same(RegularFile.Status(_handle), _opened);

    public override void ReadBlock(int index, Span<byte> destination)
    {
        if (!IsUnchanged())
        {
            throw new FileChangedException(_path);
        }
        long offset = BlobBlocks.Offset(index);
        int filled = 0;
        while (filled < destination.Length)
        {
            int read = RandomAccess.Read(_handle, destination[filled..], offset + filled);
            if (read == 0)
            {
                throw new FileChangedException(_path);
            }
            filled += read;
        }
    }

    internal override byte[] ComputeBlockHashes() => ContentHasher.BlockHashes(_handle, _opened.Size, _path);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _handle.Dispose();
        }
        base.Dispose(disposing);
    }
}
