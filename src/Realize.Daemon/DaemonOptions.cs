using Realize.Network;

namespace Realize.Daemon;

/// <summary>Settings of <c>realize up</c>.</summary>
public sealed record DaemonOptions
{
    /// <summary>How long a path must be quiet before it is examined, unless it was just closed after writing.</summary>
    public TimeSpan SettleDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// How often every arena is rescanned whatever inotify said (zero: never), as Syncthing does:
    /// a safety net for what inotify cannot tell, such as a write to a hard-linked file whose
    /// other names overlay no longer knows.
    /// </summary>
    public TimeSpan RescanInterval { get; init; } = TimeSpan.FromHours(1);

    /// <summary>How often directories that the inotify watch limit left unwatched are rescanned.</summary>
    public TimeSpan UnwatchedRescanInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Raise <c>fs.inotify.max_queued_events</c> to <see cref="QueuedEvents"/> when it is lower (needs root).</summary>
    public bool RaiseQueueLimit { get; init; } = true;

    /// <summary>The inotify queue length the daemon asks for: a burst of 300,000 new files fits without an overflow.</summary>
    public int QueuedEvents { get; init; } = 1 << 20;

    /// <summary>The first wait before a failing arena is scanned again; doubled at each failure up to <see cref="ArenaRetryMax"/>.</summary>
    public TimeSpan ArenaRetryMin { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait between two attempts to scan a failing arena.</summary>
    public TimeSpan ArenaRetryMax { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How often <c>realize.toml</c> is checked for changes, which then apply without a restart.</summary>
    public TimeSpan ConfigPollInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How the history reaches the other peers.</summary>
    public HistoryOptions History { get; init; } = new();
}
