using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Realize.Core;
using Realize.Network;
using Realize.Storage;

namespace Realize.Daemon;

/// <summary>An arena that is not recorded now, as <c>status</c> shows it.</summary>
/// <param name="State"><c>unavailable</c> (a plain arena without its marker) or <c>failing</c> (scan errors).</param>
internal sealed record ArenaProblem(string State, string Problem, DateTimeOffset Since, DateTimeOffset NextTry);

/// <summary>What the watch loop last published for <c>status</c>; <paramref name="Config"/> is the configuration whose arenas it records.</summary>
internal sealed record WatchStatus(int Waiting, int Skipped, int Watches, int Unwatched, int Rescans, string? WatchProblem, IReadOnlyDictionary<ArenaName, ArenaProblem> Failing, StoreConfig Config);

/// <summary>
/// The watcher service: runs the <see cref="WatchLoop"/> on a thread of its own. Starting
/// returns once the catch-up scan is done (so that readiness means caught up); stopping
/// records what is pending. The control server asks it for scans and its status; the
/// configuration watcher hands it new configurations.
/// </summary>
internal sealed class WatcherService(Store store, DaemonOptions options, HistoryFeed feed, DaemonErrors errors, DaemonFailure failure, ILogger<WatcherService> logger)
    : IHostedService, IDisposable
{
    private const string QueueLimitFile = "/proc/sys/fs/inotify/max_queued_events";

    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _caughtUp = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _run = Task.CompletedTask;

    // Guards the fields below: written by the control server and the configuration watcher, read by the loop.
    private readonly Lock _gate = new();
    private readonly Queue<TaskCompletionSource<string>> _scanRequests = new();
    private StoreConfig? _newConfig;
    private WatchStatus? _status;
    private WatchLoop? _loop;

    /// <summary>What the loop published last; null during the catch-up scan.</summary>
    public WatchStatus? Status
    {
        get
        {
            lock (_gate)
            {
                return _status;
            }
        }
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.RaiseQueueLimit)
        {
            RaiseQueueLimit();
        }
        _run = Task.Factory.StartNew(Run, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        // Not cancelled by a stop during the catch-up scan: it cannot be interrupted, and once
        // done the loop sees the stop, records what is pending and ends.
        await Task.WhenAny(_caughtUp.Task, _run);
        if (_run.IsFaulted)
        {
            await _run;
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync();
        Wake();
        try
        {
            // The host's shutdown timeout is the last resort: what is still pending then is
            // found by the next catch-up scan.
            await _run.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            errors.Record("the watcher did not finish its last look in time; the next start catches up");
        }
        catch (Exception)
        {
            // Reported to the host by Run.
        }
    }

    /// <summary>A whole scan now, as <c>realize scan</c> asks; the summary when done.</summary>
    public Task<string> RequestScanAsync(CancellationToken stop)
    {
        var request = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            _scanRequests.Enqueue(request);
            // Under the lock: the loop is cleared before it is disposed.
            _loop?.Wake();
        }
        return request.Task.WaitAsync(stop);
    }

    /// <summary>A new, valid configuration: applied by the loop before its next scan.</summary>
    public void Reconfigure(StoreConfig config)
    {
        lock (_gate)
        {
            _newConfig = config;
            _loop?.Wake();
        }
    }

    /// <summary>True when a scan request or a configuration waits for the loop.</summary>
    internal bool HasWork
    {
        get
        {
            lock (_gate)
            {
                return _scanRequests.Count > 0 || _newConfig is not null;
            }
        }
    }

    internal List<TaskCompletionSource<string>> TakeScanRequests()
    {
        lock (_gate)
        {
            var requests = _scanRequests.ToList();
            _scanRequests.Clear();
            return requests;
        }
    }

    internal StoreConfig? TakeConfig()
    {
        lock (_gate)
        {
            var config = _newConfig;
            _newConfig = null;
            return config;
        }
    }

    internal void Publish(WatchStatus status)
    {
        lock (_gate)
        {
            _status = status;
        }
    }

    private void Wake()
    {
        lock (_gate)
        {
            _loop?.Wake();
        }
    }

    private void Run()
    {
        try
        {
            using var loop = new WatchLoop(this, store, options, feed, errors, logger);
            using var wake = _stop.Token.Register(loop.Wake);
            lock (_gate)
            {
                _loop = loop;
            }
            try
            {
                loop.Run(() => _caughtUp.TrySetResult(), _stop.Token);
            }
            finally
            {
                lock (_gate)
                {
                    _loop = null;
                }
            }
        }
        catch (Exception e)
        {
            failure.Fail(e);
            throw;
        }
        finally
        {
            // Whoever still waits is told there is no scan coming.
            foreach (var request in TakeScanRequests())
            {
                request.TrySetException(new RealizeException("the daemon is stopping: run 'realize scan' again once it is up"));
            }
        }
    }

    private void RaiseQueueLimit()
    {
        try
        {
            long current = long.Parse(File.ReadAllText(QueueLimitFile).Trim(), System.Globalization.CultureInfo.InvariantCulture);
            if (current < options.QueuedEvents)
            {
                File.WriteAllText(QueueLimitFile, options.QueuedEvents.ToString(System.Globalization.CultureInfo.InvariantCulture));
                Log.QueueRaised(logger, current, options.QueuedEvents);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            Log.QueueNotRaised(logger, e.Message);
        }
    }

    public void Dispose() => _stop.Dispose();
}
