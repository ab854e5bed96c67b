using Realize.Storage;

namespace Realize.Bench;

/// <summary>
/// The two peers of the Unreal's, latency and bulk rows, made with the CLI as a user would: A
/// listening on 127.0.0.1, its arena <c>bench</c> the plain directory it shares; B blind, its
/// merged view over the Unreal (arena <c>bench</c> there), each knowing the other.
/// </summary>
internal static class PeerPair
{
    /// <summary>The arena both peers share.</summary>
    public const string Arena = "bench";

    /// <summary>
    /// Creates the stores <paramref name="a"/> and <paramref name="b"/>; A shares <paramref name="data"/>
    /// (which must exist), B's view is <paramref name="view"/>, its cache quota <paramref name="cacheQuota"/> bytes.
    /// </summary>
    public static void Create(string cli, string a, string b, string data, string view, long cacheQuota)
    {
        int port = Realize.Network.Loopback.FreePort();
        // The two stores' commands side by side where they do not depend on each other (each CLI start takes a while).
        Parallel.Invoke(() => Cli(cli, "--store", a, "init", "--listen", $"127.0.0.1:{port}"), () => Cli(cli, "--store", b, "init", "--mount", view));
        string idA = "", idB = "";
        Parallel.Invoke(() => Cli(cli, "--store", a, "arena", "add", Arena, "--path", data), () => Cli(cli, "--store", b, "arena", "add", Arena),
            () => idA = Cli(cli, "--store", a, "id").Trim(), () => idB = Cli(cli, "--store", b, "id").Trim());
        Parallel.Invoke(() => Cli(cli, "--store", a, "peer", "add", "B", idB), () => Cli(cli, "--store", b, "peer", "add", "A", idA, "--address", $"127.0.0.1:{port}"));
        // A quota that holds every blob of the run: eviction is not what is measured.
        var store = Store.Open(b);
        store.SaveConfig(store.Config with { CacheQuota = cacheQuota });
        Console.WriteLine($"peers: A {a} (listening on 127.0.0.1:{port}, sharing {data}), B {b} (blind, view {view})");
    }

    private static string Cli(string cli, params string[] args) => Measure.Capture("dotnet", [cli, .. args]).Output;
}
