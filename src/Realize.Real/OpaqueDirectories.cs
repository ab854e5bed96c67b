using Microsoft.Extensions.Logging;
using Realize.Core;
using Realize.Linux;

namespace Realize.Real;

/// <summary>
/// Clears <c>trusted.overlay.opaque</c> on upper directories that replaced nothing below
/// (docs/overlay-notes.md "Opaque directories"): overlay marks every directory created through
/// the view in a merged directory opaque, which over the Unreal would hide what other peers add
/// under that name later. Run only during a swap, when no live instance has looked at the
/// directories since: a live instance keeps what it read.
/// </summary>
internal static class OpaqueDirectories
{
    private const string Opaque = "trusted.overlay.opaque";

    /// <summary>
    /// Clears the mark on the opaque directories of <paramref name="realDir"/> whose lower path
    /// holds no directory in <paramref name="lowerDir"/> (or one in <paramref name="appearedBelow"/>,
    /// lower directories that appeared after the last swap, so after the upper one was made)
    /// and with no whiteout anywhere below them. Looks at every directory of real/, or with
    /// <paramref name="under"/> only at those paths and below. Returns the cleared paths, relative to real/.
    /// </summary>
    public static List<string> Clear(string realDir, string lowerDir, IReadOnlySet<string>? appearedBelow, IReadOnlyCollection<string>? under, ILogger logger)
    {
        var cleared = new List<string>();
        // (upper directory, its path, the lower path it merges with) whose subdirectories are to be
        // looked at. Kept opaque directories are not entered: nothing below them merges with anything.
        var pending = new Stack<(string Full, string Path, string Lower)>();
        if (under is null)
        {
            pending.Push((realDir, "", ""));
        }
        else
        {
            foreach (string path in Names.Outermost(under))
            {
                string full = Path.Combine(realDir, path);
                if (path.Length > 0 && Stat.TryLstat(full) is { Kind: FileKind.Directory } && ParentLower(realDir, path) is { } parentLower
                    && Visit(full, path, parentLower, lowerDir, appearedBelow, cleared, logger) is { } lower)
                {
                    pending.Push((full, path, lower));
                }
            }
        }
        while (pending.TryPop(out var directory))
        {
            foreach (var (full, path, _) in Subdirectories(directory.Full, directory.Path))
            {
                if (Visit(full, path, directory.Lower, lowerDir, appearedBelow, cleared, logger) is { } lower)
                {
                    pending.Push((full, path, lower));
                }
            }
        }
        return cleared;
    }

    /// <summary>
    /// True when <see cref="Clear"/> would clear the mark of the upper directory at
    /// <paramref name="path"/> (relative to real/): it is opaque, the lower directory it stands
    /// for is one of <paramref name="appearedBelow"/>, and no whiteout is below it. Until a swap
    /// clears it, the live instance hides that lower directory's files, so the view is stale.
    /// </summary>
    public static bool WouldClear(string realDir, string lowerDir, string path, IReadOnlySet<string> appearedBelow)
    {
        string full = Path.Combine(realDir, path);
        try
        {
            if (path.Length == 0 || Stat.TryLstat(full) is not { Kind: FileKind.Directory } || Xattr.Get(full, Opaque) is not [(byte)'y']
                || ParentLowerOrThrow(realDir, path) is not { } parentLower)
            {
                return false;
            }
            string lower = OverlayRules.Redirect(full, parentLower) ?? RelPaths.Join(parentLower, RelPaths.Name(path));
            return appearedBelow.Contains(lower) && Stat.TryLstat(Path.Combine(lowerDir, lower)) is { Kind: FileKind.Directory } && !HasWhiteoutBelow(full);
        }
        catch (LinuxException e) when (e.Errno is Errno.ENOENT or Errno.ENOTDIR)
        {
            // Removed meanwhile, through the live instance.
            return false;
        }
    }

    // Applies the rule to one upper directory; returns the lower path it merges with, or null
    // when it stays opaque.
    private static string? Visit(string full, string path, string parentLower, string lowerDir, IReadOnlySet<string>? appearedBelow, List<string> cleared, ILogger logger)
    {
        try
        {
            return VisitExisting(full, path, parentLower, lowerDir, appearedBelow, cleared, logger);
        }
        catch (LinuxException e) when (e.Errno is Errno.ENOENT or Errno.ENOTDIR)
        {
            // Removed meanwhile, through the live instance: nothing left to clear.
            return null;
        }
    }

    private static string? VisitExisting(string full, string path, string parentLower, string lowerDir, IReadOnlySet<string>? appearedBelow, List<string> cleared, ILogger logger)
    {
        string lower = OverlayRules.Redirect(full, parentLower) ?? RelPaths.Join(parentLower, RelPaths.Name(path));
        if (Xattr.Get(full, Opaque) is not [(byte)'y'])
        {
            return lower;
        }
        bool replacedSomething = (Stat.TryLstat(Path.Combine(lowerDir, lower)) is { Kind: FileKind.Directory } && appearedBelow?.Contains(lower) != true)
            || HasWhiteoutBelow(full);
        if (replacedSomething)
        {
            return null;
        }
        Xattr.Remove(full, Opaque);
        Log.OpaqueCleared(logger, path);
        cleared.Add(path);
        return lower;
    }

    // The lower path the parent of upper directory <paramref name="path"/> merges with, or null
    // when an opaque directory above hides the lower layer.
    private static string? ParentLower(string realDir, string path)
    {
        try
        {
            return ParentLowerOrThrow(realDir, path);
        }
        catch (LinuxException e) when (e.Errno is Errno.ENOENT or Errno.ENOTDIR)
        {
            return null;
        }
    }

    private static string? ParentLowerOrThrow(string realDir, string path)
    {
        string lower = "";
        string full = realDir;
        string[] names = path.Split('/');
        foreach (string name in names.AsSpan(0, names.Length - 1))
        {
            full = Path.Combine(full, name);
            if (OverlayRules.LowerSource(full, lower, name) is not { } source)
            {
                return null;
            }
            lower = source;
        }
        return lower;
    }

    private static IEnumerable<(string Full, string Path, string Name)> Subdirectories(string full, string path)
    {
        using var handle = DirectoryHandle.TryOpen(full);
        if (handle is null)
        {
            yield break;
        }
        foreach (var entry in handle.ReadAll())
        {
            if (entry.Kind == FileKind.Directory && Names.TryDecode(entry.Name, out string? name))
            {
                yield return (Path.Combine(full, name), RelPaths.Join(path, name), name);
            }
        }
    }

    // A whiteout means something was below when the user removed it: the directory merged (or
    // replaced) a lower one once, so it is left as it is.
    private static bool HasWhiteoutBelow(string full)
    {
        var pending = new Stack<string>();
        pending.Push(full);
        while (pending.TryPop(out string? directory))
        {
            using var handle = DirectoryHandle.TryOpen(directory);
            if (handle is null)
            {
                continue;
            }
            foreach (var entry in handle.ReadAll())
            {
                if (!Names.TryDecode(entry.Name, out string? name))
                {
                    continue;
                }
                string child = Path.Combine(directory, name);
                switch (entry.Kind)
                {
                    case FileKind.Directory:
                        pending.Push(child);
                        break;
                    case FileKind.CharDevice when Stat.TryLstat(child) is { IsWhiteoutDevice: true }:
                        return true;
                    case FileKind.Regular when Stat.TryLstat(child) is { Size: 0 } && OverlayRules.IsWhiteoutFile(child):
                        return true;
                    default:
                        break;
                }
            }
        }
        return false;
    }
}
