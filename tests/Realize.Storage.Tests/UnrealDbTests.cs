using Realize.Core;
using Realize.TestSupport;

namespace Realize.Storage.Tests;

public sealed class UnrealDbTests : IDisposable
{
    private static readonly ArenaName s_docs = ArenaName.Parse("docs");
    private static readonly PeerId s_nas = PeerId.FromSubjectPublicKeyInfo([1]);
    private static readonly PeerId s_laptop = PeerId.FromSubjectPublicKeyInfo([2]);
    private static readonly PeerId s_phone = PeerId.FromSubjectPublicKeyInfo([3]);

    private readonly TempDir _dir = new("unrealdb");

    private string DbPath => _dir.Combine("unreal.db");

    public void Dispose() => _dir.Dispose();

    private static BlobHash Blob(string text) => ContentHasher.HashBytes(System.Text.Encoding.UTF8.GetBytes(text));

    private static Notification Added(long index, string path, string content = "x") =>
        new(index, s_docs, NotificationType.Added, RelPath.Parse(path), Blob(content), content.Length, new FileTime(1_700_000_000, 7), null);

    private static Notification Updated(long index, string path, string content, string old) =>
        new(index, s_docs, NotificationType.Updated, RelPath.Parse(path), Blob(content), content.Length, new FileTime(1_700_000_001, 0), Blob(old));

    private static Notification Removed(long index, string path, string old) =>
        new(index, s_docs, NotificationType.Removed, RelPath.Parse(path), null, null, null, Blob(old));

    private static string[] Paths(UnrealDb db, PeerId? peer = null) => db.ListFiles(s_docs, peer).Select(f => f.Path.Value).ToArray();

