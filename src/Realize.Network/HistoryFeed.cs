namespace Realize.Network;

/// <summary>Wakes whoever waits for something to do; several wake-ups before a wait count as one.</summary>
internal sealed class AsyncSignal : IDisposable
{
    private readonly SemaphoreSlim _semaphore = new(0, 1);

    public void Set()
    {
        try
        {
            _semaphore.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already set.
        }
        catch (ObjectDisposedException)
        {
            // Nobody waits any more.
        }
    }

    /// <summary>Waits for <see cref="Set"/>, at most <paramref name="timeout"/>; true when set.</summary>
    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellation) => _semaphore.WaitAsync(timeout, cancellation);

    public void Dispose() => _semaphore.Dispose();
}

/// <summary>Tells the senders that this peer's history grew: the watch loop calls <see cref="Changed"/> after each commit.</summary>
public sealed class HistoryFeed
{
    private readonly Lock _gate = new();
    private readonly List<AsyncSignal> _listeners = [];

    /// <summary>New entries were committed to the history.</summary>
    public void Changed()
    {
        lock (_gate)
        {
            foreach (var listener in _listeners)
            {
                listener.Set();
            }
        }
    }

    internal void Subscribe(AsyncSignal signal)
    {
        lock (_gate)
        {
            _listeners.Add(signal);
        }
    }

    internal void Unsubscribe(AsyncSignal signal)
    {
        lock (_gate)
        {
            _listeners.Remove(signal);
        }
    }
}
