using Microsoft.Extensions.Logging;

namespace Realize.Real;

internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Warning, "{Path} is outside every arena and is ignored: declare it with 'realize arena add {Name}' to share it")]
    public static partial void OutsideArena(ILogger logger, string path, string name);

    [LoggerMessage(2, LogLevel.Information, "skipped {Path}: a {Kind} is not shared, only regular files")]
    public static partial void SkippedSpecial(ILogger logger, string path, Linux.FileKind kind);

    [LoggerMessage(3, LogLevel.Warning, "skipped a name in {Directory} that is not valid UTF-8: rename it to share it")]
    public static partial void InvalidName(ILogger logger, string directory);

    [LoggerMessage(4, LogLevel.Warning, "{Path} keeps changing while it is read; it will be examined at the next scan")]
    public static partial void Unsettled(ILogger logger, string path);

    [LoggerMessage(5, LogLevel.Warning, "{Path} is a metadata-only copy whose lower file {Lower} is gone; it is skipped")]
    public static partial void MetacopyWithoutLower(ILogger logger, string path, string? lower);

    [LoggerMessage(6, LogLevel.Warning, "inotify watch limit reached at {Path}: changes below it are found only by rescans; raise it with 'sysctl fs.inotify.max_user_watches=1048576'")]
    public static partial void WatchLimit(ILogger logger, string path);

    [LoggerMessage(7, LogLevel.Warning, "the kernel dropped the inotify watch on {Path}: watching it again and rescanning it")]
    public static partial void LostWatch(ILogger logger, string path);

    [LoggerMessage(8, LogLevel.Warning, "cannot watch {Path}: {Reason}")]
    public static partial void CannotWatch(ILogger logger, string path, string reason);

    [LoggerMessage(9, LogLevel.Debug, "arena '{Arena}' not scanned: {Reason}")]
    public static partial void ArenaNotScanned(ILogger logger, string arena, string reason);

    [LoggerMessage(10, LogLevel.Information, "wrote the marker of arena '{Arena}' into {Directory}: it holds files the index knows, so it is that arena's directory")]
    public static partial void MarkerWritten(ILogger logger, string directory, string arena);

    [LoggerMessage(20, LogLevel.Information, "mounted the merged view at {Target} (overlay instance {Instance})")]
    public static partial void InstanceMounted(ILogger logger, string target, int instance);

    [LoggerMessage(21, LogLevel.Information, "swapped the merged view at {Target}: instance {Fresh} replaces {Old}, opaque marks cleared: {Cleared}")]
    public static partial void Swapped(ILogger logger, string target, int old, int fresh, int cleared);

    [LoggerMessage(22, LogLevel.Information, "unmounted the merged view at {Target} (overlay instance {Instance})")]
    public static partial void InstanceUnmounted(ILogger logger, string target, int instance);

    [LoggerMessage(23, LogLevel.Debug, "removed the workdir {WorkDir} of a gone overlay instance")]
    public static partial void WorkDirRemoved(ILogger logger, string workDir);

    [LoggerMessage(24, LogLevel.Warning, "cannot remove the overlay workdir {WorkDir} yet: {Reason}; trying again later")]
    public static partial void WorkDirNotRemoved(ILogger logger, string workDir, string reason);

    [LoggerMessage(25, LogLevel.Warning, "detached a stale overlay instance at {Target} (workdir {WorkDir}), left by an earlier run")]
    public static partial void StaleDetached(ILogger logger, string target, string workDir);

    [LoggerMessage(26, LogLevel.Debug, "cleared the opaque mark of {Path}: it replaced nothing below")]
    public static partial void OpaqueCleared(ILogger logger, string path);
}
