using Microsoft.Extensions.Logging;
using Realize.Core;
using Realize.Linux;

namespace Realize.Real;

/// <summary>
/// A path below watched root <see cref="Root"/> that must be looked at again, with what lies
/// below it. <see cref="Closed"/> when it was just closed after writing; <see cref="MovedFrom"/>
/// when it was renamed from that path of the same root (both must be examined together, so
/// that a moved file keeps its blob without being read again).
/// </summary>
public readonly record struct WatchedChange(int Root, string Path, bool Closed, string? MovedFrom = null);

/// <summary>What one read of the watcher found; <see cref="Overflowed"/> when the kernel dropped events, so that every root must be rescanned.</summary>
public sealed record WatchBatch(IReadOnlyList<WatchedChange> Changes, bool Overflowed);

/// <summary>
/// inotify on every directory below some roots. It only says which paths to look at again;
/// what changed is decided by examining them (DESIGN.md "History"). A new directory gets its
/// watch first and is then listed, so nothing created in between is missed. Symlinks are
/// never followed. Used by one thread, but for <see cref="Wake"/>.
/// </summary>
public sealed class TreeWatcher : IDisposable
{
    private const WatchEvents Mask = WatchEvents.Create | WatchEvents.Delete | WatchEvents.Modify | WatchEvents.CloseWrite
        | WatchEvents.MovedFrom | WatchEvents.MovedTo | WatchEvents.Attrib | WatchEvents.DeleteSelf | WatchEvents.MoveSelf
        | WatchEvents.OnlyDirectory | WatchEvents.DontFollow | WatchEvents.ExcludeUnlinked;

    // Root number -> its directory; null once removed (numbers are never reused).
    private readonly List<string?> _roots;
    private readonly ILogger _logger;
    private readonly Inotify _inotify = Inotify.Create();

    // Watch descriptor -> its root and directory path relative to it ("" for the root).
    private readonly Dictionary<int, (int Root, string Path)> _directories = [];

    // Roots left unwatched by Unwatch (an arena whose directory is not its own): never watched again but by WatchRoot.
    private readonly HashSet<int> _paused = [];

    // Watches whose directory reported IN_DELETE_SELF: their IN_IGNORED is expected.
    private readonly HashSet<int> _deleted = [];

    // Directories that could not be watched (fs.inotify.max_user_watches): seen only by rescans.
    private readonly HashSet<(int Root, string Path)> _unwatched = [];

    /// <param name="roots">The directories to watch, each with everything below it.</param>
    public TreeWatcher(IReadOnlyList<string> roots, ILogger logger)
    {
        _roots = [.. roots];
        _logger = logger;
    }

    /// <summary>Directories watched now.</summary>
    public int WatchCount => _directories.Count;

    /// <summary>Directories below which changes are not seen, as the watch limit stopped their watch; each must be rescanned now and then.</summary>
    public IReadOnlyCollection<(int Root, string Path)> Unwatched => _unwatched;

    /// <summary>True once <c>fs.inotify.max_user_watches</c> stopped a watch.</summary>
    public bool WatchLimitReached { get; private set; }

    /// <summary>Watches every root with all below it.</summary>
    public void Start()
    {
        for (int root = 0; root < _roots.Count; root++)
        {
            if (_roots[root] is not null && !_paused.Contains(root))
            {
                WatchTree(root, "");
            }
        }
    }

    /// <summary>Adds a root, not watched until <see cref="WatchRoot"/>; returns its number.</summary>
    public int AddRoot(string directory)
    {
        _roots.Add(directory);
        return _roots.Count - 1;
    }

    /// <summary>Watches <paramref name="root"/> with all below it; what is watched already stays so.</summary>
    public void WatchRoot(int root)
    {
        _paused.Remove(root);
        if (_roots[root] is not null)
        {
            WatchTree(root, "");
        }
    }

    /// <summary>Stops watching <paramref name="root"/> (a disk gone, an arena failing), until <see cref="WatchRoot"/>.</summary>
    public void Unwatch(int root)
    {
        Forget(_directories.Where(d => d.Value.Root == root).Select(d => d.Key).ToArray());
        _unwatched.RemoveWhere(u => u.Root == root);
        _paused.Add(root);
    }

