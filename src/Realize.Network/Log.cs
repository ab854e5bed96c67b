using Microsoft.Extensions.Logging;

namespace Realize.Network;

/// <summary>The history service's log messages; event ids 100-199 (Realize.Real has 1-99, Realize.Daemon 300-399).</summary>
internal static partial class Log
{
    [LoggerMessage(100, LogLevel.Information, "listening on {Endpoint} as {Id}")]
    public static partial void Listening(ILogger logger, string endpoint, string id);

    [LoggerMessage(101, LogLevel.Warning, "{Refusal}")]
    public static partial void Refused(ILogger logger, string refusal);

    [LoggerMessage(110, LogLevel.Debug, "{Refusal}")]
    public static partial void RefusedAgain(ILogger logger, string refusal);

    [LoggerMessage(102, LogLevel.Information, "connected: {Direction} {Peer}")]
    public static partial void Connected(ILogger logger, string peer, string direction);

    [LoggerMessage(103, LogLevel.Information, "connection with {Peer} ended: {Reason}")]
    public static partial void Disconnected(ILogger logger, string peer, string reason);

    [LoggerMessage(104, LogLevel.Warning, "closed the connection with {Peer}: protocol error: {Reason}")]
    public static partial void ProtocolError(ILogger logger, string peer, string reason);

    [LoggerMessage(105, LogLevel.Information, "cannot connect to {Peer} ({Tag}): {Reason}; trying again later")]
    public static partial void ConnectFailed(ILogger logger, string peer, string tag, string reason);

    [LoggerMessage(106, LogLevel.Warning, "accepting a connection failed: {Reason}")]
    public static partial void AcceptFailed(ILogger logger, string reason);

    [LoggerMessage(107, LogLevel.Debug, "trimmed {Count} entries of {Arena}'s history, up to {Index}: every peer has them")]
    public static partial void Trimmed(ILogger logger, string arena, int count, long index);

    [LoggerMessage(109, LogLevel.Error, "unexpected error on a connection with {Peer}; please report it")]
    public static partial void Unexpected(ILogger logger, string peer, Exception exception);

    [LoggerMessage(111, LogLevel.Information, "trimmed {Arena}'s history past {Peer}: it has not acknowledged it since {Since}, longer than history.keep_days ({Days} days); it gets a reset when it returns")]
    public static partial void TrimmedPast(ILogger logger, string arena, string peer, string since, double days);

    [LoggerMessage(112, LogLevel.Information, "realize.toml changed: {Changes}")]
    public static partial void Reconfigured(ILogger logger, string changes);

    [LoggerMessage(113, LogLevel.Warning, "realize.toml says listen = {Listen}, this daemon listens on {Old}: restart realize up for it to take effect")]
    public static partial void ListenChanged(ILogger logger, string listen, string old);

    [LoggerMessage(114, LogLevel.Debug, "refused blob {Blob} to {Peer}: {Reason}")]
    public static partial void BlobRefused(ILogger logger, string blob, string peer, string reason);

    [LoggerMessage(115, LogLevel.Debug, "BLOB connection with {Peer} ended: {Reason}")]
    public static partial void BlobLinkEnded(ILogger logger, string peer, string reason);

    [LoggerMessage(116, LogLevel.Warning, "{Peer} sent a bad block: {Reason}")]
    public static partial void BadBlock(ILogger logger, string peer, string reason);

    [LoggerMessage(117, LogLevel.Information, "cannot fetch blobs from {Peer}: {Reason}")]
    public static partial void BlobConnectFailed(ILogger logger, string peer, string reason);

    [LoggerMessage(108, LogLevel.Warning, "trimming the history failed: {Reason}")]
    public static partial void TrimFailed(ILogger logger, string reason);
}
