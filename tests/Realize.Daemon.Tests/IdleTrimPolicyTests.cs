namespace Realize.Daemon.Tests;

/// <summary>When the idle daemon gives memory back: the rule alone, fed the bytes allocated at each look.</summary>
public sealed class IdleTrimPolicyTests
{
    private const long Quiet = 1 << 20;
    private const long Work = 32 << 20;

    [Fact]
    public void AQuietDaemonThatDidNoWork_DoesNotTrim()
    {
        var policy = new IdleTrimPolicy(Quiet, Work);

        // Quiet looks adding up to less than the work threshold.
        long allocated = 0;
        for (int look = 0; look < 30; look++)
        {
            allocated += Quiet / 2;
            Assert.False(policy.ShouldTrim(allocated));
        }
    }

    [Fact]
    public void QuietLooksThatAddUpToWork_TrimOnceThere()
    {
        var policy = new IdleTrimPolicy(Quiet, Work);

        long allocated = 0;
        var trims = new List<long>();
        for (int look = 0; look < 100; look++)
        {
            allocated += Quiet / 2;
            if (policy.ShouldTrim(allocated))
            {
                trims.Add(allocated);
            }
        }

        // Every 64 looks of half a MiB: the first once 32 MiB were allocated since the start.
        Assert.Equal([Work], trims);
    }

    [Fact]
    public void AfterWork_TheFirstQuietLookTrims_AndOnlyOnce()
    {
        var policy = new IdleTrimPolicy(Quiet, Work);

        Assert.False(policy.ShouldTrim(0));
        // Work: each look allocated plenty, none is quiet.
        Assert.False(policy.ShouldTrim(Work));
        Assert.False(policy.ShouldTrim(3 * Work));
        // Quiet now.
        Assert.True(policy.ShouldTrim((3 * Work) + 10));
        Assert.False(policy.ShouldTrim((3 * Work) + 20));
        Assert.False(policy.ShouldTrim((3 * Work) + 30));
    }

    [Fact]
    public void WorkBelowTheThreshold_SinceTheLastTrim_DoesNotTrimAgain()
    {
        var policy = new IdleTrimPolicy(Quiet, Work);
        policy.ShouldTrim(0);
        policy.ShouldTrim(2 * Work);
        Assert.True(policy.ShouldTrim(2 * Work));

        // A little work, then quiet: not worth a collection.
        Assert.False(policy.ShouldTrim((2 * Work) + (Work / 2)));
        Assert.False(policy.ShouldTrim((2 * Work) + (Work / 2)));
        // More work, then quiet: trims again.
        Assert.False(policy.ShouldTrim(4 * Work));
        Assert.True(policy.ShouldTrim(4 * Work));
    }

    [Fact]
    public void TheFirstLook_IsNeverQuiet_EvenAfterStartUpWork()
    {
        var policy = new IdleTrimPolicy(Quiet, Work);

        // No earlier look to compare with: the start-up's allocation counts as work, not as quiet.
        Assert.False(policy.ShouldTrim(5 * Work));
        Assert.True(policy.ShouldTrim(5 * Work));
    }
}
