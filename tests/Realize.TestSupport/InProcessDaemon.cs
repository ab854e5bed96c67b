using Realize.Core;
using Realize.Daemon;
using Realize.Harness;
using Realize.Storage;

namespace Realize.TestSupport;

/// <summary>
/// <see cref="Daemon.Daemon.RunAsync"/> on a thread of the test process, its log kept in
/// <see cref="Logs"/>. Stopping cancels it: it examines all that is pending, unmounts the
/// merged view when it mounted it, and returns. Dispose always stops it, also when the test failed.
/// </summary>
public sealed class InProcessDaemon : IDisposable
{
    // Generous: others build and benchmark on the same 2 cores.
    private static readonly TimeSpan s_disposeDeadline = TimeSpan.FromSeconds(120);

    private readonly Store _store;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _run;

    private InProcessDaemon(Store store, DaemonOptions options)
    {
        _store = store;
        _run = Task.Run(() => Daemon.Daemon.RunAsync(store, options, Logs, _stop.Token));
    }

    /// <summary>What the daemon logged so far.</summary>
    public RecordingLoggerFactory Logs { get; } = new();

    /// <summary>
    /// Starts the daemon and returns once it answers <c>status</c> with a status: it has then
    /// mounted the view, started watching and done its catch-up scan. Throws, with the log,
    /// when it fails first or <paramref name="deadline"/> passes.
    /// </summary>
    public static async Task<InProcessDaemon> StartAsync(Store store, DaemonOptions options, TimeSpan deadline)
    {
        var daemon = new InProcessDaemon(store, options);
        try
        {
            await Poll.UntilAsync(
                async () => daemon._run.IsCompleted || await ControlClient.SendAsync(store, new ControlRequest("status")) is { Status: not null },
                deadline,
                () => $"the daemon answers status; its log:\n{daemon.Logs}");
            if (daemon._run.IsCompleted)
            {
                await daemon._run;
                throw new InvalidOperationException($"the daemon returned before it answered status; its log:\n{daemon.Logs}");
            }
            return daemon;
        }
        catch
        {
            daemon.Dispose();
            throw;
        }
    }

    /// <summary>Sends one request; throws, with the log, when the daemon does not answer within <paramref name="deadline"/>.</summary>
    public Task<ControlResponse> SendAsync(string command, TimeSpan deadline) =>
        ControlRequests.SendAsync(_store, command, deadline, "the daemon", () => Logs.ToString());

    /// <summary>The daemon's status now.</summary>
    public async Task<DaemonStatus> StatusAsync(TimeSpan deadline) =>
        (await SendAsync("status", deadline)).Status ?? throw new InvalidOperationException($"the daemon answered status without one; its log:\n{Logs}");

    /// <summary>Stops the daemon and waits until it has returned; throws, with the log, when it takes longer than <paramref name="deadline"/>.</summary>
    public async Task StopAsync(TimeSpan deadline)
    {
        _stop.Cancel();
        try
        {
            await _run.WaitAsync(deadline);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"the daemon did not return within {deadline.TotalSeconds:0} s of being stopped; its log:\n{Logs}");
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        bool returned;
        try
        {
            returned = _run.Wait(s_disposeDeadline);
        }
        catch (AggregateException)
        {
            // A daemon that failed has said so to the test already.
            returned = true;
        }
        if (returned)
        {
            // Not before: the daemon still holds the token.
            _stop.Dispose();
        }
    }

    /// <summary>The whole history of <paramref name="store"/>, in order per arena, read on a connection of its own.</summary>
    public static List<Notification> History(Store store)
    {
        using var index = store.OpenIndex();
        return index.ReadHistory(null).ToList();
    }
}
