using System.Globalization;

namespace Realize.Bench;

/// <summary>
/// The peak RSS and CPU seconds of some processes over one row: at the start each one's peak
/// (VmHWM) is reset to its current RSS (<c>echo 5 &gt; /proc/PID/clear_refs</c>) and its CPU
/// time (utime + stime of <c>/proc/PID/stat</c>) read; at the end VmHWM is the peak during the
/// row and the CPU time grew by what the row cost.
/// </summary>
internal sealed class CostMeter
{
    private readonly (string Name, int Pid, double Cpu)[] _processes;

    private CostMeter((string Name, int Pid, double Cpu)[] processes) => _processes = processes;

    /// <summary>Starts measuring the named processes.</summary>
    public static CostMeter Start(params (string Name, int Pid)[] processes)
    {
        foreach (var (_, pid) in processes)
        {
            // Resets the peak RSS to the current one (proc(5), since Linux 4.0).
            File.WriteAllText($"/proc/{pid}/clear_refs", "5\n");
        }
        return new CostMeter([.. processes.Select(p => (p.Name, p.Pid, CpuSeconds(p.Pid)))]);
    }

    /// <summary>Starts measuring the daemons.</summary>
    public static CostMeter Start(params (string Name, BenchDaemon Daemon)[] daemons) =>
        Start([.. daemons.Select(d => (d.Name, d.Daemon.Pid))]);

    /// <summary>"A: peak 95.2 MB, 1.23 CPU s; B: ...": each process's peak RSS and CPU seconds since the start.</summary>
    public string Finish() => string.Join("; ", Figures().Select(p => string.Create(CultureInfo.InvariantCulture,
        $"{p.Name}: peak {p.PeakMegabytes:0.0} MB, {p.CpuSeconds:0.00} CPU s")));

    /// <summary>Each process's peak RSS (MB) and CPU seconds since the start.</summary>
    public IReadOnlyList<(string Name, double PeakMegabytes, double CpuSeconds)> Figures() =>
        [.. _processes.Select(p => (p.Name, Measure.StatusMegabytes("VmHWM", $"/proc/{p.Pid}/status"), CpuSeconds(p.Pid) - p.Cpu))];

    /// <summary>User and system CPU time of a process so far, in seconds (<c>/proc/PID/stat</c>).</summary>
    public static double CpuSeconds(int pid)
    {
        string stat = File.ReadAllText($"/proc/{pid}/stat");
        // pid (comm) state ppid ...: utime and stime are fields 14 and 15, in USER_HZ (100 a second).
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }
}