    [Fact]
    public async Task Open_OfANewFile_FromSeveralConnectionsAtOnce_MigratesItOnce()
    {
        // A receiver and the status opening unreal.db for the first time at the same moment.
        for (int round = 0; round < 30; round++)
        {
            string path = _dir.Combine($"race{round}.db");
            using var start = new Barrier(8);
            await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
            {
                start.SignalAndWait();
                using var db = UnrealDb.Open(path);
                return db.ReceivedIndex(s_nas, s_docs);
            })));
        }
    }

    [Fact]
    public void Apply_SetsRowsAndTheCursor_AndARemovalHidesTheFile()
    {
        using var db = UnrealDb.Open(DbPath);

        Assert.Equal(2, db.Apply(s_nas, s_docs, 1, [Added(1, "a.txt", "one"), Added(2, "b/c.txt")]));
        Assert.Equal(3, db.Apply(s_nas, s_docs, 1, [Removed(3, "a.txt", "one")]));

        Assert.Equal(["b/c.txt"], Paths(db));
        var file = Assert.Single(db.ListFiles());
        Assert.Equal((s_nas, Blob("x"), 1L, new FileTime(1_700_000_000, 7)), (file.Peer, file.Blob, file.Size, file.MTime));
        Assert.Equal(3, db.ReceivedIndex(s_nas, s_docs));
        Assert.Equal(0, db.ReceivedIndex(s_laptop, s_docs));
        Assert.Equal(file, db.Find(s_nas, s_docs, RelPath.Parse("b/c.txt")));
        Assert.Null(db.Find(s_nas, s_docs, RelPath.Parse("a.txt")));
        Assert.Null(db.Find(s_laptop, s_docs, RelPath.Parse("b/c.txt")));
    }

    [Fact]
    public void Apply_IgnoresWhatWasAppliedBefore()
    {
        using var db = UnrealDb.Open(DbPath);
        db.Apply(s_nas, s_docs, 1, [Added(1, "a.txt", "one"), Added(2, "b.txt")]);

        // A replay, and a batch that overlaps what was applied: only index 3 is new.
        Assert.Equal(2, db.Apply(s_nas, s_docs, 1, [Added(1, "a.txt", "changed?"), Added(2, "b.txt", "changed?")]));
        Assert.Equal(3, db.Apply(s_nas, s_docs, 1, [Added(2, "b.txt", "changed?"), Updated(3, "c.txt", "three", "old")]));

        Assert.Equal([Blob("one"), Blob("x"), Blob("three")], db.ListFiles().Select(f => f.Blob));
    }

    [Theory]
    [InlineData(2L, 3L)] // starts past the cursor + 1
    [InlineData(1L, 3L)] // a hole inside the batch
    [InlineData(1L, 1L)] // the same index twice
    public void Apply_RefusesAGap_AndAppliesNothingOfTheBatch(long first, long second)
    {
        using var db = UnrealDb.Open(DbPath);

        Assert.Throws<HistoryGapException>(() => db.Apply(s_nas, s_docs, 1, [Added(first, "a.txt"), Added(second, "b.txt")]));

        Assert.Empty(Paths(db));
        Assert.Equal(0, db.ReceivedIndex(s_nas, s_docs));
    }

    [Fact]
    public void Apply_RefusesTheHistoryOfANewIndex_UntilAResetOfIt()
    {
        using var db = UnrealDb.Open(DbPath);
        db.Apply(s_nas, s_docs, 1, [Added(1, "a.txt"), Added(2, "b.txt")]);

        // nas's index.db was made anew: its index 3 is of another history.
        Assert.Throws<HistoryGapException>(() => db.Apply(s_nas, s_docs, 2, [Added(3, "c.txt")]));
        Assert.Equal((2L, 1L), db.Received(s_nas, s_docs));

        db.StartReset(s_nas, s_docs);
        db.StageReset(s_nas, s_docs, [Added(1, "new.txt")]);
        db.FinishReset(s_nas, s_docs, 2, 1);
        Assert.Equal(2, db.Apply(s_nas, s_docs, 2, [Added(2, "next.txt")]));
        Assert.Equal(["new.txt", "next.txt"], Paths(db));
        Assert.Equal((2L, 2L), db.Received(s_nas, s_docs));
    }

    [Fact]
    public void AReset_LeavesExactlyTheFilesItCarried_InOneStep()
    {
        using var db = UnrealDb.Open(DbPath);
        db.Apply(s_nas, s_docs, 1, [Added(1, "gone.txt"), Added(2, "kept.txt", "old"), Removed(3, "tomb.txt", "t")]);
        db.Apply(s_laptop, s_docs, 1, [Added(1, "theirs.txt")]);

        db.StartReset(s_nas, s_docs);
        db.StageReset(s_nas, s_docs, [Added(40, "kept.txt", "new"), Added(40, "new.txt")]);
        // Until the end, the table is as it was.
        Assert.Equal(["gone.txt", "kept.txt"], Paths(db, s_nas));
        db.FinishReset(s_nas, s_docs, 1, 40);

        Assert.Equal(["kept.txt", "new.txt"], Paths(db, s_nas));
        Assert.Equal(Blob("new"), db.ListFiles(s_docs, s_nas).First().Blob);
        Assert.Equal(40, db.ReceivedIndex(s_nas, s_docs));
        Assert.Equal(["theirs.txt"], Paths(db, s_laptop));
    }

    [Fact]
    public void AResetStartedAgain_ForgetsWhatTheFirstStaged()
    {
        using var db = UnrealDb.Open(DbPath);
        db.StartReset(s_nas, s_docs);
        db.StageReset(s_nas, s_docs, [Added(9, "from-a-broken-connection.txt")]);

        db.StartReset(s_nas, s_docs);
        db.StageReset(s_nas, s_docs, [Added(9, "a.txt")]);
        db.FinishReset(s_nas, s_docs, 1, 9);

        Assert.Equal(["a.txt"], Paths(db));
    }

    [Fact]
    public void Conflicts_AreVersionsThatDoNotSupersedeEachOther()
    {
        using var db = UnrealDb.Open(DbPath);
        // nas made x; laptop changed it to y knowing x; phone changed y to z: a chain, no conflict.
        db.Apply(s_nas, s_docs, 1, [Added(1, "chain.txt", "x")]);
        db.Apply(s_laptop, s_docs, 1, [Updated(1, "chain.txt", "y", "x")]);
        db.Apply(s_phone, s_docs, 1, [Updated(1, "chain.txt", "z", "y")]);
        // Both changed "both.txt" from the same base: a conflict.
        db.Apply(s_nas, s_docs, 1, [Updated(2, "both.txt", "mine", "base")]);
        db.Apply(s_laptop, s_docs, 1, [Updated(2, "both.txt", "theirs", "base")]);
        // laptop removed what nas has: superseded. phone removed a version nas never had: a conflict.
        db.Apply(s_nas, s_docs, 1, [Added(3, "removed.txt", "r"), Added(4, "edited.txt", "new")]);
        db.Apply(s_laptop, s_docs, 1, [Removed(3, "removed.txt", "r")]);
        db.Apply(s_phone, s_docs, 1, [Removed(2, "edited.txt", "older")]);
        // The same content everywhere is never a conflict.
        db.Apply(s_laptop, s_docs, 1, [Added(4, "same.txt", "s")]);
        db.Apply(s_phone, s_docs, 1, [Added(3, "same.txt", "s")]);

        var conflicts = db.FindConflicts();

        Assert.Equal(["both.txt", "edited.txt"], conflicts.Select(c => c.Path.Value).Order(StringComparer.Ordinal));
        var both = conflicts.Single(c => c.Path.Value == "both.txt");
        Assert.Equal(new[] { (s_nas, Blob("mine")), (s_laptop, Blob("theirs")) }.OrderBy(v => v.Item1.ToString(), StringComparer.Ordinal),
            both.Versions.Select(v => (v.Peer, v.Blob!.Value)));
    }
}
