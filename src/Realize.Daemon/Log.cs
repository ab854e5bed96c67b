using Microsoft.Extensions.Logging;

namespace Realize.Daemon;

/// <summary>The daemon's log messages; event ids 300-399 (Realize.Real has 1-99, Realize.Network 100-199).</summary>
internal static partial class Log
{
    [LoggerMessage(301, LogLevel.Information, "merged view mounted at {Mount}")]
    public static partial void Mounted(ILogger logger, string mount);

    [LoggerMessage(302, LogLevel.Information, "merged view already mounted at {Mount}; leaving it as it is")]
    public static partial void AlreadyMounted(ILogger logger, string mount);

    [LoggerMessage(303, LogLevel.Information, "{What}: {Summary}")]
    public static partial void Scanned(ILogger logger, string what, string summary);

    [LoggerMessage(304, LogLevel.Warning, "inotify queue overflowed: rescanning every arena (raise fs.inotify.max_queued_events to avoid it)")]
    public static partial void Overflow(ILogger logger);

    [LoggerMessage(305, LogLevel.Error, "{Message}")]
    public static partial void Error(ILogger logger, string message);

    [LoggerMessage(306, LogLevel.Information, "merged view at {Mount} unmounted")]
    public static partial void Unmounted(ILogger logger, string mount);

    [LoggerMessage(307, LogLevel.Information, "raised fs.inotify.max_queued_events from {From} to {To}, so that bursts of changes do not overflow the queue")]
    public static partial void QueueRaised(ILogger logger, long from, int to);

    [LoggerMessage(308, LogLevel.Information, "could not raise fs.inotify.max_queued_events ({Reason}): large bursts of changes may overflow it and cost a rescan")]
    public static partial void QueueNotRaised(ILogger logger, string reason);

    [LoggerMessage(309, LogLevel.Warning, "arena '{Arena}' is not recorded: {Reason}; trying again in {Seconds:0} s")]
    public static partial void ArenaFailed(ILogger logger, string arena, string reason, double seconds);

    [LoggerMessage(310, LogLevel.Information, "arena '{Arena}' is recorded again")]
    public static partial void ArenaRecovered(ILogger logger, string arena);

    [LoggerMessage(311, LogLevel.Information, "realize.toml changed: {Change}")]
    public static partial void ConfigApplied(ILogger logger, string change);

    [LoggerMessage(312, LogLevel.Warning, "realize.toml changed: '{Setting}' takes effect at the next start of realize up; the running daemon keeps the old value")]
    public static partial void ConfigNeedsRestart(ILogger logger, string setting);

    [LoggerMessage(313, LogLevel.Information, "sent {State} to systemd")]
    public static partial void Notified(ILogger logger, string state);

    [LoggerMessage(314, LogLevel.Debug, "merged view refreshed (instance {Instance}) after remote changes to {Paths} names; opaque marks cleared: {Cleared}")]
    public static partial void Swapped(ILogger logger, int instance, int paths, int cleared);

    [LoggerMessage(315, LogLevel.Debug, "quiet after work: memory given back, working set {Before} MiB -> {After} MiB")]
    public static partial void MemoryTrimmed(ILogger logger, long before, long after);
}
