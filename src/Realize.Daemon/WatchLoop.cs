using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Realize.Core;
using Realize.Network;
using Realize.Real;
using Realize.Storage;

namespace Realize.Daemon;

/// <summary>
/// The watcher's thread: the catch-up scan, then inotify on <c>real/</c> and on every plain
/// arena, each changed path examined once settled (<see cref="SettleQueue"/>). An arena whose
/// scan fails is left out and tried again with backoff (<see cref="ArenaHealth"/>); the others
/// keep recording. Configuration changes are applied between two reads of the queue.
/// </summary>
internal sealed class WatchLoop : IDisposable
{
    // Paths examined in a burst after which the memory it took is handed back.
    private const int ReleaseAfter = 20_000;

    // Paths in one scan from which it is a storm, and the next scan waits for the gap.
    private const int StormPaths = 16;

    // The shortest time between two scans in a storm: it is examined in batches, each costing
    // one commit (an fsync), instead of one scan per read of the inotify queue.
    private static readonly long s_scanGap = Stopwatch.Frequency / 100;

    // How soon a path whose examination failed for a reason outside its arena is tried again.
    private static readonly TimeSpan s_retryPathDelay = TimeSpan.FromSeconds(5);
    private static readonly long s_retryPath = Ticks(s_retryPathDelay);

    private static readonly ScanSummary s_none = new(0, 0, 0, 0, 0, 0, 0, 0, TimeSpan.Zero);

    private readonly WatcherService _owner;
    private readonly Store _store;
    private readonly DaemonOptions _options;
    private readonly HistoryFeed _feed;
    private readonly DaemonErrors _errors;
    private readonly ILogger _logger;
    private readonly IndexDb _index;
    private readonly TreeWatcher _watcher;
    private readonly SettleQueue _queue;
    private readonly long _settle;
    private readonly long _unwatchedPeriod;
    private readonly long _rescanPeriod;

    // The configuration whose arenas are recorded, and the scanner made for it.
    private StoreConfig _config;
    private StoreScan _scan;

    // Root 0 of the watcher is real/ (its top-level directories are the merged view's arenas);
    // each plain arena has a root of its own.
    private readonly Dictionary<ArenaName, (int Root, string Directory)> _plainRoots = [];
    private readonly Dictionary<int, ArenaName> _arenaOfRoot = [];
    private Dictionary<string, ArenaName> _overlayArenas;

    // Arenas not recorded now, and why.
    private readonly FailingArenas _failing;

    // Arenas to scan whole at the next scan: new in the configuration.
    private readonly HashSet<ArenaName> _fresh = [];

    // No scan before this (Stopwatch ticks), but when stopping or asked.
    private long _nextScanAllowed;

    // Paths examined since memory was last handed back, and when last.
    private int _examinedSinceRelease;
    private long _lastExamined;

    private long _nextUnwatchedScan;
    private long _nextRescan;
    private bool _rescanAll;
    private int _skipped;
    private int _rescans;

    public WatchLoop(WatcherService owner, Store store, DaemonOptions options, HistoryFeed feed, DaemonErrors errors, ILogger logger)
    {
        _owner = owner;
        _store = store;
        _options = options;
        _feed = feed;
        _errors = errors;
        _logger = logger;
        _settle = Ticks(options.SettleDelay);
        _unwatchedPeriod = Ticks(options.UnwatchedRescanInterval);
        _rescanPeriod = options.RescanInterval > TimeSpan.Zero ? Ticks(options.RescanInterval) : 0;
        _queue = new SettleQueue(_settle);
        _failing = new FailingArenas(options.ArenaRetryMin, options.ArenaRetryMax);
        _index = store.OpenIndex();
        _config = store.Config;
        _scan = NewScan();
        _overlayArenas = OverlayArenas(_config);
        _watcher = new TreeWatcher([store.RealDir], logger);
        foreach (var arena in _config.Arenas)
        {
            if (arena.PlainPath is { } directory)
            {
                AddPlainRoot(arena.Name, directory);
            }
        }
    }

