using System.Globalization;
using Microsoft.Extensions.Logging;
using Realize.Core;
using Realize.Linux;
using Realize.Storage;

namespace Realize.Real;

/// <summary>What a <see cref="MergedViewInstances.Swap"/> did.</summary>
/// <param name="Instance">The number of the instance now live (its workdir is <c>work/&lt;n&gt;</c>).</param>
/// <param name="ClearedOpaque">Upper directories whose opaque mark was cleared, relative to real/.</param>
public sealed record SwapResult(int Instance, IReadOnlyList<string> ClearedOpaque);

/// <summary>
/// The merged view of a store kept as a series of overlay instances over one lower directory
/// (DESIGN.md "Remote changes under a mounted overlay"). Overlay does not notice changes to its
/// lower layer, so when the lower changed, <see cref="Swap"/> builds a fresh instance and slides
/// it beneath the live one (<c>MOVE_MOUNT_BENEATH</c>), then detaches the old one: new lookups
/// see the new lower at once, processes inside the old instance carry on until they leave it.
/// Each instance has its own workdir <c>work/&lt;n&gt;</c> (two instances on one workdir break
/// each other's writes), removed once its instance is gone. Thread-safe.
/// </summary>
public sealed class MergedViewInstances : IDisposable
{
    private readonly Lock _lock = new();
    private readonly Store _store;
    private readonly ILogger _logger;

    // Tells, by IN_UNMOUNT on its root, when a detached instance's last user has left and its
    // superblock is gone: only then may its workdir go.
    private readonly Inotify _gone;

    // Detached instances whose workdir is still there, by inotify watch; Gone once IN_UNMOUNT came.
    private readonly Dictionary<int, Retired> _retired = [];

    // The instance at the mount point; null once unmounted.
    private Instance? _live;

    // Keys below zero for retired instances without an inotify watch (the watch limit was reached).
    private int _unwatched;

    // True once a swap looked at every directory of real/ for opaque marks: later swaps may look
    // only at the directories made since (what the daemon did while stopped is in the first walk).
    private bool _walkedAll;

    // The number of the next instance, above every workdir already under work/.
    private int _next;

    private MergedViewInstances(Store store, string lower, string target, ILogger logger)
    {
        _store = store;
        Lower = lower;
        Target = target;
        _logger = logger;
        _gone = Inotify.Create();
        _next = InstanceWorkDirs(store).Select(d => d.Number).DefaultIfEmpty(0).Max() + 1;
    }

    /// <summary>The mount point.</summary>
    public string Target { get; }

    /// <summary>The lower layer (the Unreal's mount).</summary>
    public string Lower { get; }

    /// <summary>The number of the live instance, or null when unmounted.</summary>
    public int? Live
    {
        get
        {
            lock (_lock)
            {
                return _live?.Number;
            }
        }
    }

    /// <summary>The numbers of detached instances whose workdir is not yet removed (still in use, or not yet found gone).</summary>
    public IReadOnlyList<int> Retiring
    {
        get
        {
            lock (_lock)
            {
                return _retired.Values.Select(r => r.Number).Order().ToArray();
            }
        }
    }

