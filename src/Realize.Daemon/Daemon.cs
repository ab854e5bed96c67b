using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Realize.Core;
using Realize.Linux;
using Realize.Network;
using Realize.Real;
using Realize.Storage;

namespace Realize.Daemon;

/// <summary>Settings of <c>realize up</c>.</summary>
public sealed record DaemonOptions
{
    /// <summary>How long a path must be quiet before it is examined, unless it was just closed after writing.</summary>
    public TimeSpan SettleDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// How often every arena is rescanned whatever inotify said (zero: never), as Syncthing does:
    /// a safety net for what inotify cannot tell, such as a write to a hard-linked file whose
    /// other names overlay no longer knows.
    /// </summary>
    public TimeSpan RescanInterval { get; init; } = TimeSpan.FromHours(1);

    /// <summary>How often directories that the inotify watch limit left unwatched are rescanned.</summary>
    public TimeSpan UnwatchedRescanInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Raise <c>fs.inotify.max_queued_events</c> to <see cref="QueuedEvents"/> when it is lower (needs root).</summary>
    public bool RaiseQueueLimit { get; init; } = true;

    /// <summary>The inotify queue length the daemon asks for: a burst of 300,000 new files fits without an overflow.</summary>
    public int QueuedEvents { get; init; } = 1 << 20;

    /// <summary>How the history reaches the other peers.</summary>
    public HistoryOptions History { get; init; } = new();
}

/// <summary>
/// <c>realize up</c>: takes the store's lock, mounts the merged view, runs a catch-up scan,
/// then watches <c>real/</c> and the plain-directory arenas with inotify and examines each
/// changed path once it is quiet. Stopping records what is pending and unmounts.
/// </summary>
public sealed partial class Daemon : IDisposable
{
    private const string QueueLimitFile = "/proc/sys/fs/inotify/max_queued_events";

    private readonly Store _store;
    private readonly DaemonOptions _options;
    private readonly ILogger _logger;
    private readonly ProcessLock _lock;
    private readonly DateTimeOffset _since = DateTimeOffset.UtcNow;
    private readonly PeerIdentity _identity;
    private readonly HistoryFeed _feed = new();
    private readonly HistoryService _history;

    // Guards the fields below, read by the control socket and written by the watch loop.
    private readonly Lock _gate = new();
    private readonly Queue<string> _lastErrors = new();
    private readonly Queue<TaskCompletionSource<string>> _scanRequests = new();
    private LoopStatus? _status;
    private Action? _wakeLoop;

    private Daemon(Store store, DaemonOptions options, ILogger logger, ProcessLock processLock, PeerIdentity identity)
    {
        _store = store;
        _options = options;
        _logger = logger;
        _lock = processLock;
        _identity = identity;
        _history = new HistoryService(store, identity, _feed, options.History, logger);
    }

    /// <summary>What the watch loop last published for <c>status</c>.</summary>
    private sealed record LoopStatus(int Waiting, int Skipped, int Watches, int Unwatched, int Rescans, string? WatchProblem);

