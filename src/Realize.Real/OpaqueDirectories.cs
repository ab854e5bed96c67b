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
    /// Clears the mark on every opaque directory of <paramref name="realDir"/> whose lower path
    /// holds no directory in <paramref name="lowerDir"/> (or one in <paramref name="appearedBelow"/>,
    /// lower directories that appeared after the last swap, so after the upper one was made)
    /// and with no whiteout anywhere below it. Returns the cleared paths, relative to real/.
    /// </summary>
    public static List<string> Clear(string realDir, string lowerDir, IReadOnlySet<string>? appearedBelow, ILogger logger)
    {
        var cleared = new List<string>();
        // (upper directory, its path, the lower path it merges with): kept opaque directories are not entered,
        // nothing below them merges with anything.
        var pending = new Stack<(string Full, string Path, string Lower)>();
        pending.Push((realDir, "", ""));
        while (pending.TryPop(out var directory))
        {
            foreach (var (full, path, name) in Subdirectories(directory.Full, directory.Path))
            {
                string lower = OverlayRules.Redirect(full, directory.Lower) ?? RelPaths.Join(directory.Lower, name);
                if (Xattr.Get(full, Opaque) is not [(byte)'y'])
                {
                    pending.Push((full, path, lower));
                    continue;
                }
                bool replacedSomething = (Stat.TryLstat(Path.Combine(lowerDir, lower)) is { Kind: FileKind.Directory } && appearedBelow?.Contains(lower) != true)
                    || HasWhiteoutBelow(full);
                if (!replacedSomething)
                {
                    Xattr.Remove(full, Opaque);
                    Log.OpaqueCleared(logger, path);
                    cleared.Add(path);
                    pending.Push((full, path, lower));
                }
            }
        }
        return cleared;
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
