namespace Realize.Core;

/// <summary>
/// The operations of <see cref="RelPath"/> on paths held as strings, where "" is the arena's
/// root (which no <see cref="RelPath"/> holds): for code that walks trees and keys indexes by
/// the text. The inputs are taken as valid (<c>/</c>-separated, no empty segment); "at or below"
/// compares whole segments, so <c>a/b.txt</c> is not below <c>a/b</c>.
/// </summary>
public static class RelPaths
{
    /// <summary>The root of an arena.</summary>
    public const string Root = "";

    /// <summary>
    /// <paramref name="parent"/>/<paramref name="child"/>, where "" on either side is the root
    /// (so the other is returned). <paramref name="parent"/> may be a directory of the file
    /// system, to find a relative path on disk.
    /// </summary>
    public static string Join(string parent, string child) =>
        parent.Length == 0 ? child : child.Length == 0 ? parent : string.Concat(parent, "/", child);

    /// <summary>The directory holding <paramref name="path"/>: the root ("") for a top-level name or for the root itself.</summary>
    public static string Parent(string path)
    {
        int slash = path.LastIndexOf('/');
        return slash < 0 ? Root : path[..slash];
    }

    /// <summary>The last segment of <paramref name="path"/> (all of it for a top-level name).</summary>
    public static string Name(string path) => path[(path.LastIndexOf('/') + 1)..];

    /// <summary>True when <paramref name="path"/> is <paramref name="root"/> or inside it; everything is at or below the root "".</summary>
    public static bool IsAtOrBelow(string path, string root) => path == root || IsBelow(path, root);

    /// <summary>True when <paramref name="path"/> is inside <paramref name="root"/> and not <paramref name="root"/> itself.</summary>
    public static bool IsBelow(string path, string root) =>
        root.Length == 0
            ? path.Length > 0
            : path.Length > root.Length && path[root.Length] == '/' && path.StartsWith(root, StringComparison.Ordinal);

    /// <summary>
    /// True when <paramref name="path"/> is one of <paramref name="roots"/> or inside one. A set
    /// (compared ordinally) is asked for each directory above the path, so a large one costs
    /// the path's depth, not its size.
    /// </summary>
    public static bool IsAtOrBelowAny(string path, IEnumerable<string> roots)
    {
        if (roots is IReadOnlySet<string> set)
        {
            for (int end = path.Length; end > 0; end = path.LastIndexOf('/', end - 1))
            {
                if (set.Contains(path[..end]))
                {
                    return true;
                }
            }
            return set.Contains(Root);
        }
        foreach (string root in roots)
        {
            if (IsAtOrBelow(path, root))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>True when <paramref name="path"/> is inside one of <paramref name="roots"/> (being one of them is not enough).</summary>
    public static bool IsBelowAny(string path, IEnumerable<string> roots)
    {
        foreach (string root in roots)
        {
            if (IsBelow(path, root))
            {
                return true;
            }
        }
        return false;
    }
}
