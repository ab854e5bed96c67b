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
}
