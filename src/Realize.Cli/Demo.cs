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
/// them; then the daemon, recording changes live, also in a plain-directory arena.
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
        store.SaveConfig(store.Config with { Arenas = [.. store.Config.Arenas, new ArenaConfig(ArenaName.Parse("music"), music)] });
        output.WriteLine($"# realize arena add music --path {music}   (a plain directory, shared as it is)");
        output.WriteLine("# realize up: mounts the view, catches up, then records changes as they happen");
        using var stop = new CancellationTokenSource();
        var daemon = Task.Run(() => Daemon.Daemon.RunAsync(store, new Daemon.DaemonOptions(), NullLoggerFactory.Instance, stop.Token));
        try
        {
            Until(daemon, () => Daemon.ControlClient.SendAsync(store, new Daemon.ControlRequest("status")).GetAwaiter().GetResult()?.Status is not null, "the daemon to answer");
            string view = store.Config.Mount!;
            LiveStep(output, store, daemon, "echo 'Written while it runs.' > docs/live.txt", () => Write(Path.Combine(view, "docs", "live.txt"), "Written while it runs.\n"));
            LiveStep(output, store, daemon, "mv docs/ideas docs/someday", () => Directory.Move(Path.Combine(view, "docs", "ideas"), Path.Combine(view, "docs", "someday")));
            LiveStep(output, store, daemon, $"echo 'la la' > {music}/song.txt", () => Write(Path.Combine(music, "song.txt"), "la la\n"));
            var status = Daemon.ControlClient.SendAsync(store, new Daemon.ControlRequest("status")).GetAwaiter().GetResult()?.Status;
            output.WriteLine($"# realize status: {string.Join("; ", status!.Arenas.Select(a => $"{a.Name} {a.FilesIndexed} files, history {a.HistoryLength}"))}; {status.Watches} directories watched");
        }
        finally
        {
            stop.Cancel();
            daemon.GetAwaiter().GetResult();
        }
        output.WriteLine("# stopped (as on Ctrl-C): what was pending is recorded, the view unmounted");
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

    private static void Until(Task daemon, Func<bool> condition, string what)
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
