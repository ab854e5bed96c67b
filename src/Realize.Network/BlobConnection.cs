using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Realize.Core;

namespace Realize.Network;

/// <summary>
/// A client's BLOB link to one peer: requests written as they come (at most
/// <see cref="BlobClientOptions.MaxInFlight"/> outstanding), one reader matching answers to them
/// by request id. A malformed or unexpected answer, or the link failing, fails every request
/// outstanding and ends the connection; the client then opens a new one.
/// </summary>
internal sealed class BlobConnection : IAsyncDisposable
{
    private readonly Link _link;
    private readonly ILogger _logger;
    // Requests written and not answered, by id; an answer to any other id is a protocol error.
    private readonly ConcurrentDictionary<long, Pending> _pending = new();
    // Free places for outstanding requests: an answer, or the end, gives one back.
    private readonly SemaphoreSlim _slots;
    private readonly Task _reading;
    private long _lastId;
    // Set once the reader ended; requests added after it are failed by their sender.
    private volatile Exception? _failure;

    private sealed class Pending(bool block)
    {
        public bool Block { get; } = block;

        public TaskCompletionSource<(Message Message, byte[]? Rented)> Answer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    public BlobConnection(Link link, int maxInFlight, ILogger logger)
    {
        _link = link;
        _logger = logger;
        _slots = new SemaphoreSlim(maxInFlight, maxInFlight);
        link.StartKeepAlive();
        _reading = Task.Run(ReadAnswersAsync);
    }

    public PeerConfig Peer => _link.Peer;

    public bool IsAlive => _failure is null && !_link.Closed.IsCancellationRequested;

    /// <summary>
    /// Writes the request <paramref name="make"/> builds with a fresh id and waits for its answer;
    /// the caller owns the rented buffer returned. Throws <see cref="BlobUnavailableException"/> when the connection ends first.
    /// </summary>
    public async Task<(Message Message, byte[]? Rented)> RequestAsync(Func<long, Message> make, bool block, CancellationToken cancellation)
    {
        using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellation, _link.Closed);
        try
        {
            await _slots.WaitAsync(either.Token);
        }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
        {
            throw Ended();
        }
        long id = Interlocked.Increment(ref _lastId);
        var pending = new Pending(block);
        _pending[id] = pending;
        if (_failure is not null && _pending.TryRemove(id, out _))
        {
            throw Ended();
        }
        try
        {
            // With the link's token, never the caller's: a write cut halfway would break the stream for all.
            await _link.WriteAsync(make(id), _link.Closed);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException)
        {
            await _link.DisposeAsync();
            throw Ended();
        }
        try
        {
            return await pending.Answer.Task.WaitAsync(cancellation);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            // The answer still comes: its buffer goes back then.
            _ = pending.Answer.Task.ContinueWith(
                t =>
                {
                    if (t.Result.Rented is { } rented)
                    {
                        BlockBuffers.Return(rented);
                    }
                },
                CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
            throw;
        }
    }

    private BlobUnavailableException Ended()
    {
        var why = _failure ?? _link.Failure ?? new IOException("closed");
        return new BlobUnavailableException($"the BLOB connection to {Peer.Name} ended: {why.Message}", why);
    }

    private async Task ReadAnswersAsync()
    {
        try
        {
            while (true)
            {
                var (message, rented) = await _link.ReadRentingAsync(CancellationToken.None);
                try
                {
                    long id = message switch
                    {
                        BlockList l => l.Request,
                        BlockData d => d.Request,
                        BlobRefusal r => r.Request,
                        _ => throw new ProtocolException($"{message.GetType().Name} on a BLOB connection, which answers requests only"),
                    };
                    if (!_pending.TryRemove(id, out var pending))
                    {
                        throw new ProtocolException($"an answer to request {id}, which is not outstanding");
                    }
                    _slots.Release();
                    if (message is not BlobRefusal && pending.Block != message is BlockData)
                    {
                        throw new ProtocolException($"{message.GetType().Name} answering a {(pending.Block ? "block" : "block list")} request");
                    }
                    pending.Answer.SetResult((message, rented));
                    rented = null;
                }
                finally
                {
                    if (rented is not null)
                    {
                        BlockBuffers.Return(rented);
                    }
                }
            }
        }
        catch (Exception e)
        {
            _failure = e is OperationCanceledException ? new IOException("closed") : e;
            if (e is ProtocolException)
            {
                Log.ProtocolError(_logger, Peer.Name, e.Message);
            }
            else if (e is not OperationCanceledException)
            {
                Log.BlobLinkEnded(_logger, Peer.Name, e.Message);
            }
        }
        finally
        {
            _failure ??= new IOException("closed");
            await _link.DisposeAsync();
            foreach (long id in _pending.Keys)
            {
                if (_pending.TryRemove(id, out var pending))
                {
                    pending.Answer.TrySetException(Ended());
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _link.DisposeAsync();
        await _reading;
        // _slots is not disposed: a late request may still wait on it, and sees the end through the link.
    }
}
