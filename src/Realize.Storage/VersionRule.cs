using Realize.Core;

namespace Realize.Storage;

/// <summary>One peer's row of a path, as the winner rule reads it.</summary>
/// <param name="Peer">The peer's number in unreal.db.</param>
/// <param name="PeerId">The peer, for the tie-break and for reports.</param>
/// <param name="Blob">The content; null for a tombstone.</param>
/// <param name="OldBlob">The content this version replaced or removed, when known.</param>
internal readonly record struct PathVersion(long Peer, PeerId PeerId, BlobHash? Blob, long Size, long MTimeNs, BlobHash? OldBlob);

/// <summary>
/// Which version of a path the Unreal shows (DESIGN.md "HistoryService and the wire"): Y
/// supersedes X when Y's old_blob is X's blob, transitively through the versions at hand; a
/// tombstone supersedes the version it names but nothing supersedes it. The versions no other
/// supersedes stand; when they disagree the path is in conflict, and the view shows the latest
/// mtime (a tombstone counts as older than any content, so content is never hidden by a
/// conflict), then the greater peer ID (ordinal, as printed).
/// </summary>
internal static class VersionRule
{
    /// <summary>
    /// The standing versions of one path, in the order given. When each supersedes another (a
    /// cycle: x replaced y on one peer, y replaced x on another), all stand, so that content is
    /// never hidden by the rule. One version or none: <paramref name="versions"/> itself, the
    /// common case, without a copy.
    /// </summary>
    public static List<PathVersion> Standing(List<PathVersion> versions)
    {
        if (versions.Count <= 1)
        {
            return versions;
        }
        var standing = new List<PathVersion>(versions.Count);
        for (int i = 0; i < versions.Count; i++)
        {
            if (versions[i].Blob is not { } blob || !IsSuperseded(versions, i, blob))
            {
                standing.Add(versions[i]);
            }
        }
        if (standing.Count == 0)
        {
            standing.AddRange(versions);
        }
        return standing;
    }

    /// <summary>Whether the standing versions disagree.</summary>
    public static bool IsConflict(List<PathVersion> standing)
    {
        for (int i = 1; i < standing.Count; i++)
        {
            if (standing[i].Blob != standing[0].Blob)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>The version shown among the standing ones: null when none stands or it is a tombstone.</summary>
    public static PathVersion? Winner(List<PathVersion> standing)
    {
        PathVersion? best = null;
        foreach (var version in standing)
        {
            if (best is not { } b || Beats(version, b))
            {
                best = version;
            }
        }
        return best is { Blob: not null } ? best : null;
    }

    private static bool Beats(PathVersion x, PathVersion y)
    {
        if (x.Blob is null != y.Blob is null)
        {
            return x.Blob is not null;
        }
        if (x.MTimeNs != y.MTimeNs)
        {
            return x.MTimeNs > y.MTimeNs;
        }
        return string.CompareOrdinal(x.PeerId.ToString(), y.PeerId.ToString()) > 0;
    }

    /// <summary>Whether a version other than <paramref name="self"/>, with another content, replaced <paramref name="blob"/>, directly or through a chain.</summary>
    private static bool IsSuperseded(List<PathVersion> versions, int self, BlobHash blob)
    {
        for (int j = 0; j < versions.Count; j++)
        {
            if (j != self && versions[j].Blob != blob && Replaced(versions, versions[j], blob))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Whether <paramref name="y"/>'s old_blob leads to <paramref name="x"/> through the versions' own old_blob links.</summary>
    private static bool Replaced(List<PathVersion> versions, PathVersion y, BlobHash x)
    {
        if (y.OldBlob is not { } start)
        {
            return false;
        }
        var seen = new HashSet<BlobHash>();
        var next = new Stack<BlobHash>();
        next.Push(start);
        while (next.TryPop(out var blob))
        {
            if (blob == x)
            {
                return true;
            }
            if (seen.Add(blob))
            {
                // Every version whose content is blob says what blob replaced.
                foreach (var v in versions)
                {
                    if (v.Blob == blob && v.OldBlob is { } older)
                    {
                        next.Push(older);
                    }
                }
            }
        }
        return false;
    }
}
