using System.CommandLine;
using Microsoft.Extensions.Logging.Abstractions;
using Realize.Core;
using Realize.Linux;
using Realize.Real;
using Realize.Storage;

namespace Realize.Cli;

/// <summary>
/// The built-in demo: a store in a temporary directory whose merged view lies over a small
/// sample lower directory; a few changes through the view; the history they make.
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
        bool mounted = true;
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
            if (keep)
            {
                mounted = false;
                output.WriteLine($"# kept: look in {view}, then 'realize --store {store.Root} unmount'");
            }
        }
        finally
        {
            if (mounted)
            {
                MergedView.Unmount(store);
            }
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
