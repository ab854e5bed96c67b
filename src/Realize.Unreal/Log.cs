using Microsoft.Extensions.Logging;

namespace Realize.Unreal;

internal static partial class Log
{
    [LoggerMessage(450, LogLevel.Warning, "block {Index} of blob {Blob} from {Peer} does not match its hash ({Reason}): asking another peer")]
    public static partial void CorruptBlock(ILogger logger, string blob, int index, string peer, string reason);

    [LoggerMessage(451, LogLevel.Information, "block {Index} of blob {Blob} not fetched from {Peer}: {Reason}")]
    public static partial void FetchFailed(ILogger logger, string blob, int index, string peer, string reason);

    [LoggerMessage(452, LogLevel.Warning, "a read of blob {Blob} at {Offset} failed: {Reason}")]
    public static partial void ReadFailed(ILogger logger, string blob, long offset, string reason);

    [LoggerMessage(453, LogLevel.Warning, "passthrough refused for blob {Blob} ({Reason}): served by READ")]
    public static partial void PassthroughRefused(ILogger logger, string blob, string reason);

    [LoggerMessage(454, LogLevel.Debug, "{Path} not fetched ahead: {Reason}; it is fetched when read")]
    public static partial void PrefetchFailed(ILogger logger, string path, string reason);
}
