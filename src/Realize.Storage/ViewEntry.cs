using Realize.Core;

namespace Realize.Storage;

/// <summary>
/// An entry of the Unreal's view tree: the root (id 1), an arena's directory, a directory or
/// a file of an arena. <paramref name="Id"/> is the inode number, stable while the entry lasts
/// and never given to another entry.
/// </summary>
/// <param name="Id">The inode number; 1 is the root.</param>
/// <param name="Parent">The directory it is in; 0 for the root.</param>
/// <param name="Name">Its name in the parent: the arena's name for an arena's directory, "" for the root.</param>
/// <param name="Arena">Its arena; null for the root.</param>
/// <param name="Path">Its path relative to the arena; "" for the arena's directory and the root.</param>
/// <param name="IsDirectory">A directory (then no blob, size 0, no mtime, no peer) rather than a file.</param>
/// <param name="Blob">A file's content shown.</param>
/// <param name="Size">A file's size in bytes.</param>
/// <param name="MTime">A file's modification time.</param>
/// <param name="Peer">The peer whose version of the file is shown.</param>
/// <param name="Conflict">A file whose path is in conflict (<see cref="UnrealDb.FindConflicts"/> lists it).</param>
public sealed record ViewEntry(long Id, long Parent, string Name, ArenaName? Arena, string Path, bool IsDirectory, BlobHash? Blob, long Size, FileTime MTime, PeerId? Peer, bool Conflict = false)
{
    /// <summary>The inode number of the root of the view.</summary>
    public const long RootId = 1;
}

/// <summary>What happened to an entry of the view.</summary>
public enum ViewChangeKind
{
    /// <summary>A new entry: its name now exists in the parent.</summary>
    Added,

    /// <summary>A file now shows another version, size, mtime or conflict state; same id.</summary>
    Changed,

    /// <summary>The entry is gone: its name no longer exists in the parent (under that id).</summary>
    Removed,
}

/// <summary>A change of the view tree, raised by <see cref="UnrealDb.ViewChanged"/> after the transaction that made it committed.</summary>
/// <param name="Parent">The id of the directory holding the entry.</param>
/// <param name="Name">The entry's name in it.</param>
/// <param name="Id">The entry's id (the inode number).</param>
/// <param name="Kind">What happened.</param>
/// <param name="Path">The entry's path in the view, arena first (<c>docs/a.txt</c>; <c>docs</c> for an arena's directory).</param>
public sealed record ViewChange(long Parent, string Name, long Id, ViewChangeKind Kind, string Path);
