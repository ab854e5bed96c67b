using System.Text;
using Realize.Core;
using Realize.Linux;
using Realize.Storage;

namespace Realize.Real;

/// <summary>
/// The lower layer of a store whose merged view lies over the Unreal, read from
/// <c>unreal.db</c>'s view of the other peers' files (what the Unreal's FUSE mount shows), so
/// a scan neither needs the mount nor fetches a remote file to know its blob.
/// </summary>
public sealed class UnrealLower : LowerLayer
{
    private const int Page = 1024;
    private readonly UnrealDb _unreal;

    public UnrealLower(UnrealDb unreal) => _unreal = unreal;

    public override FileKind? KindOf(string path) => Find(path) switch
    {
        null => null,
        { IsDirectory: true } => FileKind.Directory,
        _ => FileKind.Regular,
    };

    public override IReadOnlyList<DirectoryEntry> List(string path)
    {
        if (Find(path) is not { IsDirectory: true } directory)
        {
            return [];
        }
        var entries = new List<DirectoryEntry>();
        var page = new List<ViewEntry>(Page);
        string after = "";
        do
        {
            page.Clear();
            _unreal.ListChildren(directory.Id, after, Page, page);
            foreach (var child in page)
            {
                entries.Add(new DirectoryEntry(Encoding.UTF8.GetBytes(child.Name + "\0"), child.IsDirectory ? FileKind.Directory : FileKind.Regular));
                after = child.Name;
            }
        }
        while (page.Count == Page);
        return entries;
    }

    public override LowerFile? File(string path) =>
        Find(path) is { IsDirectory: false, Blob: { } blob } file ? new LowerFile(blob, file.Size, file.MTime) : null;

    private ViewEntry? Find(string path)
    {
        if (path.Length == 0)
        {
            return _unreal.Entry(ViewEntry.RootId);
        }
        int slash = path.IndexOf('/', StringComparison.Ordinal);
        if (!ArenaName.TryParse(slash < 0 ? path : path[..slash], out var arena, out _))
        {
            return null;
        }
        return _unreal.FindPath(arena, slash < 0 ? "" : path[(slash + 1)..]);
    }
}
