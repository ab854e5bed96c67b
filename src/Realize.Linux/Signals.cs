using System.Globalization;

namespace Realize.Linux;

/// <summary>Signal numbers, and kill(2), for stopping or crashing a process such as <c>realize up</c>.</summary>
public static class Signals
{
    /// <summary>Interrupt, as ^C sends: <c>realize up</c> stops cleanly.</summary>
    public const int SIGINT = Interop.SIGINT;

    /// <summary>Kill, which cannot be caught: a crash.</summary>
    public const int SIGKILL = Interop.SIGKILL;

    /// <summary>Terminate, as systemd or kill(1) sends: <c>realize up</c> stops cleanly.</summary>
    public const int SIGTERM = Interop.SIGTERM;

    /// <summary>
    /// Sends <paramref name="signal"/> to process <paramref name="pid"/>; false when there is no
    /// such process (it has exited already), a <see cref="LinuxException"/> for any other failure.
    /// </summary>
    public static bool Send(int pid, int signal)
    {
        if (Interop.kill(pid, signal) == 0)
        {
            return true;
        }
        var error = LinuxException.FromLastError("kill", "pid " + pid.ToString(CultureInfo.InvariantCulture));
        return error.Errno == Interop.ESRCH ? false : throw error;
    }
}
