using System.Net;
using Microsoft.Data.Sqlite;
using Realize.Core;
using Realize.Harness;
using Realize.Linux;
using Realize.Real;
using Realize.Storage;
using Realize.TestSupport;

namespace Realize.Scenarios;

/// <summary>What one peer's history last said of a path, as another peer's unreal.db holds it: a blob, or a tombstone (null), and the version it superseded.</summary>
public sealed record SeenVersion(string? Blob, string? OldBlob);

/// <summary>
/// Two stores as <c>realize init</c> makes them: A listens (behind a <see cref="TcpProxy"/>)
/// and shares the plain-directory arena "docs"; B is blind, with a merged view over its
/// Unreal (<c>init --mount</c>, no <c>--lower</c>) and the arena "docs" in it. Their daemons
/// run as child processes (<c>realize up</c>). Disposing kills both, detaches every mount
/// left under the directory and removes it.
/// </summary>
public sealed class UnrealPair : IDisposable
{
    /// <summary>Generous: these run beside builds and other tests on 2 cores.</summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private static readonly string[] s_upOptions = ["--settle-ms", "50"];

    private readonly TempDir _dir;

    private UnrealPair(TempDir dir, Store a, Store b, string aDocs, TcpProxy proxy)
    {
        _dir = dir;
        A = a;
        B = b;
        ADocs = aDocs;
        Proxy = proxy;
    }

    /// <summary>The listening peer.</summary>
    public Store A { get; }

    /// <summary>The blind peer with the merged view over its Unreal.</summary>
    public Store B { get; }

    /// <summary>A's arena directory.</summary>
    public string ADocs { get; }

    /// <summary>B's merged view.</summary>
    public string View => B.Config.Mount!;

    /// <summary>The arena "docs" in B's merged view.</summary>
    public string BDocs => Path.Combine(View, "docs");

    /// <summary>In front of A's port: B dials it.</summary>
    public TcpProxy Proxy { get; }

    public DaemonProcess? DaemonA { get; private set; }

    public DaemonProcess? DaemonB { get; private set; }

    /// <summary>Creates the two stores; <paramref name="fetchTimeout"/> goes into B's <c>[cache] fetch_timeout</c> when given.</summary>
    public static UnrealPair Create(string label, TimeSpan? fetchTimeout = null)
    {
        Root.Require();
        var dir = new TempDir(label);
        try
        {
            string aDocs = dir.Combine("a-docs");
            int port = Realize.Network.Loopback.FreePort();
            var a = Store.Create(dir.Combine("A"), new StoreConfig
            {
                Listen = $"127.0.0.1:{port}",
                Arenas = [PlainArenas.Marked(Household.DocsArena, aDocs)],
            });
            var proxy = new TcpProxy(new IPEndPoint(IPAddress.Loopback, port));
            var b = Store.Create(dir.Combine("B"), new StoreConfig
            {
                Mount = dir.Combine("view"),
                Arenas = [new ArenaConfig(Household.DocsArena)],
                Peers = [new PeerConfig("A", a.LoadPeerId(), proxy.Address)],
                FetchTimeout = fetchTimeout ?? StoreConfig.DefaultFetchTimeout,
            });
            a.SaveConfig(a.Config with { Peers = [new PeerConfig("B", b.LoadPeerId())] });
            return new UnrealPair(dir, a, Store.Open(b.Root), aDocs, proxy);
        }
        catch
        {
            dir.Dispose();
            throw;
        }
    }

    /// <summary>Starts A's daemon and waits until it answers.</summary>
    public async Task<DaemonProcess> StartAAsync()
    {
        DaemonA?.Dispose();
        DaemonA = DaemonProcess.Start(RealizeCommand.Executable, A, s_upOptions);
        await DaemonA.WaitUntilAnsweringAsync(Deadline);
        return DaemonA;
    }

    /// <summary>Starts B's daemon and waits until it answers (its views are then mounted).</summary>
    public async Task<DaemonProcess> StartBAsync()
    {
        DaemonB?.Dispose();
        DaemonB = DaemonProcess.Start(RealizeCommand.Executable, B, s_upOptions);
        await DaemonB.WaitUntilAnsweringAsync(Deadline);
        return DaemonB;
    }

