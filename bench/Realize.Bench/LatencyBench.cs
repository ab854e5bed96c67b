using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Realize.Bench;

/// <summary>
/// The change-latency rows (<c>latency DIR</c>): an operation on peer A, from just before it
/// (a close(), an unlink(), a rename()) until peer B shows its result with the right content,
/// Realize (through B's merged view, read back and compared) against Syncthing (B's folder),
/// <see cref="ChangeSides"/>. Each row first makes the files its runs change and waits until B
/// has them (not timed); before each run both peers are at rest. B is polled every millisecond,
/// with a deadline.
/// </summary>
internal static class LatencyBench
{
    // Why a delete or rename takes longer on Realize: it is no close() after writing.
    private static readonly string s_settle = $"A at the default --settle-ms {ChangeSides.SettleMs}, which a delete or rename waits; Syncthing's watcher waits 1 s";

    /// <summary>The five rows: create, edit, delete and rename a small file, rename a directory of <paramref name="dirFiles"/> files.</summary>
    public static int Run(string dir, string cli, int runs, int dirFiles)
    {
        string[] measures =
        [
            "create a small file on A until B reads it with its content",
            "edit (overwrite in place) a small file on A until B reads its new content",
            $"delete a small file on A until B no longer has it ({s_settle})",
            $"rename a small file on A until B has it under the new name only, with its content ({s_settle})",
            $"rename a directory of {dirFiles:N0} small files on A until B lists them all under the new name, the old gone, and each reads right (B read them all before; {s_settle})",
        ];
        ChangeSides sides;
        try
        {
            sides = ChangeSides.Start(dir, cli, cacheQuota: 1L << 30);
        }
        catch (Exception e) when (e is BenchException or IOException or InvalidOperationException or TimeoutException or Realize.Core.RealizeException)
        {
            foreach (string measure in measures)
            {
                Rows.Skip(measure, $"the peers did not start: {e.Message.Split('\n')[0]}");
            }
            return 0;
        }
        using (sides)
        {
            // The files the edit, delete and rename runs change, made at once on each side (not
            // timed), long before their runs (a change soon after the last examination of the path
            // would wait a settle delay).
            string? unprepared = null;
            try
            {
                foreach (var side in sides.Both)
                {
                    Prepare(side, runs, ["edit", "delete", "rename"]);
                }
            }
            catch (Exception e) when (e is BenchException or IOException or TimeoutException)
            {
                Console.WriteLine($"latency: the files to change: {e}");
                unprepared = $"the files to change did not reach B: {e.Message.Split('\n')[0]}";
            }
            var rows = new (string Key, (string, double)? Target, Func<Side, int, double> Operation)[]
            {
                ("latency_create", ("≤ 50 ms", 0.050), Create),
                ("latency_edit", null, Edit),
                ("latency_delete", null, Delete),
                ("latency_rename", null, Rename),
            };
            for (int i = 0; i < rows.Length; i++)
            {
                var row = rows[i];
                if (unprepared is not null)
                {
                    Rows.Skip(measures[i], unprepared);
                    continue;
                }
                Rows.Measure(measures[i], () => sides.Compare(runs, row.Key, row.Target, _ => { }, Timed(row.Operation)));
            }
            Rows.Measure(measures[4], () => sides.Compare(runs, "latency_rename_dir", ("≤ 100 ms (issue 10, of 100 files)", 0.100),
                side => PrepareDirectory(side, dirFiles), Timed((side, run) => RenameDirectory(side, run, dirFiles))));
            sides.Stop();
        }
        return 0;
    }

    private static Func<Side, int, (double, double?)> Timed(Func<Side, int, double> operation) => (side, run) => (operation(side, run), null);

    private static string Lat(Side side, bool target, string name) => Path.Combine(target ? side.Target : side.Source, "lat", name);

    private static byte[] Content(string what, int run) =>
        Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{what} {run} {Stopwatch.GetTimestamp()}\n"));

    // The directory lat/ and, for each operation named, a file for each run, until B reads them all.
    private static void Prepare(Side side, int runs, string[] names)
    {
        Directory.CreateDirectory(Path.Combine(side.Source, "lat"));
        var files = new List<string> { "keep.txt" };
        Libc.CreateFile(Lat(side, target: false, "keep.txt"), "keep\n"u8);
        foreach (string name in names)
        {
            for (int run = 0; run < runs; run++)
            {
                string file = string.Create(CultureInfo.InvariantCulture, $"{name}-{run}.txt");
                Libc.CreateFile(Lat(side, target: false, file), Content(name + " before", run));
                files.Add(file);
            }
        }
        var pending = files.ToList();
        ChangeSides.Until(side, Stopwatch.GetTimestamp(), "the files the runs change", () =>
        {
            pending.RemoveAll(f => ChangeSides.ReadsAs(Lat(side, target: true, f), File.ReadAllBytes(Lat(side, target: false, f))));
            return pending.Count == 0;
        });
    }