    /// <summary>Makes a blocked read of the inotify queue return.</summary>
    public void Wake() => _watcher.Wake();

    public void Dispose()
    {
        _watcher.Dispose();
        _scan.Dispose();
        _index.Dispose();
    }

    /// <summary>Runs until <paramref name="stop"/>; <paramref name="caughtUp"/> is called once the catch-up scan is done.</summary>
    public void Run(Action caughtUp, CancellationToken stop)
    {
        // Watch before the catch-up scan, so nothing changed during it is missed.
        _watcher.Start();
        long start = Stopwatch.GetTimestamp();
        var catchUp = ScanContained(_config.Arenas.Select(a => new ScanScope(a.Name)).ToArray(), start, everything: true);
        foreach (var key in _scan.Settling.Where(k => !_failing.Contains(k.Arena)))
        {
            _queue.DueIfNew(key, Stopwatch.GetTimestamp() + _settle);
        }
        _skipped = catchUp.Skipped;
        _feed.Changed();
        Log.Scanned(_logger, "catch-up", catchUp.ToString());
        ReleaseMemory();
        _nextUnwatchedScan = Stopwatch.GetTimestamp() + _unwatchedPeriod;
        _nextRescan = _rescanPeriod > 0 ? Stopwatch.GetTimestamp() + _rescanPeriod : long.MaxValue;
        Publish();
        caughtUp();
        while (true)
        {
            WatchBatch batch;
            try
            {
                batch = _watcher.Read(Timeout(stop));
            }
            catch (IOException e)
            {
                // A directory that cannot be read or watched (permissions changed, say): what the
                // batch said is lost, so look at everything again rather than stop watching.
                _errors.Record($"reading inotify events: {e.Message}; rescanning every arena");
                batch = new WatchBatch([], Overflowed: false);
                _rescanAll = true;
                _rescans++;
            }
            long now = Stopwatch.GetTimestamp();
            if (_owner.TakeConfig() is { } config)
            {
                Reconfigure(config);
            }
            if (batch.Overflowed)
            {
                Log.Overflow(_logger);
                Guarded("watching again after an overflow", _watcher.Rewatch);
                _rescanAll = true;
                _rescans++;
            }
            foreach (var change in batch.Changes)
            {
                if (Locate(change.Root, change.Path) is { } key && !_failing.Contains(key.Arena))
                {
                    _queue.Note(key, change.Closed, change.MovedFrom is { } from ? Locate(change.Root, from) : null, now);
                }
            }
            bool stopping = stop.IsCancellationRequested;
            var requests = _owner.TakeScanRequests();
            if (requests.Count > 0)
            {
                _rescanAll = true;
            }
            if (now >= _nextRescan)
            {
                _nextRescan = now + _rescanPeriod;
                _rescanAll = true;
            }
            if (_watcher.Unwatched.Count > 0 && now >= _nextUnwatchedScan)
            {
                // Below these the kernel tells nothing: look now and then, and watch them once the limit allows.
                _nextUnwatchedScan = now + _unwatchedPeriod;
                var unwatched = _watcher.Unwatched.ToList();
                Guarded("watching the unwatched directories again", _watcher.RetryUnwatched);
                foreach (var (root, path) in unwatched)
                {
                    if (Locate(root, path) is { } key && !_failing.Contains(key.Arena))
                    {
                        _queue.DueBy(key, now);
                    }
                }
            }
            // Failing arenas due for another try: watched again first, so nothing is missed if it works.
            var retries = new List<ArenaName>();
            foreach (var (arena, health) in _failing.All.Where(f => (f.Value.NextTry <= now || requests.Count > 0) && !stopping).ToArray())
            {
                if (!_plainRoots.TryGetValue(arena, out var plain))
                {
                    retries.Add(arena);
                }
                else if (!health.Unavailable || IsBack(arena, plain.Directory, now))
                {
                    Guarded($"watching arena '{arena}'", () => _watcher.WatchRoot(plain.Root));
                    retries.Add(arena);
                }
            }
            var scopes = new List<ScanScope>();
            if (stopping || requests.Count > 0 || now >= _nextScanAllowed)
            {
                // A scan a user asked for takes every waiting path too: it records everything now.
                var whole = (_rescanAll ? Recorded() : _fresh.Where(a => !_failing.Contains(a))).Concat(retries).Distinct().ToArray();
                scopes = _queue.Collect(now, stopping || requests.Count > 0, whole, _failing.Contains);
                _fresh.Clear();
            }
            if (scopes.Count > 0 || requests.Count > 0)
            {
                Examine(scopes, requests, now, stopping);
            }
            else if (_rescanAll && now >= _nextScanAllowed)
            {
                // A rescan of a store without arenas: nothing to do.
                _rescanAll = false;
            }
            if (_queue.Count == 0 && _examinedSinceRelease >= ReleaseAfter && now - _lastExamined >= Stopwatch.Frequency)
            {
                // A burst is over and quiet for a second: what it needed is garbage now.
                _examinedSinceRelease = 0;
                ReleaseMemory();
            }
            Publish();
            if (stopping && _queue.Count == 0 && !_rescanAll)
            {
                return;
            }
        }
    }

