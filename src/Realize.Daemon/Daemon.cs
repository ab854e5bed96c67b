using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Realize.Core;
using Realize.Linux;
using Realize.Real;
using Realize.Storage;

namespace Realize.Daemon;

/// <summary>Settings of <c>realize up</c>.</summary>
public sealed record DaemonOptions
{
    /// <summary>How long a path must be quiet before it is examined, unless it was just closed after writing.</summary>
    public TimeSpan SettleDelay { get; init; } = TimeSpan.FromMilliseconds(200);
}

/// <summary>
/// <c>realize up</c>: takes the store's lock, mounts the merged view, runs a catch-up scan,
/// then watches <c>real/</c> with inotify and records changes once they are quiet. Stopping
/// records what is pending and unmounts.
/// </summary>
public sealed partial class Daemon : IDisposable
{
    private readonly Store _store;
    private readonly DaemonOptions _options;
    private readonly ILogger _logger;
    private readonly ProcessLock _lock;
    private readonly DateTimeOffset _since = DateTimeOffset.UtcNow;

    // Guards the fields below, read by the control socket and written by the watch loop.
    private readonly Lock _gate = new();
    private readonly Queue<string> _lastErrors = new();
    private readonly Queue<TaskCompletionSource<string>> _scanRequests = new();
    private DaemonStatus? _status;

    // Arena counts as of the last scan; the watch loop alone writes it.
    private ArenaStatus[] _arenaStatus = [];
    private Action? _wakeLoop;

    private Daemon(Store store, DaemonOptions options, ILogger logger, ProcessLock processLock)
    {
        _store = store;
        _options = options;
        _logger = logger;
        _lock = processLock;
    }

