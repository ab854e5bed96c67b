using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Realize.Core;
using Realize.Storage;

namespace Realize.Daemon;

/// <summary>A request to the daemon on its control socket: one JSON line in, one JSON line out.</summary>
public sealed record ControlRequest(string Command);

/// <summary>The daemon's answer: a status, a scan summary, the blob cache, or an error.</summary>
public sealed record ControlResponse(DaemonStatus? Status = null, string? Summary = null, string? Error = null, CacheStatus? Cache = null);

/// <summary>The client side of the control socket, used by the CLI.</summary>
public static class ControlClient
{
    /// <summary>The control socket of a store.</summary>
    public static string SocketPath(Store store)
    {
        string path = Path.Combine(store.RunDir, "control.sock");
        // sun_path holds 108 bytes with its NUL.
        return Encoding.UTF8.GetByteCount(path) < 108 ? path
            : throw new RealizeException($"the store path {store.Root} is too long for its control socket (over 90 bytes): use a shorter --store");
    }

    /// <summary>Sends one request; null when no daemon is listening.</summary>
    public static async Task<ControlResponse?> SendAsync(Store store, ControlRequest request, CancellationToken cancellation = default)
    {
        string path = SocketPath(store);
        if (!File.Exists(path))
        {
            return null;
        }
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellation);
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionRefused or SocketError.AddressNotAvailable)
        {
            return null;
        }
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        await stream.WriteAsync(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(request, ControlJson.Default.ControlRequest) + "\n"), cancellation);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        string? line = await reader.ReadLineAsync(cancellation);
        return line is null ? throw new RealizeException("the daemon closed the control connection without answering; see its log")
            : JsonSerializer.Deserialize(line, ControlJson.Default.ControlResponse);
    }
}
