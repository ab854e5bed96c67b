namespace Realize.Daemon;

/// <summary>One arena as <c>realize status</c> shows it; <see cref="Path"/> for a plain-directory arena.</summary>
public sealed record ArenaStatus(string Name, long FilesIndexed, long HistoryLength, string? Path = null)
{
    /// <summary><c>recorded</c>; <c>unavailable</c> (a plain arena whose directory lacks its marker: its disk is not mounted); <c>failing</c> (its scans fail).</summary>
    public string State { get; init; } = "recorded";

    /// <summary>Why it is not recorded, and what to do; null when recorded.</summary>
    public string? Problem { get; init; }

    /// <summary>Since when it is not recorded.</summary>
    public DateTimeOffset? ProblemSince { get; init; }

    /// <summary>When the daemon tries it again (by itself; nothing is lost meanwhile).</summary>
    public DateTimeOffset? NextTry { get; init; }
}

/// <summary>What the running daemon says of itself (<c>realize status --json</c>).</summary>
/// <param name="Waiting">Changed paths waiting to settle before they are examined.</param>
/// <param name="Skipped">Entries that are not regular files (symlinks, devices...), at the last whole scan.</param>
/// <param name="Watches">Directories watched with inotify.</param>
/// <param name="Unwatched">Directories the inotify watch limit left unwatched: only rescanned now and then.</param>
/// <param name="Rescans">Whole rescans after the inotify queue overflowed.</param>
/// <param name="WatchProblem">What to do about a watch limit, when one was reached.</param>
/// <param name="LastErrors">The last errors, oldest first, with their time.</param>
public sealed record DaemonStatus(
    int Pid,
    DateTimeOffset Since,
    string? MergedView,
    IReadOnlyList<ArenaStatus> Arenas,
    int Waiting,
    int Skipped,
    int Watches,
    int Unwatched,
    int Rescans,
    string? WatchProblem,
    IReadOnlyList<string> LastErrors)
{
    /// <summary>This peer's ID.</summary>
    public string PeerId { get; init; } = "";

    /// <summary>Where this peer listens for the household; null for a blind peer.</summary>
    public string? Listening { get; init; }

    /// <summary>The other members of the household.</summary>
    public IReadOnlyList<Realize.Network.PeerStatus> Peers { get; init; } = [];

    /// <summary>Paths whose versions on several peers do not supersede one another.</summary>
    public IReadOnlyList<ConflictStatus> Conflicts { get; init; } = [];
}

/// <summary>A conflict: the path, and each peer's version ("nas: 1a2b3c4d5e6f", or "laptop: removed").</summary>
public sealed record ConflictStatus(string Arena, string Path, IReadOnlyList<string> Versions);
