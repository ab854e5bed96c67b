using System.Text;
using Realize.Core;
using Realize.Linux;
using Realize.Storage;

namespace Realize.Real;

/// <summary>
/// The marker of a plain-directory arena (DESIGN.md "Storage layout", like Syncthing's
/// <c>.stfolder</c>): a small file <c>.realize-arena</c> in the arena's directory. A directory
/// without it (a disk not mounted, an empty disk in its place) is never scanned, so a missing
/// disk never reads as every file removed. The marker itself is never shared.
/// </summary>
public static class ArenaMarker
{
    /// <summary>The marker's name, in the arena's directory.</summary>
    public const string FileName = ".realize-arena";

    // Files of the index looked for when an arena made before markers has none.
    private const int MigrationSamples = 1000;

    // A marker is a line or two; anything longer is read no further.
    private const int MaxBytes = 4096;

    private const string Prefix = "realize arena ";

    /// <summary>Writes the marker of <paramref name="arena"/> into <paramref name="directory"/>, atomically.</summary>
    public static void Write(string directory, ArenaName arena) =>
        Durable.WriteAllBytes(Path.Combine(directory, FileName), Encoding.UTF8.GetBytes(
            $"{Prefix}{arena}\n" +
            "# Realize shares this directory as the arena above only while this file is here: without it\n" +
            "# (a disk not mounted) nothing is scanned. Do not delete it; it is never shared.\n"),
            UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

    /// <summary>
    /// True for the marker's name, and for the temporary file <see cref="Write"/> renames into
    /// place: neither is ever shared when it stands at a plain arena's root.
    /// </summary>
    public static bool IsMarkerName(string name) =>
        name == FileName || (name.StartsWith("." + FileName + ".", StringComparison.Ordinal) && name.EndsWith(".tmp", StringComparison.Ordinal));

    /// <summary>
    /// Checks that <paramref name="directory"/> is <paramref name="arena"/>'s and may be scanned;
    /// throws <see cref="ArenaUnavailableException"/> when not. An arena declared before markers
    /// existed gets one here, when the directory holds a file that the index has for the arena
    /// with the same size and mtime: never an empty mount point, nor another disk.
    /// </summary>
    /// <returns>True when the marker was written now.</returns>
    public static bool Ensure(string directory, ArenaName arena, IndexDb index)
    {
        if (Stat.TryLstat(directory) is not { Kind: FileKind.Directory })
        {
            throw new ArenaUnavailableException(arena,
                $"the directory {directory} of arena '{arena}' is missing or not a directory: is its disk mounted? nothing is recorded for it until it is back");
        }
        string marker = Path.Combine(directory, FileName);
        switch (Stat.TryLstat(marker)?.Kind)
        {
            case FileKind.Regular:
                if (NamedArena(marker) is { } named && named != arena.Value)
                {
                    throw new ArenaUnavailableException(arena,
                        $"the directory {directory} of arena '{arena}' holds the marker of arena '{named}': is another disk mounted there? nothing is recorded for it until its own disk is back");
                }
                return false;
            case null when KnowsAFileIn(directory, arena, index):
                Write(directory, arena);
                return true;
            case null:
                throw new ArenaUnavailableException(arena,
                    $"the directory {directory} of arena '{arena}' has no {FileName} marker: is its disk mounted? nothing is recorded for it until the marker is back " +
                    $"(if this is the right directory, create it: touch {marker})");
            default:
                throw new ArenaUnavailableException(arena,
                    $"{marker} is not a regular file, so arena '{arena}' is not scanned: replace it with the marker (rm -r {marker}; touch {marker})");
        }
    }

    /// <summary>The arena a marker names; null when it names none (a marker made with touch).</summary>
    private static string? NamedArena(string marker)
    {
        byte[] buffer = new byte[MaxBytes];
        int length;
        using (var stream = new FileStream(marker, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1))
        {
            length = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        }
        string text = Encoding.UTF8.GetString(buffer, 0, length);
        string first = text.Split('\n', 2)[0].Trim();
        return first.StartsWith(Prefix, StringComparison.Ordinal) ? first[Prefix.Length..].Trim() : null;
    }

    /// <summary>True when a file the index has for <paramref name="arena"/> stands in <paramref name="directory"/> with the same size and mtime.</summary>
    private static bool KnowsAFileIn(string directory, ArenaName arena, IndexDb index)
    {
        foreach (var (path, size, mtime, ctime) in index.SomeFiles(arena, MigrationSamples))
        {
            // The ctime too: a copy (a backup disk made with cp -a or rsync -a) keeps sizes and
            // mtimes, never ctimes. Not the inode: exFAT and vfat make theirs up at each mount.
            if (Stat.TryLstat(Path.Combine(directory, path)) is { Kind: FileKind.Regular } status
                && status.Size == size && status.MTime == mtime && status.CTime == ctime)
            {
                return true;
            }
        }
        return false;
    }
}