    private void Examine(List<ScanScope> scopes, List<TaskCompletionSource<string>> requests, long now, bool stopping)
    {
        bool whole = _rescanAll;
        _rescanAll = false;
        // The last look, or one a user asked for ('realize scan'): whatever is there now is
        // recorded, settled or not.
        _scan.SettleDelay = stopping || requests.Count > 0 ? TimeSpan.Zero : _options.SettleDelay;
        try
        {
            var summary = ScanContained(scopes, now, everything: false);
            if (whole)
            {
                _skipped = summary.Skipped;
                _examinedSinceRelease = 0;
                ReleaseMemory();
            }
            foreach (var scope in scopes)
            {
                _queue.Examined(scope, now);
                _examinedSinceRelease += scope.Paths!.Count;
            }
            _lastExamined = now;
            // Only in a storm: a single change after a quiet spell is examined at once.
            _nextScanAllowed = scopes.Sum(scope => scope.Paths!.Count) >= StormPaths ? Stopwatch.GetTimestamp() + s_scanGap : 0;
            foreach (var key in _scan.Settling.Where(k => !_failing.Contains(k.Arena)))
            {
                // Found while still being written: examined once quiet, unless an event names it first.
                _queue.DueIfNew(key, now + _settle);
            }
            if (summary.Added + summary.Updated + summary.Removed > 0)
            {
                _feed.Changed();
                Log.Scanned(_logger, whole ? "rescan" : "changes", summary.ToString());
            }
            string answer = string.Join("\n", [summary.ToString(), .. _failing.All.Select(f => $"arena '{f.Key}' is not recorded: {f.Value.Problem}")]);
            foreach (var request in requests)
            {
                request.TrySetResult(answer);
            }
        }
        catch (Exception e) when (e is RealizeException or IOException or UnauthorizedAccessException or StorageException)
        {
            // Not an arena's fault (index.db, say): every path waits for another try, and so do
            // the failing arenas that were to be tried now.
            _errors.Record(e.Message);
            _failing.PostponeDue(now, s_retryPathDelay);
            foreach (var scope in scopes.Where(s => !_failing.Contains(s.Arena)))
            {
                foreach (string path in scope.Paths!)
                {
                    if (stopping)
                    {
                        // Left for the catch-up scan of the next start.
                        _queue.Forget((scope.Arena, path));
                    }
                    else
                    {
                        // Try again later; a change must not wait for the next restart.
                        _queue.DueAt((scope.Arena, path), now + s_retryPath);
                    }
                }
            }
            foreach (var request in requests)
            {
                request.TrySetException(e);
            }
        }
        _queue.Prune(now);
    }

