using System.Net;
using System.Net.Sockets;

namespace Realize.TestSupport;

/// <summary>
/// A TCP proxy on loopback between peers, for cutting their connections the ways networks
/// do: closing them, resetting them, stalling them (bytes stop, nothing is closed), or
/// refusing new ones. Disposing closes everything.
/// </summary>
public sealed class TcpProxy : IDisposable
{
    private readonly Socket _listener;
    private readonly IPEndPoint _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _gate = new();
    private readonly List<(Socket In, Socket Out)> _pairs = [];
    private readonly Task _accepting;
    private volatile bool _refusing;
    private TaskCompletionSource _flowing = NewFlowing(open: true);

    public TcpProxy(IPEndPoint target)
    {
        _target = target;
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(64);
        _accepting = AcceptAsync();
    }

    /// <summary>Where peers connect: "127.0.0.1:PORT".</summary>
    public string Address => _listener.LocalEndPoint!.ToString()!;

    /// <summary>Connections carried so far.</summary>
    public int Accepted { get; private set; }

    private static TaskCompletionSource NewFlowing(bool open)
    {
        var flowing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (open)
        {
            flowing.SetResult();
        }
        return flowing;
    }

    /// <summary>Closes every connection (FIN both ways).</summary>
    public void Drop() => CloseAll(reset: false);

    /// <summary>Resets every connection (RST both ways).</summary>
    public void Reset() => CloseAll(reset: true);

    /// <summary>Stops carrying bytes, both ways, on every connection, until <see cref="Resume"/>.</summary>
    public void Stall()
    {
        lock (_gate)
        {
            if (_flowing.Task.IsCompleted)
            {
                _flowing = NewFlowing(open: false);
            }
        }
    }

    /// <summary>Carries bytes again, and accepts new connections again.</summary>
    public void Resume()
    {
        _refusing = false;
        lock (_gate)
        {
            _flowing.TrySetResult();
        }
    }

    /// <summary>Closes each new connection at once, until <see cref="Resume"/>.</summary>
    public void Refuse() => _refusing = true;

    private void CloseAll(bool reset)
    {
        List<(Socket In, Socket Out)> pairs;
        lock (_gate)
        {
            pairs = [.. _pairs];
            _pairs.Clear();
        }
        foreach (var (a, b) in pairs)
        {
            Close(a, reset);
            Close(b, reset);
        }
    }

    private static void Close(Socket socket, bool reset)
    {
        try
        {
            if (reset)
            {
                socket.LingerState = new LingerOption(true, 0);
            }
            else
            {
                socket.Shutdown(SocketShutdown.Both);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already gone.
        }
        socket.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket incoming;
            try
            {
                incoming = await _listener.AcceptAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            if (_refusing)
            {
                Close(incoming, reset: true);
                continue;
            }
            var outgoing = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await outgoing.ConnectAsync(_target, _stop.Token);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
            {
                // The peer behind is down: so is this connection.
                Close(incoming, reset: true);
                outgoing.Dispose();
                continue;
            }
            incoming.NoDelay = true;
            lock (_gate)
            {
                _pairs.Add((incoming, outgoing));
                Accepted++;
            }
            _ = PumpAsync(incoming, outgoing);
            _ = PumpAsync(outgoing, incoming);
        }
    }

    private async Task PumpAsync(Socket from, Socket to)
    {
        byte[] buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                int read = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                Task flowing;
                lock (_gate)
                {
                    flowing = _flowing.Task;
                }
                await flowing.WaitAsync(_stop.Token);
                if (read == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }
                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, _stop.Token);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // One side went away: take the other down as well.
            Close(from, reset: false);
            Close(to, reset: false);
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Dispose();
        CloseAll(reset: true);
        _accepting.Wait(TimeSpan.FromSeconds(10));
        _stop.Dispose();
    }
}
