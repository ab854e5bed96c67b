using System.CommandLine;
using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Realize.Core;
using Realize.Linux;
using Realize.Real;
using Realize.Storage;

namespace Realize.Cli;

/// <summary>
/// The built-in demo: a store in a temporary directory whose merged view lies over a small
/// sample lower directory; a few changes through the view and the history a scan makes of
/// them; then the daemon, recording changes live, also in a plain-directory arena; then a
/// household of two peers on this machine, one listening and one blind, whose changes
/// reach each other; last, a peer whose merged view lies over the Unreal (<see cref="DemoUnreal"/>).
/// </summary>
internal static class Demo
{
    public static Command Command(TextWriter output, TextWriter error)
    {
        var keep = new Option<bool>("--keep") { Description = "Keep the demo's directory (and leave the view mounted) to look around" };
        var command = new Command("demo", "Run the built-in demo on this machine (needs root)") { keep };
        command.SetAction(parsed => Run(output, parsed.GetValue(keep)));
        return command;
    }

    private static int Run(TextWriter output, bool keep)
    {
        if (!Environment.IsPrivilegedProcess)
        {
            throw new RealizeException("the demo mounts an overlay and needs root: run 'sudo realize demo'");
        }
        string top = Directory.CreateTempSubdirectory("realize-demo-").FullName;
        string lower = Path.Combine(top, "lower");
        string view = Path.Combine(top, "view");
        Write(Path.Combine(lower, "docs", "readme.txt"), "Shared by another peer.\n");
        Write(Path.Combine(lower, "docs", "plans", "2027.txt"), "Visit the sea.\n");
        Write(Path.Combine(lower, "docs", "old", "draft.txt"), "An old draft.\n");
        Write(Path.Combine(lower, "photos", "cat.txt"), "(a picture of a cat)\n");

        output.WriteLine($"# demo store in {top}");
        bool mounted = false;
        try
        {
            Show(output, top, lower, view, keep, ref mounted);
        }
        finally
        {
            // Never recurse into a view that failed to unmount.
            if ((!keep || !mounted) && Mounts.FindMount(view) is null)
            {
                Directory.Delete(top, recursive: true);
            }
        }
        return 0;
    }

    private static void Show(TextWriter output, string top, string lower, string view, bool keep, ref bool kept)
    {
        var store = Store.Create(Path.Combine(top, "store"), new StoreConfig { Mount = view, Lower = lower });
        output.WriteLine($"# peer ID {store.LoadPeerId()}");
        store.SaveConfig(store.Config with { Arenas = [new ArenaConfig(ArenaName.Parse("docs")), new ArenaConfig(ArenaName.Parse("photos"))] });
        MergedView.Mount(store);
        kept = keep;
        try
        {
            output.WriteLine($"# merged view at {view}: changes made through it");
            Step(output, "echo 'A note of mine.' > docs/mine.txt", () => Write(Path.Combine(view, "docs", "mine.txt"), "A note of mine.\n"));
            Step(output, "echo 'Edited here.' >> docs/readme.txt", () => File.AppendAllText(Path.Combine(view, "docs", "readme.txt"), "Edited here.\n"));
            Step(output, "mv docs/plans docs/ideas", () => Directory.Move(Path.Combine(view, "docs", "plans"), Path.Combine(view, "docs", "ideas")));
            Step(output, "rm -r docs/old", () => Directory.Delete(Path.Combine(view, "docs", "old"), recursive: true));
            Step(output, "chmod 600 photos/cat.txt", () => File.SetUnixFileMode(Path.Combine(view, "photos", "cat.txt"), UnixFileMode.UserRead | UnixFileMode.UserWrite));

            using var index = store.OpenIndex();
            output.WriteLine($"# realize scan: {StoreScan.Run(store, index, NullLogger.Instance)}");
            output.WriteLine("# realize history --json");
            foreach (var notification in index.ReadHistory(null))
            {
                output.WriteLine(HistoryJson.Format(notification));
            }
            output.WriteLine($"# a second scan adds nothing: {StoreScan.Run(store, index, NullLogger.Instance)}");
        }
        finally
        {
            MergedView.Unmount(store);
        }
        Live(output, store, top);
        Household(output, store, top);
        DemoUnreal.Run(output, top);
        if (keep)
        {
            MergedView.Mount(store);
            output.WriteLine($"# kept: look in {view}, then 'realize --store {store.Root} unmount'");
        }
        else
        {
            kept = false;
        }
    }