    /// <summary>
    /// Scans <paramref name="scopes"/>; an arena whose scan fails (<see cref="StoreScan.Failed"/>)
    /// is left out until its next try and the others are scanned all the same. Throws for what no
    /// arena is to blame for.
    /// </summary>
    private ScanSummary ScanContained(IReadOnlyList<ScanScope> scopes, long now, bool everything)
    {
        ScanSummary summary;
        try
        {
            summary = everything && scopes.Count == _config.Arenas.Count ? _scan.ScanAll() : _scan.Scan(scopes);
        }
        catch (Exception e) when (IsArenas(e) && scopes.Count == 1)
        {
            // StoreScan contains its arenas' failures itself; with one arena, whatever escapes is its.
            Fail(scopes[0].Arena, e, now);
            return s_none;
        }
        foreach (var (arena, e) in _scan.Failed)
        {
            Fail(arena, e, now);
        }
        foreach (var scope in scopes.Where(s => !_scan.Failed.ContainsKey(s.Arena) && s.IsWhole))
        {
            Recover(scope.Arena);
        }
        return summary;
    }

    // A failure of one arena's directory, not of the index.
    private static bool IsArenas(Exception e) => e is IOException or UnauthorizedAccessException;

    // Unavailable: its directory is not the arena's, so it must not be watched either.
    private static bool IsUnavailable(Exception e) => e is ArenaUnavailableException;

    /// <summary>
    /// Whether an unavailable plain arena's marker is back (its disk mounted again), checked
    /// without watching or walking what may be another disk; when not, its next try is set.
    /// </summary>
    private bool IsBack(ArenaName arena, string directory, long now)
    {
        try
        {
            ArenaMarker.Ensure(directory, arena, _index);
            return true;
        }
        catch (Exception e) when (e is ArenaUnavailableException or IOException or UnauthorizedAccessException or StorageException)
        {
            Fail(arena, e, now);
            return false;
        }
    }

    private void Fail(ArenaName arena, Exception e, long now)
    {
        if (!_config.Arenas.Any(a => a.Name == arena))
        {
            return;
        }
        var (health, delay, news) = _failing.Fail(arena, e.Message, IsUnavailable(e), now);
        if (health.Unavailable && _plainRoots.TryGetValue(arena, out var plain))
        {
            _watcher.Unwatch(plain.Root);
        }
        _queue.Drop(arena);
        if (news)
        {
            Log.ArenaFailed(_logger, arena.Value, e.Message, delay.TotalSeconds);
            _errors.Remember($"arena '{arena}': {e.Message}");
        }
    }

    private void Recover(ArenaName arena)
    {
        if (_failing.Recover(arena))
        {
            Log.ArenaRecovered(_logger, arena.Value);
        }
    }

    // The arenas recorded now.
    private IEnumerable<ArenaName> Recorded() => _config.Arenas.Select(a => a.Name).Where(a => !_failing.Contains(a));

    /// <summary>Applies a new configuration: arenas added are watched and scanned whole, arenas removed are forgotten.</summary>
    private void Reconfigure(StoreConfig config)
    {
        var before = _config.Arenas.ToDictionary(a => a.Name);
        var after = config.Arenas.ToDictionary(a => a.Name);
        foreach (var (name, arena) in before)
        {
            if (!after.TryGetValue(name, out var now) || now.PlainPath != arena.PlainPath)
            {
                if (_plainRoots.Remove(name, out var plain))
                {
                    _watcher.RemoveRoot(plain.Root);
                    _arenaOfRoot.Remove(plain.Root);
                }
                _failing.Recover(name);
                _fresh.Remove(name);
                _queue.Drop(name);
            }
        }
        // A new scanner forgets the files moved lately (a moved file keeps its blob unread): only when arenas changed.
        bool arenasChanged = !before.Values.Select(a => (a.Name, a.PlainPath)).ToHashSet().SetEquals(after.Values.Select(a => (a.Name, a.PlainPath)));
        _config = config;
        if (arenasChanged)
        {
            _scan.Dispose();
            _scan = NewScan();
            _overlayArenas = OverlayArenas(config);
        }
        foreach (var (name, arena) in after)
        {
            if (!before.TryGetValue(name, out var was) || was.PlainPath != arena.PlainPath)
            {
                if (arena.PlainPath is { } directory)
                {
                    int root = AddPlainRoot(name, directory);
                    Guarded($"watching arena '{name}'", () => _watcher.WatchRoot(root));
                }
                // real/NAME is watched already, as all of real/.
                _fresh.Add(name);
            }
        }
    }

