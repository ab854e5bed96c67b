using System.Diagnostics;
using Realize.Core;
using Realize.TestSupport;

namespace Realize.Network.Tests;

/// <summary>HistoryService.Reconfigure: peers added, removed and changed while the service runs (real TLS on loopback, real databases).</summary>
public sealed class ReconfigureTests : IDisposable
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(30);
    private readonly TempDir _dir = new("reconfigure");

    public void Dispose() => _dir.Dispose();

    private static void Reconfigure(Member member, Func<StoreConfig, StoreConfig> change)
    {
        member.Store.SaveConfig(change(member.Store.Config));
        member.Service.Reconfigure(member.Store.Config);
    }

    /// <summary>A listening nas and a blind laptop that know each other, running.</summary>
    private (Member Nas, Member Laptop) StartHousehold()
    {
        var nas = Member.Listening(_dir, "nas");
        var laptop = Member.Blind(_dir, "laptop");
        nas.Configure(laptop);
        laptop.Configure(nas);
        nas.Start();
        laptop.Start();
        return (nas, laptop);
    }

    private static bool Has(Member receiver, Member sender, string path) => receiver.FilesOf(sender).ContainsKey(path);

    [Fact]
    public async Task PeersAddedWhileRunning_GetIn_AndExchangeHistoryBothWays()
    {
        await using var nas = Member.Listening(_dir, "nas");
        await using var laptop = Member.Blind(_dir, "laptop");
        nas.Configure();
        laptop.Configure();
        nas.Start();
        laptop.Start();
        nas.Write(("from-nas.txt", "n"));
        laptop.Write(("from-laptop.txt", "l"));

        // The nas accepts the laptop from now on; the laptop, told where the nas is, connects out.
        Reconfigure(nas, c => c with { Peers = [laptop.AsPeer()] });
        Reconfigure(laptop, c => c with { Peers = [nas.AsPeer()] });

        await Poll.UntilAsync(() => Has(laptop, nas, "from-nas.txt") && Has(nas, laptop, "from-laptop.txt"), s_deadline,
            () => $"the history goes both ways; nas log:\n{nas.Logs}\nlaptop log:\n{laptop.Logs}");
        var status = nas.StatusOf(laptop);
        Assert.Equal("docs", Assert.Single(status.Arenas).Arena);
        Assert.Contains(nas.Logs.Lines, l => l.Message.Contains("realize.toml changed: added laptop", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ARemovedPeer_IsDisconnectedWithinASecond_AndItsReconnectsAreRefused()
    {
        var (nas, laptop) = StartHousehold();
        await using var _ = nas;
        await using var __ = laptop;
        laptop.Write(("a.txt", "a"));
        await Poll.UntilAsync(() => Has(nas, laptop, "a.txt") && nas.StatusOf(laptop) is { Sending: true, Receiving: true }, s_deadline,
            () => "the laptop is connected both ways");

        var clock = Stopwatch.StartNew();
        Reconfigure(nas, c => c with { Peers = [] });

        await Poll.UntilAsync(() => !laptop.StatusOf(nas).Connected, s_deadline, () => "the laptop's links are closed");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"closed within a second, not {clock.Elapsed}");
        // It keeps calling, and is refused each time.
        await Poll.UntilAsync(() => laptop.StatusOf(nas).LastError?.Contains("does not know this peer", StringComparison.Ordinal) == true, s_deadline,
            () => $"the laptop is refused; its log:\n{laptop.Logs}");
        await Poll.UntilAsync(() => nas.Logs.Lines.Any(l => l.Message.Contains(laptop.Id.ToString(), StringComparison.Ordinal) && l.Message.Contains("not in realize.toml", StringComparison.Ordinal)),
            s_deadline, () => $"the nas logs the refusal; its log:\n{nas.Logs}");
        laptop.Write(("b.txt", "b"));
        await Poll.UntilAsync(() => laptop.Logs.Lines.Count(l => l.Message.Contains("does not know this peer", StringComparison.Ordinal)) >= 3, s_deadline,
            () => "the laptop tries again with something to send");
        Assert.False(Has(nas, laptop, "b.txt"));
        using var index = nas.Store.OpenIndex();
        using var unreal = nas.Store.OpenUnreal();
        Assert.Empty(nas.Service.Status(index, unreal));
    }

    [Fact]
    public async Task AnAddressChange_ClosesTheLinksToTheOldOne_AndConnectsToTheNewOne()
    {
        var (nas, laptop) = StartHousehold();
        await using var _ = nas;
        await using var __ = laptop;
        nas.Write(("a.txt", "a"));
        await Poll.UntilAsync(() => Has(laptop, nas, "a.txt"), s_deadline, () => "the laptop receives from the nas");

        // Nothing listens at the new address.
        string nowhere = $"127.0.0.1:{Loopback.FreePort()}";
        Reconfigure(laptop, c => c with { Peers = [nas.AsPeer() with { Address = nowhere }] });
        await Poll.UntilAsync(() => !nas.StatusOf(laptop).Connected, s_deadline, () => "the link to the old address is closed");
        await Poll.UntilAsync(() => laptop.StatusOf(nas).LastError?.Contains(nowhere, StringComparison.Ordinal) == true, s_deadline,
            () => $"the laptop calls the new address; its log:\n{laptop.Logs}");
        Assert.Equal(nowhere, laptop.StatusOf(nas).Address);

        Reconfigure(laptop, c => c with { Peers = [nas.AsPeer()] });
        nas.Write(("b.txt", "b"));
        await Poll.UntilAsync(() => Has(laptop, nas, "b.txt"), s_deadline, () => $"the laptop receives again at the right address; its log:\n{laptop.Logs}");
    }

    [Fact]
    public async Task ArenasSharedAnew_AreAgreedAnew()
    {
        await using var nas = Member.Listening(_dir, "nas");
        await using var laptop = Member.Blind(_dir, "laptop");
        nas.Configure(laptop);
        nas.Store.SaveConfig(nas.Store.Config with { Arenas = [new ArenaConfig(Member.Docs, SharedWith: [])] });
        laptop.Configure(nas);
        nas.Start();
        laptop.Start();
        nas.Write(("a.txt", "a"));
        await Poll.UntilAsync(() => laptop.StatusOf(nas) is { Receiving: true, OnlyHere: ["docs"] }, s_deadline,
            () => "the laptop sees docs is not shared with it");

        Reconfigure(nas, c => c with { Arenas = [new ArenaConfig(Member.Docs)] });

        await Poll.UntilAsync(() => Has(laptop, nas, "a.txt"), s_deadline, () => $"docs is exchanged once shared; nas log:\n{nas.Logs}");
        Assert.Empty(laptop.StatusOf(nas).OnlyHere);
    }

    [Fact]
    public async Task APeerThatDidNotChange_KeepsItsLinks_WhenAnotherIsAdded()
    {
        var (nas, laptop) = StartHousehold();
        await using var _ = nas;
        await using var __ = laptop;
        await using var phone = Member.Blind(_dir, "phone");
        await Poll.UntilAsync(() => nas.StatusOf(laptop) is { Sending: true }, s_deadline, () => "the laptop is connected");
        var since = nas.StatusOf(laptop).Since;

        Reconfigure(nas, c => c with { Peers = [.. c.Peers, phone.AsPeer()] });

        var after = nas.StatusOf(laptop);
        Assert.True(after.Sending, "the laptop's link is still up");
        Assert.Equal(since, after.Since);
        Assert.False(nas.StatusOf(phone).Connected);
    }
}
