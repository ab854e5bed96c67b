using Realize.Core;

namespace Realize.Daemon.Tests;

/// <summary>When a changed path is examined: the settle rules, on the queue alone (the clock is the caller's).</summary>
public sealed class SettleQueueTests
{
    private const long Settle = 1_000;
    private static readonly ArenaName s_docs = ArenaName.Parse("docs");

    [Fact]
    public void ARenameWithBothEnds_IsDueAtOnce_WithItsOldName()
    {
        var queue = new SettleQueue(Settle);

        // As the watch loop notes them: the old name's event, then the new name's with the old one.
        queue.Note((s_docs, "trip"), closed: false, movedFrom: null, now: 10);
        queue.Note((s_docs, "journey"), closed: false, movedFrom: (s_docs, "trip"), now: 10);
        var scopes = queue.Collect(10, all: false, whole: [], skip: _ => false);

        var scope = Assert.Single(scopes);
        Assert.Equal(["journey", "trip"], scope.Paths!.Order(StringComparer.Ordinal));
        Assert.Equal(["journey"], scope.Renamed!);
    }

    [Fact]
    public void AChangeNotClosed_WaitsForTheSettleDelay()
    {
        var queue = new SettleQueue(Settle);

        queue.Note((s_docs, "draft.txt"), closed: false, movedFrom: null, now: 10);

        Assert.Empty(queue.Collect(10 + Settle - 1, all: false, whole: [], skip: _ => false));
        Assert.Single(queue.Collect(10 + Settle, all: false, whole: [], skip: _ => false));
    }

    [Fact]
    public void ARenameOntoAPathExaminedLately_WaitsForQuiet()
    {
        var queue = new SettleQueue(Settle);
        queue.Note((s_docs, "a.tmp"), closed: false, movedFrom: null, now: 10);
        queue.Note((s_docs, "a"), closed: false, movedFrom: (s_docs, "a.tmp"), now: 10);
        foreach (var scope in queue.Collect(10, all: false, whole: [], skip: _ => false))
        {
            queue.Examined(scope, 10);
        }

        // Saved again at once the same way (an editor writing a temporary file, then renaming it
        // over the real one): busy, so recorded once it has been quiet for the delay.
        queue.Note((s_docs, "a.tmp"), closed: false, movedFrom: null, now: 20);
        queue.Note((s_docs, "a"), closed: false, movedFrom: (s_docs, "a.tmp"), now: 20);

        Assert.Empty(queue.Collect(20, all: false, whole: [], skip: _ => false));
        var later = Assert.Single(queue.Collect(20 + Settle, all: false, whole: [], skip: _ => false));
        Assert.Equal(["a", "a.tmp"], later.Paths!.Order(StringComparer.Ordinal));
    }
}
