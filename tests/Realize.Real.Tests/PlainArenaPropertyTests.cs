using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Realize.Core;
using Realize.Storage;
using Realize.TestSupport;

namespace Realize.Real.Tests;

/// <summary>
/// The history property for a plain-directory arena: whatever is done in the directory, and
/// whenever the scans happen (of the whole arena, or of only the paths an operation touched),
/// replaying the history strictly onto nothing gives exactly the files the directory holds, and
/// a last whole scan finds nothing left to report. <c>REALIZE_PROPERTY_SEED</c> and
/// <c>REALIZE_PROPERTY_RUNS</c> choose the seeds, as for <see cref="HistoryPropertyTests"/>.
/// </summary>
public sealed class PlainArenaPropertyTests
{
    private const string Arena = "photos";

    public static TheoryData<int> Seeds() => [.. Realize.TestSupport.Seeds.FromEnvironment("REALIZE_PROPERTY_SEED", "REALIZE_PROPERTY_RUNS", 1, 40)];

    [Theory]
    [MemberData(nameof(Seeds))]
    public void RandomOperations_ScannedWholeOrWhereTheyHappened_ReplayToTheDirectory(int seed)
    {
        var random = new Random(seed);
        using var dir = new TempDir("plain-property");
        string parent = dir.Combine("plain");
        string photos = Path.Combine(parent, Arena);
        var start = new LowerSpec(ViewOpGenerator.RandomLower(random, [Arena]).Entries
            .Where(e => e.Path == Arena || e.Path.StartsWith(Arena + "/", StringComparison.Ordinal)).ToArray());
        Directory.CreateDirectory(photos);
        start.Build(parent);
        var store = Store.Create(dir.Combine("store"), new StoreConfig { Arenas = [PlainArenas.Marked(Arena, photos)] });
        using var index = store.OpenIndex();
        var scan = new StoreScan(store, index, NullLogger.Instance);
        var arena = ArenaName.Parse(Arena);
        var generator = new ViewOpGenerator(random, [Arena], 60, new ViewOpMix { ScansAndRemounts = false, ArenaRootsChange = false });
        var log = new StringBuilder();
        var touched = new List<string>();
        scan.ScanAll();
        for (int step = 0; generator.Next(parent, step) is { } op; step++)
        {
            op.Apply(parent);
            log.AppendLine(op.ToString());
            touched.Add(Relative(op.Path));
            if (op.Target is { } target)
            {
                touched.Add(Relative(target));
            }
            switch (random.Next(10))
            {
                case 0:
                    scan.ScanAll();
                    log.AppendLine("scan");
                    break;
                case < 4:
                    scan.Scan([new ScanScope(arena, [.. touched])]);
                    log.AppendLine($"scan of {string.Join(", ", touched)}");
                    touched.Clear();
                    break;
            }
            Assert.True(scan.Failed.Count == 0, $"seed {seed}: {string.Join("; ", scan.Failed.Values.Select(e => e.Message))}\n{log}");
        }
        scan.Scan([new ScanScope(arena, [.. touched])]);
        var history = index.ReadHistory(null).ToList();
        var problems = new List<string>();
        var replayed = Tree.ReplayStrictly(new Dictionary<string, BlobHash>(), history, arena, problems);
        var shown = Tree.Files(photos);
        Assert.True(problems.Count == 0, $"seed {seed}: {string.Join("; ", problems)}\n{log}");
        Assert.True(shown.SequenceEqual(replayed), $"seed {seed}: the directory holds [{string.Join(", ", shown.Keys)}], the history says [{string.Join(", ", replayed.Keys)}]\n{log}");
        var last = scan.ScanAll();
        Assert.True(last.Added + last.Updated + last.Removed == 0, $"seed {seed}: a last whole scan found {last}\n{log}");
    }

    // The generator's paths start with the arena; a scope's are relative to it.
    private static string Relative(string path) => path == Arena ? "" : path[(Arena.Length + 1)..];
}
