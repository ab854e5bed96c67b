using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Realize.Core;
using Realize.Linux;
using Realize.Real;
using Realize.Storage;

namespace Realize.Daemon;

/// <summary>
/// The merged view of the store, mounted at start and unmounted on stop: over the
/// <c>--lower</c> directory, or over the Unreal. Over the Unreal it is kept fresh as remote
/// changes arrive: overlay never notices changes to its lower layer, so when a batch left any
/// name stale in the view, a fresh overlay instance is slid beneath the live one
/// (DESIGN.md "Remote changes under a mounted overlay"), one swap for all that came meanwhile.
/// </summary>
internal sealed class MergedViewService(Store store, UnrealService unreal, DaemonErrors errors, ILogger<MergedViewService> logger) : IHostedService, IDisposable
{
    private static readonly TimeSpan s_workDirSweep = TimeSpan.FromSeconds(10);

    // The mount point this service mounted over a --lower directory, to unmount on stop; null when none.
    private string? _mounted;
    // The view over the Unreal; null when the store has none.
    private MergedViewInstances? _instances;
    // Batches of view changes waiting for the swapper.
    private readonly Channel<IReadOnlyList<ViewChange>> _changes = Channel.CreateUnbounded<IReadOnlyList<ViewChange>>(new UnboundedChannelOptions { SingleReader = true });
    private Task _swapping = Task.CompletedTask;
    private readonly CancellationTokenSource _stop = new();

    /// <summary>Swaps made since start.</summary>
    public int Swaps => _swaps;

    private int _swaps;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (store.Config.Mount is not { } mount)
        {
            return Task.CompletedTask;
        }
        if (unreal.Target is { } lower)
        {
            // Instances left by a daemon that was killed go first.
            MergedViewInstances.CleanStale(store, logger);
            _instances = MergedViewInstances.Mount(store, lower, logger);
            Log.Mounted(logger, mount);
            unreal.Changed += OnChanged;
            _swapping = Task.Run(() => SwapLoopAsync(_stop.Token), CancellationToken.None);
        }
        else if (store.Config.Lower is not null)
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

    private void OnChanged(IReadOnlyList<ViewChange> changes) => _changes.Writer.TryWrite(changes);

    private async Task SwapLoopAsync(CancellationToken stop)
    {
        using var sweep = new PeriodicTimer(s_workDirSweep);
        var sweeping = sweep.WaitForNextTickAsync(stop).AsTask();
        while (!stop.IsCancellationRequested)
        {
            var waiting = _changes.Reader.WaitToReadAsync(stop).AsTask();
            try
            {
                if (await Task.WhenAny(waiting, sweeping) == sweeping)
                {
                    await sweeping;
                    try
                    {
                        _instances!.RemoveGoneWorkDirs();
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException or LinuxException)
                    {
                        errors.Record($"could not remove the workdir of a gone overlay instance: {e.Message}");
                    }
                    sweeping = sweep.WaitForNextTickAsync(stop).AsTask();
                    continue;
                }
                await waiting;
            }
            catch (OperationCanceledException)
            {
                return;
            }
            var paths = new HashSet<string>(StringComparer.Ordinal);
            var appeared = new HashSet<string>(StringComparer.Ordinal);
            var all = new List<ViewChange>();
            bool structural = false;
            while (_changes.Reader.TryRead(out var batch))
            {
                all.AddRange(batch);
                foreach (var change in batch)
                {
                    structural |= change.Kind != ViewChangeKind.Changed;
                    paths.Add(change.Path);
                    if (change.Kind == ViewChangeKind.Added)
                    {
                        appeared.Add(change.Path);
                    }
                }
            }
            bool invalidated = false;
            void Invalidate()
            {
                unreal.Invalidate(all);
                invalidated = true;
            }
            try
            {
                // A name added or removed below: the live instance may hold a negative entry for
                // it, or a positive one that would answer ESTALE once the Unreal forgets the name.
                // So the kernel is told of the change only between building the fresh instance and
                // sliding it in, and the old one goes at once: no window shows a stale name.
                if (!structural)
                {
                    Invalidate();
                }
                if (structural || _instances!.IsStale(paths, appeared))
                {
                    var result = _instances!.Swap(edit: invalidated ? null : Invalidate, appearedBelow: appeared);
                    Interlocked.Increment(ref _swaps);
                    Log.Swapped(logger, result.Instance, paths.Count, result.ClearedOpaque.Count);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The view stays as it was: stale names until the next batch swaps it.
                errors.Record($"could not refresh the merged view after remote changes: {e.Message}");
            }
            finally
            {
                if (!invalidated)
                {
                    try
                    {
                        unreal.Invalidate(all);
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        errors.Record($"could not tell the kernel of remote changes: {e.Message}");
                    }
                }
            }
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        unreal.Changed -= OnChanged;
        await _stop.CancelAsync();
        await _swapping;
        if (_instances is { } instances)
        {
            _instances = null;
            try
            {
                instances.Unmount();
            }
            catch (RealizeException e)
            {
                // Busy: detached, it goes once the last user leaves; writes meanwhile still land in real/.
                errors.Record($"{e.Message}; detaching it");
                instances.Unmount(detach: true);
            }
            instances.Dispose();
            Log.Unmounted(logger, instances.Target);
        }
        if (_mounted is { } mount)
        {
            UnmountPatiently(mount);
        }
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

    public void Dispose() => _stop.Dispose();
}
