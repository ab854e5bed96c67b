using Realize.Core;
using Realize.Linux;
using Realize.Real;

namespace Realize.TestSupport;

/// <summary>
/// The directories and regular files of a merged view, relative to its root: those of the
/// arenas, and apart those outside every arena (which can be moved in or out).
/// </summary>
public sealed record ViewTree(List<string> Dirs, List<string> EmptyDirs, List<string> Files, List<string> OutsideDirs, List<string> OutsideFiles)
{
    /// <summary>The directories and files of the arenas.</summary>
    public List<string> All => [.. Dirs, .. Files];

    /// <summary>Lists what the view at <paramref name="root"/> shows now, without following symlinks.</summary>
    public static ViewTree Read(string root, string[] arenas)
    {
        var tree = new ViewTree([], [], [], [], []);
        foreach (string arena in arenas)
        {
            if (Stat.TryLstat(Path.Combine(root, arena)) is { Kind: FileKind.Directory })
            {
                tree.Walk(root, arena, tree.Dirs, tree.Files);
            }
        }
        foreach (string name in Directory.GetFileSystemEntries(root).Select(e => Path.GetFileName(e)).Order(StringComparer.Ordinal))
        {
            // An arena whose root is a file (moved there) counts as outside: it shows no files.
            if (!arenas.Contains(name) || !tree.Dirs.Contains(name))
            {
                tree.Walk(root, name, tree.OutsideDirs, tree.OutsideFiles);
            }
        }
        return tree;
    }

    private void Walk(string root, string path, List<string> dirs, List<string> files)
    {
        string full = Path.Combine(root, path);
        switch (Stat.TryLstat(full)?.Kind)
        {
            case FileKind.Directory:
                dirs.Add(path);
                var children = Directory.GetFileSystemEntries(full).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
                if (children.Count == 0 && path.Contains('/', StringComparison.Ordinal) && dirs == Dirs)
                {
                    EmptyDirs.Add(path);
                }
                foreach (string? child in children)
                {
                    if (child == ArenaMarker.FileName && !path.Contains('/', StringComparison.Ordinal) && dirs == Dirs)
                    {
                        // A plain arena's marker: never shared, never touched by the operations.
                        continue;
                    }
                    Walk(root, RelPaths.Join(path, child!), dirs, files);
                }
                break;
            case FileKind.Regular:
                files.Add(path);
                break;
        }
    }
}
