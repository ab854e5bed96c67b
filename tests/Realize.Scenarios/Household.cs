using System.Net;
using Realize.Core;
using Realize.Storage;
using Realize.TestSupport;

namespace Realize.Scenarios;

/// <summary>One peer of a test household: a store with the plain-directory arena "docs".</summary>
/// <param name="Proxy">For a listening peer: the proxy in front of its port, which every other peer dials.</param>
public sealed record Member(string Name, Store Store, string Docs, TcpProxy? Proxy)
{
    public bool Listening => Proxy is not null;

    /// <summary>What this peer's history says it has: path → blob.</summary>
    public Dictionary<string, string> OwnFiles()
    {
        using var index = Store.OpenIndex();
        return index.LoadFiles(Household.DocsArena)
            .Where(row => row.Value.Blob is not null)
            .ToDictionary(row => row.Key, row => row.Value.Blob!.Value.Hex, StringComparer.Ordinal);
    }

    /// <summary>What this peer's unreal.db holds of <paramref name="other"/>: path → blob.</summary>
    public Dictionary<string, string> FilesOf(Member other)
    {
        using var unreal = Store.OpenUnreal();
        return unreal.ListFiles(Household.DocsArena, other.Store.LoadPeerId())
            .ToDictionary(f => f.Path.Value, f => f.Blob.Hex, StringComparer.Ordinal);
    }
}

/// <summary>
/// Several stores on this machine that know one another: listening peers on loopback ports,
/// each behind a <see cref="TcpProxy"/>, and blind ones. Disposing closes the proxies.
/// </summary>
public sealed class Household : IDisposable
{
    public static ArenaName DocsArena { get; } = ArenaName.Parse("docs");

    private Household(List<Member> members) => Members = members;

    public IReadOnlyList<Member> Members { get; }

    public Member this[string name] => Members.Single(m => m.Name == name);

    /// <summary>Creates the household in <paramref name="dir"/>; the listening peers' proxies dial their real ports.</summary>
    public static Household Create(TempDir dir, params (string Name, bool Listening)[] members)
    {
        var created = new List<Member>();
        foreach (var (name, listening) in members)
        {
            string docs = dir.Combine(name, "docs");
            Directory.CreateDirectory(docs);
            int port = listening ? Realize.Network.Loopback.FreePort() : 0;
            var store = Store.Create(dir.Combine(name, "store"), new StoreConfig
            {
                Listen = listening ? $"127.0.0.1:{port}" : null,
                Arenas = [PlainArenas.Marked(DocsArena, docs)],
            });
            created.Add(new Member(name, store, docs, listening ? new TcpProxy(new IPEndPoint(IPAddress.Loopback, port)) : null));
        }
        foreach (var member in created)
        {
            var peers = created.Where(m => m != member)
                .Select(m => new PeerConfig(m.Name, m.Store.LoadPeerId(), m.Proxy?.Address))
                .ToArray();
            member.Store.SaveConfig(member.Store.Config with { Peers = peers });
        }
        return new Household(created);
    }

    /// <summary>Pairs that exchange history directly: all but two blind peers.</summary>
    public IEnumerable<(Member From, Member To)> Exchanging =>
        from a in Members from b in Members where a != b && (a.Listening || b.Listening) select (a, b);

    /// <summary>The first pair whose tables disagree, described; null when every peer's table of every other equals that one's own files.</summary>
    public string? Mismatch()
    {
        foreach (var (from, to) in Exchanging)
        {
            var own = from.OwnFiles();
            var seen = to.FilesOf(from);
            if (!own.OrderBy(p => p.Key, StringComparer.Ordinal).SequenceEqual(seen.OrderBy(p => p.Key, StringComparer.Ordinal)))
            {
                var missing = own.Where(p => !seen.TryGetValue(p.Key, out var blob) || blob != p.Value).Select(p => p.Key).Take(5);
                var extra = seen.Keys.Where(k => !own.ContainsKey(k)).Take(5);
                return $"{to.Name}'s table of {from.Name} ({seen.Count} files) differs from {from.Name}'s own {own.Count}: "
                    + $"missing or stale [{string.Join(", ", missing)}], extra [{string.Join(", ", extra)}]";
            }
        }
        return null;
    }

    public void Dispose()
    {
        foreach (var member in Members)
        {
            member.Proxy?.Dispose();
        }
    }
}

/// <summary>Random changes to a plain directory: new files, rewrites, removals, renames, in a few subdirectories.</summary>
public static class RandomChanges
{
    public static void Make(Random random, string root, int count)
    {
        for (int i = 0; i < count; i++)
        {
            string path = Pick(random, root);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            switch (random.Next(10))
            {
                case < 5:
                    File.WriteAllText(path, $"{random.Next()} {new string('x', random.Next(100))}");
                    break;
                case < 7:
                    File.Delete(path);
                    break;
                case < 9:
                    string to = Pick(random, root);
                    if (File.Exists(path) && to != path)
                    {
                        Directory.CreateDirectory(Path.GetDirectoryName(to)!);
                        File.Move(path, to, overwrite: true);
                    }
                    break;
                default:
                    File.AppendAllText(path, "more");
                    break;
            }
        }
    }

    private static string Pick(Random random, string root) =>
        Path.Combine(root, $"d{random.Next(4)}", random.Next(3) == 0 ? $"e{random.Next(2)}" : "", $"f{random.Next(12)}.txt");
}
