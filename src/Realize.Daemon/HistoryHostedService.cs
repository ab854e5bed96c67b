using Microsoft.Extensions.Hosting;
using Realize.Network;

namespace Realize.Daemon;

/// <summary>
/// The history service as a service of the host: starting binds the listening socket (a taken
/// port stops the start before anything is mounted), then the links run until stop.
/// </summary>
internal sealed class HistoryHostedService(HistoryService history, DaemonFailure failure) : IHostedService, IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private Task _run = Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        history.Start();
        _run = Task.Run(RunAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync();
        await _run;
    }

    private async Task RunAsync()
    {
        try
        {
            await history.RunAsync(_stop.Token);
        }
        catch (Exception e) when (!_stop.IsCancellationRequested)
        {
            failure.Fail(e);
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }
    }

    public void Dispose() => _stop.Dispose();
}
