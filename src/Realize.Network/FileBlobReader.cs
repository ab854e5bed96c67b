using Microsoft.Win32.SafeHandles;
using Realize.Linux;
using Realize.Storage;

namespace Realize.Network;

/// <summary>
/// A blob served from one of this peer's files (of real/ or of a plain arena's directory), open
/// once for as long as a connection reads it. Opened only when the file still has the size,
/// mtime and inode its index.db row recorded; each block read first checks that the open file has
/// not changed since.
/// </summary>
internal sealed class FileBlobReader : BlobReader
{
    private readonly SafeFileHandle _handle;
    private readonly FileStatus _opened;
    private readonly string _path;

    private FileBlobReader(SafeFileHandle handle, FileStatus opened, string path)
    {
        _handle = handle;
        _opened = opened;
        _path = path;
    }

    /// <summary>
    /// Opens <paramref name="path"/>, the file of <paramref name="row"/>; null when it is gone, cannot
    /// be opened, or no longer matches the row (size, mtime, and the inode and ctime when recorded).
    /// </summary>
    public static FileBlobReader? TryOpen(string path, BlobFile row)
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
        if (status.Size != row.Size || status.MTime != row.MTime || (row.Inode is { } inode && inode != status.Inode)
            || (row.CTime is { } ctime && ctime != status.CTime))
        {
            handle.Dispose();
            return null;
        }
        return new FileBlobReader(handle, status, path);
    }

    public override long Size => _opened.Size;

    internal override bool IsUnchanged()
    {
        var now = RegularFile.Status(_handle);
        return now.Size == _opened.Size && now.MTime == _opened.MTime && now.CTime == _opened.CTime && now.Inode == _opened.Inode;
    }

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
