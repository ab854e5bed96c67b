using Realize.Core;

namespace Realize.Storage;

/// <summary>Where the content of an indexed path lives.</summary>
public enum FileSource
{
    /// <summary>The path was reported removed.</summary>
    Tombstone = 0,

    /// <summary>The content is a file in <c>real/</c> (or in a plain-directory arena).</summary>
    Real = 1,

    /// <summary>The content is the lower layer's (a metacopy, or a file under a renamed directory).</summary>
    Lower = 2,
}

/// <summary>A row of the <c>files</c> table: what the history last said of a path.</summary>
public sealed record IndexedFile(BlobHash? Blob, long? Size, FileTime? MTime, ulong? Inode, FileSource Source, FileTime? CTime = null)
{
    /// <summary>The row of a path reported removed.</summary>
    public static IndexedFile Tombstone { get; } = new(null, null, null, null, FileSource.Tombstone);
}

/// <summary>A notification about to be appended; its index is allocated when committed.</summary>
public sealed record PendingNotification(NotificationType Type, RelPath Path, BlobHash? Blob, long? Size, FileTime? MTime, BlobHash? OldBlob);

/// <summary>A change to the <c>files</c> table; a null <see cref="Row"/> deletes the row.</summary>
public sealed record RowChange(string Path, IndexedFile? Row);

/// <summary>What a peer last acknowledged of an arena's history (<c>peer_cursors</c>), and when.</summary>
public sealed record PeerCursor(long Acked, DateTimeOffset AckedAt);

/// <summary>A file whose content is a blob, as its row has it: where a peer asking for the blob is served from.</summary>
/// <param name="Path">The path relative to the arena: under <c>real/ARENA/</c>, or under a plain arena's directory.</param>
/// <param name="Inode">The inode the file had when indexed; null when not recorded.</param>
/// <param name="CTime">Its status change time when indexed; null when not recorded.</param>
public sealed record BlobFile(ArenaName Arena, string Path, long Size, FileTime MTime, ulong? Inode, FileTime? CTime = null);

/// <summary>The hash of a lower file as it was when hashed.</summary>
public sealed record LowerBlob(long Size, FileTime MTime, ulong Inode, BlobHash Blob);
