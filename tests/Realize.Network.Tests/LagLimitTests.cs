using Realize.TestSupport;

namespace Realize.Network.Tests;

/// <summary>history.keep_days: a peer that stays away stops holding the history back once the limit passes, and is reset when it returns.</summary>
public sealed class LagLimitTests : IDisposable
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(30);
    private readonly TempDir _dir = new("lag");

    public void Dispose() => _dir.Dispose();

    /// <summary>Checks, again and again until a second before <paramref name="limit"/>, that the history still starts at <paramref name="first"/>.</summary>
    private static async Task AssertKeptUntilAsync(Member member, long first, DateTimeOffset limit)
    {
        int checks = 0;
        while (DateTimeOffset.UtcNow < limit - TimeSpan.FromSeconds(1))
        {
            Assert.Equal(first, member.FirstIndex());
            checks++;
            await Task.Delay(Poll.Interval);
        }
        Assert.True(checks > 0, "the history was checked before the limit passed");
    }

    [Fact]
    public async Task APeerThatStaysAway_NoLongerHoldsTrimmingBack_OnceTheLimitPasses_AndGetsAResetWhenItReturns()
    {
        var keep = TimeSpan.FromSeconds(5);
        await using var nas = Member.Listening(_dir, "nas");
        await using var laptop = Member.Blind(_dir, "laptop");
        await using var phone = Member.Blind(_dir, "phone");
        nas.Configure(laptop, phone);
        laptop.Configure(nas);
        phone.Configure(nas);
        nas.Start(Member.Fast with { KeepFor = keep, TrimInterval = TimeSpan.FromMilliseconds(100) });
        laptop.Start();
        phone.Start();
        nas.Write(("a.txt", "one"), ("b.txt", "two"));
        await Poll.UntilAsync(() => nas.CursorOf(laptop)?.Acked == 2 && nas.CursorOf(phone)?.Acked == 2, s_deadline, () => "both peers acknowledge the first two entries");

        // The phone goes away holding all of it; its silence counts from when it left.
        await phone.StopAsync();
        await Poll.UntilAsync(() => !nas.StatusOf(phone).Connected, s_deadline, () => "the nas sees the phone gone");
        var left = nas.CursorOf(phone)!.AckedAt;
        nas.Write(("a.txt", "one, edited"), ("c.txt", "three"));
        nas.Remove("b.txt");
        await Poll.UntilAsync(() => nas.CursorOf(laptop)?.Acked == 5, s_deadline, () => "the laptop acknowledges the rest");
        // What both have is trimmed; what the phone lacks is kept while it is within the limit.
        await Poll.UntilAsync(() => nas.FirstIndex() == 3, s_deadline, () => $"the entries both peers hold are trimmed (first kept: {nas.FirstIndex()})");
        await AssertKeptUntilAsync(nas, 3, left + keep);
        var within = nas.StatusOf(phone).Arenas.Single();
        Assert.Equal((2L, 3L, false), (within.Acked, within.Pending, within.Lapsed));

        await Poll.UntilAsync(() => nas.FirstIndex() == 6, s_deadline, () => $"the history is trimmed past the phone once the limit passed (first kept: {nas.FirstIndex()})");
        Assert.True(DateTimeOffset.UtcNow - left >= keep, "not before the limit");
        var lapsed = nas.StatusOf(phone).Arenas.Single();
        Assert.Equal((2L, 3L, true, (DateTimeOffset?)left), (lapsed.Acked, lapsed.Pending, lapsed.Lapsed, lapsed.AckedAt));
        Assert.Contains(nas.Logs.Lines, l => l.Message.Contains("past phone", StringComparison.Ordinal));

        // Back: b.txt's removal is trimmed away, so only a reset can leave it out.
        Assert.Contains("b.txt", phone.FilesOf(nas).Keys);
        phone.Start();
        await Poll.UntilAsync(() => phone.ReceivedIndex(nas) == 5, s_deadline, () => $"the phone catches up (received {phone.ReceivedIndex(nas)})");
        Assert.Equal(nas.OwnFiles(), phone.FilesOf(nas));
        Assert.Equal(["a.txt", "c.txt"], phone.FilesOf(nas).Keys.Order(StringComparer.Ordinal));
        await Poll.UntilAsync(() => !nas.StatusOf(phone).Arenas.Single().Lapsed, s_deadline, () => "the phone is no longer shown as lapsed");
    }

    [Fact]
    public async Task AnArenaSharedWithNobody_IsTrimmed_AndAPeerItIsSharedWithLater_GetsAReset()
    {
        await using var nas = Member.Listening(_dir, "nas");
        await using var laptop = Member.Blind(_dir, "laptop");
        nas.Configure(laptop);
        laptop.Configure(nas);
        // As 'peer remove' leaves an arena whose only peer it was: peers = [].
        nas.Store.SaveConfig(nas.Store.Config with { Arenas = [.. nas.Store.Config.Arenas.Select(a => a with { SharedWith = [] })] });
        nas.Write(("a.txt", "one"), ("b.txt", "two"));
        nas.Remove("a.txt");
        nas.Start(Member.Fast with { TrimInterval = TimeSpan.FromMilliseconds(100) });
        laptop.Start();

        await Poll.UntilAsync(() => nas.FirstIndex() == 4, s_deadline, () => $"nobody needs the history: all of it is trimmed (first kept: {nas.FirstIndex()})");

        // Shared again: the laptop cannot get the trimmed entries, so it gets the current files.
        var shared = nas.Store.Config with { Arenas = [.. nas.Store.Config.Arenas.Select(a => a with { SharedWith = null })] };
        nas.Store.SaveConfig(shared);
        nas.Service.Reconfigure(shared);
        await Poll.UntilAsync(() => laptop.ReceivedIndex(nas) == 3, s_deadline, () => $"the laptop is brought up to date (received {laptop.ReceivedIndex(nas)})");
        Assert.Equal(["b.txt"], laptop.FilesOf(nas).Keys);
    }

    [Fact]
    public async Task APeerNeverHeardOf_CountsItsSilenceFromWhenItWasConfigured()
    {
        var keep = TimeSpan.FromSeconds(4);
        await using var nas = Member.Listening(_dir, "nas");
        await using var laptop = Member.Blind(_dir, "laptop");
        await using var phone = Member.Blind(_dir, "phone");
        nas.Configure(laptop, phone);
        laptop.Configure(nas);
        nas.Write(("a.txt", "one"), ("b.txt", "two"));
        var configured = DateTimeOffset.UtcNow;
        nas.Start(Member.Fast with { KeepFor = keep, TrimInterval = TimeSpan.FromMilliseconds(100) });
        laptop.Start();

        await Poll.UntilAsync(() => nas.CursorOf(laptop)?.Acked == 2, s_deadline, () => "the laptop acknowledges everything");
        var cursor = nas.CursorOf(phone)!;
        Assert.Equal(0, cursor.Acked);
        Assert.InRange(cursor.AckedAt, configured.AddSeconds(-1), DateTimeOffset.UtcNow);
        await AssertKeptUntilAsync(nas, 1, cursor.AckedAt + keep);

        await Poll.UntilAsync(() => nas.FirstIndex() == 3, s_deadline, () => "the history is trimmed past the phone once the limit passed");
        Assert.True(DateTimeOffset.UtcNow - cursor.AckedAt >= keep, "not before the limit");
    }

    [Fact]
    public async Task WithoutKeepForInTheOptions_TheLimitIsKeepDays_AndAChangeOfItAppliesWhileRunning()
    {
        await using var nas = Member.Listening(_dir, "nas");
        await using var laptop = Member.Blind(_dir, "laptop");
        await using var phone = Member.Blind(_dir, "phone");
        nas.Configure(laptop, phone);
        nas.Store.SaveConfig(nas.Store.Config with { HistoryKeepDays = 3 });
        nas.Write(("a.txt", "one"), ("b.txt", "two"), ("c.txt", "three"));
        using (var index = nas.Store.OpenIndex())
        {
            // The laptop has everything; the phone was last heard of two days ago, at index 1.
            index.SetAckedIndex(laptop.Id, Member.Docs, 3, DateTimeOffset.UtcNow);
            index.SetAckedIndex(phone.Id, Member.Docs, 1, DateTimeOffset.UtcNow.AddDays(-2));
        }
        nas.Start(Member.Fast with { TrimInterval = TimeSpan.FromMilliseconds(50) });

        // One trim goes to what every peer holds: had the phone not held it back, it would go to 3 at once.
        await Poll.UntilAsync(() => nas.FirstIndex() == 2, s_deadline, () => $"what both hold is trimmed (first kept: {nas.FirstIndex()})");
        Assert.False(nas.StatusOf(phone).Arenas.Single().Lapsed);

        nas.Store.SaveConfig(nas.Store.Config with { HistoryKeepDays = 1 });
        nas.Service.Reconfigure(nas.Store.Config);

        await Poll.UntilAsync(() => nas.FirstIndex() == 4, s_deadline, () => $"trimmed past the phone once keep_days is 1 (first kept: {nas.FirstIndex()})");
        var phoneDocs = nas.StatusOf(phone).Arenas.Single();
        Assert.Equal((1L, 2L, true), (phoneDocs.Acked, phoneDocs.Pending, phoneDocs.Lapsed));
        Assert.False(nas.StatusOf(laptop).Arenas.Single().Lapsed);
    }
}