    /// <summary>Stops watching <paramref name="root"/> for good (its arena was removed); its number is not reused.</summary>
    public void RemoveRoot(int root)
    {
        Unwatch(root);
        _roots[root] = null;
    }

    /// <summary>Waits up to <paramref name="timeoutMs"/> for events; returns the paths they name.</summary>
    public WatchBatch Read(int timeoutMs)
    {
        var changes = new List<WatchedChange>();
        bool overflowed = false;
        var events = _inotify.Read(timeoutMs);
        // A rename's cookie -> where from, and for a directory the watches it took along (by
        // descriptor: a new directory may take its old name before the batch ends).
        var movedFrom = new Dictionary<uint, (int Root, string Path, int[]? Watches)>();
        // Directories to watch (again) once the batch is read. The events describe the past,
        // but a watch is added by path to what stands there now: only at the end of the batch
        // does every such path name what it will keep naming.
        var rewatch = new HashSet<(int Root, string Path)>();
        foreach (var e in events)
        {
            if ((e.Events & WatchEvents.Overflow) != 0)
            {
                overflowed = true;
                continue;
            }
            if (!_directories.TryGetValue(e.Watch, out var directory))
            {
                continue;
            }
            if ((e.Events & WatchEvents.DeleteSelf) != 0)
            {
                _deleted.Add(e.Watch);
            }
            if ((e.Events & (WatchEvents.DeleteSelf | WatchEvents.MoveSelf)) != 0 && directory.Path.Length == 0)
            {
                // A root deleted or moved away: nobody watches its parent, so only it can tell.
                // Its watches would report from where it went; whatever stands there now is
                // watched instead, and the root examined.
                if ((e.Events & WatchEvents.MoveSelf) != 0)
                {
                    Unwatch(directory.Root);
                    _paused.Remove(directory.Root);
                    rewatch.Add(directory);
                }
                changes.Add(new WatchedChange(directory.Root, "", false));
                continue;
            }
            if ((e.Events & WatchEvents.Ignored) != 0)
            {
                _directories.Remove(e.Watch);
                if (!_deleted.Remove(e.Watch))
                {
                    // The kernel dropped a watch on a directory that was not deleted (its
                    // filesystem was unmounted, say): watch again what is there now, and rescan it.
                    Log.LostWatch(_logger, Full(directory.Root, directory.Path));
                    rewatch.Add(directory);
                    changes.Add(new WatchedChange(directory.Root, directory.Path, false));
                }
                continue;
            }
            if (e.Name is null || !Names.TryDecode(e.Name, out string? name))
            {
                continue;
            }
            string path = RelPaths.Join(directory.Path, name);
            bool isDirectory = (e.Events & WatchEvents.IsDirectory) != 0;
            string? from = null;
            if ((e.Events & WatchEvents.MovedFrom) != 0)
            {
                movedFrom[e.Cookie] = (directory.Root, path, isDirectory ? WatchesAtOrBelow(directory.Root, path) : null);
            }
            else if ((e.Events & WatchEvents.MovedTo) != 0)
            {
                if (movedFrom.TryGetValue(e.Cookie, out var source) && source.Root == directory.Root)
                {
                    movedFrom.Remove(e.Cookie);
                    from = source.Path;
                    if (source.Watches is { } moved)
                    {
                        // So that the events after this one in the batch name the new place.
                        Rename(moved, from, path);
                    }
                    changes.Add(new WatchedChange(directory.Root, from, false));
                }
                if (isDirectory)
                {
                    rewatch.Add((directory.Root, path));
                }
            }
            else if (isDirectory && (e.Events & WatchEvents.Create) != 0)
            {
                rewatch.Add((directory.Root, path));
            }
            changes.Add(new WatchedChange(directory.Root, path, (e.Events & WatchEvents.CloseWrite) != 0, from));
        }
        foreach (var gone in movedFrom.Values)
        {
            if (gone.Watches is { } moved)
            {
                // Moved out of the tree: its watches would report under a stale name. Whatever
                // stands at that name now is watched again below.
                Forget(moved);
                rewatch.Add((gone.Root, gone.Path));
            }
            changes.Add(new WatchedChange(gone.Root, gone.Path, false));
        }
        foreach (var (root, path) in rewatch)
        {
            if (!_paused.Contains(root))
            {
                WatchTree(root, path);
            }
        }
        return new WatchBatch(changes, overflowed);
    }