    /// <summary>Part two: <c>realize up</c> in this process, and changes it records as they happen.</summary>
    private static void Live(TextWriter output, Store store, string top)
    {
        string music = Path.Combine(top, "music");
        Write(Path.Combine(music, "tune.txt"), "(a tune)\n");
        output.WriteLine("# realize up: mounts the view, catches up, then records changes as they happen");
        using var stop = new CancellationTokenSource();
        var daemon = Task.Run(() => Daemon.Daemon.RunAsync(store, new Daemon.DaemonOptions(), NullLoggerFactory.Instance, stop.Token));
        try
        {
            Until(daemon, () => Status(store) is not null, "the daemon to answer");
            string view = store.Config.Mount!;
            LiveStep(output, store, daemon, "echo 'Written while it runs.' > docs/live.txt", () => Write(Path.Combine(view, "docs", "live.txt"), "Written while it runs.\n"));
            LiveStep(output, store, daemon, "mv docs/ideas docs/someday", () => Directory.Move(Path.Combine(view, "docs", "ideas"), Path.Combine(view, "docs", "someday")));
            AddArena(output, store, daemon, music);
            LiveStep(output, store, daemon, $"echo 'la la' > {music}/song.txt", () => Write(Path.Combine(music, "song.txt"), "la la\n"));
            Unplug(output, store, daemon, music);
            var status = Status(store);
            output.WriteLine($"# realize status: {string.Join("; ", status!.Arenas.Select(a => $"{a.Name} {a.FilesIndexed} files, history {a.HistoryLength}"))}; {status.Watches} directories watched");
        }
        finally
        {
            stop.Cancel();
            daemon.GetAwaiter().GetResult();
        }
        output.WriteLine("# stopped (as on Ctrl-C): what was pending is recorded, the view unmounted");
    }

    /// <summary><c>arena add</c> while the daemon runs: it scans and watches the new arena without a restart.</summary>
    private static void AddArena(TextWriter output, Store store, Task daemon, string music)
    {
        var name = ArenaName.Parse("music");
        output.WriteLine($"$ realize arena add music --path {music}   # a plain directory, shared as it is; no restart");
        var clock = Stopwatch.StartNew();
        ArenaMarker.Write(music, name);
        store.SaveConfig(store.Config with { Arenas = [.. store.Config.Arenas, new ArenaConfig(name, music)] });
        using var index = store.OpenIndex();
        Until(daemon, () => index.LastIndex(name) > 0, "the new arena to be scanned");
        output.WriteLine($"# scanned and watched within {clock.Elapsed.TotalMilliseconds:0} ms:");
        foreach (var notification in index.ReadHistory(name, 0))
        {
            output.WriteLine(HistoryJson.Format(notification));
        }
    }

    /// <summary>A plain arena's directory gone (as when its disk is unmounted): not recorded as removed, and resumed once back.</summary>
    private static void Unplug(TextWriter output, Store store, Task daemon, string music)
    {
        using var index = store.OpenIndex();
        long before = index.LastIndex(ArenaName.Parse("music"));
        output.WriteLine($"$ mv {music} {music}.unplugged   # as if its disk were unmounted");
        Directory.Move(music, music + ".unplugged");
        Until(daemon, () => Status(store)?.Arenas.Single(a => a.Name == "music").State == "unavailable", "music to be unavailable");
        output.WriteLine($"# realize status: music unavailable: {Status(store)!.Arenas.Single(a => a.Name == "music").Problem}");
        output.WriteLine($"$ mv {music}.unplugged {music}");
        var clock = Stopwatch.StartNew();
        Directory.Move(music + ".unplugged", music);
        Until(daemon, () => Status(store)?.Arenas.Single(a => a.Name == "music").State == "recorded", "music to be recorded again");
        long removed = index.ReadHistory(ArenaName.Parse("music"), before).Count(n => n.Type == NotificationType.Removed);
        output.WriteLine($"# recorded again within {clock.Elapsed.TotalMilliseconds:0} ms; removals recorded meanwhile: {removed}");
    }

    private static Daemon.DaemonStatus? Status(Store store) =>
        Daemon.ControlClient.SendAsync(store, new Daemon.ControlRequest("status")).GetAwaiter().GetResult()?.Status;

