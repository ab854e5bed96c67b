using Realize.Core;

namespace Realize.Real;

/// <summary>
/// A plain-directory arena that is not scanned: its directory is missing, or lacks the arena's
/// marker (a disk not mounted, or another disk in its place). Nothing is recorded for it until
/// it is back; the message is one line saying why and what to do.
/// </summary>
public sealed class ArenaUnavailableException : RealizeException
{
    public ArenaUnavailableException(ArenaName arena, string message)
        : base(message) => ArenaName = arena;

    /// <summary>The arena not scanned.</summary>
    public ArenaName ArenaName { get; }
}