    /// <summary>Runs the daemon until <paramref name="stop"/> is cancelled; throws <see cref="RealizeException"/> when it cannot start.</summary>
    public static async Task RunAsync(Store store, DaemonOptions options, ILoggerFactory loggers, CancellationToken stop)
    {
        Directory.CreateDirectory(store.RunDir);
        File.SetUnixFileMode(store.RunDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var processLock = ProcessLock.TryAcquire(Path.Combine(store.RunDir, "daemon.lock"), out int holder)
            ?? throw new RealizeException($"realize up is already running for {store.Root} (pid {holder}): stop it first (kill {holder})");
        PeerIdentity identity;
        try
        {
            identity = PeerIdentity.Load(store);
        }
        catch
        {
            processLock.Dispose();
            throw;
        }
        using var daemon = new Daemon(store, options, loggers.CreateLogger("realize"), processLock, identity);
        // The index is the daemon's while it runs: a 'realize scan' in between would record changes twice.
        using var indexLock = ProcessLock.TryAcquire(IndexLockPath(store), out holder)
            ?? throw new RealizeException($"a 'realize scan' (pid {holder}) is running on {store.Root}: let it finish, then start again");
        await daemon.RunAsync(stop);
    }

    public void Dispose()
    {
        _history.Dispose();
        _identity.Dispose();
        _lock.Dispose();
    }

    /// <summary>The lock whoever writes the index holds: the daemon, or a 'realize scan' without one.</summary>
    public static string IndexLockPath(Store store) => Path.Combine(store.RunDir, "index.lock");

    private async Task RunAsync(CancellationToken stop)
    {
        // First: a taken port stops the start before anything is mounted.
        _history.Start();
        bool mounted = false;
        if (_store.Config.Mount is { } mount && _store.Config.Lower is not null)
        {
            if (Mounts.FindMount(mount) is null)
            {
                MergedView.Mount(_store);
                mounted = true;
                LogMounted(_logger, mount);
            }
            else
            {
                LogAlreadyMounted(_logger, mount);
            }
        }
        try
        {
            using var socket = ListenControl();
            var control = ServeControlAsync(socket, stop);
            using var peersStop = new CancellationTokenSource();
            var peers = Task.Run(() => _history.RunAsync(peersStop.Token), CancellationToken.None);
            var loop = Task.Factory.StartNew(() => WatchLoop(stop), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            try
            {
                await loop;
            }
            finally
            {
                // After the last look at real/: what it recorded may still go out while the peers
                // stop; either way they resume from their cursors.
                await peersStop.CancelAsync();
                await peers;
                socket.Close();
                await control;
            }
        }
        finally
        {
            File.Delete(ControlClient.SocketPath(_store));
            if (mounted)
            {
                UnmountPatiently();
            }
        }
    }

    private void WatchLoop(CancellationToken stop)
    {
        using var index = _store.OpenIndex();
        var scan = new StoreScan(_store, index, _logger) { SettleDelay = _options.SettleDelay };
        if (_options.RaiseQueueLimit)
        {
            RaiseQueueLimit();
        }
        // Root 0 is real/ (its top-level directories are the merged view's arenas); then one per plain arena.
        var plainArenas = scan.PlainRoots.Keys.ToArray();
        using var watcher = new TreeWatcher([_store.RealDir, .. plainArenas.Select(a => scan.PlainRoots[a])], _logger);
        // Watch before the catch-up scan, so nothing changed during it is missed.
        watcher.Start();
        using var wake = stop.Register(watcher.Wake);
        lock (_gate)
        {
            _wakeLoop = watcher.Wake;
        }
        try
        {
            new WatchState(this, scan, watcher, plainArenas).Run(stop);
        }
        finally
        {
            lock (_gate)
            {
                _wakeLoop = null;
            }
        }
    }

    private void RaiseQueueLimit()
    {
        try
        {
            long current = long.Parse(File.ReadAllText(QueueLimitFile).Trim(), System.Globalization.CultureInfo.InvariantCulture);
            if (current < _options.QueuedEvents)
            {
                File.WriteAllText(QueueLimitFile, _options.QueuedEvents.ToString(System.Globalization.CultureInfo.InvariantCulture));
                LogQueueRaised(_logger, current, _options.QueuedEvents);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            LogQueueNotRaised(_logger, e.Message);
        }
    }

    /// <summary>
    /// The watch loop's state: which paths wait to settle, and until when. Each changed path is
    /// examined (with what lies below it) once quiet for the settle delay, or at once when it
    /// was closed after writing, unless it was examined less than a settle delay before it
    /// changed (and has not been quiet for one since): a file written over and over is then
    /// recorded once it stops.
    /// </summary>
    private sealed class WatchState
    {
        private readonly Daemon _owner;
        private readonly StoreScan _scan;
        private readonly TreeWatcher _watcher;
        private readonly ArenaName[] _plainArenas;
        private readonly Dictionary<string, ArenaName> _overlayArenas;
        private readonly long _settle;

        // Paths examined in a burst after which the memory it took is handed back.
        private const int ReleaseAfter = 20_000;

        // The shortest time between two scans: a storm of changes is examined in batches, each
        // costing one commit (an fsync), instead of one scan per read of the inotify queue.
        private static readonly long s_scanGap = Stopwatch.Frequency / 100;

        // Paths in one scan from which it is a storm, and the next scan waits for the gap.
        private const int StormPaths = 16;

        // No scan before this (Stopwatch ticks), but when stopping or asked.
        private long _nextScanAllowed;

        // Paths waiting to be examined -> when they are due (Stopwatch ticks).
        private readonly Dictionary<(ArenaName Arena, string Path), long> _due = [];

        // The two ends of a rename: examined together, so a moved file keeps its blob unread.
        private readonly Dictionary<(ArenaName Arena, string Path), (ArenaName Arena, string Path)> _partners = [];

        // Paths something was renamed to, while they wait.
        private readonly HashSet<(ArenaName Arena, string Path)> _renamed = [];

        // Paths examined lately -> when, or when last changed if they changed again within a
        // settle delay of that (they are busy); pruned now and then.
        private readonly Dictionary<(ArenaName Arena, string Path), long> _examined = [];
        private long _pruned;

        // Paths examined since memory was last handed back, and when last.
        private int _examinedSinceRelease;
        private long _lastExamined;

        private long _nextUnwatchedScan;
        private long _nextRescan;
        private bool _rescanAll;
        private int _skipped;
        private int _rescans;

        public WatchState(Daemon owner, StoreScan scan, TreeWatcher watcher, ArenaName[] plainArenas)
        {
            _owner = owner;
            _scan = scan;
            _watcher = watcher;
            _plainArenas = plainArenas;
            _overlayArenas = scan.OverlayArenas.ToDictionary(a => a.Value, StringComparer.Ordinal);
            _settle = (long)(owner._options.SettleDelay.TotalSeconds * Stopwatch.Frequency);
        }

        public void Run(CancellationToken stop)
        {
            var catchUp = _scan.ScanAll();
            foreach (var key in _scan.Settling)
            {
                _due.TryAdd(key, Stopwatch.GetTimestamp() + _settle);
            }
            _skipped = catchUp.Skipped;
            _owner._feed.Changed();
            LogScanned(_owner._logger, "catch-up", catchUp.ToString());
            ReleaseMemory();
            long unwatchedPeriod = (long)(_owner._options.UnwatchedRescanInterval.TotalSeconds * Stopwatch.Frequency);
            long rescanPeriod = (long)(_owner._options.RescanInterval.TotalSeconds * Stopwatch.Frequency);
            _nextUnwatchedScan = Stopwatch.GetTimestamp() + unwatchedPeriod;
            _nextRescan = rescanPeriod > 0 ? Stopwatch.GetTimestamp() + rescanPeriod : long.MaxValue;
            Publish();
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
                    _owner.RecordError($"reading inotify events: {e.Message}; rescanning every arena");
                    batch = new WatchBatch([], Overflowed: false);
                    _rescanAll = true;
                    _rescans++;
                }
                long now = Stopwatch.GetTimestamp();
                if (batch.Overflowed)
                {
                    LogOverflow(_owner._logger);
                    _watcher.Rewatch();
                    _rescanAll = true;
                    _rescans++;
                }
                foreach (var change in batch.Changes)
                {
                    Note(change, now);
                }
                bool stopping = stop.IsCancellationRequested;
                var requests = _owner.TakeScanRequests();
                if (requests.Count > 0)
                {
                    _rescanAll = true;
                }
                if (now >= _nextRescan)
                {
                    _nextRescan = now + rescanPeriod;
                    _rescanAll = true;
                }
                var scopes = new List<ScanScope>();
                if (_watcher.Unwatched.Count > 0 && now >= _nextUnwatchedScan)
                {
                    // Below these the kernel tells nothing: look now and then, and watch them once the limit allows.
                    _nextUnwatchedScan = now + unwatchedPeriod;
                    var unwatched = _watcher.Unwatched.ToList();
                    _watcher.RetryUnwatched();
                    foreach (var (root, path) in unwatched)
                    {
                        if (Locate(root, path) is { } key)
                        {
                            _due[key] = Math.Min(_due.GetValueOrDefault(key, long.MaxValue), now);
                        }
                    }
                }
                bool collected = stopping || requests.Count > 0 || now >= _nextScanAllowed;
                if (collected)
                {
                    // A scan a user asked for takes every waiting path too: it records everything now.
                    Collect(scopes, now, stopping || requests.Count > 0);
                }
                if (scopes.Count > 0 || requests.Count > 0)
                {
                    Examine(scopes, requests, now, stopping);
                }
                else if (collected)
                {
                    // A rescan of a store without arenas: nothing to do.
                    _rescanAll = false;
                }
                if (_due.Count == 0 && _examinedSinceRelease >= ReleaseAfter && now - _lastExamined >= Stopwatch.Frequency)
                {
                    // A burst is over and quiet for a second: what it needed is garbage now.
                    _examinedSinceRelease = 0;
                    ReleaseMemory();
                }
                Publish();
                if (stopping && _due.Count == 0 && !_rescanAll)
                {
                    return;
                }
            }
        }

        private int Timeout(CancellationToken stop)
        {
            if (stop.IsCancellationRequested || _owner.HasScanRequest())
            {
                return 0;
            }
            long next = Math.Min(_watcher.Unwatched.Count > 0 ? _nextUnwatchedScan : long.MaxValue, _nextRescan);
            if (_rescanAll)
            {
                next = Math.Min(next, _nextScanAllowed);
            }
            if (_examinedSinceRelease >= ReleaseAfter && _due.Count == 0)
            {
                // Only once nothing waits: the memory is handed back when the burst is over.
                next = Math.Min(next, _lastExamined + Stopwatch.Frequency);
            }
            long earliest = long.MaxValue;
            foreach (long due in _due.Values)
            {
                earliest = Math.Min(earliest, due);
            }
            if (earliest != long.MaxValue)
            {
                next = Math.Min(next, Math.Max(earliest, _nextScanAllowed));
            }
            return next == long.MaxValue ? -1
                : (int)Math.Clamp((next - Stopwatch.GetTimestamp()) * 1000 / Stopwatch.Frequency + 1, 0, int.MaxValue);
        }

        /// <summary>The arena and path a watched change names; null outside every arena.</summary>
        private (ArenaName Arena, string Path)? Locate(int root, string path)
        {
            if (root > 0)
            {
                return (_plainArenas[root - 1], path);
            }
            int slash = path.IndexOf('/', StringComparison.Ordinal);
            string top = slash < 0 ? path : path[..slash];
            return _overlayArenas.TryGetValue(top, out var arena) ? (arena, slash < 0 ? "" : path[(slash + 1)..]) : null;
        }

        private void Note(WatchedChange change, long now)
        {
            if (Locate(change.Root, change.Path) is not { } key)
            {
                return;
            }
            bool examinedLately = _examined.TryGetValue(key, out long when) && now - when < _settle;
            if (examinedLately)
            {
                // Still busy: it stays so until quiet for a settle delay, so that a file closed
                // over and over (echo x >> f in a loop) is recorded once more when it stops, not
                // again every settle delay.
                _examined[key] = now;
            }
            _due[key] = change.Closed && !examinedLately ? Math.Min(_due.GetValueOrDefault(key, long.MaxValue), now) : now + _settle;
            if (change.MovedFrom is { } from && Locate(change.Root, from) is { } source)
            {
                _partners[key] = source;
                _partners[source] = key;
                _renamed.Add(key);
            }
        }

        /// <summary>Turns the paths due now (all of them when stopping) into scan scopes, leaving out those still settling.</summary>
        private void Collect(List<ScanScope> scopes, long now, bool stopping)
        {
            var ready = new HashSet<(ArenaName Arena, string Path)>();
            foreach (var (key, due) in _due)
            {
                if (stopping || due <= now)
                {
                    ready.Add(key);
                    if (_partners.TryGetValue(key, out var partner) && _due.ContainsKey(partner))
                    {
                        ready.Add(partner);
                    }
                }
            }
            if (_rescanAll)
            {
                foreach (var arena in _scan.Arenas)
                {
                    ready.Add((arena, ""));
                }
            }
            foreach (var group in ready.GroupBy(k => k.Arena))
            {
                var deferred = _due.Keys.Where(k => k.Arena == group.Key && !ready.Contains(k)).Select(k => k.Path).ToHashSet(StringComparer.Ordinal);
                var renamed = group.Where(_renamed.Contains).Select(k => k.Path).ToHashSet(StringComparer.Ordinal);
                scopes.Add(new ScanScope(group.Key, group.Select(k => k.Path).ToArray(), deferred, renamed));
            }
        }

        private void Examine(List<ScanScope> scopes, List<TaskCompletionSource<string>> requests, long now, bool stopping)
        {
            bool whole = _rescanAll;
            _rescanAll = false;
            // The last look, or one a user asked for ('realize scan'): whatever is there now is
            // recorded, settled or not.
            _scan.SettleDelay = stopping || requests.Count > 0 ? TimeSpan.Zero : _owner._options.SettleDelay;
            try
            {
                var summary = _scan.Scan(scopes);
                if (whole)
                {
                    _skipped = summary.Skipped;
                }
                if (whole)
                {
                    _examinedSinceRelease = 0;
                    ReleaseMemory();
                }
                foreach (var scope in scopes)
                {
                    foreach (string path in scope.Paths!)
                    {
                        var key = (scope.Arena, path);
                        _due.Remove(key);
                        _partners.Remove(key);
                        _renamed.Remove(key);
                        _examined[key] = now;
                    }
                    _examinedSinceRelease += scope.Paths.Count;
                }
                _lastExamined = now;
                // Only in a storm: a single change after a quiet spell is examined at once.
                _nextScanAllowed = scopes.Sum(scope => scope.Paths!.Count) >= StormPaths ? Stopwatch.GetTimestamp() + s_scanGap : 0;
                foreach (var key in _scan.Settling)
                {
                    // Found while still being written: examined once quiet, unless an event names it first.
                    _due.TryAdd(key, now + _settle);
                }
                if (summary.Added + summary.Updated + summary.Removed > 0)
                {
                    _owner._feed.Changed();
                    LogScanned(_owner._logger, whole ? "rescan" : "changes", summary.ToString());
                }
                foreach (var request in requests)
                {
                    request.TrySetResult(summary.ToString());
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or Microsoft.Data.Sqlite.SqliteException)
            {
                _owner.RecordError(e.Message);
                foreach (var scope in scopes)
                {
                    foreach (string path in scope.Paths!)
                    {
                        if (stopping)
                        {
                            // Left for the catch-up scan of the next start.
                            _due.Remove((scope.Arena, path));
                        }
                        else
                        {
                            // Try again later; a change must not wait for the next restart.
                            _due[(scope.Arena, path)] = now + (5 * Stopwatch.Frequency);
                        }
                    }
                }
                foreach (var request in requests)
                {
                    request.TrySetException(e);
                }
            }
            if (now - _pruned > Stopwatch.Frequency)
            {
                _pruned = now;
                foreach (var (key, when) in _examined.ToArray())
                {
                    if (now - when >= _settle)
                    {
                        _examined.Remove(key);
                    }
                }
            }
        }

        /// <summary>
        /// After a whole scan, whose rows and listings are garbage now: hands the memory back,
        /// so that an idle daemon stays small.
        /// </summary>
        private static void ReleaseMemory() => GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);

        private void Publish()
        {
            string? watchProblem = _watcher.WatchLimitReached
                ? $"fs.inotify.max_user_watches ({ReadMaxWatches()}) is too low for this tree: {_watcher.Unwatched.Count} director{(_watcher.Unwatched.Count == 1 ? "y is" : "ies are")} only rescanned every {_owner._options.UnwatchedRescanInterval.TotalSeconds:0} s; raise it with 'sysctl fs.inotify.max_user_watches=1048576' (and in /etc/sysctl.d/ to keep it), then restart realize up"
                : null;
            var status = new LoopStatus(_due.Count, _skipped, _watcher.WatchCount, _watcher.Unwatched.Count, _rescans, watchProblem);
            lock (_owner._gate)
            {
                _owner._status = status;
            }
        }
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

    private void RecordError(string message)
    {
        LogError(_logger, message);
        lock (_gate)
        {
            _lastErrors.Enqueue($"{DateTimeOffset.UtcNow:u} {message}");
            while (_lastErrors.Count > 10)
            {
                _lastErrors.Dequeue();
            }
        }
    }

    private bool HasScanRequest()
    {
        lock (_gate)
        {
            return _scanRequests.Count > 0;
        }
    }

    private List<TaskCompletionSource<string>> TakeScanRequests()
    {
        lock (_gate)
        {
            var requests = _scanRequests.ToList();
            _scanRequests.Clear();
            return requests;
        }
    }

    private Socket ListenControl()
    {
        string path = ControlClient.SocketPath(_store);
        File.Delete(path);
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path));
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        socket.Listen(16);
        return socket;
    }