    /// <summary>
    /// Mounts the merged view of <paramref name="store"/> at its mount point over
    /// <paramref name="lower"/>. Call <see cref="CleanStale"/> first after a crash: a mount point
    /// already mounted is refused. Every failure is a <see cref="RealizeException"/> saying what to do.
    /// </summary>
    public static MergedViewInstances Mount(Store store, string lower, ILogger logger)
    {
        string target = store.Config.Mount
            ?? throw new RealizeException($"the store {store.Root} has no merged view: create one with 'realize init --mount DIR'");
        if (!Environment.IsPrivilegedProcess)
        {
            throw new RealizeException("mounting an overlay needs root (CAP_SYS_ADMIN): run as root");
        }
        if (!Directory.Exists(lower))
        {
            throw new RealizeException($"the lower directory {lower} does not exist");
        }
        if (Mounts.FindMount(target) is { } fstype)
        {
            throw new RealizeException($"{target} is already mounted ({fstype}): run 'realize unmount' first");
        }
        MergedView.CheckTrustedXattrs(store.WorkDir);
        Directory.CreateDirectory(target);
        var view = new MergedViewInstances(store, lower, target, logger);
        try
        {
            lock (view._lock)
            {
                var first = view.Build();
                try
                {
                    MountApi.Attach(first.Mount, target);
                }
                catch (LinuxException e)
                {
                    view.Abandon(first);
                    throw new RealizeException($"could not mount the merged view at {target}: {e.Message}", e);
                }
                first.Mount.Dispose();
                view._live = first;
                Log.InstanceMounted(logger, target, first.Number);
            }
            return view;
        }
        catch
        {
            view._gone.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Replaces the live instance by a fresh one: builds it, clears the opaque mark on
    /// directories that replaced nothing below, runs <paramref name="edit"/> (the daemon's own
    /// changes to real/, made while no instance has looked at them yet), slides it beneath the
    /// live one and detaches that. Workdirs of gone instances are removed.
    /// </summary>
    /// <param name="edit">Changes to real/ that must not be made under a live instance, or null.</param>
    /// <param name="appearedBelow">
    /// Directories (lower paths, arena first) that appeared in the lower layer since the last
    /// swap: an opaque upper directory of that name was made before them, so replaced nothing.
    /// </param>
    /// <param name="newDirectories">
    /// Directories (paths in real/, arena first) made since the last swap, as the watcher on
    /// real/ saw them: only they and what is below them are looked at for opaque marks. Null:
    /// every directory of real/ (the first swap after <see cref="Mount"/> always looks at all).
    /// </param>
    public SwapResult Swap(Action? edit = null, IReadOnlySet<string>? appearedBelow = null, IReadOnlyCollection<string>? newDirectories = null)
    {
        lock (_lock)
        {
            var old = _live ?? throw new InvalidOperationException("the merged view is not mounted");
            // Never detach a mount this class did not make: something mounted over the view stays.
            if (Stat.MountRootId(Target) != old.MountId)
            {
                throw new RealizeException($"{Target} is no longer the merged view this daemon mounted (something is mounted over it): unmount that first");
            }
            var fresh = Build();
            List<string> cleared;
            try
            {
                cleared = OpaqueDirectories.Clear(_store.RealDir, Lower, appearedBelow, _walkedAll ? newDirectories : null, _logger);
                _walkedAll = true;
                edit?.Invoke();
                MountApi.Attach(fresh.Mount, Target, beneath: true);
            }
            catch
            {
                Abandon(fresh);
                throw;
            }
            fresh.Mount.Dispose();
            _live = fresh;
            Mounts.Unmount(Target, detach: true);
            Retire(old);
            RemoveGoneWorkDirsLocked();
            Log.Swapped(_logger, Target, old.Number, fresh.Number, cleared.Count);
            return new SwapResult(fresh.Number, cleared);
        }
    }

    /// <summary>
    /// True when the view shows any of <paramref name="paths"/> (relative to the view's root,
    /// arena first) otherwise than a fresh instance would: a swap is due. Paths that the upper
    /// layer decides are never stale, except an opaque directory made through the view that a
    /// swap would clear because its lower directory is among <paramref name="appearedBelow"/>
    /// (the same set <see cref="Swap"/> takes). Meant for the names a batch of remote changes touched.
    /// </summary>
    public bool IsStale(IEnumerable<string> paths, IReadOnlySet<string>? appearedBelow = null)
    {
        lock (_lock)
        {
            if (_live is null)
            {
                return false;
            }
            return paths.Any(path => ViewStaleness.IsStale(Target, _store.RealDir, Lower, path))
                || (appearedBelow is not null && appearedBelow.Any(path => OpaqueDirectories.WouldClear(_store.RealDir, Lower, path, appearedBelow)));
        }
    }

    /// <summary>
    /// Removes the workdirs of detached instances that are gone (their last process left);
    /// those still in use stay for a later call. Returns how many still wait.
    /// Swap calls it; call it also now and then (a timer), and at stop.
    /// </summary>
    public int RemoveGoneWorkDirs()
    {
        lock (_lock)
        {
            return RemoveGoneWorkDirsLocked();
        }
    }

    /// <summary>
    /// Unmounts the view. A busy view throws a <see cref="RealizeException"/> (with the
    /// <see cref="LinuxException"/> EBUSY inside) unless <paramref name="detach"/>: then it is
    /// detached and goes when its last user leaves (its workdir then waits, see <see cref="RemoveGoneWorkDirs"/>).
    /// </summary>
    public void Unmount(bool detach = false)
    {
        lock (_lock)
        {
            if (_live is not { } live)
            {
                return;
            }
            try
            {
                Mounts.Unmount(Target, detach);
            }
            catch (LinuxException e) when (e.Errno == Errno.EBUSY)
            {
                throw new RealizeException($"{Target} is busy: a process has a file or its working directory there ('fuser -vm {Target}' names it)", e);
            }
            _live = null;
            Retire(live);
            RemoveGoneWorkDirsLocked();
            Log.InstanceUnmounted(_logger, Target, live.Number);
        }
    }

    /// <summary>
    /// After a crash: detaches every overlay at the store's mount point whose upper layer is
    /// the store's real/ (stacked instances included) and removes the instance workdirs
    /// <c>work/&lt;n&gt;</c>. Returns how many mounts it detached.
    /// </summary>
    /// <remarks>
    /// A process that kept its working directory in an instance of the crashed daemon can read
    /// on, but can no longer copy up (its workdir is gone): such a write fails instead of
    /// corrupting anything.
    /// </remarks>
    public static int CleanStale(Store store, ILogger logger)
    {
        int detached = 0;
        if (store.Config.Mount is { } target)
        {
            while (MountInfo.Top(target) is { FsType: "overlay" } top && IsUpperOf(store, top))
            {
                Mounts.Unmount(target, detach: true);
                Log.StaleDetached(logger, target, top.OverlayLayerPath("workdir") ?? "?");
                detached++;
            }
        }
        foreach (var (_, path) in InstanceWorkDirs(store))
        {
            try
            {
                Directory.Delete(path, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Log.WorkDirNotRemoved(logger, path, e.Message);
            }
        }
        return detached;
    }

    /// <summary>Unmounts (detaching when busy) and removes the workdirs it can.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_live is not null)
            {
                Unmount(detach: true);
            }
            RemoveGoneWorkDirsLocked();
            _gone.Dispose();
        }
    }

    // Overlay's parameters, as MergedView.Options, one by one. Measured on 6.18: the kernel
    // unescapes upperdir and workdir (a backslash quotes the next character), not lowerdir+.
    private Instance Build()
    {
        int number = _next++;
        string workDir = Path.Combine(_store.WorkDir, number.ToString(CultureInfo.InvariantCulture));
        if (Directory.Exists(workDir))
        {
            Directory.Delete(workDir, recursive: true);
        }
        Directory.CreateDirectory(workDir);
        DetachedMount mount;
        try
        {
            mount = MountApi.Create("overlay",
            [
                new("lowerdir+", Lower),
                new("upperdir", Mounts.EscapeOverlayPath(_store.RealDir)),
                new("workdir", Mounts.EscapeOverlayPath(workDir)),
                new("metacopy", "on"),
                new("redirect_dir", "on"),
                new("index", "off"),
            ]);
        }
        catch (LinuxException e)
        {
            Directory.Delete(workDir, recursive: true);
            throw new RealizeException($"could not build an overlay instance for {Target}: {e.Message} (the kernel log, 'dmesg | tail', says more)", e);
        }
        ulong mountId = Stat.MountRootId(mount.RootPath) ?? throw new InvalidOperationException("a new mount has no root");
        int watch;
        try
        {
            watch = _gone.AddWatch(mount.RootPath, WatchEvents.Unmount | WatchEvents.OnlyDirectory);
        }
        catch (LinuxException e) when (e.Errno == Errno.ENOSPC)
        {
            // Out of inotify watches: this instance's end goes unnoticed, its workdir stays until CleanStale.
            watch = --_unwatched;
            Log.WorkDirNotRemoved(_logger, workDir, "no inotify watch left to tell when its instance is gone");
        }
        return new Instance(number, workDir, mountId, watch, mount);
    }

    // A built instance that never went live: closing its fd unmounts it; its workdir goes once gone.
    private void Abandon(Instance instance)
    {
        instance.Mount.Dispose();
        Retire(instance);
        RemoveGoneWorkDirsLocked();
    }

    private void Retire(Instance instance) => _retired[instance.Watch] = new Retired(instance.Number, instance.WorkDir);

    private int RemoveGoneWorkDirsLocked()
    {
        foreach (var change in _gone.Read(0))
        {
            if ((change.Events & (WatchEvents.Unmount | WatchEvents.Ignored)) != 0 && _retired.TryGetValue(change.Watch, out var retired))
            {
                retired.Gone = true;
            }
        }
        foreach (var (watch, retired) in _retired.Where(r => r.Value.Gone).ToArray())
        {
            try
            {
                Directory.Delete(retired.WorkDir, recursive: true);
                _retired.Remove(watch);
                Log.WorkDirRemoved(_logger, retired.WorkDir);
            }
            catch (DirectoryNotFoundException)
            {
                _retired.Remove(watch);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Log.WorkDirNotRemoved(_logger, retired.WorkDir, e.Message);
            }
        }
        return _retired.Count;
    }

    private static bool IsUpperOf(Store store, MountInfo mount)
    {
        // By inode and mount, not by name: mountinfo holds resolved paths, the store's may go through symlinks.
        if (mount.OverlayLayerPath("upperdir") is not { } upper || Stat.TryLstat(upper) is not { } shown || Stat.TryLstat(store.RealDir) is not { } real)
        {
            return false;
        }
        return shown.Inode == real.Inode && Stat.MountId(upper) == Stat.MountId(store.RealDir);
    }

    private static IEnumerable<(int Number, string Path)> InstanceWorkDirs(Store store)
    {
        if (!Directory.Exists(store.WorkDir))
        {
            yield break;
        }
        foreach (string path in Directory.EnumerateDirectories(store.WorkDir))
        {
            if (int.TryParse(Path.GetFileName(path), NumberStyles.None, CultureInfo.InvariantCulture, out int number))
            {
                yield return (number, path);
            }
        }
    }

    // Mount: the fsmount fd, open until the instance is attached.
    private sealed record Instance(int Number, string WorkDir, ulong MountId, int Watch, DetachedMount Mount);

    private sealed class Retired(int number, string workDir)
    {
        public int Number { get; } = number;

        public string WorkDir { get; } = workDir;

        public bool Gone { get; set; }
    }
}
