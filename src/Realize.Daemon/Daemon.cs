using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Realize.Core;
using Realize.Linux;
using Realize.Network;
using Realize.Storage;

namespace Realize.Daemon;

/// <summary>
/// <c>realize up</c>: takes the store's locks, then runs a host of services, each in its own
/// file: the history service (peers), the Unreal, the merged view, the control socket, the watcher
/// (catch-up scan, inotify, settling) and the configuration watcher. Started in that order,
/// stopped in the reverse one: the last look at <c>real/</c> comes before the view is unmounted.
/// </summary>
public static class Daemon
{
    /// <summary>Runs the daemon until <paramref name="stop"/> is cancelled; throws <see cref="RealizeException"/> when it cannot start.</summary>
    public static async Task RunAsync(Store store, DaemonOptions options, ILoggerFactory loggers, CancellationToken stop)
    {
        Directory.CreateDirectory(store.RunDir);
        File.SetUnixFileMode(store.RunDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        using var processLock = ProcessLock.TryAcquire(Path.Combine(store.RunDir, "daemon.lock"), out int holder)
            ?? throw new RealizeException($"realize up is already running for {store.Root} (pid {holder}): stop it first (kill {holder})");
        using var identity = PeerIdentity.Load(store);
        // The index is the daemon's while it runs: a 'realize scan' in between would record changes twice.
        using var indexLock = ProcessLock.TryAcquire(IndexLockPath(store), out holder)
            ?? throw new RealizeException($"a 'realize scan' (pid {holder}) is running on {store.Root}: let it finish, then start again");

        using var host = Build(store, options, loggers, identity);
        var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
        var failure = host.Services.GetRequiredService<DaemonFailure>();
        using var stopping = stop.Register(lifetime.StopApplication);
        try
        {
            await host.StartAsync(CancellationToken.None);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Stopped while starting: as after a start.
            await host.StopAsync(CancellationToken.None);
            failure.ThrowIfFailed();
            return;
        }
        catch (Exception e)
        {
            await host.StopAsync(CancellationToken.None);
            // One service's failure, as it was thrown: the CLI shows its message.
            if (e is AggregateException { InnerExceptions.Count: 1 } one)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(one.InnerExceptions[0]);
            }
            throw;
        }
        await host.WaitForShutdownAsync(CancellationToken.None);
        failure.ThrowIfFailed();
    }

    /// <summary>The lock whoever writes the index holds: the daemon, or a 'realize scan' without one.</summary>
    public static string IndexLockPath(Store store) => Path.Combine(store.RunDir, "index.lock");

    private static IHost Build(Store store, DaemonOptions options, ILoggerFactory loggers, PeerIdentity identity)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        var services = builder.Services;
        services.AddSingleton(loggers);
        services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        // The caller's token stops the host (the CLI turns SIGINT and SIGTERM into it), but
        // under systemd, whose lifetime AddSystemd puts in its place.
        services.AddSingleton<IHostLifetime, CallerLifetime>();
        services.AddSystemd();
        services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromMinutes(5));

        services.AddSingleton(store);
        services.AddSingleton(options);
        services.AddSingleton(identity);
        services.AddSingleton<HistoryFeed>();
        services.AddSingleton(new DaemonErrors(loggers.CreateLogger("Realize.Daemon")));
        services.AddSingleton<DaemonFailure>();
        services.AddSingleton(sp => new HistoryService(store, identity, sp.GetRequiredService<HistoryFeed>(), options.History, loggers.CreateLogger("Realize.Network")));
        services.AddSingleton<WatcherService>();
        services.AddSingleton(sp => new UnrealService(store, sp.GetRequiredService<HistoryService>(), loggers));
        services.AddSingleton<StatusAssembler>();

        services.AddHostedService<SystemdReadiness>();
        services.AddHostedService<HistoryHostedService>();
        services.AddHostedService(sp => sp.GetRequiredService<UnrealService>());
        services.AddHostedService<MergedViewService>();
        services.AddHostedService<ControlServer>();
        services.AddHostedService(sp => sp.GetRequiredService<WatcherService>());
        services.AddHostedService<ConfigWatcher>();
        services.AddHostedService<IdleMemoryTrim>();
        return builder.Build();
    }

    /// <summary>A lifetime that leaves signals to the caller.</summary>
    private sealed class CallerLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
