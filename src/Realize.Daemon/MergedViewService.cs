using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Realize.Linux;
using Realize.Real;
using Realize.Storage;

namespace Realize.Daemon;

/// <summary>
/// The merged view of a store with a <c>--lower</c> directory: mounted at start (unless it
/// already is) and unmounted on stop. The Unreal and the swaps of remote changes will live here.
/// </summary>
internal sealed class MergedViewService(Store store, DaemonErrors errors, ILogger<MergedViewService> logger) : IHostedService
{
    // The mount point this service mounted, to unmount on stop; null when it mounted nothing.
    private string? _mounted;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (store.Config.Mount is { } mount && store.Config.Lower is not null)
        {
            if (Mounts.FindMount(mount) is null)
            {
                MergedView.Mount(store);
                _mounted = mount;
                Log.Mounted(logger, mount);
            }
            else
            {
                Log.AlreadyMounted(logger, mount);
            }
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        if (_mounted is { } mount)
        {
            UnmountPatiently(mount);
        }
        return Task.CompletedTask;
    }

    private void UnmountPatiently(string mount)
    {
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                Mounts.Unmount(mount);
                Log.Unmounted(logger, mount);
                return;
            }
            catch (LinuxException e) when (attempt < 20 && e.Errno == Errno.EBUSY)
            {
                Thread.Sleep(100);
            }
            catch (LinuxException e)
            {
                // Still busy: detach it, so that the view goes once the last user leaves. Writes
                // made meanwhile still land in real/ and the next catch-up scan finds them.
                errors.Record($"cannot unmount {mount}: {e.Message}; detaching it");
                Mounts.Unmount(mount, detach: true);
                return;
            }
        }
    }
}
