using Realize.Core;
using Realize.Storage;
using Realize.TestSupport;

namespace Realize.Daemon.Tests;

/// <summary><c>peer add</c> and <c>peer remove</c> while both daemons run: no restart needed.</summary>
public sealed class LivePeersTests : IDisposable
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(30);
    private static readonly ArenaName s_docs = ArenaName.Parse("docs");

    private readonly TempDir _dir = new("livepeers");
    private readonly Store _nas;
    private readonly Store _laptop;
    private readonly string _nasDocs;

    public LivePeersTests()
    {
        Root.Require();
        _nasDocs = _dir.Combine("nas-docs");
        _nas = Store.Create(_dir.Combine("nas"), new StoreConfig
        {
            Listen = $"127.0.0.1:{Realize.Network.Loopback.FreePort()}",
            Arenas = [PlainArenas.Marked(s_docs, _nasDocs)],
        });
        _laptop = Store.Create(_dir.Combine("laptop"), new StoreConfig { Arenas = [PlainArenas.Marked(s_docs, _dir.Combine("laptop-docs"))] });
        // The laptop knows the nas; the nas does not know the laptop yet.
        _laptop.SaveConfig(_laptop.Config with { Peers = [new PeerConfig("nas", _nas.LoadPeerId(), _nas.Config.Listen)] });
        File.WriteAllText(Path.Combine(_nasDocs, "a.txt"), "from the nas");
    }

    [Fact]
    public async Task PeerAdd_WhileUp_LetsItIn_AndPeerRemove_ClosesItsLinks()
    {
        using var nas = await InProcessDaemon.StartAsync(_nas, new DaemonOptions(), s_deadline);
        using var laptop = await InProcessDaemon.StartAsync(_laptop, new DaemonOptions(), s_deadline);
        await Poll.UntilAsync(async () => (await laptop.StatusAsync(s_deadline)).Peers.Single().LastError is not null, s_deadline, () => "the nas refuses the unknown laptop");

        Cli(_nas, "peer", "add", "laptop", _laptop.LoadPeerId().ToString());
        await Poll.UntilAsync(() => LaptopSees("a.txt"), s_deadline, () => $"the laptop receives the nas's history once added; nas log:\n{nas.Logs}");
        Assert.True((await nas.StatusAsync(s_deadline)).Peers.Single(p => p.Name == "laptop").Connected);

        Cli(_nas, "peer", "remove", "laptop");
        await Poll.UntilAsync(async () => (await nas.StatusAsync(s_deadline)).Peers.Count == 0, s_deadline, () => "the nas forgets the laptop");
        await Poll.UntilAsync(async () => !(await laptop.StatusAsync(s_deadline)).Peers.Single().Connected, s_deadline, () => $"the nas closed the laptop's links; laptop log:\n{laptop.Logs}");
        File.WriteAllText(Path.Combine(_nasDocs, "b.txt"), "after the removal");
        await Poll.UntilAsync(() => InProcessDaemon.History(_nas).Any(n => n.Path.Value == "b.txt"), s_deadline, () => "the nas records b.txt");
        // The laptop tries again (with backoff) and is refused each time.
        await Poll.UntilAsync(async () => (await laptop.StatusAsync(s_deadline)).Peers.Single() is { Connected: false, LastError: not null }, s_deadline, () => "the laptop is refused");
        Assert.False(LaptopSees("b.txt"));
    }

    private bool LaptopSees(string path)
    {
        using var unreal = _laptop.OpenUnreal();
        return unreal.ListFiles(s_docs, _nas.LoadPeerId()).Any(f => f.Path.Value == path);
    }

    private static void Cli(Store store, params string[] arguments)
    {
        var result = Shell.Run(RealizeCommand.Dotnet, [RealizeCommand.Dll, "--store", store.Root, .. arguments]);
        Assert.True(result.ExitCode == 0, $"realize {string.Join(' ', arguments)}: {result.Error}");
    }

    public void Dispose() => _dir.Dispose();
}
