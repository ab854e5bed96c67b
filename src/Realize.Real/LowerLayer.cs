using Realize.Core;
using Realize.Linux;

namespace Realize.Real;

/// <summary>A regular file of the lower layer, with its content hash.</summary>
public sealed record LowerFile(BlobHash Blob, long Size, FileTime MTime);

/// <summary>
/// The overlay's lower layer as the scanner sees it, read without going through any mount:
/// a <c>--lower</c> directory (<see cref="DirectoryLower"/>), the Unreal's table of the other
/// peers' files (<see cref="UnrealLower"/>), or nothing. Paths are relative to the layer's root
/// and include the arena (<c>docs/a.txt</c>).
/// </summary>
public abstract class LowerLayer
{
    /// <summary>A layer with nothing in it: the lower layer of a scan of plain arenas.</summary>
    public static LowerLayer Empty { get; } = new EmptyLower();

    /// <summary>Number of lower files hashed so far (each is hashed once; the Unreal hashes none).</summary>
    public int Hashed { get; protected set; }

    /// <summary>What kind of entry is at <paramref name="path"/>, or null when there is none.</summary>
    public abstract FileKind? KindOf(string path);

    /// <summary>The entries of directory <paramref name="path"/>; empty when it is not one.</summary>
    public abstract IReadOnlyList<DirectoryEntry> List(string path);

    /// <summary>The regular file at <paramref name="path"/>, or null when there is none.</summary>
    public abstract LowerFile? File(string path);

    /// <summary>Every regular file at or below <paramref name="path"/>, relative to <paramref name="path"/> ("" for the path itself).</summary>
    public IEnumerable<string> FilesBelow(string path)
    {
        var kind = KindOf(path);
        if (kind == FileKind.Regular)
        {
            yield return "";
            yield break;
        }
        if (kind != FileKind.Directory)
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

    private sealed class EmptyLower : LowerLayer
    {
        public override FileKind? KindOf(string path) => null;

        public override IReadOnlyList<DirectoryEntry> List(string path) => [];

        public override LowerFile? File(string path) => null;
    }
}
