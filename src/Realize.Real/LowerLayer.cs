using Realize.Core;
using Realize.Linux;
using Realize.Storage;

namespace Realize.Real;

/// <summary>A regular file of the lower layer, with its content hash.</summary>
public sealed record LowerFile(BlobHash Blob, long Size, FileTime MTime);

/// <summary>
/// The overlay's lower layer as the scanner sees it: for a <c>--lower</c> store a plain
/// directory whose files are hashed once (cached in <c>index.db</c>); without one, empty.
/// Paths are relative to the layer's root and include the arena (<c>docs/a.txt</c>).
/// </summary>
public sealed class LowerLayer
{
    private readonly string? _root;
    private readonly IndexDb _index;

    public LowerLayer(string? root, IndexDb index)
    {
        _root = root;
        _index = index;
    }

    /// <summary>Number of lower files hashed so far (each is hashed once).</summary>
    public int Hashed { get; private set; }

    /// <summary>What is at <paramref name="path"/> in the lower layer, or null.</summary>
    public FileStatus? Stat(string path) => _root is null ? null : Linux.Stat.TryLstat(Full(path));

    /// <summary>The entries of directory <paramref name="path"/>; empty when it is not one.</summary>
    public IReadOnlyList<DirectoryEntry> List(string path)
    {
        if (_root is null)
        {
            return [];
        }
        using var directory = DirectoryHandle.TryOpen(Full(path));
        return directory is null ? [] : directory.ReadAll();
    }

    /// <summary>The regular file at <paramref name="path"/>, or null when there is none.</summary>
    public LowerFile? File(string path)
    {
        if (Stat(path) is not { Kind: FileKind.Regular } status)
        {
            return null;
        }
        if (_index.FindLowerBlob(path) is { } cached && cached.Size == status.Size && cached.MTime == status.MTime && cached.Inode == status.Inode)
        {
            return new LowerFile(cached.Blob, status.Size, status.MTime);
        }
        var blob = ContentHasher.HashFile(Full(path));
        Hashed++;
        if (Stat(path) is { } after && after.Size == status.Size && after.MTime == status.MTime && after.Inode == status.Inode && after.CTime == status.CTime)
        {
            // Cached only when the file held still while it was read.
            _index.PutLowerBlob(path, new LowerBlob(status.Size, status.MTime, status.Inode, blob));
        }
        return new LowerFile(blob, status.Size, status.MTime);
    }

    /// <summary>Every regular file at or below <paramref name="path"/>, relative to <paramref name="path"/> ("" for the path itself).</summary>
    public IEnumerable<string> FilesBelow(string path)
    {
        if (Stat(path) is not { } status)
        {
            yield break;
        }
        if (status.Kind == FileKind.Regular)
        {
            yield return "";
            yield break;
        }
        if (status.Kind != FileKind.Directory)
        {
            yield break;
        }
        var pending = new Stack<string>();
        pending.Push("");
        while (pending.Count > 0)
        {
            string relative = pending.Pop();
            foreach (var entry in List(relative.Length == 0 ? path : path + "/" + relative))
            {
                if (!Names.TryDecode(entry.Name, out string? name))
                {
                    continue;
                }
                string child = relative.Length == 0 ? name : relative + "/" + name;
                if (entry.Kind == FileKind.Directory)
                {
                    pending.Push(child);
                }
                else if (entry.Kind == FileKind.Regular)
                {
                    yield return child;
                }
            }
        }
    }

    private string Full(string path) => path.Length == 0 ? _root! : _root + "/" + path;
}
