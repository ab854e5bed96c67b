using System.Diagnostics;
using System.Globalization;
using Realize.Linux;

namespace Realize.Bench;

/// <summary>
/// rclone beside the Unreal's first read: <c>rclone serve http</c> of A's directory on
/// 127.0.0.1 (read-only, no keys: it works offline on loopback) and <c>rclone mount :http:</c>
/// of it with <c>--vfs-cache-mode full</c> and an empty cache directory, both new for each read,
/// so that each read fetches everything over loopback as the Unreal's does. Each
/// process's pid is kept in <c>WORK/*.pid</c> while it runs (bench/run stops what is left from
/// there), its output in <c>WORK/*.log</c>.
/// </summary>
internal sealed class Rclone : IDisposable
{
    private readonly RcloneProcess _serve;
    private readonly string _work;
    private readonly string _url;

    private Rclone(RcloneProcess serve, string work, string url)
    {
        _serve = serve;
        _work = work;
        _url = url;
    }

    /// <summary>Starts <c>rclone serve http DIRECTORY</c> and returns once it answers.</summary>
    public static Rclone Serve(string directory, string work)
    {
        Directory.CreateDirectory(work);
        int port = Realize.Network.Loopback.FreePort();
        string address = string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{port}");
        var serve = RcloneProcess.Start(work, "serve", ["serve", "http", directory, "--addr", address, "--read-only"]);
        var rclone = new Rclone(serve, work, $"http://{address}");
        try
        {
            serve.WaitUntil(() => Answers(port), $"rclone serve http to answer on {address}");
        }
        catch
        {
            rclone.Dispose();
            throw;
        }
        return rclone;
    }

    /// <summary>"rclone v1.60.1-DEV": the first line of <c>rclone version</c>.</summary>
    public static string Version() => Measure.Capture("rclone", "version").Output.Split('\n')[0].Trim();

    /// <summary>The serving process's peak RSS (MB) and CPU seconds so far.</summary>
    public (double Peak, double Cpu) Cost() => (_serve.PeakMegabytes(), _serve.CpuSeconds());

    /// <summary>A new mount with an empty cache, returned once it shows <paramref name="name"/> with <paramref name="size"/> bytes.</summary>
    public RcloneMount Mount(int run, string name, long size)
    {
        string mount = Path.Combine(_work, string.Create(CultureInfo.InvariantCulture, $"mnt-{run}"));
        string cache = Path.Combine(_work, string.Create(CultureInfo.InvariantCulture, $"cache-{run}"));
        Directory.CreateDirectory(mount);
        Directory.CreateDirectory(cache);
        var process = RcloneProcess.Start(_work, "mount", ["mount", ":http:", mount, "--http-url", _url, "--vfs-cache-mode", "full",
            "--cache-dir", cache, "--read-only", "--dir-cache-time", "1h"]);
        var result = new RcloneMount(process, mount, cache);
        try
        {
            process.WaitUntil(() => Mounts.IsMountPoint(mount) && new FileInfo(Path.Combine(mount, name)) is { Exists: true } file && file.Length == size,
                $"rclone mount to show {name} with {size} bytes");
        }
        catch
        {
            result.Dispose();
            throw;
        }
        return result;
    }

    public void Dispose() => _serve.Dispose();

    private static bool Answers(int port)
    {
        try
        {
            using var client = new System.Net.Sockets.TcpClient();
            client.Connect("127.0.0.1", port);
            return true;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }
}

/// <summary>One <c>rclone mount</c>: unmounted, stopped and its cache removed when disposed.</summary>
internal sealed class RcloneMount : IDisposable
{
    private readonly RcloneProcess _process;
    private readonly string _cache;

    public RcloneMount(RcloneProcess process, string path, string cache)
    {
        _process = process;
        Path = path;
        _cache = cache;
    }

    /// <summary>The mount point.</summary>
    public string Path { get; }

    /// <summary>The peak RSS (MB) and CPU seconds of the mount's process so far.</summary>
    public (double Peak, double Cpu) Cost() => (_process.PeakMegabytes(), _process.CpuSeconds());

    public void Dispose()
    {
        if (Mounts.IsMountPoint(Path))
        {
            // rclone exits once its mount is gone.
            Mounts.Unmount(Path, detach: true);
        }
        _process.Dispose();
        Directory.Delete(_cache, recursive: true);
    }
}

/// <summary>An rclone process, its output appended to <c>WORK/NAME.log</c>, its pid in <c>WORK/NAME.pid</c> while it runs.</summary>
internal sealed class RcloneProcess : IDisposable
{
    private readonly Process _process;
    private readonly string _pidFile;

    private RcloneProcess(Process process, string pidFile, string log)
    {
        _process = process;
        _pidFile = pidFile;
        Log = log;
    }

    public string Log { get; }

    public static RcloneProcess Start(string work, string name, string[] args)
    {
        string log = System.IO.Path.Combine(work, name + ".log");
        var info = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        // exec: the pid is rclone's own.
        foreach (string arg in (string[])["-c", "exec \"$@\" >> \"$0\" 2>&1", log, "rclone", .. args])
        {
            info.ArgumentList.Add(arg);
        }
        var process = Process.Start(info) ?? throw new BenchException("could not start rclone");
        string pidFile = System.IO.Path.Combine(work, name + ".pid");
        File.WriteAllText(pidFile, process.Id.ToString(CultureInfo.InvariantCulture) + "\n");
        return new RcloneProcess(process, pidFile, log);
    }

    /// <summary>Polls <paramref name="done"/> every 20 ms until it holds; throws when rclone exits or after a minute.</summary>
    public void WaitUntil(Func<bool> done, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!done())
        {
            if (_process.HasExited)
            {
                throw new BenchException($"rclone exited with {_process.ExitCode} while waiting for {what}; see {Log}");
            }
            if (clock.Elapsed > TimeSpan.FromMinutes(1))
            {
                throw new BenchException($"waited a minute for {what}; see {Log}");
            }
            Thread.Sleep(20);
        }
    }

    public double PeakMegabytes() => Measure.StatusMegabytes("VmHWM", $"/proc/{_process.Id}/status");

    public double CpuSeconds() => CostMeter.CpuSeconds(_process.Id);

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }
        if (!_process.WaitForExit(TimeSpan.FromSeconds(30)))
        {
            throw new BenchException($"rclone (pid {_process.Id}) did not exit within 30 s of SIGKILL");
        }
        File.Delete(_pidFile);
        _process.Dispose();
    }
}