    private int AddPlainRoot(ArenaName arena, string directory)
    {
        int root = _watcher.AddRoot(directory);
        _plainRoots[arena] = (root, directory);
        _arenaOfRoot[root] = arena;
        return root;
    }

    // From the configuration this loop applied, never the store's, which the configuration watcher may have moved on.
    private StoreScan NewScan() => new(_store, _config, _index, _logger) { SettleDelay = _options.SettleDelay };

    private static Dictionary<string, ArenaName> OverlayArenas(StoreConfig config) =>
        StoreScan.OverlayArenasOf(config).ToDictionary(a => a.Value, StringComparer.Ordinal);

    /// <summary>The arena and path a watched change names; null outside every arena.</summary>
    private (ArenaName Arena, string Path)? Locate(int root, string path)
    {
        if (root > 0)
        {
            return _arenaOfRoot.TryGetValue(root, out var plain) ? (plain, path) : null;
        }
        int slash = path.IndexOf('/', StringComparison.Ordinal);
        string top = slash < 0 ? path : path[..slash];
        return _overlayArenas.TryGetValue(top, out var arena) ? (arena, slash < 0 ? "" : path[(slash + 1)..]) : null;
    }

    /// <summary>Runs a step of watching that may fail on a directory; the failure is recorded and the loop goes on.</summary>
    private void Guarded(string what, Action step)
    {
        try
        {
            step();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or Linux.LinuxException)
        {
            _errors.Record($"{what}: {e.Message}; every arena is rescanned");
            _rescanAll = true;
        }
    }

    private int Timeout(CancellationToken stop)
    {
        if (stop.IsCancellationRequested || _owner.HasWork)
        {
            return 0;
        }
        long next = Math.Min(_watcher.Unwatched.Count > 0 ? _nextUnwatchedScan : long.MaxValue, _nextRescan);
        if (_rescanAll || _fresh.Count > 0)
        {
            next = Math.Min(next, _nextScanAllowed);
        }
        next = Math.Min(next, _failing.NextTry);
        if (_examinedSinceRelease >= ReleaseAfter && _queue.Count == 0)
        {
            // Only once nothing waits: the memory is handed back when the burst is over.
            next = Math.Min(next, _lastExamined + Stopwatch.Frequency);
        }
        long earliest = _queue.Earliest;
        if (earliest != long.MaxValue)
        {
            next = Math.Min(next, Math.Max(earliest, _nextScanAllowed));
        }
        return next == long.MaxValue ? -1
            : (int)Math.Clamp((next - Stopwatch.GetTimestamp()) * 1000 / Stopwatch.Frequency + 1, 0, int.MaxValue);
    }

    /// <summary>
    /// After a whole scan, whose rows and listings are garbage now: hands the memory back,
    /// so that an idle daemon stays small.
    /// </summary>
    private static void ReleaseMemory() => GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);

    private void Publish()
    {
        string? watchProblem = _watcher.WatchLimitReached
            ? $"fs.inotify.max_user_watches ({ReadMaxWatches()}) is too low for this tree: {_watcher.Unwatched.Count} director{(_watcher.Unwatched.Count == 1 ? "y is" : "ies are")} only rescanned every {_options.UnwatchedRescanInterval.TotalSeconds:0} s; raise it with 'sysctl fs.inotify.max_user_watches=1048576' (and in /etc/sysctl.d/ to keep it), then restart realize up"
            : null;
        _owner.Publish(new WatchStatus(_queue.Count, _skipped, _watcher.WatchCount, _watcher.Unwatched.Count, _rescans, watchProblem, _failing.Problems(), _config));
    }

    private static string ReadMaxWatches()
    {
        try
        {
            return File.ReadAllText("/proc/sys/fs/inotify/max_user_watches").Trim();
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    private static long Ticks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);
}
