using Realize.Daemon;
using Realize.Harness;
using Realize.Network;
using Realize.TestSupport;
using Xunit.Abstractions;

namespace Realize.Scenarios;

/// <summary>Several daemons on loopback exchanging their histories through cuts, stalls, resets and crashes.</summary>
public sealed class HouseholdScenarios(ITestOutputHelper output) : IDisposable
{
    // Generous: these run beside builds and other tests on 2 cores.
    private static readonly TimeSpan s_converge = TimeSpan.FromSeconds(120);
    private static readonly TimeSpan s_start = TimeSpan.FromSeconds(60);

    private readonly TempDir _dir = new("household");

    public void Dispose() => _dir.Dispose();

    private static DaemonOptions Options => new()
    {
        SettleDelay = TimeSpan.FromMilliseconds(50),
        RaiseQueueLimit = false,
        History = new HistoryOptions
        {
            MinBackoff = TimeSpan.FromMilliseconds(100),
            MaxBackoff = TimeSpan.FromSeconds(1),
            BatchSize = 7,
            Link = new LinkOptions { DeadAfter = TimeSpan.FromSeconds(3), PingEvery = TimeSpan.FromMilliseconds(500), HandshakeTimeout = TimeSpan.FromSeconds(3) },
        },
    };

    [Fact]
    public async Task EveryPeerEndsWithTheOthersFiles_ThroughDroppedStalledResetAndRefusedConnections()
    {
        int seed = Seeds.IntFromEnvironment("REALIZE_SCENARIO_SEED") ?? Environment.TickCount;
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        // Two listening peers and two blind ones, which never talk to each other.
        using var household = Household.Create(_dir, ("nas", true), ("desktop", true), ("laptop", false), ("phone", false));
        var daemons = new List<InProcessDaemon>();
        try
        {
            foreach (var member in household.Members)
            {
                RandomChanges.Make(random, member.Docs, 10);
                daemons.Add(await InProcessDaemon.StartAsync(member.Store, Options, s_start));
            }
            var proxies = household.Members.Where(m => m.Listening).Select(m => m.Proxy!).ToArray();
            for (int round = 0; round < 12; round++)
            {
                var member = household.Members[random.Next(household.Members.Count)];
                RandomChanges.Make(random, member.Docs, random.Next(1, 15));
                var proxy = proxies[random.Next(proxies.Length)];
                int cut = random.Next(6);
                output.WriteLine($"round {round}: changes on {member.Name}, cut {cut} at {proxy.Address}");
                switch (cut)
                {
                    case 0: proxy.Drop(); break;
                    case 1: proxy.Reset(); break;
                    case 2: proxy.Stall(); break;
                    case 3: proxy.Refuse(); proxy.Drop(); break;
                    default: break;
                }
                // Let the cut last a while, past the dead-connection delay now and then: part of the scenario, not a wait for a result.
                await Task.Delay(random.Next(100, cut == 2 ? 4_000 : 800));
                proxy.Resume();
            }

            await Poll.UntilAsync(() => household.Mismatch() is null, s_converge, () => household.Mismatch() ?? "");

            // Two listening peers: one link each way, both up (each side's HRCV), neither replacing the other.
            await Poll.UntilAsync(async () => (await daemons[0].StatusAsync(s_start)).Peers.Single(p => p.Name == "desktop") is { Sending: true, Receiving: true },
                s_converge, () => "nas both sends to and receives from desktop");

            // Blind peers never connect to each other, and status says why.
            Assert.Empty(household["laptop"].FilesOf(household["phone"]));
            // The last cut may still be healing: the links come back within the backoff.
            await Poll.UntilAsync(async () => (await daemons[2].StatusAsync(s_start)).Peers.Where(p => p.Name != "phone").All(p => p.Connected),
                s_converge, () => "laptop is connected to both listening peers");
            var laptop = await daemons[2].StatusAsync(s_start);
            var phone = Assert.Single(laptop.Peers, p => p.Name == "phone");
            Assert.False(phone.Connected);
            Assert.NotNull(phone.Note);
            Assert.True(household.Members.Where(m => m.Listening).All(m => m.Proxy!.Accepted > 2), "the proxies carried the reconnections");
        }
        finally
        {
            foreach (var daemon in daemons)
            {
                daemon.Dispose();
            }
        }
    }

