using System.Net.Sockets;
using Realize.Core;

namespace Realize.Network;

/// <summary>
/// The listening side of <see cref="HistoryService"/>: accepts connections, at most so many
/// handshakes at once, and hands each admitted link to what its tag asks for (BLOB to the
/// <see cref="BlobServer"/>, HRCV and HSND to <c>RunLinkAsync</c>); unknown peers are logged
/// once in ten minutes.
/// </summary>
public sealed partial class HistoryService
{
    private readonly SemaphoreSlim _handshakes = new(32, 32);
    private readonly List<Task> _serving = [];

    private async Task AcceptLoopAsync(Socket listener, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptAsync(stop);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e)
            {
                // Out of descriptors, say: log, breathe, go on.
                Log.AcceptFailed(_logger, e.Message);
                await Task.Delay(100, CancellationToken.None);
                continue;
            }
            // At most so many handshakes at once: strangers cannot take every descriptor.
            bool admitted;
            try
            {
                admitted = await _handshakes.WaitAsync(_options.Link.HandshakeTimeout, stop);
            }
            catch (OperationCanceledException)
            {
                admitted = false;
            }
            if (!admitted)
            {
                socket.Dispose();
                continue;
            }
            var serving = Task.Run(() => ServeAsync(socket, stop), CancellationToken.None);
            lock (_serving)
            {
                _serving.RemoveAll(t => t.IsCompleted);
                _serving.Add(serving);
            }
        }
    }

    private async Task ServeAsync(Socket socket, CancellationToken stop)
    {
        Handshake.Accepted accepted;
        PeerState? state = null;
        try
        {
            // The state the peer was let in with: when it is retired meanwhile, its link ends at once.
            accepted = await Handshake.AcceptAsync(socket, id => (state = _peers.GetValueOrDefault(id))?.Peer, _identity, _options.Link, stop);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log.Refused(_logger, $"dropped a connection during its handshake: {e.Message}");
            socket.Dispose();
            return;
        }
        catch (OperationCanceledException)
        {
            socket.Dispose();
            return;
        }
        finally
        {
            _handshakes.Release();
        }
        if (accepted.Link is not { } link)
        {
            if (accepted.Unknown is { } unknown && !FirstRefusalInAWhile(unknown))
            {
                // It retries with backoff, forever: once every ten minutes is enough to be seen.
                Log.RefusedAgain(_logger, accepted.Refusal!);
                return;
            }
            Log.Refused(_logger, accepted.Refusal!);
            return;
        }
        try
        {
            if (link.Tag == Handshake.Blob)
            {
                // Until the service stops, or this peer is removed or changed (its arenas may be no longer shared).
                using var both = CancellationTokenSource.CreateLinkedTokenSource(stop, state!.Retired);
                await _blobServer.ServeAsync(link, both.Token);
                return;
            }
            // The connector's tag says what it wants: HRCV asks this peer to send.
            await RunLinkAsync(link, state!, send: link.Tag == Handshake.Receive, stop);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The boundary of one incoming connection: logged, never lost in an unobserved task.
            Log.Unexpected(_logger, link.Peer.Name, e);
        }
    }

    private readonly Dictionary<PeerId, DateTimeOffset> _refused = [];

    /// <summary>Whether this unknown peer was last refused (and logged) more than ten minutes ago.</summary>
    private bool FirstRefusalInAWhile(PeerId unknown)
    {
        lock (_refused)
        {
            var now = DateTimeOffset.UtcNow;
            if (_refused.TryGetValue(unknown, out var last) && now - last < TimeSpan.FromMinutes(10))
            {
                return false;
            }
            _refused[unknown] = now;
            return true;
        }
    }
}
