using Realize.Core;
using Realize.Linux;

namespace Realize.Real;

/// <summary>
/// Whether a mounted merged view shows a path as a fresh overlay instance would
/// (DESIGN.md "Remote changes under a mounted overlay"): overlay never revalidates what it
/// looked up in its lower layer, so after the lower changed, a name may stay missing, keep its
/// removed file, or answer <c>ESTALE</c>.
/// </summary>
internal static class ViewStaleness
{
    /// <summary>
    /// True when the view at <paramref name="view"/> shows <paramref name="path"/> (relative to
    /// the view's root, arena first) otherwise than its lower layer <paramref name="lowerDir"/>
    /// would through the upper layer <paramref name="realDir"/>. Paths the upper layer decides
    /// itself (an upper file, directory or whiteout) are never stale, but a metacopy entry whose
    /// lower file is gone or has another size is (the swap's edit must rewrite it).
    /// </summary>
    public static bool IsStale(string view, string realDir, string lowerDir, string path)
    {
        string lower;
        long? metacopySize;
        try
        {
            if (!ExpectedLower(realDir, path, out lower, out metacopySize))
            {
                return false;
            }
        }
        catch (LinuxException e) when (e.Errno is Errno.ENOENT or Errno.ENOTDIR)
        {
            // real/ changed while it was read (through the live view): a swap settles it.
            return true;
        }
        if (metacopySize is { } size)
        {
            // The daemon rewrites such an entry during a swap (DESIGN.md): its lower file is gone or changed size.
            return Stat.TryLstat(Path.Combine(lowerDir, lower)) is not { Kind: FileKind.Regular } file || file.Size != size;
        }
        FileStatus? shown;
        try
        {
            shown = Stat.TryLstat(Path.Combine(view, path));
        }
        catch (LinuxException e) when (e.Errno is Errno.ESTALE or Errno.EIO)
        {
            return true;
        }
        FileStatus? below = Stat.TryLstat(Path.Combine(lowerDir, lower));
        return (shown, below) switch
        {
            (null, null) => false,
            ({ } s, { } b) when s.Kind == b.Kind => s.Kind != FileKind.Directory && (s.Size != b.Size || s.MTime != b.MTime),
            _ => true,
        };
    }

    // Walks the path's directories in real/ as overlay's lookup does: false when the upper layer
    // decides the path (an upper entry at it, a whiteout, file or opaque directory above it);
    // else true with the lower path shown there (redirects followed), and for a metacopy at the
    // path the size it pinned.
    private static bool ExpectedLower(string realDir, string path, out string lower, out long? metacopySize)
    {
        lower = "";
        metacopySize = null;
        string? full = realDir;
        string[] names = path.Split('/');
        for (int i = 0; i < names.Length; i++)
        {
            string name = names[i];
            if (full is not null)
            {
                full = Path.Combine(full, name);
                if (Stat.TryLstat(full) is { } upper)
                {
                    if (upper.Kind != FileKind.Directory || i == names.Length - 1)
                    {
                        // An upper file or whiteout is shown as it is, and nothing is below it;
                        // but a metacopy's content is its lower file's, which must still fit.
                        if (i == names.Length - 1 && upper.Kind == FileKind.Regular && OverlayRules.IsMetacopy(full))
                        {
                            lower = OverlayRules.Redirect(full, lower) ?? RelPaths.Join(lower, name);
                            metacopySize = upper.Size;
                            return true;
                        }
                        return false;
                    }
                    if (OverlayRules.LowerSource(full, lower, name) is not { } source)
                    {
                        return false;
                    }
                    lower = source;
                    continue;
                }
                // Below here only the lower layer has names.
                full = null;
            }
            lower = RelPaths.Join(lower, name);
        }
        return true;
    }
}
