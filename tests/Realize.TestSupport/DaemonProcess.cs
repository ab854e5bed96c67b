using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Realize.Daemon;
using Realize.Storage;

namespace Realize.TestSupport;

/// <summary>
/// <c>realize --store STORE up</c> as a child process (the built realize.dll), so that a test
/// can crash it with SIGKILL as well as stop it with SIGTERM. Its standard output and error
/// are kept as <see cref="Log"/>. Dispose always kills it, also when the test failed.
/// </summary>
public sealed class DaemonProcess : IDisposable
{
    private const int SigTerm = 15;

    private readonly Store _store;
    private readonly Process _process;
    private int _pid;

    // Appended to by the threads that read the child's stdout and stderr; locked.
    private readonly StringBuilder _log = new();

    private DaemonProcess(Store store, Process process)
    {
        _store = store;
        _process = process;
    }

    /// <summary>Starts <c>realize --store STORE up</c> with <paramref name="upOptions"/> (such as <c>--settle-ms 50</c>); does not wait for it.</summary>
    public static DaemonProcess Start(Store store, params string[] upOptions) => StartWrapped(store, [], upOptions);

    /// <summary>
    /// Starts <c>realize --store STORE up</c> through <paramref name="wrapper"/>, a command that
    /// ends by executing its arguments in its own process (such as <c>unshare -U -r</c>).
    /// </summary>
    public static DaemonProcess StartWrapped(Store store, string[] wrapper, params string[] upOptions)
    {
        string[] command = [.. wrapper, RealizeCommand.Dotnet, RealizeCommand.Dll, "--store", store.Root, "up", .. upOptions];
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
        var daemon = new DaemonProcess(store, new Process { StartInfo = start });
        daemon._process.OutputDataReceived += (_, e) => daemon.Append(e.Data);
        daemon._process.ErrorDataReceived += (_, e) => daemon.Append(e.Data);
        try
        {
            daemon._process.Start();
        }
        catch
        {
            daemon._process.Dispose();
            throw;
        }
        daemon._pid = daemon._process.Id;
        daemon._process.StandardInput.Close();
        daemon._process.BeginOutputReadLine();
        daemon._process.BeginErrorReadLine();
        return daemon;
    }

    /// <summary>The daemon's process ID (<c>dotnet</c> runs realize.dll in its own process).</summary>
    public int Pid => _pid;

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

    /// <summary>
    /// Polls <c>status</c> over the control socket until this process answers it with a status
    /// (it has then mounted the view and done its catch-up scan). Throws, with the log, when it
    /// exits first or <paramref name="deadline"/> passes.
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
            using (var timeout = new CancellationTokenSource(left))
            {
                try
                {
                    // A socket left by a killed daemon refuses the connection: that answers null.
                    if (await ControlClient.SendAsync(_store, new ControlRequest("status"), timeout.Token) is { Status.Pid: int pid } && pid == Pid)
                    {
                        return;
                    }
                }
                catch (Exception e) when (e is RealizeException or IOException or SocketException or OperationCanceledException)
                {
                    // Starting, or its socket went with a previous process: ask again.
                }
            }
            await Task.Delay(20);
        }
    }

    /// <summary>Sends one request to the daemon; throws when no daemon answers within <paramref name="deadline"/>.</summary>
    public async Task<ControlResponse> SendAsync(string command, TimeSpan deadline)
    {
        using var timeout = new CancellationTokenSource(deadline);
        try
        {
            return await ControlClient.SendAsync(_store, new ControlRequest(command), timeout.Token)
                ?? throw new InvalidOperationException($"no daemon answered '{command}'; the log of pid {Pid}:\n{Log}");
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            throw new TimeoutException($"realize up (pid {Pid}) did not answer '{command}' within {deadline.TotalSeconds:0} s; its log:\n{Log}");
        }
    }

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
    /// <paramref name="deadline"/>, kills it and throws, with the log.
    /// </summary>
    public int Stop(TimeSpan deadline)
    {
        if (!_process.HasExited)
        {
            Posix.Kill(Pid, SigTerm);
            if (!_process.WaitForExit(deadline))
            {
                Kill();
                throw new TimeoutException($"realize up (pid {Pid}) did not stop within {deadline.TotalSeconds:0} s of SIGTERM; its log:\n{Log}");
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
            _log.Append(CultureInfo.InvariantCulture, $"{line}\n");
        }
    }

    public void Dispose()
    {
        try
        {
            Kill();
        }
        finally
        {
            _process.Dispose();
        }
    }
}
