namespace Realize.Core;

/// <summary>What happened to a path.</summary>
public enum NotificationType
{
    /// <summary>A file appeared.</summary>
    Added = 1,

    /// <summary>A file's content changed.</summary>
    Updated = 2,

    /// <summary>A file disappeared.</summary>
    Removed = 3,
}

/// <summary>
/// One entry of a peer's history. <see cref="Blob"/>, <see cref="Size"/> and
/// <see cref="MTime"/> are set for Added and Updated; <see cref="OldBlob"/> for Updated and
/// Removed when known.
/// </summary>
public sealed record Notification(
    long Index,
    ArenaName Arena,
    NotificationType Type,
    RelPath Path,
    BlobHash? Blob,
    long? Size,
    FileTime? MTime,
    BlobHash? OldBlob);