    private static double Create(Side side, int run)
    {
        string name = string.Create(CultureInfo.InvariantCulture, $"new-{run}.txt");
        byte[] content = Content("new", run);
        long start = Libc.CreateFile(Lat(side, target: false, name), content);
        return ChangeSides.Until(side, start, $"lat/{name}", () => ChangeSides.ReadsAs(Lat(side, target: true, name), content));
    }

    private static double Edit(Side side, int run)
    {
        string name = string.Create(CultureInfo.InvariantCulture, $"edit-{run}.txt");
        byte[] content = Content("edited, a little longer than before", run);
        long start = Libc.OverwriteFile(Lat(side, target: false, name), content);
        return ChangeSides.Until(side, start, $"lat/{name}'s new content", () => ChangeSides.ReadsAs(Lat(side, target: true, name), content));
    }

    private static double Delete(Side side, int run)
    {
        string name = string.Create(CultureInfo.InvariantCulture, $"delete-{run}.txt");
        long start = Libc.Unlink(Lat(side, target: false, name));
        return ChangeSides.Until(side, start, $"lat/{name} gone", () => ChangeSides.Gone(Lat(side, target: true, name)));
    }

    private static double Rename(Side side, int run)
    {
        string name = string.Create(CultureInfo.InvariantCulture, $"rename-{run}.txt"), moved = string.Create(CultureInfo.InvariantCulture, $"renamed-{run}.txt");
        byte[] content = File.ReadAllBytes(Lat(side, target: false, name));
        long start = Libc.Rename(Lat(side, target: false, name), Lat(side, target: false, moved));
        return ChangeSides.Until(side, start, $"lat/{name} renamed {moved}",
            () => ChangeSides.ReadsAs(Lat(side, target: true, moved), content) && ChangeSides.Gone(Lat(side, target: true, name)));
    }

    private static string Tree(Side side, bool target, int generation) =>
        Path.Combine(target ? side.Target : side.Source, "dirs", string.Create(CultureInfo.InvariantCulture, $"d{generation}"));

    private static string TreeFile(int i) => string.Create(CultureInfo.InvariantCulture, $"f{i:D4}.txt");

    private static byte[] TreeContent(int i) => Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"file {i} of the renamed directory\n"));

    // dirs/d0 with its files, until B reads every one (B's cache then has them all).
    private static void PrepareDirectory(Side side, int files)
    {
        string tree = Tree(side, target: false, 0);
        Directory.CreateDirectory(tree);
        for (int i = 0; i < files; i++)
        {
            Libc.CreateFile(Path.Combine(tree, TreeFile(i)), TreeContent(i));
        }
        var pending = Enumerable.Range(0, files).ToList();
        ChangeSides.Until(side, Stopwatch.GetTimestamp(), $"the {files} files of dirs/d0", () =>
        {
            pending.RemoveAll(i => ChangeSides.ReadsAs(Path.Combine(Tree(side, target: true, 0), TreeFile(i)), TreeContent(i)));
            return pending.Count == 0;
        });
    }

    // dirs/dRUN renamed dirs/dRUN+1: until B lists the new name's files, the old name is gone, and each file reads right.
    private static double RenameDirectory(Side side, int run, int files)
    {
        string from = Tree(side, target: true, run), to = Tree(side, target: true, run + 1);
        long start = Libc.Rename(Tree(side, target: false, run), Tree(side, target: false, run + 1));
        List<int>? pending = null;
        return ChangeSides.Until(side, start, $"dirs/d{run} renamed d{run + 1} with its {files} files", () =>
        {
            if (pending is null)
            {
                if (ChangeSides.Listed(to) != files || !ChangeSides.Gone(from))
                {
                    return false;
                }
                pending = [.. Enumerable.Range(0, files)];
            }
            pending.RemoveAll(i => ChangeSides.ReadsAs(Path.Combine(to, TreeFile(i)), TreeContent(i)));
            return pending.Count == 0;
        });
    }
}