    /// <summary>Both daemons, then waits until every file of A shows in B's view.</summary>
    public async Task StartBothAsync()
    {
        await StartAAsync();
        await StartBAsync();
        var expected = Listing(ADocs);
        await Poll.UntilAsync(() => expected.Keys.All(path => File.Exists(Path.Combine(BDocs, path))), Deadline,
            () => $"B's view shows A's {expected.Count} files; it has [{string.Join(", ", Listing(BDocs).Keys)}]\nB's log:\n{DaemonB!.LogTail()}");
    }

    /// <summary>Writes a file into A's arena (its directories too).</summary>
    public string WriteOnA(string path, string content)
    {
        string full = Path.Combine(ADocs, path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllText(full, content);
        return full;
    }

    /// <summary>
    /// The regular files below <paramref name="root"/>: relative path → (size, mtime in ticks);
    /// the arena marker at the root left out (it is never shared).
    /// </summary>
    public static SortedDictionary<string, (long Size, long MTime)> Listing(string root)
    {
        var files = new SortedDictionary<string, (long, long)>(StringComparer.Ordinal);
        if (!Directory.Exists(root))
        {
            return files;
        }
        foreach (string path in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(root, path);
            if (relative == ArenaMarker.FileName)
            {
                continue;
            }
            var info = new FileInfo(path);
            files[relative] = (info.Length, info.LastWriteTimeUtc.Ticks);
        }
        return files;
    }

    /// <summary>What A's unreal.db holds of B's history of "docs": path → blob (null: a tombstone) and the blob it superseded.</summary>
    public Dictionary<string, SeenVersion> SeenOnAOfB()
    {
        // The rows themselves: UnrealDb lists files, never tombstones, and a removal reaches A only as one.
        using var connection = new SqliteConnection($"Data Source={A.UnrealDbPath};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT path, blob, old_blob FROM files JOIN peers ON peers.id = files.peer WHERE peers.peer_id = $peer AND arena = $arena";
        command.Parameters.AddWithValue("$peer", B.LoadPeerId().ToString());
        command.Parameters.AddWithValue("$arena", Household.DocsArena.Value);
        var seen = new Dictionary<string, SeenVersion>(StringComparer.Ordinal);
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            seen[reader.GetString(0)] = new SeenVersion(Hex(reader, 1), Hex(reader, 2));
        }
        return seen;
    }

    private static string? Hex(SqliteDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : BlobHash.FromBytes((byte[])reader.GetValue(ordinal)).Hex;

    /// <summary>The blob of <paramref name="path"/> in A's own history.</summary>
    public string BlobOnA(string path)
    {
        using var index = A.OpenIndex();
        return index.LoadFiles(Household.DocsArena)[path].Blob!.Value.Hex;
    }

    /// <summary>The mounts at or below <paramref name="path"/>, as the kernel lists them, deepest first.</summary>
    public static List<(string Target, string FsType)> MountsUnder(string path)
    {
        var found = new List<(string, string)>();
        foreach (string line in File.ReadLines("/proc/self/mountinfo"))
        {
            // ID PARENT MAJ:MIN ROOT TARGET OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER
            string[] fields = line.Split(' ');
            string target = Unescape(fields[4]);
            string fsType = fields[Array.IndexOf(fields, "-") + 1];
            if (target == path || target.StartsWith(path + "/", StringComparison.Ordinal))
            {
                found.Add((target, fsType));
            }
        }
        return [.. found.OrderByDescending(m => m.Item1.Length)];
    }

    // mountinfo escapes space, tab, newline and backslash as octal.
    private static string Unescape(string field) =>
        System.Text.RegularExpressions.Regex.Replace(field, @"\\([0-7]{3})", m => ((char)Convert.ToInt32(m.Groups[1].Value, 8)).ToString());

    public void Dispose()
    {
        try
        {
            DaemonB?.Dispose();
            DaemonA?.Dispose();
            Proxy.Dispose();
        }
        finally
        {
            // A killed daemon leaves its mounts, stacked ones too: detach until none is left.
            for (int round = 0; round < 20 && MountsUnder(_dir.Path) is { Count: > 0 } mounts; round++)
            {
                foreach (var (target, _) in mounts)
                {
                    try
                    {
                        Mounts.Unmount(target, detach: true);
                    }
                    catch (LinuxException)
                    {
                        // Gone already with its parent: the next round sees.
                    }
                }
            }
            _dir.Dispose();
        }
    }
}
