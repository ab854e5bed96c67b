using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Realize.Bench;

/// <summary>
/// Two Syncthing instances on loopback, the reference of the latency and bulk rows (as
/// bench/syncthing.sh runs them): A and B, each with its own home, share one folder
/// (sendreceive, the watcher on at its minimum delay of 1 s, rescans hourly); each knows the
/// other by a static address on 127.0.0.1; discovery, relays, NAT, usage and crash reporting
/// and upgrades are off. Each instance's pids are in <c>WORK/syncthing-X.pid</c> (and its inner
/// process's in <c>WORK/syncthing-X-inner.pid</c>) while it runs, its output in <c>WORK/syncthing-X.log</c>.
/// </summary>
internal sealed partial class Syncthing : IDisposable
{
    private const string FolderId = "bench";
    private const int WatcherDelayS = 1;
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan s_quietTimeout = TimeSpan.FromMinutes(5);

    // Before each change both instances must have had no event for this long (and be in sync):
    // the watcher has then had a tick with nothing to do and stopped its timer, so each change
    // meets a watcher at rest, as a lone change does.
    private static readonly TimeSpan s_quiet = TimeSpan.FromSeconds(WatcherDelayS * 1.5);

    private readonly Instance[] _instances;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };

    private Syncthing(Instance[] instances) => _instances = instances;

    /// <summary>A's folder.</summary>
    public string FolderA => _instances[0].Folder;

    /// <summary>B's folder.</summary>
    public string FolderB => _instances[1].Folder;

    /// <summary>"Syncthing v1.19.2-ds1", from A's REST API.</summary>
    public string Label { get; private set; } = "Syncthing";

    /// <summary>Generates both instances in <paramref name="work"/>, starts them and returns once they are connected and the (empty) folder in sync.</summary>
    public static Syncthing Start(string work)
    {
        Directory.CreateDirectory(work);
        string[] names = ["a", "b"];
        var instances = new Instance[2];
        for (int i = 0; i < 2; i++)
        {
            string home = Path.Combine(work, names[i], "home"), folder = Path.Combine(work, names[i], "folder");
            Directory.CreateDirectory(Path.Combine(folder, ".stfolder"));
            string log = Path.Combine(work, $"syncthing-{names[i]}.log");
            Run(log, "generate", $"--home={home}", "--no-default-folder");
            string id = Run(log, "serve", "--device-id", $"--home={home}").Trim();
            if (!DeviceId().IsMatch(id))
            {
                throw new BenchException($"syncthing gave an unexpected device ID '{id}'; see {log}");
            }
            instances[i] = new Instance(names[i].ToUpperInvariant(), home, folder, log, id, Convert.ToHexString(RandomNumberGenerator()),
                Realize.Network.Loopback.FreePort(), Realize.Network.Loopback.FreePort(), Path.Combine(work, $"syncthing-{names[i]}.pid"));
        }
        var syncthing = new Syncthing(instances);
        try
        {
            var clock = Stopwatch.StartNew();
            // A first, then B once A answers: started together, each dials the other before the
            // other listens, and Syncthing dials again only seconds later.
            for (int i = 0; i < 2; i++)
            {
                File.WriteAllText(Path.Combine(instances[i].Home, "config.xml"), Config(instances[i], instances[1 - i]));
                instances[i].Start();
                syncthing.WaitUntil($"{instances[i].Name}'s REST API", () => syncthing.TryGet(i, "/rest/system/ping") is not null, s_startTimeout);
            }
            syncthing.Label = "Syncthing " + syncthing.Get(0, "/rest/system/version").RootElement.GetProperty("version").GetString();
            syncthing.WaitUntil("the instances to connect", () => syncthing.Connected(0, 1) && syncthing.Connected(1, 0), s_startTimeout);
            syncthing.WaitUntil("the folder in sync", syncthing.InSync, s_startTimeout);
            Console.WriteLine($"syncthing: {syncthing.Label}, A and B connected and in sync after {clock.Elapsed.TotalSeconds:0.0} s (A {instances[0].Folder}, B {instances[1].Folder})");
        }
        catch
        {
            syncthing.Dispose();
            throw;
        }
        return syncthing;
    }

    /// <summary>Every process of both instances, named "A", "A's monitor", ..., for a <see cref="CostMeter"/>.</summary>
    public (string Name, int Pid)[] Processes() => [.. _instances.SelectMany(i => i.Processes())];

    /// <summary>
    /// Waits until both instances are in sync and have had no event for 1.5 watcher delays, so
    /// that the next change meets them at rest.
    /// </summary>
    public void WaitUntilQuiet()
    {
        string ids = "";
        var since = Stopwatch.StartNew();
        WaitUntil("both instances quiet and in sync", () =>
        {
            string now = $"{LastEvent(0)} {LastEvent(1)}";
            if (now != ids)
            {
                ids = now;
                since.Restart();
                return false;
            }
            return since.Elapsed >= s_quiet && InSync();
        }, s_quietTimeout);
    }

    /// <summary>Throws when an instance has exited.</summary>
    public void EnsureRunning()
    {
        foreach (var instance in _instances)
        {
            instance.EnsureRunning();
        }
    }

    /// <summary>Where the instances' logs are, for a message.</summary>
    public string Logs => string.Join(" and ", _instances.Select(i => i.Log));

    public void Dispose()
    {
        foreach (var instance in _instances)
        {
            instance?.Dispose();
        }
        _http.Dispose();
    }

    private bool Connected(int i, int other) =>
        TryGet(i, "/rest/system/connections") is { } doc && doc.RootElement.GetProperty("connections").TryGetProperty(_instances[other].Id, out var c)
        && c.GetProperty("connected").GetBoolean();

    // The folder idle on both, neither needing anything, each knowing the other complete.
    private bool InSync()
    {
        for (int i = 0; i < 2; i++)
        {
            if (TryGet(i, $"/rest/db/status?folder={FolderId}") is not { } status
                || status.RootElement.GetProperty("state").GetString() != "idle"
                || status.RootElement.GetProperty("needTotalItems").GetInt64() != 0
                || (status.RootElement.TryGetProperty("pullErrors", out var errors) && errors.GetInt64() != 0))
            {
                return false;
            }
            if (TryGet(i, $"/rest/db/completion?folder={FolderId}&device={_instances[1 - i].Id}") is not { } completion
                || completion.RootElement.GetProperty("completion").GetDouble() < 100
                || completion.RootElement.GetProperty("needItems").GetInt64() != 0)
            {
                return false;
            }
        }
        return true;
    }

    // The ID of the instance's latest event (0 without any).
    private long LastEvent(int i) =>
        TryGet(i, "/rest/events?since=0&limit=1&timeout=1") is { } doc && doc.RootElement.GetArrayLength() > 0
            ? doc.RootElement[doc.RootElement.GetArrayLength() - 1].GetProperty("id").GetInt64()
            : -1;

    private JsonDocument Get(int i, string path) =>
        TryGet(i, path) ?? throw new BenchException($"{_instances[i].Name}'s REST API did not answer {path}; see {_instances[i].Log}");

    private JsonDocument? TryGet(int i, string path)
    {
        var instance = _instances[i];
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{instance.GuiPort}{path}");
        request.Headers.Add("X-API-Key", instance.ApiKey);
        try
        {
            using var response = _http.Send(request);
            if (!response.IsSuccessStatusCode)
            {
                return null;
            }
            using var body = response.Content.ReadAsStream();
            return JsonDocument.Parse(body);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException or IOException)
        {
            return null;
        }
    }

    private void WaitUntil(string what, Func<bool> done, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!done())
        {
            EnsureRunning();
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"Syncthing: waited {timeout.TotalSeconds:0} s for {what}; see {Logs}");
            }
            Thread.Sleep(50);
        }
    }

    private static byte[] RandomNumberGenerator() => System.Security.Cryptography.RandomNumberGenerator.GetBytes(16);

    // syncthing ARGS, its output appended to LOG; returns its standard output.
    private static string Run(string log, params string[] args)
    {
        var info = new ProcessStartInfo("syncthing") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        using var process = Process.Start(info) ?? throw new BenchException("could not start syncthing");
        var error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        File.AppendAllText(log, output + error.Result);
        return process.ExitCode == 0 ? output : throw new BenchException($"syncthing {string.Join(' ', args)} exited with {process.ExitCode}; see {log}");
    }

    private static string Config(Instance self, Instance other) => $"""
        <configuration version="36">
            <folder id="{FolderId}" label="{FolderId}" path="{self.Folder}" type="sendreceive" rescanIntervalS="3600" fsWatcherEnabled="true" fsWatcherDelayS="{WatcherDelayS}" ignorePerms="false" autoNormalize="true">
                <filesystemType>basic</filesystemType>
                <device id="{self.Id}" introducedBy=""></device>
                <device id="{other.Id}" introducedBy=""></device>
            </folder>
            <device id="{self.Id}" name="{self.Name}" compression="metadata" introducer="false">
                <address>dynamic</address>
            </device>
            <device id="{other.Id}" name="{other.Name}" compression="metadata" introducer="false">
                <address>tcp://127.0.0.1:{other.SyncPort}</address>
                <autoAcceptFolders>false</autoAcceptFolders>
            </device>
            <gui enabled="true" tls="false" debugging="false">
                <address>127.0.0.1:{self.GuiPort}</address>
                <apikey>{self.ApiKey}</apikey>
            </gui>
            <options>
                <listenAddress>tcp://127.0.0.1:{self.SyncPort}</listenAddress>
                <globalAnnounceEnabled>false</globalAnnounceEnabled>
                <localAnnounceEnabled>false</localAnnounceEnabled>
                <relaysEnabled>false</relaysEnabled>
                <natEnabled>false</natEnabled>
                <announceLANAddresses>false</announceLANAddresses>
                <urAccepted>-1</urAccepted>
                <urSeen>3</urSeen>
                <crashReportingEnabled>false</crashReportingEnabled>
                <autoUpgradeIntervalH>0</autoUpgradeIntervalH>
                <startBrowser>false</startBrowser>
                <setLowPriority>false</setLowPriority>
            </options>
        </configuration>
        """;

    [System.Text.RegularExpressions.GeneratedRegex("^[A-Z0-9]{7}(-[A-Z0-9]{7}){7}$")]
    private static partial System.Text.RegularExpressions.Regex DeviceId();

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    /// <summary>One instance: <c>syncthing serve</c> in a process group of its own (setsid), so that its monitor and the process the monitor starts stop together.</summary>
    private sealed class Instance(string name, string home, string folder, string log, string id, string apiKey, int guiPort, int syncPort, string pidFile) : IDisposable
    {
        private const int SigTerm = 15, SigKill = 9;
        private Process? _process;

        public string Name => name;
        public string Home => home;
        public string Folder => folder;
        public string Log => log;
        public string Id => id;
        public string ApiKey => apiKey;
        public int GuiPort => guiPort;
        public int SyncPort => syncPort;

        public void Start()
        {
            var info = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
            // exec setsid: the pid is the group leader's (setsid forks only for a group leader, which sh is not).
            foreach (string arg in (string[])["-c", "exec setsid \"$@\" >> \"$0\" 2>&1 < /dev/null", log, "syncthing", "serve", $"--home={home}",
                "--no-browser", "--no-restart", "--no-upgrade", "--no-default-folder", "--logflags=7"])
            {
                info.ArgumentList.Add(arg);
            }
            info.Environment["STNODEFAULTFOLDER"] = "1";
            info.Environment["STNOUPGRADE"] = "1";
            info.Environment["STNORESTART"] = "1";
            _process = Process.Start(info) ?? throw new BenchException("could not start syncthing serve");
            File.WriteAllText(pidFile, _process.Id.ToString(CultureInfo.InvariantCulture) + "\n");
            Console.WriteLine($"syncthing: started {name} (pid {_process.Id}, REST 127.0.0.1:{guiPort}, sync 127.0.0.1:{syncPort})");
        }

        /// <summary>The instance's process and those below it (the monitor's child, when there is a monitor).</summary>
        public IEnumerable<(string Name, int Pid)> Processes()
        {
            if (_process is null)
            {
                yield break;
            }
            var children = Children(_process.Id);
            if (children.Count == 0)
            {
                yield return (name, _process.Id);
                yield break;
            }
            yield return ($"{name}'s monitor", _process.Id);
            foreach (int child in children)
            {
                File.WriteAllText(pidFile.Replace(".pid", "-inner.pid", StringComparison.Ordinal), child.ToString(CultureInfo.InvariantCulture) + "\n");
                yield return (name, child);
            }
        }

        public void EnsureRunning()
        {
            if (_process is { HasExited: true })
            {
                throw new BenchException($"Syncthing {name} exited with {_process.ExitCode}; see {log}");
            }
        }

        public void Dispose()
        {
            if (_process is null)
            {
                return;
            }
            if (!_process.HasExited)
            {
                Kill(-_process.Id, SigTerm);
                if (!_process.WaitForExit(TimeSpan.FromSeconds(10)))
                {
                    Kill(-_process.Id, SigKill);
                    _process.WaitForExit(TimeSpan.FromSeconds(10));
                }
            }
            // The group's other members (the monitor's child) go with SIGTERM too; whatever is left is killed.
            Kill(-_process.Id, SigKill);
            File.Delete(pidFile);
            File.Delete(pidFile.Replace(".pid", "-inner.pid", StringComparison.Ordinal));
            _process.Dispose();
            _process = null;
        }

        private static List<int> Children(int pid)
        {
            var result = new List<int>();
            foreach (string task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
            {
                try
                {
                    result.AddRange(File.ReadAllText(Path.Combine(task, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries)
                        .Select(c => int.Parse(c, CultureInfo.InvariantCulture)));
                }
                catch (IOException)
                {
                    // The task ended meanwhile.
                }
            }
            return result;
        }
    }
}
