using Realize.Core;
using Realize.TestSupport;

namespace Realize.Storage.Tests;

/// <summary>
/// The view tree and the conflicts that Apply and FinishReset maintain path by path, checked
/// after every step of random batches and resets against a model that recomputes everything
/// from the rows, the simplest way the winner rule can be written.
/// </summary>
public sealed class UnrealViewModelTests : IDisposable
{
    private static readonly ArenaName[] s_arenas = [ArenaName.Parse("docs"), ArenaName.Parse("pics")];
    private static readonly PeerId[] s_peers = [PeerId.FromSubjectPublicKeyInfo([1]), PeerId.FromSubjectPublicKeyInfo([2]), PeerId.FromSubjectPublicKeyInfo([3])];

    // Names that clash (a file "a" and files below "a/"), nest and share directories.
    private static readonly string[] s_paths = ["a", "a/b", "a/b/c", "a/d", "e", "e/f/g", "h.txt"];
    private static readonly string[] s_contents = ["1", "22", "333", "4444"];

    private readonly TempDir _dir = new("unrealmodel");

    public void Dispose() => _dir.Dispose();

    private static BlobHash Blob(string text) => ContentHasher.HashBytes(System.Text.Encoding.UTF8.GetBytes(text));

    private sealed record Version(int Peer, BlobHash? Blob, long Size, long MTimeNs, BlobHash? Old);

    /// <summary>What the view must show of an entry: the same for the model and the database.</summary>
    private sealed record Shown(string Arena, string Path, bool IsDirectory, BlobHash? Blob, long Size, long MTimeNs, PeerId? Peer, bool Conflict);

    public static TheoryData<int> SeedList() => [.. Seeds.FromEnvironment("REALIZE_VIEW_SEED", "REALIZE_VIEW_RUNS", 1, 4)];

    [Theory]
    [MemberData(nameof(SeedList))]
    public void TheView_AfterEachRandomBatchOrReset_IsWhatTheWinnerRuleGivesForAllRows(int seed)
    {
        var random = new Random(seed);
        var rows = new Dictionary<(int Peer, string Arena, string Path), Version>();
        var next = new Dictionary<(int Peer, string Arena), long>();
        var idOf = new Dictionary<(string Arena, string Path, bool IsDirectory), long>();
        var keyOfId = new Dictionary<long, (string, string, bool)>();
        var mirror = new Dictionary<long, (long Parent, string Name)>();
        using var db = UnrealDb.Open(_dir.Combine($"model{seed}.db"));
        string? failure = null;
        db.ViewChanged += changes =>
        {
            foreach (var change in changes)
            {
                bool known = mirror.ContainsKey(change.Id);
                if (change.Kind == ViewChangeKind.Added ? known : !known)
                {
                    failure ??= $"{change} does not fit what earlier changes said";
                }
                if (change.Kind == ViewChangeKind.Added)
                {
                    mirror[change.Id] = (change.Parent, change.Name);
                }
                else if (change.Kind == ViewChangeKind.Removed)
                {
                    mirror.Remove(change.Id);
                }
            }
        };

        for (int step = 0; step < 150; step++)
        {
            // The peers join one at a time: first one sole sender per arena (whose new paths are
            // shown without reads), then a second and a third whose versions meet its own.
            int peer = random.Next(Math.Min(s_peers.Length, 1 + (step / 50)));
            var arena = s_arenas[random.Next(s_arenas.Length)];
            long index = next.GetValueOrDefault((peer, arena.Value));
            if (random.Next(8) == 0)
            {
                // A reset: the peer's table of the arena becomes these files.
                var staged = s_paths.Where(_ => random.Next(3) == 0).Select(path => RandomAdded(random, ++index, arena, path)).ToList();
                db.StartReset(s_peers[peer], arena);
                db.StageReset(s_peers[peer], arena, staged);
                db.FinishReset(s_peers[peer], arena, 1, index);
                foreach (var key in rows.Keys.Where(k => k.Peer == peer && k.Arena == arena.Value).ToList())
                {
                    rows.Remove(key);
                }
                foreach (var n in staged)
                {
                    rows[(peer, arena.Value, n.Path.Value)] = new Version(peer, n.Blob, n.Size!.Value, n.MTime!.Value.TotalNanoseconds, null);
                }
            }
            else
            {
                var batch = new List<Notification>();
                for (int i = random.Next(1, 9); i > 0; i--)
                {
                    string path = s_paths[random.Next(s_paths.Length)];
                    BlobHash old = Blob(s_contents[random.Next(s_contents.Length)]);
                    var n = random.Next(3) switch
                    {
                        0 => RandomAdded(random, ++index, arena, path),
                        1 => RandomAdded(random, ++index, arena, path) with { Type = NotificationType.Updated, OldBlob = old },
                        _ => new Notification(++index, arena, NotificationType.Removed, RelPath.Parse(path), null, null, null, old),
                    };
                    batch.Add(n);
                    rows[(peer, arena.Value, path)] = new Version(peer, n.Blob, n.Size ?? 0, n.MTime?.TotalNanoseconds ?? 0, n.OldBlob);
                }
                db.Apply(s_peers[peer], arena, 1, batch);
            }
            next[(peer, arena.Value)] = index;

            string where = $"seed {seed}, step {step}";
            Assert.True(failure is null, $"{where}: {failure}");
            var (expected, conflicts) = Expect(rows);
            var walked = Walk(db, ViewEntry.RootId);
            Assert.Equal(expected, walked.Select(ShownOf).OrderBy(s => (s.Arena, s.Path)).ToList());
            Assert.Equal(conflicts, db.FindConflicts(1000).Select(c => (c.Arena.Value, c.Path.Value, string.Join(",", c.Versions.Select(v => $"{v.Peer}={v.Blob?.Hex}")))).Order().ToList());
            // Every entry reads the same by id, by name and by path.
            foreach (var entry in walked)
            {
                var key = (entry.Arena!.Value.Value, entry.Path, entry.IsDirectory);
                // No id ever names another entry.
                Assert.Equal(key, keyOfId.TryGetValue(entry.Id, out var was) ? was : keyOfId[entry.Id] = key);
                Assert.Equal(entry, db.Entry(entry.Id));
                Assert.Equal(entry, db.Lookup(entry.Parent, entry.Name));
                Assert.Equal(entry, db.FindPath(entry.Arena.Value, entry.Path));
            }
            // An entry there before and after the step keeps its id.
            var now = walked.ToDictionary(e => (e.Arena!.Value.Value, e.Path, e.IsDirectory), e => e.Id);
            foreach (var (key, id) in now)
            {
                if (idOf.TryGetValue(key, out long before) && before != id)
                {
                    Assert.Fail($"{where}: {key} was {before}, is {id}, though it was there before and after the step");
                }
            }
            idOf = now;
            // The changes raised tell the whole tree.
            Assert.Equal(walked.ToDictionary(e => e.Id, e => (e.Parent, e.Name)).OrderBy(p => p.Key), mirror.OrderBy(p => p.Key));
        }
    }