    /// <summary>Runs the daemon until <paramref name="stop"/> is cancelled; throws <see cref="RealizeException"/> when it cannot start.</summary>
    public static async Task RunAsync(Store store, DaemonOptions options, ILoggerFactory loggers, CancellationToken stop)
    {
        Directory.CreateDirectory(store.RunDir);
        File.SetUnixFileMode(store.RunDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var processLock = ProcessLock.TryAcquire(Path.Combine(store.RunDir, "daemon.lock"), out int holder)
            ?? throw new RealizeException($"realize up is already running for {store.Root} (pid {holder}): stop it first (kill {holder})");
        using var daemon = new Daemon(store, options, loggers.CreateLogger("realize"), processLock);
        // The index is the daemon's while it runs: a 'realize scan' in between would record changes twice.
        using var indexLock = ProcessLock.TryAcquire(IndexLockPath(store), out holder)
            ?? throw new RealizeException($"a 'realize scan' (pid {holder}) is running on {store.Root}: let it finish, then start again");
        await daemon.RunAsync(stop);
    }

    public void Dispose() => _lock.Dispose();

    /// <summary>The lock whoever writes the index holds: the daemon, or a 'realize scan' without one.</summary>
    public static string IndexLockPath(Store store) => Path.Combine(store.RunDir, "index.lock");

    private async Task RunAsync(CancellationToken stop)
    {
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
            var loop = Task.Factory.StartNew(() => WatchLoop(stop), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            await loop;
            socket.Close();
            await control;
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
        var arenas = StoreScan.OverlayArenas(_store.Config);
        var scanner = new UpperScanner(_store.RealDir, new LowerLayer(_store.Config.Lower, index), index, _logger);
        using var watcher = new TreeWatcher(_store.RealDir, _logger);
        // Watch before the catch-up scan, so nothing changed during it is missed.
        watcher.Start();
        using var wake = stop.Register(watcher.Wake);
        lock (_gate)
        {
            _wakeLoop = watcher.Wake;
        }
        try
        {
            Watch(index, arenas, scanner, watcher, stop);
        }
        finally
        {
            lock (_gate)
            {
                _wakeLoop = null;
            }
        }
    }

    private void Watch(IndexDb index, ArenaName[] arenas, UpperScanner scanner, TreeWatcher watcher, CancellationToken stop)
    {
        var catchUp = scanner.Scan(arenas);
        LogScanned(_logger, "catch-up", catchUp.ToString());
        CountArenas(index, arenas);
        Publish(watcher, 0, catchUp.Skipped);

        var due = new Dictionary<ArenaName, long>();
        var names = arenas.ToDictionary(a => a.Value, StringComparer.Ordinal);
        long settleTicks = (long)(_options.SettleDelay.TotalSeconds * Stopwatch.Frequency);
        int skipped = catchUp.Skipped;
        while (true)
        {
            long now = Stopwatch.GetTimestamp();
            int timeout = stop.IsCancellationRequested ? 0
                : due.Count == 0 ? -1
                : (int)Math.Clamp((due.Values.Min() - now) * 1000 / Stopwatch.Frequency + 1, 0, int.MaxValue);
            if (HasScanRequest())
            {
                timeout = 0;
            }
            var batch = watcher.Read(timeout);
            now = Stopwatch.GetTimestamp();
            if (batch.Overflowed)
            {
                LogOverflow(_logger);
                watcher.Rewatch();
                foreach (var arena in arenas)
                {
                    due[arena] = now;
                }
            }
            foreach (var change in batch.Changes)
            {
                string top = change.Path.Split('/', 2)[0];
                if (names.TryGetValue(top, out var arena))
                {
                    // Quiet for the settle delay, or at once once closed after writing.
                    long when = change.Closed ? now : now + settleTicks;
                    due[arena] = due.TryGetValue(arena, out long previous) && !change.Closed ? Math.Max(previous, when) : when;
                }
            }
            bool stopping = stop.IsCancellationRequested;
            var ready = due.Where(d => stopping || d.Value <= now).Select(d => d.Key).ToArray();
            var requests = TakeScanRequests();
            if (requests.Count > 0)
            {
                ready = arenas;
            }
            if (ready.Length > 0 || requests.Count > 0)
            {
                foreach (var arena in ready)
                {
                    due.Remove(arena);
                }
                try
                {
                    var summary = scanner.Scan(ready);
                    skipped = summary.Skipped;
                    CountArenas(index, arenas);
                    if (summary.Added + summary.Updated + summary.Removed > 0)
                    {
                        LogScanned(_logger, "changes", summary.ToString());
                    }
                    foreach (var request in requests)
                    {
                        request.TrySetResult(summary.ToString());
                    }
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or Microsoft.Data.Sqlite.SqliteException)
                {
                    RecordError(e.Message);
                    if (!stopping)
                    {
                        // Try again later; a change must not wait for the next restart.
                        foreach (var arena in ready)
                        {
                            due[arena] = now + (5 * Stopwatch.Frequency);
                        }
                    }
                    foreach (var request in requests)
                    {
                        request.TrySetException(e);
                    }
                }
            }
            Publish(watcher, due.Count, skipped);
            if (stopping && due.Count == 0)
            {
                return;
            }
        }
    }

    private void CountArenas(IndexDb index, ArenaName[] arenas) =>
        _arenaStatus = arenas.Select(a => new ArenaStatus(a.Value, index.CountFiles(a), index.LastIndex(a))).ToArray();

    private void Publish(TreeWatcher watcher, int waiting, int skipped)
    {
        var arenaStatus = _arenaStatus;
        string? watchProblem = watcher.WatchLimitReached
            ? $"fs.inotify.max_user_watches ({ReadMaxWatches()}) is too low for this tree: raise it with 'sysctl fs.inotify.max_user_watches=1048576'"
            : null;
        lock (_gate)
        {
            _status = new DaemonStatus(Environment.ProcessId, _since, _store.Config.Mount, arenaStatus, waiting, skipped, watcher.WatchCount, watchProblem, _lastErrors.ToArray());
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
        lock (_gate)
        {
            return _status;
        }
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

    [LoggerMessage(4, LogLevel.Warning, "inotify queue overflowed: rescanning every arena")]
    private static partial void LogOverflow(ILogger logger);

    [LoggerMessage(5, LogLevel.Error, "{Message}")]
    private static partial void LogError(ILogger logger, string message);

    [LoggerMessage(6, LogLevel.Information, "merged view at {Mount} unmounted")]
    private static partial void LogUnmounted(ILogger logger, string mount);
}
