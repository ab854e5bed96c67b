using Microsoft.Extensions.Logging;

namespace Realize.Fuse;

internal static partial class Log
{
    [LoggerMessage(400, LogLevel.Error, "FUSE {Opcode} on node {NodeId} failed; answered EIO")]
    public static partial void HandlerFailed(ILogger logger, string opcode, ulong nodeId, Exception exception);

    [LoggerMessage(401, LogLevel.Warning, "malformed FUSE request: {Reason}")]
    public static partial void Malformed(ILogger logger, string reason);

    [LoggerMessage(402, LogLevel.Warning, "the kernel refused the reply to {Opcode} (error {Errno}): errno {Failed}")]
    public static partial void ReplyFailed(ILogger logger, string opcode, int errno, int failed);

    [LoggerMessage(403, LogLevel.Information, "FUSE {Major}.{Minor} negotiated: flags 0x{Flags:x}, max_write {MaxWrite}, passthrough {Passthrough}")]
    public static partial void Negotiated(ILogger logger, uint major, uint minor, ulong flags, uint maxWrite, bool passthrough);

    [LoggerMessage(404, LogLevel.Error, "a FUSE reader stopped on an error")]
    public static partial void ReaderFailed(ILogger logger, Exception exception);

    [LoggerMessage(405, LogLevel.Error, "the handler of {Opcode} returned without a reply; answered EIO")]
    public static partial void NoReply(ILogger logger, string opcode);

    [LoggerMessage(406, LogLevel.Debug, "the FUSE connection ended (unmounted)")]
    public static partial void Ended(ILogger logger);

    [LoggerMessage(407, LogLevel.Information, "unmounted the dead FUSE mount at {Target}")]
    public static partial void StaleCleaned(ILogger logger, string target);

    [LoggerMessage(408, LogLevel.Warning, "{Target} was busy; detached it (it goes once the last user leaves)")]
    public static partial void DetachedBusy(ILogger logger, string target);
}