    private static Notification RandomAdded(Random random, long index, ArenaName arena, string path)
    {
        string content = s_contents[random.Next(s_contents.Length)];
        // Few mtimes: ties between standing versions are common.
        return new Notification(index, arena, NotificationType.Added, RelPath.Parse(path), Blob(content), content.Length, new FileTime(1_700_000_000 + random.Next(3), 0), null);
    }

    private static Shown ShownOf(ViewEntry e) =>
        new(e.Arena!.Value.Value, e.Path, e.IsDirectory, e.Blob, e.Size, e.IsDirectory ? 0 : e.MTime.TotalNanoseconds, e.Peer, e.Conflict);

    private static List<ViewEntry> Walk(UnrealDb db, long parent)
    {
        var children = new List<ViewEntry>();
        db.ListChildren(parent, "", int.MaxValue, children);
        return children.SelectMany(c => c.IsDirectory ? Walk(db, c.Id).Prepend(c) : [c]).ToList();
    }

    /// <summary>The model: from all rows, what the view shows and which paths are in conflict (with their standing versions).</summary>
    private static (List<Shown> Entries, List<(string, string, string)> Conflicts) Expect(Dictionary<(int Peer, string Arena, string Path), Version> rows)
    {
        var winners = new Dictionary<(string Arena, string Path), (Version Winner, bool Conflict)>();
        var conflicts = new List<(string, string, string)>();
        foreach (var group in rows.GroupBy(r => (r.Key.Arena, r.Key.Path)))
        {
            var versions = group.Select(r => r.Value).ToList();
            var standing = versions.Where(v => v.Blob is not { } blob || !versions.Any(u => u.Peer != v.Peer && u.Blob != blob && Replaced(versions, u).Contains(blob))).ToList();
            if (standing.Count == 0)
            {
                // Versions that each replaced another (x → y → x): all stand.
                standing = versions;
            }
            bool conflict = standing.Select(v => v.Blob).Distinct().Count() > 1;
            var winner = standing
                .OrderByDescending(v => v.Blob is not null)
                .ThenByDescending(v => v.MTimeNs)
                .ThenByDescending(v => s_peers[v.Peer].ToString(), StringComparer.Ordinal)
                .First();
            if (conflict)
            {
                conflicts.Add((group.Key.Arena, group.Key.Path, string.Join(",", standing.OrderBy(v => s_peers[v.Peer].ToString(), StringComparer.Ordinal).Select(v => $"{s_peers[v.Peer]}={v.Blob?.Hex}"))));
            }
            if (winner.Blob is not null)
            {
                winners[group.Key] = (winner, conflict);
            }
        }
        // A path is a directory when any shown path is below it; the arena's directory ("") too.
        var directories = new HashSet<(string, string)>();
        foreach (var (arena, path) in winners.Keys)
        {
            for (string dir = path; dir.Length > 0;)
            {
                dir = RelPaths.Parent(dir);
                directories.Add((arena, dir));
            }
        }
        var entries = directories.Select(d => new Shown(d.Item1, d.Item2, true, null, 0, 0, null, false))
            .Concat(winners.Where(w => !directories.Contains(w.Key)).Select(w =>
                new Shown(w.Key.Arena, w.Key.Path, false, w.Value.Winner.Blob, w.Value.Winner.Size, w.Value.Winner.MTimeNs, s_peers[w.Value.Winner.Peer], w.Value.Conflict)))
            .OrderBy(s => (s.Arena, s.Path))
            .ToList();
        return (entries, conflicts.Order().ToList());
    }

    /// <summary>Every content <paramref name="y"/> replaced, directly or through the other versions' old blobs.</summary>
    private static HashSet<BlobHash> Replaced(List<Version> versions, Version y)
    {
        var replaced = new HashSet<BlobHash>();
        if (y.Old is { } old)
        {
            replaced.Add(old);
        }
        bool grew = true;
        while (grew)
        {
            grew = false;
            foreach (var v in versions)
            {
                if (v.Blob is { } blob && replaced.Contains(blob) && v.Old is { } older && replaced.Add(older))
                {
                    grew = true;
                }
            }
        }
        return replaced;
    }
}
