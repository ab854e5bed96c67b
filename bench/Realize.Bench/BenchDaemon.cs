using System.Diagnostics;
using System.Globalization;
using Realize.Core;
using Realize.Daemon;
using Realize.Harness;
using Realize.Linux;
using Realize.Real;
using Realize.Storage;

namespace Realize.Bench;

/// <summary>
/// <c>realize up</c> run as a user runs it (a <see cref="DaemonProcess"/>), with what the
/// benchmarks add: its output appended to <c>DIR/daemon.log</c>, its pid in <c>DIR/daemon.pid</c>
/// while it runs (bench/run stops it from there when this program dies), its CPU time and
/// memory, and a clean stop checked (exit code 0, the merged view unmounted).
/// </summary>
internal sealed class BenchDaemon : IDisposable
{
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan s_quietTimeout = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan s_stopTimeout = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan s_statusTimeout = TimeSpan.FromSeconds(30);

    private readonly DaemonProcess _process;
    private readonly string _pidFile;
    private bool _stopped;

    private BenchDaemon(DaemonProcess process, string log, string pidFile)
    {
        _process = process;
        LogPath = log;
        _pidFile = pidFile;
    }

    public Store Store => _process.Store;

    /// <summary>Where the daemon's output goes (appended: one file for every start in DIR).</summary>
    public string LogPath { get; }

    public int Pid => _process.Pid;

    /// <summary>
    /// Starts the daemon on the store <c>DIR/store</c>, with its default settle delay when
    /// <paramref name="settleMs"/> is null, and returns once it answers a status request (as
    /// <c>realize status --json</c> asks), which it does once its catch-up scan is done and it watches.
    /// </summary>
    public static BenchDaemon Start(string cli, string dir, int? settleMs)
    {
        var store = Store.Open(Path.Combine(dir, "store"));
        string log = Path.Combine(dir, "daemon.log");
        var realize = RealizeExecutable.At(cli);
        string[] options = settleMs is { } ms ? ["--settle-ms", ms.ToString(CultureInfo.InvariantCulture)] : [];
        var process = DaemonProcess.Start(realize, store, options, logFile: log);
        string pidFile = Path.Combine(dir, "daemon.pid");
        var daemon = new BenchDaemon(process, log, pidFile);
        try
        {
            File.WriteAllText(pidFile, process.Pid.ToString(CultureInfo.InvariantCulture) + "\n");
            var clock = Stopwatch.StartNew();
            try
            {
                process.WaitUntilAnsweringAsync(s_startTimeout).GetAwaiter().GetResult();
            }
            catch (Exception e) when (e is TimeoutException or InvalidOperationException)
            {
                throw new BenchException($"the daemon did not answer: {e.Message.Split('\n')[0]} See {log}", e);
            }
            Console.WriteLine($"daemon: pid {daemon.Pid}, --settle-ms {settleMs?.ToString(CultureInfo.InvariantCulture) ?? "default"}, answering after {clock.Elapsed.TotalSeconds:0.00} s");
            // The same request through the CLI, as a script would check the daemon is up.
            Console.WriteLine($"daemon: realize status --json: {Measure.Capture(realize.Dotnet, realize.Dll, "--store", store.Root, "status", "--json").Output.Trim()}");
        }
        catch
        {
            daemon.Dispose();
            throw;
        }
        return daemon;
    }

    /// <summary>What the daemon says of itself (as <c>realize status --json</c>); null when it does not answer (yet).</summary>
    public DaemonStatus? Status() => _process.TryStatusAsync(s_statusTimeout).GetAwaiter().GetResult();

    /// <summary>Waits until the daemon has no path waiting to settle.</summary>
    public DaemonStatus WaitUntilQuiet()
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            EnsureRunning();
            if (Status() is { Waiting: 0 } status)
            {
                return status;
            }
            if (clock.Elapsed > s_quietTimeout)
            {
                throw new BenchException($"the daemon still had changes waiting after {s_quietTimeout.TotalMinutes} minutes; see {LogPath}");
            }
            Thread.Sleep(5);
        }
    }

    /// <summary>Throws when the daemon is no longer running.</summary>
    public void EnsureRunning()
    {
        if (_process.HasExited)
        {
            // Its last line first: a row skipped for this gives only the first line of the message.
            string tail = _process.LogTail();
            string last = tail.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "";
            throw new BenchException($"the daemon exited with {_process.ExitCode} (its last line: {last}); the end of {LogPath}:\n{tail}");
        }
    }

    /// <summary>User and system CPU time of the daemon so far, in seconds (<c>/proc/PID/stat</c>).</summary>
    public double CpuSeconds() => CostMeter.CpuSeconds(Pid);

    /// <summary>A field of the daemon's <c>/proc/PID/status</c> (VmRSS, VmHWM), in MB of 10^6 bytes.</summary>
    public double Megabytes(string field) => Measure.StatusMegabytes(field, $"/proc/{Pid}/status");

    /// <summary>How many lines the daemon has logged since it started that contain <paramref name="text"/>.</summary>
    public int CountLogLines(string text) => _process.CountLogLines(text);

    /// <summary>
    /// Stops the daemon with SIGTERM and waits for it; throws when it does not stop cleanly
    /// (exit code 0, the merged view unmounted). The view is unmounted whatever happens.
    /// </summary>
    public void Stop()
    {
        if (_stopped)
        {
            return;
        }
        _stopped = true;
        var clock = Stopwatch.StartNew();
        int? exit = null;
        TimeoutException? timeout = null;
        try
        {
            exit = _process.Stop(s_stopTimeout);
        }
        catch (TimeoutException e)
        {
            timeout = e;
        }
        File.Delete(_pidFile);
        bool leftMounted = UnmountLeftover();
        if (timeout is not null)
        {
            throw new BenchException($"the daemon did not stop within {s_stopTimeout.TotalMinutes} minutes of SIGTERM: killed it; see {LogPath}", timeout);
        }
        if (exit != 0)
        {
            throw new BenchException($"the daemon exited with {exit} when stopped; the end of {LogPath}:\n{_process.LogTail()}");
        }
        if (leftMounted)
        {
            throw new BenchException($"the daemon left its merged view mounted when stopped (now unmounted); see {LogPath}");
        }
        Console.WriteLine($"daemon: pid {Pid} stopped in {clock.Elapsed.TotalSeconds:0.00} s, the merged view unmounted");
    }

    public void Dispose()
    {
        try
        {
            Stop();
        }
        catch (Exception e) when (e is BenchException or IOException or InvalidOperationException or RealizeException)
        {
            // Disposed after another failure, which is the one to report.
            Console.Error.WriteLine($"realize-bench: while stopping the daemon: {e.Message}");
        }
        _process.Dispose();
    }

    private bool UnmountLeftover()
    {
        if (Store.Config.Mount is not { } view || !Mounts.IsMountPoint(view))
        {
            return false;
        }
        try
        {
            MergedView.Unmount(Store);
        }
        catch (RealizeException)
        {
            Mounts.Unmount(view, detach: true);
        }
        return true;
    }
}
