using Microsoft.Extensions.Logging.Abstractions;
using Realize.Core;
using Realize.Linux;
using Realize.Real;
using Realize.Storage;

namespace Realize.TestSupport;

/// <summary>
/// A store with a <c>--lower</c> directory and its merged view mounted, in a temporary
/// directory. Dispose always unmounts, also when the test failed.
/// </summary>
public sealed class OverlayStore : IDisposable
{
    private readonly TempDir _dir;
    private IndexDb? _index;
    private StoreScan? _scan;

    /// <param name="arenas">Arenas to declare.</param>
    /// <param name="prepareLower">Fills the lower directory before the mount.</param>
    public OverlayStore(string[] arenas, Action<string>? prepareLower = null)
    {
        Root.Require();
        _dir = new TempDir("overlay");
        try
        {
            Lower = _dir.Combine("lower");
            View = _dir.Combine("view");
            Directory.CreateDirectory(Lower);
            prepareLower?.Invoke(Lower);
            Store = Store.Create(_dir.Combine("store"), new StoreConfig
            {
                Mount = View,
                Lower = Lower,
                Arenas = arenas.Select(a => new ArenaConfig(ArenaName.Parse(a))).ToArray(),
            });
            Mount();
        }
        catch
        {
            _dir.Dispose();
            throw;
        }
    }

    public Store Store { get; }

    public string Lower { get; }

    /// <summary>The merged view's mount point.</summary>
    public string View { get; }

    public bool IsMounted { get; private set; }

    public IndexDb Index => _index ??= Store.OpenIndex();

    /// <summary>A path in the merged view.</summary>
    public string InView(string relative) => Path.Combine(View, relative);

    public void Mount()
    {
        MergedView.Mount(Store);
        IsMounted = true;
    }

    /// <summary>
    /// Unmounts the view. A busy view (some process passing through it: the unmount is not what
    /// the tests test) is tried again for 10 s; then the error names who holds it.
    /// </summary>
    public void Unmount()
    {
        if (!IsMounted)
        {
            return;
        }
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            try
            {
                MergedView.Unmount(Store);
                break;
            }
            catch (RealizeException e) when (e.InnerException is LinuxException { Errno: Errno.EBUSY })
            {
                if (clock.Elapsed > TimeSpan.FromSeconds(10))
                {
                    throw new InvalidOperationException($"{View} stayed busy for 10 s; held by: {string.Join("; ", Holders(View))}", e);
                }
                Thread.Sleep(Poll.Interval);
            }
        }
        IsMounted = false;
        _scan = null;
    }

    /// <summary>The processes with a file, or their working directory, at or below <paramref name="directory"/>.</summary>
    private static IEnumerable<string> Holders(string directory)
    {
        foreach (string process in Directory.EnumerateDirectories("/proc").Where(d => Path.GetFileName(d).All(char.IsAsciiDigit)))
        {
            string[] links;
            try
            {
                links = [.. Directory.EnumerateFileSystemEntries(Path.Combine(process, "fd")), Path.Combine(process, "cwd")];
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue;
            }
            foreach (string link in links)
            {
                string? target = null;
                try
                {
                    target = new FileInfo(link).LinkTarget;
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                }
                if (target is not null && RelPaths.IsAtOrBelow(target, directory))
                {
                    string command = File.Exists(Path.Combine(process, "cmdline")) ? File.ReadAllText(Path.Combine(process, "cmdline")).Replace('\0', ' ').Trim() : "?";
                    yield return $"pid {Path.GetFileName(process)} ({command}): {target}";
                }
            }
        }
    }

    /// <summary>Runs a catch-up scan of every arena.</summary>
    public ScanSummary Scan() =>
        new UpperScanner(Store.RealDir, Lower is null ? LowerLayer.Empty : new DirectoryLower(Lower, Index), Index, NullLogger.Instance)
            .Scan(Store.Config.Arenas.Select(a => a.Name).ToArray());

    /// <summary>
    /// Scans only what <paramref name="scopes"/> name, with one scanner while the view stays
    /// mounted, as the daemon's (it remembers the names deleted files had).
    /// </summary>
    public ScanSummary Scan(IReadOnlyList<ScanScope> scopes) => (_scan ??= new StoreScan(Store, Index, NullLogger.Instance)).Scan(scopes);

    /// <summary>
    /// Scans the paths <paramref name="watcher"/> (on real/) named since the last call, as the
    /// daemon would; everything after an overflow.
    /// </summary>
    public ScanSummary ScanWatched(TreeWatcher watcher)
    {
        var arenas = Store.Config.Arenas.Select(a => a.Name).ToDictionary(a => a.Value, StringComparer.Ordinal);
        var paths = new Dictionary<ArenaName, HashSet<string>>();
        var renamed = new Dictionary<ArenaName, HashSet<string>>();
        while (watcher.Read(0) is var batch && (batch.Changes.Count > 0 || batch.Overflowed))
        {
            if (batch.Overflowed)
            {
                watcher.Rewatch();
                return Scan();
            }
            foreach (var change in batch.Changes)
            {
                string[] parts = change.Path.Split('/', 2);
                if (arenas.TryGetValue(parts[0], out var arena))
                {
                    string path = parts.Length > 1 ? parts[1] : "";
                    (paths.TryGetValue(arena, out var set) ? set : paths[arena] = new(StringComparer.Ordinal)).Add(path);
                    if (change.MovedFrom is not null)
                    {
                        (renamed.TryGetValue(arena, out var moved) ? moved : renamed[arena] = new(StringComparer.Ordinal)).Add(path);
                    }
                }
            }
        }
        return Scan(paths.Select(p => new ScanScope(p.Key, p.Value, Renamed: renamed.GetValueOrDefault(p.Key))).ToArray());
    }

    /// <summary>The whole history, in order per arena.</summary>
    public List<Notification> History() => Index.ReadHistory(null).ToList();

    public void Dispose()
    {
        _index?.Dispose();
        try
        {
            Unmount();
        }
        catch (RealizeException)
        {
            // Busy: detach it so nothing is left behind.
            Mounts.Unmount(View, detach: true);
        }
        _dir.Dispose();
    }
}
