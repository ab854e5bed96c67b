namespace Realize.Daemon;

/// <summary>One arena as <c>realize status</c> shows it.</summary>
public sealed record ArenaStatus(string Name, long FilesIndexed, long HistoryLength);

/// <summary>What the running daemon says of itself (<c>realize status --json</c>).</summary>
public sealed record DaemonStatus(
    int Pid,
    DateTimeOffset Since,
    string? MergedView,
    IReadOnlyList<ArenaStatus> Arenas,
    int Waiting,
    int Skipped,
    int Watches,
    string? WatchProblem,
    IReadOnlyList<string> LastErrors);
