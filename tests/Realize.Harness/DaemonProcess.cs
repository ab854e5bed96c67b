using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Realize.Core;
using Realize.Daemon;
using Realize.Linux;
using Realize.Storage;

namespace Realize.Harness;

/// <summary>
/// <c>realize --store STORE up</c> as a child process, as a user runs it, so that a test or a
/// benchmark can stop it with SIGTERM as ^C or systemd would, or crash it with SIGKILL. What it
/// writes to stdout and stderr is kept as <see cref="Log"/> (and appended to a log file when
/// asked). Dispose always kills it, also after a failure.
/// </summary>
public sealed class DaemonProcess : IDisposable
{
    private readonly Process _process;
    private readonly int _pid;

    // Appended to by the threads that read the child's stdout and stderr; locked.
    private readonly StringBuilder _log = new();
    private readonly TextWriter? _logFile;

    private DaemonProcess(Store store, Process process, TextWriter? logFile)
    {
        Store = store;
        _process = process;
        _logFile = logFile;
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.Start();
        _pid = _process.Id;
        _process.StandardInput.Close();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>
    /// Starts <c>realize --store STORE up</c> with <paramref name="upOptions"/> (such as
    /// <c>--settle-ms 50</c>); does not wait for it to answer (see <see cref="WaitUntilAnsweringAsync"/>).
    /// </summary>
    /// <param name="wrapper">A command that ends by executing its arguments in its own process, such as <c>unshare -U -r</c>; empty for none.</param>
    /// <param name="logFile">A file the output is appended to as well, after a line naming the command; null for none.</param>
    public static DaemonProcess Start(RealizeExecutable realize, Store store, IEnumerable<string> upOptions,
        IEnumerable<string>? wrapper = null, string? logFile = null)
    {
        string[] command = [.. wrapper ?? [], .. realize.Command(["--store", store.Root, "up", .. upOptions])];
        var start = new ProcessStartInfo(command[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (string argument in command[1..])
        {
            start.ArgumentList.Add(argument);
        }
        StreamWriter? log = null;
        var process = new Process { StartInfo = start };
        try
        {
            if (logFile is not null)
            {
                log = new StreamWriter(logFile, append: true) { AutoFlush = true };
                log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"== {DateTime.UtcNow:u} {string.Join(' ', command)}"));
            }
            return new DaemonProcess(store, process, log is null ? null : TextWriter.Synchronized(log));
        }
        catch
        {
            process.Dispose();
            log?.Dispose();
            throw;
        }
    }

    /// <summary>The store the daemon runs on.</summary>
    public Store Store { get; }

    /// <summary>The daemon's process ID (dotnet runs realize.dll in its own process; a wrapper executes it).</summary>
    public int Pid => _pid;

    /// <summary>Whether the daemon has exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>The exit code, once <see cref="HasExited"/>.</summary>
    public int ExitCode => _process.ExitCode;

    /// <summary>What the daemon wrote to stdout and stderr so far, one line each.</summary>
    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    /// <summary>The last <paramref name="count"/> lines of <see cref="Log"/>, for an error message.</summary>
    public string LogTail(int count = 20) => string.Join('\n', Log.Split('\n', StringSplitOptions.RemoveEmptyEntries).TakeLast(count));

    /// <summary>How many lines of <see cref="Log"/> contain <paramref name="text"/>.</summary>
    public int CountLogLines(string text) => Log.Split('\n').Count(line => line.Contains(text, StringComparison.Ordinal));

    /// <summary>Throws <see cref="InvalidOperationException"/>, with the end of the log, when the daemon has exited.</summary>
    public void ThrowIfExited()
    {
        if (_process.HasExited)
        {
            // Also waits until the last lines of its output are read.
            _process.WaitForExit();
            throw new InvalidOperationException($"realize up (pid {Pid}) exited with {_process.ExitCode}; the end of its log:\n{LogTail()}");
        }
    }

    /// <summary>
    /// Polls <c>status</c> over the control socket until this process answers it with a status
    /// (it has then mounted the view and done its catch-up scan). Throws, with the log, when it
    /// exits first (<see cref="InvalidOperationException"/>) or <paramref name="deadline"/> passes
    /// (<see cref="TimeoutException"/>).
    /// </summary>
    public async Task WaitUntilAnsweringAsync(TimeSpan deadline)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (_process.HasExited)
            {
                _process.WaitForExit();
                throw new InvalidOperationException($"realize up (pid {Pid}) exited {_process.ExitCode} before it answered status; its log:\n{Log}");
            }
            var left = deadline - clock.Elapsed;
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException($"realize up (pid {Pid}) did not answer status within {deadline.TotalSeconds:0} s; its log:\n{Log}");
            }
            // A socket left by a killed daemon, or a daemon of another process: ask again.
            if (await TryStatusAsync(left) is { Pid: int pid } && pid == Pid)
            {
                return;
            }
            await Task.Delay(20);
        }
    }

    /// <summary>
    /// What the daemon on <see cref="Store"/> says of itself (as <c>realize status --json</c>);
    /// null when none answers within <paramref name="deadline"/> (starting, or gone).
    /// </summary>
    public async Task<DaemonStatus?> TryStatusAsync(TimeSpan deadline)
    {
        using var timeout = new CancellationTokenSource(deadline);
        try
        {
            return (await ControlClient.SendAsync(Store, new ControlRequest("status"), timeout.Token))?.Status;
        }
        catch (Exception e) when (e is RealizeException or IOException or SocketException or OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>Sends one request to the daemon; throws when no daemon answers within <paramref name="deadline"/>.</summary>
    public Task<ControlResponse> SendAsync(string command, TimeSpan deadline) =>
        ControlRequests.SendAsync(Store, command, deadline, $"realize up (pid {Pid})", () => Log);

    /// <summary>Kills the daemon with SIGKILL, as a crash would, and waits until it is gone.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }
        _process.WaitForExit();
    }

    /// <summary>
    /// Stops the daemon with SIGTERM and returns its exit code; when it has not exited within
    /// <paramref name="deadline"/>, kills it and throws a <see cref="TimeoutException"/>, with the log.
    /// </summary>
    public int Stop(TimeSpan deadline)
    {
        if (!_process.HasExited)
        {
            Signals.Send(Pid, Signals.SIGTERM);
            if (!_process.WaitForExit(deadline))
            {
                Kill();
                throw new TimeoutException($"realize up (pid {Pid}) did not stop within {deadline.TotalSeconds:0} s of SIGTERM; the end of its log:\n{LogTail()}");
            }
        }
        // Also waits until the last lines of its output are read.
        _process.WaitForExit();
        return _process.ExitCode;
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_log)
        {
            _log.Append(line).Append('\n');
        }
        _logFile?.WriteLine(line);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        try
        {
            Kill();
        }
        finally
        {
            _process.Dispose();
            _logFile?.Dispose();
        }
    }
}
