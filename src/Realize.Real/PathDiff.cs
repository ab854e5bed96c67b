using Realize.Core;
using Realize.Storage;

namespace Realize.Real;

/// <summary>
/// Where a notification is born: for one path, what the history last said (its row, or the
/// lower layer's file where it has none) against what is there now decides <c>Added</c>
/// (nothing before), <c>Updated</c> (another blob) or <c>Removed</c> (nothing now). Equal blobs
/// say nothing, whatever the mtime. Both kinds of arena use it.
/// </summary>
internal static class PathDiff
{
    /// <summary>What a path holds now.</summary>
    public readonly record struct Content(BlobHash Blob, long Size, FileTime MTime);

    /// <summary>The notification that takes <paramref name="path"/> from <paramref name="before"/> to <paramref name="now"/>, counted; null when there is none.</summary>
    public static PendingNotification? Notification(RelPath path, BlobHash? before, Content? now, ScanCounts counts)
    {
        switch (before, now)
        {
            case (null, { } added):
                counts.Added++;
                return new PendingNotification(NotificationType.Added, path, added.Blob, added.Size, added.MTime, null);
            case ({ } removed, null):
                counts.Removed++;
                return new PendingNotification(NotificationType.Removed, path, null, null, null, removed);
            case ({ } old, { } updated) when old != updated.Blob:
                counts.Updated++;
                return new PendingNotification(NotificationType.Updated, path, updated.Blob, updated.Size, updated.MTime, old);
            default:
                return null;
        }
    }
}
