using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Realize.Linux;

namespace Realize.Daemon;

/// <summary>
/// Gives memory back once the daemon is quiet after work. A burst (a catch-up scan, thousands of
/// files created, a peer's history applied) grows the managed heap and the C heap, and neither
/// shrinks by itself while nothing allocates: an idle daemon would keep the RSS of its busiest
/// moment. So when an interval allocated almost nothing after work since the last trim, one
/// aggressive collection (which also decommits the heap's free space) and a malloc_trim(3).
/// </summary>
internal sealed class IdleMemoryTrim(ILogger<IdleMemoryTrim> logger) : BackgroundService
{
    /// <summary>How often allocation is looked at.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    private readonly IdleTrimPolicy _policy = new(quietBytes: 1 << 20, workBytes: 32 << 20);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                if (_policy.ShouldTrim(GC.GetTotalAllocatedBytes()))
                {
                    Trim();
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    private void Trim()
    {
        long before = Environment.WorkingSet;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        NativeHeap.Trim();
        Log.MemoryTrimmed(logger, before >> 20, Environment.WorkingSet >> 20);
    }
}

/// <summary>
/// When <see cref="IdleMemoryTrim"/> trims: at the first quiet interval (less than
/// <paramref name="quietBytes"/> allocated since the last look) after at least
/// <paramref name="workBytes"/> were allocated since the last trim (or the start).
/// </summary>
internal sealed class IdleTrimPolicy(long quietBytes, long workBytes)
{
    private long? _last;
    private long _trimmedAt;

    /// <summary>Given the bytes allocated since start, now: whether to trim.</summary>
    public bool ShouldTrim(long allocated)
    {
        bool quiet = _last is { } last && allocated - last < quietBytes;
        _last = allocated;
        if (!quiet || allocated - _trimmedAt < workBytes)
        {
            return false;
        }
        _trimmedAt = allocated;
        return true;
    }
}
