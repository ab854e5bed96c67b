using System.Diagnostics;
using System.Globalization;

namespace Realize.Bench;

/// <summary>
/// Timing helpers and the machine-readable output: every figure is a line
/// <c>RESULT key value</c> on stdout (seconds, MB or counts); other lines are for people.
/// </summary>
internal static class Measure
{
    /// <summary>Prints one machine-readable figure.</summary>
    public static void Result(string key, double value) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"RESULT {key} {value:0.######}"));

    /// <summary>Prints the median, minimum and maximum of a series as <c>key</c>, <c>key_min</c> and <c>key_max</c>, and every run.</summary>
    public static double Series(string key, IReadOnlyList<double> values)
    {
        Console.WriteLine($"{key}: runs {string.Join(' ', values.Select(v => v.ToString("0.0000", CultureInfo.InvariantCulture)))}");
        double median = Median(values);
        Result(key, median);
        Result(key + "_min", values.Min());
        Result(key + "_max", values.Max());
        return median;
    }

    public static double Median(IReadOnlyList<double> values)
    {
        if (values.Count == 0)
        {
            throw new ArgumentException("no values", nameof(values));
        }
        var sorted = values.Order().ToArray();
        int middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

    /// <summary>
    /// Runs <c>/bin/sh -c script sh args...</c> (so the script can redirect to /dev/null) and
    /// returns its wall-clock time. Throws when it fails.
    /// </summary>
    public static double Shell(string script, params string[] args)
    {
        var info = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(script);
        info.ArgumentList.Add("sh");
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(info) ?? throw new InvalidOperationException("could not start /bin/sh");
        process.WaitForExit();
        double elapsed = clock.Elapsed.TotalSeconds;
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"'{script}' {string.Join(' ', args)} exited with {process.ExitCode}");
        }
        return elapsed;
    }

    /// <summary>Runs a program, returns its wall-clock time and its standard output (small).</summary>
    public static (double Seconds, string Output) Capture(string program, params string[] args)
    {
        var info = new ProcessStartInfo(program) { UseShellExecute = false, RedirectStandardOutput = true };
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {program}");
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        double elapsed = clock.Elapsed.TotalSeconds;
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} exited with {process.ExitCode}");
        }
        return (elapsed, output);
    }

    /// <summary>
    /// CPU time, in seconds, of this process and of the whole machine (all cores, busy: not
    /// idle nor waiting for I/O, steal included), to tell how much of the cores others took.
    /// </summary>
    public static (double Process, double Machine) CpuSeconds()
    {
        double process = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
        // cpu  user nice system idle iowait irq softirq steal ... (in USER_HZ, 100 a second)
        string[] fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        double busy = 0;
        for (int i = 1; i <= 8 && i < fields.Length; i++)
        {
            if (i is not 4 and not 5)
            {
                busy += long.Parse(fields[i], CultureInfo.InvariantCulture);
            }
        }
        return (process, busy / 100.0);
    }

    /// <summary>Reads a page-cache copy of <paramref name="path"/>: <c>cat FILE &gt; /dev/null</c>.</summary>
    public static void Warm(string path) => Shell("cat \"$1\" > /dev/null", path);

    /// <summary>
    /// A field of <c>/proc/self/status</c>, or of another process's <paramref name="status"/>
    /// file (the kernel's "kB" are KiB), in MB of 10^6 bytes, the stricter reading of a limit in MB.
    /// </summary>
    public static double StatusMegabytes(string field, string status = "/proc/self/status")
    {
        foreach (string line in File.ReadLines(status))
        {
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
            {
                string[] parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return long.Parse(parts[1], CultureInfo.InvariantCulture) * 1024 / 1e6;
            }
        }
        throw new InvalidOperationException($"{status} has no {field}");
    }
}