    private async Task ServeControlAsync(Socket listener, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(stop);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            _ = Task.Run(() => AnswerAsync(client, stop), CancellationToken.None);
        }
    }

    private async Task AnswerAsync(Socket client, CancellationToken stop)
    {
        using (client)
        {
            await using var stream = new NetworkStream(client, ownsSocket: false);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            ControlResponse response;
            try
            {
                string? line = await reader.ReadLineAsync(stop);
                var request = line is null ? null : JsonSerializer.Deserialize(line, ControlJson.Default.ControlRequest);
                response = request?.Command switch
                {
                    "status" => new ControlResponse(Status: CurrentStatus()),
                    "scan" => new ControlResponse(Summary: await RequestScanAsync(stop)),
                    _ => new ControlResponse(Error: $"unknown request '{request?.Command}'"),
                };
            }
            catch (Exception e)
            {
                // The boundary: whatever went wrong is the client's answer, never a silent close.
                response = new ControlResponse(Error: e.Message);
            }
            byte[] answer = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(response, ControlJson.Default.ControlResponse) + "\n");
            try
            {
                await stream.WriteAsync(answer, CancellationToken.None);
            }
            catch (IOException)
            {
                // The client went away.
            }
        }
    }

    private DaemonStatus? CurrentStatus()
    {
        LoopStatus? loop;
        string[] errors;
        lock (_gate)
        {
            loop = _status;
            errors = [.. _lastErrors];
        }
        if (loop is null)
        {
            // Still in the catch-up scan.
            return null;
        }
        // Counted on connections of its own: the watch loop's is busy, and WAL lets both read.
        using var index = _store.OpenIndex();
        using var unreal = _store.OpenUnreal();
        var arenas = _store.Config.Arenas
            .Select(a => new ArenaStatus(a.Name.Value, index.CountFiles(a.Name), index.LastIndex(a.Name), a.PlainPath))
            .ToArray();
        var names = _store.Config.Peers.ToDictionary(p => p.Id, p => p.Name);
        var conflicts = unreal.FindConflicts()
            .Select(c => new ConflictStatus(c.Arena.Value, c.Path.Value,
                c.Versions.Select(v => $"{names.GetValueOrDefault(v.Peer, v.Peer.ToString())}: {(v.Blob is { } blob ? blob.Hex[..12] : "removed")}").ToArray()))
            .ToArray();
        return new DaemonStatus(Environment.ProcessId, _since, _store.Config.Mount, arenas, loop.Waiting, loop.Skipped,
            loop.Watches, loop.Unwatched, loop.Rescans, loop.WatchProblem, errors)
        {
            PeerId = _identity.Id.ToString(),
            Listening = _history.ListenEndpoint?.ToString(),
            Peers = _history.Status(index, unreal),
            Conflicts = conflicts,
        };
    }

    private Task<string> RequestScanAsync(CancellationToken stop)
    {
        var request = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            _scanRequests.Enqueue(request);
            // Under the lock: the loop clears it before its watcher is disposed.
            _wakeLoop?.Invoke();
        }
        return request.Task.WaitAsync(stop);
    }

    private void UnmountPatiently()
    {
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                MergedView.Unmount(_store);
                LogUnmounted(_logger, _store.Config.Mount!);
                return;
            }
            catch (RealizeException e) when (attempt < 20 && e.InnerException is LinuxException { Errno: Errno.EBUSY })
            {
                Thread.Sleep(100);
            }
            catch (RealizeException e)
            {
                // Still busy: detach it, so that the view goes once the last user leaves. Writes
                // made meanwhile still land in real/ and the next catch-up scan finds them.
                LogError(_logger, e.Message + "; detaching it");
                Mounts.Unmount(_store.Config.Mount!, detach: true);
                return;
            }
        }
    }

    [LoggerMessage(1, LogLevel.Information, "merged view mounted at {Mount}")]
    private static partial void LogMounted(ILogger logger, string mount);

    [LoggerMessage(2, LogLevel.Information, "merged view already mounted at {Mount}; leaving it as it is")]
    private static partial void LogAlreadyMounted(ILogger logger, string mount);

    [LoggerMessage(3, LogLevel.Information, "{What}: {Summary}")]
    private static partial void LogScanned(ILogger logger, string what, string summary);

    [LoggerMessage(4, LogLevel.Warning, "inotify queue overflowed: rescanning every arena (raise fs.inotify.max_queued_events to avoid it)")]
    private static partial void LogOverflow(ILogger logger);

    [LoggerMessage(5, LogLevel.Error, "{Message}")]
    private static partial void LogError(ILogger logger, string message);

    [LoggerMessage(6, LogLevel.Information, "merged view at {Mount} unmounted")]
    private static partial void LogUnmounted(ILogger logger, string mount);

    [LoggerMessage(7, LogLevel.Information, "raised fs.inotify.max_queued_events from {From} to {To}, so that bursts of changes do not overflow the queue")]
    private static partial void LogQueueRaised(ILogger logger, long from, int to);

    [LoggerMessage(8, LogLevel.Information, "could not raise fs.inotify.max_queued_events ({Reason}): large bursts of changes may overflow it and cost a rescan")]
    private static partial void LogQueueNotRaised(ILogger logger, string reason);
}
