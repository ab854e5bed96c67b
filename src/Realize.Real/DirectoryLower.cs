using Realize.Linux;
using Realize.Storage;

namespace Realize.Real;

/// <summary>
/// The lower layer of a <c>--lower</c> store: a plain directory whose files are hashed once
/// (cached in <c>index.db</c>'s <c>lower_blobs</c>).
/// </summary>
public sealed class DirectoryLower : LowerLayer
{
    private readonly string _root;
    private readonly IndexDb _index;

    public DirectoryLower(string root, IndexDb index)
    {
        _root = root;
        _index = index;
    }

    public override FileKind? KindOf(string path) => Stat.TryLstat(Full(path))?.Kind;

    public override IReadOnlyList<DirectoryEntry> List(string path)
    {
        using var directory = DirectoryHandle.TryOpen(Full(path));
        return directory is null ? [] : directory.ReadAll();
    }

    public override LowerFile? File(string path)
    {
        if (Stat.TryLstat(Full(path)) is not { Kind: FileKind.Regular } status)
        {
            return null;
        }
        if (_index.FindLowerBlob(path) is { } cached && cached.Size == status.Size && cached.MTime == status.MTime && cached.Inode == status.Inode)
        {
            return new LowerFile(cached.Blob, status.Size, status.MTime);
        }
        var blob = ContentHasher.HashFile(Full(path));
        Hashed++;
        if (Stat.TryLstat(Full(path)) is { } after && after.Size == status.Size && after.MTime == status.MTime && after.Inode == status.Inode && after.CTime == status.CTime)
        {
            // Cached only when the file held still while it was read.
            _index.PutLowerBlob(path, new LowerBlob(status.Size, status.MTime, status.Inode, blob));
        }
        return new LowerFile(blob, status.Size, status.MTime);
    }

    private string Full(string path) => path.Length == 0 ? _root : _root + "/" + path;
}
