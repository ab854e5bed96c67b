using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using Realize.Daemon;
using Realize.Linux;
using Realize.Real;
using Realize.Storage;

namespace Realize.Bench;

/// <summary>
/// <c>realize up</c> as a child process, <c>dotnet realize.dll --store STORE up --settle-ms N</c>,
/// as a user runs it. Its standard output and error are appended to <c>DIR/daemon.log</c>, its
/// pid is in <c>DIR/daemon.pid</c> while it runs (bench/run.sh stops it from there when this
/// program dies). It is stopped with SIGTERM, as ^C or systemd would; it then unmounts the view.
/// </summary>
internal sealed class DaemonProcess : IDisposable
{
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan s_quietTimeout = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan s_stopTimeout = TimeSpan.FromMinutes(2);

    private readonly Process _process;
    private readonly string _pidFile;
    private bool _stopped;

    private DaemonProcess(Process process, Store store, string log, string pidFile)
    {
        _process = process;
        Store = store;
        LogPath = log;
        _pidFile = pidFile;
    }

    public Store Store { get; }

    /// <summary>Where the daemon's output goes (appended: one file for every start in DIR).</summary>
    public string LogPath { get; }

    public int Pid => _process.Id;

    /// <summary>
    /// Starts the daemon on the store <c>DIR/store</c>, with its default settle delay when
    /// <paramref name="settleMs"/> is null, and returns once it answers a status request (as
    /// <c>realize status --json</c> asks), which it does once its catch-up scan is done and it watches.
    /// </summary>
    public static DaemonProcess Start(string cli, string dir, int? settleMs)
    {
        var store = Store.Open(Path.Combine(dir, "store"));
        string log = Path.Combine(dir, "daemon.log");
        string[] command = settleMs is { } ms
            ? ["dotnet", cli, "--store", store.Root, "up", "--settle-ms", ms.ToString(CultureInfo.InvariantCulture)]
            : ["dotnet", cli, "--store", store.Root, "up"];
        File.AppendAllText(log, $"== {DateTime.UtcNow:u} {string.Join(' ', command)}\n");
        var info = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        // exec: the child becomes the daemon itself, so its pid is the one to signal and to read in /proc.
        foreach (string arg in (string[])["-c", "log=$1; shift; exec \"$@\" >>\"$log\" 2>&1", "sh", log, .. command])
        {
            info.ArgumentList.Add(arg);
        }
        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start /bin/sh");
        string pidFile = Path.Combine(dir, "daemon.pid");
        File.WriteAllText(pidFile, process.Id.ToString(CultureInfo.InvariantCulture) + "\n");
        var daemon = new DaemonProcess(process, store, log, pidFile);
        try
        {
            var clock = Stopwatch.StartNew();
            while (daemon.Status() is null)
            {
                daemon.EnsureRunning();
                if (clock.Elapsed > s_startTimeout)
                {
                    throw new BenchException($"the daemon did not answer within {s_startTimeout.TotalMinutes} minutes; see {log}");
                }
                Thread.Sleep(20);
            }
            Console.WriteLine($"daemon: pid {daemon.Pid}, --settle-ms {settleMs?.ToString(CultureInfo.InvariantCulture) ?? "default"}, answering after {clock.Elapsed.TotalSeconds:0.00} s");
            // The same request through the CLI, as a script would check the daemon is up.
            Console.WriteLine($"daemon: realize status --json: {Measure.Capture("dotnet", cli, "--store", store.Root, "status", "--json").Output.Trim()}");
        }
        catch
        {
            daemon.Dispose();
            throw;
        }
        return daemon;
    }

    /// <summary>What the daemon says of itself (as <c>realize status --json</c>); null when it does not answer (yet).</summary>
    public DaemonStatus? Status()
    {
        try
        {
            return ControlClient.SendAsync(Store, new ControlRequest("status")).GetAwaiter().GetResult()?.Status;
        }
        catch (Exception e) when (e is IOException or SocketException or RealizeException)
        {
            return null;
        }
    }

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
            throw new BenchException($"the daemon exited with {_process.ExitCode}; the end of {LogPath}:\n{LogTail()}");
        }
    }

    /// <summary>User and system CPU time of the daemon so far, in seconds (<c>/proc/PID/stat</c>).</summary>
    public double CpuSeconds()
    {
        string stat = File.ReadAllText($"/proc/{Pid}/stat");
        // pid (comm) state ppid ...: utime and stime are fields 14 and 15, in USER_HZ (100 a second).
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }

    /// <summary>A field of the daemon's <c>/proc/PID/status</c> (VmRSS, VmHWM), in MB of 10^6 bytes.</summary>
    public double Megabytes(string field) => Measure.StatusMegabytes(field, $"/proc/{Pid}/status");

    /// <summary>How many lines of the log contain <paramref name="text"/>.</summary>
    public int CountLogLines(string text) => File.ReadLines(LogPath).Count(line => line.Contains(text, StringComparison.Ordinal));

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
        if (!_process.HasExited)
        {
            Libc.Signal(Pid, Libc.SIGTERM);
        }
        bool exited = _process.WaitForExit(s_stopTimeout);
        if (!exited)
        {
            _process.Kill();
            _process.WaitForExit();
        }
        File.Delete(_pidFile);
        bool leftMounted = UnmountLeftover();
        if (!exited)
        {
            throw new BenchException($"the daemon did not stop within {s_stopTimeout.TotalMinutes} minutes of SIGTERM: killed it; see {LogPath}");
        }
        if (_process.ExitCode != 0)
        {
            throw new BenchException($"the daemon exited with {_process.ExitCode} when stopped; the end of {LogPath}:\n{LogTail()}");
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

    private string LogTail() => string.Join('\n', File.ReadLines(LogPath).TakeLast(20));
}