    /// <summary>Part three: a second peer, blind, and both daemons exchanging their histories over TLS on loopback.</summary>
    private static void Household(TextWriter output, Store nas, string top)
    {
        int port = Network.Loopback.FreePort();
        string laptopMusic = Path.Combine(top, "laptop-music");
        Directory.CreateDirectory(laptopMusic);
        ArenaMarker.Write(laptopMusic, ArenaName.Parse("music"));
        // The laptop has no merged view: it keeps only the others' table of docs, and shares its own music.
        var laptop = Store.Create(Path.Combine(top, "laptop"), new StoreConfig
        {
            Arenas = [new ArenaConfig(ArenaName.Parse("docs")), new ArenaConfig(ArenaName.Parse("music"), laptopMusic)],
        });
        output.WriteLine($"# a household: this store listens, a second one ('laptop', blind: no address) connects to it");
        output.WriteLine($"$ realize --store {nas.Root} init --listen 127.0.0.1:{port}   (here: set in realize.toml)");
        nas.SaveConfig(nas.Config with { Listen = $"127.0.0.1:{port}", Peers = [new PeerConfig("laptop", laptop.LoadPeerId())] });
        output.WriteLine($"$ realize --store {nas.Root} peer add laptop {laptop.LoadPeerId()}");
        laptop.SaveConfig(laptop.Config with { Peers = [new PeerConfig("nas", nas.LoadPeerId(), $"127.0.0.1:{port}")] });
        output.WriteLine($"$ realize --store {laptop.Root} peer add nas {nas.LoadPeerId()} --address 127.0.0.1:{port}");
        output.WriteLine("# realize up on both");
        using var stop = new CancellationTokenSource();
        var options = new Daemon.DaemonOptions();
        var daemons = new[]
        {
            Task.Run(() => Daemon.Daemon.RunAsync(nas, options, NullLoggerFactory.Instance, stop.Token)),
            Task.Run(() => Daemon.Daemon.RunAsync(laptop, options, NullLoggerFactory.Instance, stop.Token)),
        };
        var running = Task.WhenAny(daemons).Unwrap();
        try
        {
            var nasId = nas.LoadPeerId();
            using (var index = nas.OpenIndex())
            {
                Until(running, () =>
                {
                    using var unreal = laptop.OpenUnreal();
                    return nas.Config.Arenas.All(a => unreal.ReceivedIndex(nasId, a.Name) == index.LastIndex(a.Name));
                }, "the laptop to receive nas's history");
            }
            output.WriteLine($"# realize --store laptop files: the laptop knows nas's {RemoteFiles(laptop, nasId).Count} files without holding any of them, e.g.");
            output.WriteLine(HistoryJson.Format("nas", RemoteFiles(laptop, nasId).First(f => f.Path.Value == "someday/2027.txt")));
            string view = nas.Config.Mount!;
            Arrives(output, running, "on nas: echo 'From the nas.' > docs/arrived.txt", laptop, nasId, "nas", "arrived.txt",
                () => Write(Path.Combine(view, "docs", "arrived.txt"), "From the nas.\n"));
            Arrives(output, running, $"on the laptop: echo 'From the laptop.' > {laptopMusic}/laptop-song.txt", nas, laptop.LoadPeerId(), "laptop", "laptop-song.txt",
                () => Write(Path.Combine(laptopMusic, "laptop-song.txt"), "From the laptop.\n"));
            var status = Daemon.ControlClient.SendAsync(nas, new Daemon.ControlRequest("status")).GetAwaiter().GetResult()?.Status;
            foreach (var peer in status?.Peers ?? [])
            {
                output.WriteLine($"# realize status on nas: peer {peer.Name} {(peer.Connected ? "connected" : "not connected")}; "
                    + string.Join("; ", peer.Arenas.Select(a => $"{a.Arena}: {a.Pending} to send, received up to {a.Received}")));
            }
        }
        finally
        {
            stop.Cancel();
            foreach (var daemon in daemons)
            {
                daemon.GetAwaiter().GetResult();
            }
        }
        output.WriteLine("# both stopped");
    }

    private static List<RemoteFile> RemoteFiles(Store store, PeerId peer)
    {
        using var unreal = store.OpenUnreal();
        return unreal.ListFiles(null, peer).ToList();
    }

    private static void Arrives(TextWriter output, Task running, string shell, Store at, PeerId from, string fromName, string path, Action action)
    {
        output.WriteLine($"$ {shell}");
        var clock = Stopwatch.StartNew();
        action();
        RemoteFile? arrived = null;
        Until(running, () => (arrived = RemoteFiles(at, from).FirstOrDefault(f => f.Path.Value == path)) is not null, $"{path} to arrive");
        output.WriteLine($"# in the other peer's table within {clock.Elapsed.TotalMilliseconds:0} ms:");
        output.WriteLine(HistoryJson.Format(fromName, arrived!));
    }

    private static void LiveStep(TextWriter output, Store store, Task daemon, string shell, Action action)
    {
        using var index = store.OpenIndex();
        var before = store.Config.Arenas.ToDictionary(a => a.Name, a => index.LastIndex(a.Name));
        output.WriteLine($"$ {shell}");
        var clock = Stopwatch.StartNew();
        action();
        List<Notification> added = [];
        Until(daemon, () =>
        {
            added = before.SelectMany(b => index.ReadHistory(b.Key, b.Value)).ToList();
            return added.Count > 0;
        }, $"'{shell}' to be recorded");
        // A rename makes two notifications or more: let the daemon finish the batch.
        Until(daemon, () => Daemon.ControlClient.SendAsync(store, new Daemon.ControlRequest("status")).GetAwaiter().GetResult()?.Status is { Waiting: 0 }, "the daemon to settle");
        added = before.SelectMany(b => index.ReadHistory(b.Key, b.Value)).ToList();
        output.WriteLine($"# recorded within {clock.Elapsed.TotalMilliseconds:0} ms:");
        foreach (var notification in added)
        {
            output.WriteLine(HistoryJson.Format(notification));
        }
    }

    internal static void Until(Task daemon, Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (daemon.IsCompleted)
            {
                daemon.GetAwaiter().GetResult();
                throw new RealizeException($"the demo's daemon stopped before {what}");
            }
            if (clock.Elapsed > TimeSpan.FromSeconds(20))
            {
                throw new RealizeException($"the demo waited 20 s for {what}: is the machine very busy?");
            }
            Thread.Sleep(2);
        }
    }

    private static void Step(TextWriter output, string shell, Action action)
    {
        output.WriteLine($"$ {shell}");
        action();
    }

    private static void Write(string path, string text)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }
}
