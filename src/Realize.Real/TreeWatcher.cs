using Microsoft.Extensions.Logging;
using Realize.Linux;

namespace Realize.Real;

/// <summary>A path below the watched root that must be looked at again; <see cref="Closed"/> when it was just closed after writing.</summary>
public readonly record struct WatchedChange(string Path, bool Closed);

/// <summary>What one read of the watcher found.</summary>
public sealed record WatchBatch(IReadOnlyList<WatchedChange> Changes, bool Overflowed);

/// <summary>
/// inotify on every directory below a root. It only says which paths to look at again; what
/// changed is decided by examining them (DESIGN.md "History"). A new directory gets its watch
/// first and is then listed, so nothing created in between is missed.
/// </summary>
public sealed class TreeWatcher : IDisposable
{
    private const WatchEvents Mask = WatchEvents.Create | WatchEvents.Delete | WatchEvents.Modify | WatchEvents.CloseWrite
        | WatchEvents.MovedFrom | WatchEvents.MovedTo | WatchEvents.Attrib | WatchEvents.DeleteSelf | WatchEvents.MoveSelf
        | WatchEvents.OnlyDirectory | WatchEvents.DontFollow | WatchEvents.ExcludeUnlinked;

    private readonly string _root;
    private readonly ILogger _logger;
    private readonly Inotify _inotify = Inotify.Create();

    // Watch descriptor -> directory path relative to the root ("" for the root). Read thread only.
    private readonly Dictionary<int, string> _directories = [];

    public TreeWatcher(string root, ILogger logger)
    {
        _root = root;
        _logger = logger;
    }

    /// <summary>Directories watched now.</summary>
    public int WatchCount => _directories.Count;

    /// <summary>True once <c>fs.inotify.max_user_watches</c> stopped a watch: some changes are then seen only by rescans.</summary>
    public bool WatchLimitReached { get; private set; }

    /// <summary>Watches the whole tree.</summary>
    public void Start() => WatchTree("");

    /// <summary>Waits up to <paramref name="timeoutMs"/> for events; returns the paths they name.</summary>
    public WatchBatch Read(int timeoutMs)
    {
        var changes = new List<WatchedChange>();
        bool overflowed = false;
        var events = _inotify.Read(timeoutMs);
        var movedFrom = new Dictionary<uint, string>();
        foreach (var e in events)
        {
            if ((e.Events & WatchEvents.Overflow) != 0)
            {
                overflowed = true;
                continue;
            }
            if (!_directories.TryGetValue(e.Watch, out string? directory))
            {
                continue;
            }
            if ((e.Events & WatchEvents.Ignored) != 0)
            {
                _directories.Remove(e.Watch);
                continue;
            }
            if (e.Name is null)
            {
                continue;
            }
            if (!Names.TryDecode(e.Name, out string? name))
            {
                continue;
            }
            string path = Names.Join(directory, name);
            bool isDirectory = (e.Events & WatchEvents.IsDirectory) != 0;
            if (isDirectory && (e.Events & WatchEvents.MovedFrom) != 0)
            {
                movedFrom[e.Cookie] = path;
            }
            else if (isDirectory && (e.Events & WatchEvents.MovedTo) != 0)
            {
                if (movedFrom.Remove(e.Cookie, out string? from))
                {
                    Rename(from, path);
                    changes.Add(new WatchedChange(from, false));
                }
                else
                {
                    WatchTree(path);
                }
            }
            else if (isDirectory && (e.Events & WatchEvents.Create) != 0)
            {
                WatchTree(path);
            }
            changes.Add(new WatchedChange(path, (e.Events & WatchEvents.CloseWrite) != 0));
        }
        foreach (string gone in movedFrom.Values)
        {
            // Moved out of the tree: its watches would report under a stale name.
            Forget(gone);
            changes.Add(new WatchedChange(gone, false));
        }
        return new WatchBatch(changes, overflowed);
    }

    /// <summary>After an overflow: watch whatever directories appeared meanwhile.</summary>
    public void Rewatch() => WatchTree("");

    /// <summary>Makes a blocked <see cref="Read"/> return.</summary>
    public void Wake() => _inotify.Wake();

    public void Dispose() => _inotify.Dispose();

    private void WatchTree(string path)
    {
        var pending = new Stack<string>();
        pending.Push(path);
        while (pending.Count > 0)
        {
            string relative = pending.Pop();
            string full = relative.Length == 0 ? _root : Path.Combine(_root, relative);
            try
            {
                int watch = _inotify.AddWatch(full, Mask);
                _directories[watch] = relative;
            }
            catch (LinuxException e) when (e.Errno == Errno.ENOSPC)
            {
                if (!WatchLimitReached)
                {
                    Log.WatchLimit(_logger, full);
                }
                WatchLimitReached = true;
                continue;
            }
            catch (LinuxException e) when (e.Errno is Errno.ENOENT or Errno.ENOTDIR)
            {
                continue;
            }
            // Listed after the watch is in place, so nothing created in between is missed.
            using var directory = DirectoryHandle.TryOpen(full);
            if (directory is null)
            {
                continue;
            }
            foreach (var entry in directory.ReadAll())
            {
                if (entry.Kind == FileKind.Directory && Names.TryDecode(entry.Name, out string? name))
                {
                    pending.Push(Names.Join(relative, name));
                }
            }
        }
    }

    private void Rename(string from, string to)
    {
        foreach (var (watch, directory) in _directories.ToArray())
        {
            if (AtOrBelow(directory, from))
            {
                _directories[watch] = to + directory[from.Length..];
            }
        }
    }

    private static bool AtOrBelow(string directory, string root) =>
        directory == root || directory.StartsWith(root + "/", StringComparison.Ordinal);

    private void Forget(string path)
    {
        foreach (var (watch, directory) in _directories.ToArray())
        {
            if (AtOrBelow(directory, path))
            {
                _inotify.RemoveWatch(watch);
                _directories.Remove(watch);
            }
        }
    }
}
