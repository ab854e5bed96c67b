using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Realize.Storage;

namespace Realize.Daemon;

/// <summary>
/// The control socket in <c>run/</c> (owner-only): answers the CLI's <c>status</c>, <c>scan</c>
/// and <c>cache</c>, one JSON line in and one out (<see cref="ControlClient"/> is the other side).
/// </summary>
internal sealed class ControlServer(Store store, StatusAssembler status, WatcherService watcher, UnrealService unreal) : IHostedService, IDisposable
{
    // Set by StartAsync; the accept loop ends when it is closed.
    private Socket? _listener;
    private Task _serving = Task.CompletedTask;
    private readonly CancellationTokenSource _stop = new();

    public Task StartAsync(CancellationToken cancellationToken)
    {
        string path = ControlClient.SocketPath(store);
        File.Delete(path);
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Bind(new UnixDomainSocketEndPoint(path));
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            socket.Listen(16);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        _listener = socket;
        _serving = ServeAsync(socket, _stop.Token);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync();
        _listener?.Close();
        await _serving;
        if (_listener is not null)
        {
            File.Delete(ControlClient.SocketPath(store));
        }
    }

    private async Task ServeAsync(Socket listener, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(stop);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            _ = Task.Run(() => AnswerAsync(client, stop), CancellationToken.None);
        }
    }

    private async Task AnswerAsync(Socket client, CancellationToken stop)
    {
        using (client)
        {
            await using var stream = new NetworkStream(client, ownsSocket: false);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            ControlResponse response;
            try
            {
                string? line = await reader.ReadLineAsync(stop);
                var request = line is null ? null : JsonSerializer.Deserialize(line, ControlJson.Default.ControlRequest);
                response = request?.Command switch
                {
                    "status" => new ControlResponse(Status: status.Current()),
                    "scan" => new ControlResponse(Summary: await watcher.RequestScanAsync(stop)),
                    "cache" => new ControlResponse(Cache: unreal.CacheStatus() ?? CacheStatus.Stored(store)),
                    _ => new ControlResponse(Error: $"unknown request '{request?.Command}'"),
                };
            }
            catch (Exception e)
            {
                // The boundary: whatever went wrong is the client's answer, never a silent close.
                response = new ControlResponse(Error: e.Message);
            }
            byte[] answer = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(response, ControlJson.Default.ControlResponse) + "\n");
            try
            {
                await stream.WriteAsync(answer, CancellationToken.None);
            }
            catch (IOException)
            {
                // The client went away.
            }
        }
    }

    public void Dispose() => _stop.Dispose();
}