    /// <summary>After an overflow: watch whatever directories appeared meanwhile.</summary>
    public void Rewatch() => Start();

    /// <summary>Tries again to watch the directories the watch limit stopped (it may have been raised).</summary>
    public void RetryUnwatched()
    {
        var retried = _unwatched.ToList();
        _unwatched.Clear();
        WatchLimitReached = false;
        foreach (var (root, path) in retried)
        {
            if (_roots[root] is not null && !_paused.Contains(root))
            {
                WatchTree(root, path);
            }
        }
    }

    /// <summary>Makes a blocked <see cref="Read"/> return.</summary>
    public void Wake() => _inotify.Wake();

    public void Dispose() => _inotify.Dispose();

    private string Full(int root, string relative) => RelPaths.Join(_roots[root]!, relative);

    private void WatchTree(int root, string path)
    {
        var pending = new Stack<string>();
        pending.Push(path);
        while (pending.Count > 0)
        {
            string relative = pending.Pop();
            string full = Full(root, relative);
            try
            {
                int watch = _inotify.AddWatch(full, Mask);
                _directories[watch] = (root, relative);
                _deleted.Remove(watch);
            }
            catch (LinuxException e) when (e.Errno == Errno.ENOSPC)
            {
                if (!WatchLimitReached)
                {
                    Log.WatchLimit(_logger, full);
                }
                WatchLimitReached = true;
                Unseen(root, relative);
                continue;
            }
            catch (LinuxException e) when (e.Errno is Errno.ENOENT or Errno.ENOTDIR)
            {
                // Gone, or not a directory (IN_DONT_FOLLOW: a symlink is never followed): its parent's events tell.
                continue;
            }
            catch (LinuxException e)
            {
                // EACCES, EIO...: the scanner says what is wrong at each scan; the directory is
                // looked at with the unwatched ones, and its watch tried again with them.
                Log.CannotWatch(_logger, full, e.Message);
                Unseen(root, relative);
                continue;
            }
            // Listed after the watch is in place, so nothing created in between is missed.
            List<DirectoryEntry> entries;
            try
            {
                using var directory = DirectoryHandle.TryOpen(full);
                if (directory is null)
                {
                    continue;
                }
                entries = directory.ReadAll();
            }
            catch (Exception e) when (e is LinuxException or IOException)
            {
                Log.CannotWatch(_logger, full, e.Message);
                Unseen(root, relative);
                continue;
            }
            foreach (var entry in entries)
            {
                if (entry.Kind == FileKind.Directory && Names.TryDecode(entry.Name, out string? name))
                {
                    pending.Push(RelPaths.Join(relative, name));
                }
            }
        }
    }

    // Below it nothing is watched either: one rescan of it covers all.
    private void Unseen(int root, string relative)
    {
        if (!_unwatched.Any(u => u.Root == root && RelPaths.IsAtOrBelow(relative, u.Path)))
        {
            _unwatched.Add((root, relative));
        }
    }

    private int[] WatchesAtOrBelow(int root, string path) =>
        _directories.Where(d => d.Value.Root == root && RelPaths.IsAtOrBelow(d.Value.Path, path)).Select(d => d.Key).ToArray();

    private void Rename(int[] watches, string from, string to)
    {
        foreach (int watch in watches)
        {
            if (_directories.TryGetValue(watch, out var directory) && RelPaths.IsAtOrBelow(directory.Path, from))
            {
                _directories[watch] = (directory.Root, to + directory.Path[from.Length..]);
            }
        }
    }

    private void Forget(int[] watches)
    {
        foreach (int watch in watches)
        {
            if (_directories.Remove(watch))
            {
                _inotify.RemoveWatch(watch);
            }
        }
    }
}