    [Fact]
    public async Task EveryPeerEndsWithTheOthersFiles_WhenEitherSideIsKilledAndRestarted()
    {
        int seed = Seeds.IntFromEnvironment("REALIZE_SCENARIO_SEED") ?? Environment.TickCount;
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        using var household = Household.Create(_dir, ("nas", true), ("laptop", false));
        var daemons = new Dictionary<string, DaemonProcess>();
        try
        {
            foreach (var member in household.Members)
            {
                daemons[member.Name] = DaemonProcess.Start(RealizeCommand.Executable, member.Store, ["--settle-ms", "50"]);
            }
            for (int round = 0; round < 6; round++)
            {
                foreach (var member in household.Members)
                {
                    RandomChanges.Make(random, member.Docs, random.Next(1, 20));
                }
                var victim = household.Members[random.Next(2)];
                // Somewhere in the middle of sending, applying or acknowledging.
                await Task.Delay(random.Next(0, 400));
                output.WriteLine($"round {round}: SIGKILL {victim.Name}");
                daemons[victim.Name].Kill();
                daemons[victim.Name].Dispose();
                RandomChanges.Make(random, victim.Docs, random.Next(0, 5));
                daemons[victim.Name] = DaemonProcess.Start(RealizeCommand.Executable, victim.Store, ["--settle-ms", "50"]);
            }
            foreach (var daemon in daemons.Values)
            {
                await daemon.WaitUntilAnsweringAsync(s_start);
            }

            await Poll.UntilAsync(() => household.Mismatch() is null, s_converge,
                () => $"{household.Mismatch()}\nnas:\n{daemons["nas"].Log}\nlaptop:\n{daemons["laptop"].Log}");
        }
        finally
        {
            foreach (var daemon in daemons.Values)
            {
                daemon.Dispose();
            }
        }
    }

    [Fact]
    public async Task APeerJoiningAfterTheHistoryWasTrimmed_GetsAResetToTheFilesAsTheyAre()
    {
        using var household = Household.Create(_dir, ("nas", true), ("laptop", false));
        var nas = household["nas"];
        var trimming = Options with { History = Options.History with { TrimInterval = TimeSpan.FromMilliseconds(100) } };
        File.WriteAllText(Path.Combine(nas.Docs, "removed.txt"), "soon gone");
        File.WriteAllText(Path.Combine(nas.Docs, "kept.txt"), "kept");
        var daemon = await InProcessDaemon.StartAsync(nas.Store, trimming, s_start);
        try
        {
            using (var laptopDaemon = await InProcessDaemon.StartAsync(household["laptop"].Store, Options, s_start))
            {
                File.Delete(Path.Combine(nas.Docs, "removed.txt"));
                File.WriteAllText(Path.Combine(nas.Docs, "new.txt"), "new");
                await Poll.UntilAsync(() => household.Mismatch() is null, s_converge, () => household.Mismatch() ?? "");
                // Everyone (laptop) has it all: the history goes.
                await Poll.UntilAsync(() => History(nas).Count == 0, s_converge, () => $"nas trims what laptop acknowledged; its log:\n{daemon.Logs}");
            }
            await daemon.StopAsync(s_start);
            daemon.Dispose();

            // A new peer, which never saw any of that history.
            var phoneDocs = _dir.Combine("phone", "docs");
            Directory.CreateDirectory(phoneDocs);
            var phone = Realize.Storage.Store.Create(_dir.Combine("phone", "store"), new Realize.Core.StoreConfig
            {
                Arenas = [PlainArenas.Marked(Household.DocsArena, phoneDocs)],
                Peers = [new Realize.Core.PeerConfig("nas", nas.Store.LoadPeerId(), nas.Proxy!.Address)],
            });
            nas.Store.SaveConfig(nas.Store.Config with { Peers = [.. nas.Store.Config.Peers, new Realize.Core.PeerConfig("phone", phone.LoadPeerId())] });
            daemon = await InProcessDaemon.StartAsync(Realize.Storage.Store.Open(nas.Store.Root), trimming, s_start);
            using var phoneDaemon = await InProcessDaemon.StartAsync(phone, Options, s_start);

            var member = new Member("phone", phone, phoneDocs, null);
            await Poll.UntilAsync(() => member.FilesOf(nas).Count == 2, s_converge, () => $"phone has nas's files; nas's log:\n{daemon.Logs}");
            Assert.Equal(nas.OwnFiles(), member.FilesOf(nas));
            Assert.Equal(["kept.txt", "new.txt"], member.FilesOf(nas).Keys.Order(StringComparer.Ordinal));

            // What a user sees of it.
            await Poll.UntilAsync(() => RunRealize("--store", nas.Store.Root, "status").Contains("arena docs: 0 to send", StringComparison.Ordinal), s_converge,
                () => RunRealize("--store", nas.Store.Root, "status"));
            string status = RunRealize("--store", nas.Store.Root, "status");
            Assert.Contains("peer phone (blind): connected since ", status, StringComparison.Ordinal);
            Assert.Contains("peer laptop (blind): not connected", status, StringComparison.Ordinal);
            Assert.Contains($"listening on 127.0.0.1:", status, StringComparison.Ordinal);
        }
        finally
        {
            daemon.Dispose();
        }
    }

    private static List<Realize.Core.Notification> History(Member member) => InProcessDaemon.History(member.Store);

    /// <summary>The realize command as a user runs it; its standard output, or a failure with what it said.</summary>
    private static string RunRealize(params string[] args)
    {
        var result = Shell.Run(RealizeCommand.Dotnet, [RealizeCommand.Dll, .. args]);
        Assert.True(result.ExitCode == 0, $"realize {string.Join(' ', args)} exited with {result.ExitCode}: {result.Error}");
        return result.Output;
    }
}
