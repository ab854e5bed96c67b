using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;

namespace Realize.Daemon;

/// <summary>
/// Tells the service manager on <c>NOTIFY_SOCKET</c> when the daemon is ready (every service
/// started: the merged view mounted and the catch-up scan done) and when it stops. Under
/// systemd itself <c>UseSystemd</c>'s lifetime does it; this covers a manager that is not
/// the parent process (a test, <c>systemd-notify</c> wrappers).
/// </summary>
internal sealed class SystemdReadiness(IHostApplicationLifetime lifetime, ILogger<SystemdReadiness> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (Environment.GetEnvironmentVariable("NOTIFY_SOCKET") is { Length: > 0 } && !SystemdHelpers.IsSystemdService())
        {
            var notifier = new SystemdNotifier();
            lifetime.ApplicationStarted.Register(() => Notify(notifier, ServiceState.Ready));
            lifetime.ApplicationStopping.Register(() => Notify(notifier, ServiceState.Stopping));
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private void Notify(SystemdNotifier notifier, ServiceState state)
    {
        notifier.Notify(state);
        Log.Notified(logger, state.ToString());
    }
}
