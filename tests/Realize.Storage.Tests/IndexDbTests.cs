using Microsoft.Data.Sqlite;
using Realize.Core;
using Realize.TestSupport;

namespace Realize.Storage.Tests;

public sealed class IndexDbTests : IDisposable
{
    private static readonly ArenaName s_docs = ArenaName.Parse("docs");
    private static readonly ArenaName s_photos = ArenaName.Parse("photos");

    private readonly TempDir _dir = new("indexdb");

    public IndexDbTests() => DbPath = _dir.Combine("index.db");

    private string DbPath { get; }

    public void Dispose() => _dir.Dispose();

    private static BlobHash Blob(string text) => ContentHasher.HashBytes(System.Text.Encoding.UTF8.GetBytes(text));

    private static PendingNotification Added(string path, string content = "x") =>
        new(NotificationType.Added, RelPath.Parse(path), Blob(content), content.Length, new FileTime(1_700_000_000, 5), null);

    private static PendingNotification[] Added(int count, string prefix = "f") =>
        Enumerable.Range(0, count).Select(i => Added($"{prefix}{i}.txt")).ToArray();

    /// <summary>Runs SQL on the file with a connection of its own, as an outside reader would.</summary>
    private string Query(string sql)
    {
        using var connection = new SqliteConnection($"Data Source={DbPath};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var lines = new List<string>();
        do
        {
            while (reader.Read())
            {
                lines.Add(string.Join('|', Enumerable.Range(0, reader.FieldCount).Select(i => reader.GetValue(i))));
            }
        }
        while (reader.NextResult());
        return string.Join('\n', lines);
    }

    private static long[] Indexes(IEnumerable<Notification> history) => history.Select(n => n.Index).ToArray();

    [Fact]
    public void Commit_AllocatesIndexesFromOne_InOrder()
    {
        using var db = IndexDb.Open(DbPath);

        long last = db.Commit(s_docs, [Added("a"), Added("b"), Added("c")], []);

        Assert.Equal(3, last);
        var history = db.ReadHistory(s_docs).ToList();
        Assert.Equal([1L, 2L, 3L], Indexes(history));
        Assert.Equal(["a", "b", "c"], history.Select(n => n.Path.Value));
        Assert.Equal(3, db.LastIndex(s_docs));
    }

    [Fact]
    public void Commit_ContinuesStrictlyIncreasing_AcrossCommits()
    {
        using var db = IndexDb.Open(DbPath);

        Assert.Equal(2, db.Commit(s_docs, Added(2), []));
        Assert.Equal(5, db.Commit(s_docs, Added(3, "g"), []));
        Assert.Equal(6, db.Commit(s_docs, Added(1, "h"), []));

        Assert.Equal([1L, 2L, 3L, 4L, 5L, 6L], Indexes(db.ReadHistory(s_docs)));
    }

    [Fact]
    public void Commit_WithoutNotifications_UsesNoIndex()
    {
        using var db = IndexDb.Open(DbPath);

        Assert.Equal(0, db.Commit(s_docs, [], []));
        Assert.Equal(2, db.Commit(s_docs, Added(2), []));
        Assert.Equal(2, db.Commit(s_docs, [], [new RowChange("x", IndexedFile.Tombstone)]));
        Assert.Equal(3, db.Commit(s_docs, Added(1, "later"), []));
    }

    [Fact]
    public void Commit_AllocatesIndependentlyPerArena()
    {
        using var db = IndexDb.Open(DbPath);

        db.Commit(s_docs, Added(3), []);
        long photos = db.Commit(s_photos, Added(2), []);
        long docs = db.Commit(s_docs, Added(1, "more"), []);

        Assert.Equal(2, photos);
        Assert.Equal(4, docs);
        Assert.Equal([1L, 2L], Indexes(db.ReadHistory(s_photos)));
        Assert.Equal([1L, 2L, 3L, 4L], Indexes(db.ReadHistory(s_docs)));
        Assert.Equal(0, db.LastIndex(ArenaName.Parse("music")));
    }

    [Fact]
    public void Commit_ContinuesAfterReopen()
    {
        using (var db = IndexDb.Open(DbPath))
        {
            db.Commit(s_docs, Added(4), []);
            db.Commit(s_photos, Added(1), []);
        }

        using var reopened = IndexDb.Open(DbPath);
        long last = reopened.Commit(s_docs, Added(2, "after"), []);

        Assert.Equal(6, last);
        Assert.Equal([1L, 2L, 3L, 4L, 5L, 6L], Indexes(reopened.ReadHistory(s_docs)));
        Assert.Equal(1, reopened.LastIndex(s_photos));
    }

    [Fact]
    public void ReadHistory_FiltersByArena()
    {
        using var db = IndexDb.Open(DbPath);
        db.Commit(s_docs, [Added("d1"), Added("d2")], []);
        db.Commit(s_photos, [Added("p1")], []);

        Assert.Equal(["d1", "d2"], db.ReadHistory(s_docs).Select(n => n.Path.Value));
        Assert.All(db.ReadHistory(s_docs), n => Assert.Equal(s_docs, n.Arena));
        Assert.Equal(["p1"], db.ReadHistory(s_photos).Select(n => n.Path.Value));
        Assert.Empty(db.ReadHistory(ArenaName.Parse("music")));
    }

    [Fact]
    public void ReadHistory_OfAllArenas_ReturnsEachArenaInIndexOrder()
    {
        using var db = IndexDb.Open(DbPath);
        db.Commit(s_photos, [Added("p1")], []);
        db.Commit(s_docs, [Added("d1")], []);
        db.Commit(s_photos, [Added("p2")], []);
        db.Commit(s_docs, [Added("d2")], []);

        var all = db.ReadHistory(null).Select(n => $"{n.Arena}#{n.Index} {n.Path}").ToList();

        Assert.Equal(4, all.Count);
        Assert.Equal(["docs#1 d1", "docs#2 d2"], all.Where(s => s.StartsWith("docs", StringComparison.Ordinal)));
        Assert.Equal(["photos#1 p1", "photos#2 p2"], all.Where(s => s.StartsWith("photos", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData(0, new long[] { 1, 2, 3, 4, 5 })]
    [InlineData(2, new long[] { 3, 4, 5 })]
    [InlineData(4, new long[] { 5 })]
    [InlineData(5, new long[0])]
    [InlineData(99, new long[0])]
    public void ReadHistory_ReturnsOnlyEntriesAfterSince(long since, long[] expected)
    {
        using var db = IndexDb.Open(DbPath);
        db.Commit(s_docs, Added(5), []);
        db.Commit(s_photos, Added(5), []);

        Assert.Equal(expected, Indexes(db.ReadHistory(s_docs, since)));
    }

    [Fact]
    public void ReadHistory_RoundTripsEveryFieldOfEachType()
    {
        var b1 = Blob("one");
        var b2 = Blob("two");
        PendingNotification[] pending =
        [
            new(NotificationType.Added, RelPath.Parse("dir/données é.txt"), b1, 3, new FileTime(1_795_000_000, 123_456_789), null),
            new(NotificationType.Updated, RelPath.Parse("dir/données é.txt"), b2, 4_000_000_000, new FileTime(-2, 500_000_000), b1),
            new(NotificationType.Removed, RelPath.Parse("line\nbreak \"quoted\""), null, null, null, b2),
            new(NotificationType.Removed, RelPath.Parse("unknown/old"), null, null, null, null),
        ];
        using (var db = IndexDb.Open(DbPath))
        {
            db.Commit(s_docs, pending, []);
        }

        using var reopened = IndexDb.Open(DbPath);
        var history = reopened.ReadHistory(s_docs).ToList();

        Assert.Equal(pending.Length, history.Count);
        for (int i = 0; i < pending.Length; i++)
        {
            var p = pending[i];
            Assert.Equal(new Notification(i + 1, s_docs, p.Type, p.Path, p.Blob, p.Size, p.MTime, p.OldBlob), history[i]);
        }
    }

    [Fact]
    public void Files_UpsertThenLoad_RoundTripsRows()
    {
        var real = new IndexedFile(Blob("a"), 1, new FileTime(1_700_000_000, 999_999_999), 42, FileSource.Real);
        var lower = new IndexedFile(Blob("b"), 7_000_000_000, new FileTime(-5, 1), ulong.MaxValue - 3, FileSource.Lower);
        using (var db = IndexDb.Open(DbPath))
        {
            db.Commit(s_docs, [], [new RowChange("a.txt", real), new RowChange("dir/b.txt", lower), new RowChange("gone.txt", IndexedFile.Tombstone)]);
        }

        using var reopened = IndexDb.Open(DbPath);
        var rows = reopened.LoadFiles(s_docs);

        Assert.Equal(3, rows.Count);
        Assert.Equal(real, rows["a.txt"]);
        Assert.Equal(lower, rows["dir/b.txt"]);
        Assert.Equal(IndexedFile.Tombstone, rows["gone.txt"]);
        Assert.Equal(new IndexedFile(null, null, null, null, FileSource.Tombstone), rows["gone.txt"]);
    }

    [Fact]
    public void Files_UpsertReplaces_AndNullRowDeletes()
    {
        using var db = IndexDb.Open(DbPath);
        var first = new IndexedFile(Blob("1"), 1, new FileTime(1, 1), 1, FileSource.Real);
        var second = new IndexedFile(Blob("22"), 2, new FileTime(2, 2), 2, FileSource.Lower);
        db.Commit(s_docs, [], [new RowChange("a", first), new RowChange("b", first)]);

        db.Commit(s_docs, [], [new RowChange("a", second), new RowChange("b", null), new RowChange("never-there", null)]);

        var rows = db.LoadFiles(s_docs);
        Assert.Equal(["a"], rows.Keys);
        Assert.Equal(second, rows["a"]);
    }

    [Fact]
    public void Files_AreKeptPerArena()
    {
        using var db = IndexDb.Open(DbPath);
        var docsRow = new IndexedFile(Blob("d"), 1, new FileTime(1, 0), 1, FileSource.Real);
        var photosRow = new IndexedFile(Blob("p"), 1, new FileTime(1, 0), 2, FileSource.Real);

        db.Commit(s_docs, [], [new RowChange("same.txt", docsRow)]);
        db.Commit(s_photos, [], [new RowChange("same.txt", photosRow)]);
        db.Commit(s_photos, [], [new RowChange("same.txt", null)]);

        Assert.Equal(docsRow, db.LoadFiles(s_docs)["same.txt"]);
        Assert.Empty(db.LoadFiles(s_photos));
    }

    [Fact]
    public void Commit_WritesNotificationsAndRowsTogether()
    {
        using (var db = IndexDb.Open(DbPath))
        {
            db.Commit(s_docs, [Added("a.txt", "aaa")], [new RowChange("a.txt", new IndexedFile(Blob("aaa"), 3, new FileTime(1_700_000_000, 5), 9, FileSource.Real))]);
        }

        // Read with a connection of its own: both tables hold the change.
        string output = Query("SELECT idx, type, path, size FROM history; SELECT path, size, inode, source FROM files;");

        Assert.Equal("1|1|a.txt|3\na.txt|3|9|1", output);
    }

    [Fact]
    public void LowerBlobs_PutThenFind_IsVisibleAtOnce_AndPersistsAfterCommit()
    {
        var blob = new LowerBlob(123, new FileTime(1_700_000_000, 42), 77, Blob("lower"));
        using (var db = IndexDb.Open(DbPath))
        {
            db.PutLowerBlob("docs/a.txt", blob);
            Assert.Equal(blob, db.FindLowerBlob("docs/a.txt"));
            db.Commit(s_docs, [Added("x")], []);
        }

        using var reopened = IndexDb.Open(DbPath);

        Assert.Equal(blob, reopened.FindLowerBlob("docs/a.txt"));
        Assert.Null(reopened.FindLowerBlob("docs/other.txt"));
    }

    [Fact]
    public void LowerBlobs_PersistAfterSaveLowerBlobs_WithoutACommit()
    {
        var blob = new LowerBlob(0, new FileTime(-1, 999_999_999), ulong.MaxValue, Blob(""));
        using (var db = IndexDb.Open(DbPath))
        {
            db.PutLowerBlob("photos/empty", blob);
            db.SaveLowerBlobs();
        }

        using var reopened = IndexDb.Open(DbPath);

        Assert.Equal(blob, reopened.FindLowerBlob("photos/empty"));
        Assert.Empty(reopened.ReadHistory(null));
    }

    [Fact]
    public void LowerBlobs_PutAgain_ReplacesTheCachedHash()
    {
        var first = new LowerBlob(1, new FileTime(1, 0), 1, Blob("1"));
        var second = new LowerBlob(2, new FileTime(2, 0), 1, Blob("22"));
        using (var db = IndexDb.Open(DbPath))
        {
            db.PutLowerBlob("p", first);
            db.SaveLowerBlobs();
            db.PutLowerBlob("p", second);
            db.SaveLowerBlobs();
        }

        using var reopened = IndexDb.Open(DbPath);

        Assert.Equal(second, reopened.FindLowerBlob("p"));
    }

    [Fact]
    public void Open_UsesWriteAheadLogging()
    {
        IndexDb.Open(DbPath).Dispose();

        Assert.Equal("wal", Query("PRAGMA journal_mode;"));
    }

    [Fact]
    public void Open_OfADatabaseWithANewerSchema_FailsClearly_AndChangesNothing()
    {
        IndexDb.Open(DbPath).Dispose();
        Query("PRAGMA user_version = 99");

        var e = Assert.Throws<InvalidDataException>(() => IndexDb.Open(DbPath));

        Assert.Contains("99", e.Message, StringComparison.Ordinal);
        Assert.Contains("upgrade realize", e.Message, StringComparison.Ordinal);
        Assert.Equal("99", Query("PRAGMA user_version;"));
    }

    [Fact]
    public void Open_OfAFileThatIsNotADatabase_ThrowsStorageException_NamingTheFileAndWhatToDo()
    {
        File.WriteAllText(DbPath, new string('x', 4096));

        var e = Assert.Throws<StorageException>(() => IndexDb.Open(DbPath).Dispose());

        Assert.Equal(DbPath, e.DatabasePath);
        Assert.Equal(26, e.ErrorCode); // SQLITE_NOTADB
        Assert.StartsWith($"{DbPath}: file is not a database; ", e.Message, StringComparison.Ordinal);
        Assert.Contains("move the file away", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);

        Assert.Equal(new string('x', 4096), File.ReadAllText(DbPath));
    }

    [Fact]
    public void ReadHistory_OfAllArenas_HonoursSince()
    {
        using var db = IndexDb.Open(DbPath);
        db.Commit(s_docs, Added(3), []);
        db.Commit(s_photos, Added(1), []);
        Assert.Equal([3L], Indexes(db.ReadHistory(null, since: 2)));
    }

    private static RowChange Row(string path, ulong inode, long size = 1, long mtime = 10, long ctime = 20) =>
        new(path, new IndexedFile(Blob(path), size, FileTime.FromTotalNanoseconds(mtime), inode, FileSource.Real, FileTime.FromTotalNanoseconds(ctime)));

    [Fact]
    public void LoadFiles_OfSomePaths_HoldsThemAndWhatLiesBelow_ButNotSiblingsWithTheSameStart()
    {
        using var db = IndexDb.Open(DbPath);
        db.Commit(s_docs, [], [Row("a", 1), Row("a/x", 2), Row("a/y/z", 3), Row("a.txt", 4), Row("a-b/c", 5), Row("ab", 6), Row("b/c", 7), Row("c", 8)]);
        db.Commit(s_photos, [], [Row("a/x", 9)]);

        var rows = db.LoadFiles(s_docs, ["a", "b/c", "missing"]);

        Assert.Equal(["a", "a/x", "a/y/z", "b/c"], rows.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(8, db.LoadFiles(s_docs, [""]).Count);
    }

    [Fact]
    public void FindByInode_FindsTheSameFileUnderAnotherName_InAnyArena_OnlyWhenSizeAndTimesMatchToo()
    {
        using var db = IndexDb.Open(DbPath);
        db.Commit(s_docs, [], [Row("old/name", 42, size: 3, mtime: 100, ctime: 200)]);

        var found = db.FindByInode(42, 3, FileTime.FromTotalNanoseconds(100), FileTime.FromTotalNanoseconds(200));

        Assert.Equal((s_docs, "old/name", Blob("old/name")), found);
        Assert.Null(db.FindByInode(42, 4, FileTime.FromTotalNanoseconds(100), FileTime.FromTotalNanoseconds(200)));
        Assert.Null(db.FindByInode(42, 3, FileTime.FromTotalNanoseconds(100), FileTime.FromTotalNanoseconds(201)));
        Assert.Null(db.FindByInode(43, 3, FileTime.FromTotalNanoseconds(100), FileTime.FromTotalNanoseconds(200)));
    }

    [Fact]
    public void FindByBlob_ListsTheFilesOfTheGivenArenasWithThatBlob_InRealOrAPlainDirectory_ThroughTheBlobIndex()
    {
        using var db = IndexDb.Open(DbPath);
        var blob = Blob("same");
        IndexedFile Of(FileSource source, ulong? inode) => new(blob, 4, FileTime.FromTotalNanoseconds(100), inode, source, FileTime.FromTotalNanoseconds(200));
        db.Commit(s_docs, [], [new RowChange("a", Of(FileSource.Real, 7)), new RowChange("b/c", Of(FileSource.Real, null)), new RowChange("lower", Of(FileSource.Lower, 9)),
            Row("other", 8)]);
        db.Commit(s_photos, [], [new RowChange("p", Of(FileSource.Real, 10))]);

        var found = db.FindByBlob(blob, [s_docs]);

        Assert.Equal([new BlobFile(s_docs, "a", 4, FileTime.FromTotalNanoseconds(100), 7, FileTime.FromTotalNanoseconds(200)),
            new BlobFile(s_docs, "b/c", 4, FileTime.FromTotalNanoseconds(100), null, FileTime.FromTotalNanoseconds(200))],
            found.OrderBy(f => f.Path, StringComparer.Ordinal));
        Assert.Equal(["docs/a", "docs/b/c", "photos/p"], db.FindByBlob(blob, [s_docs, s_photos]).Select(f => $"{f.Arena}/{f.Path}").Order(StringComparer.Ordinal));
        Assert.Empty(db.FindByBlob(blob, []));
        Assert.Empty(db.FindByBlob(Blob("nowhere"), [s_docs, s_photos]));
        Assert.Contains("files_blob", Query("EXPLAIN QUERY PLAN SELECT arena, path FROM files WHERE blob = x'00' AND source = 1"));
    }

    [Fact]
    public void BlockLists_AreKeptByBlob_UntilNoFileHasTheBlob()
    {
        using var db = IndexDb.Open(DbPath);
        db.Commit(s_docs, [], [Row("kept", 1), Row("gone", 2)]);
        byte[] first = [.. Enumerable.Repeat((byte)1, 64)];
        db.SaveBlockList(Blob("kept"), first);
        db.SaveBlockList(Blob("kept"), [.. Enumerable.Repeat((byte)2, 64)]);
        db.SaveBlockList(Blob("gone"), [.. Enumerable.Repeat((byte)3, 32)]);
        db.Commit(s_docs, [], [new RowChange("gone", null)]);

        Assert.Equal(1, db.TrimBlockLists());

        Assert.Equal(first, db.FindBlockList(Blob("kept")));
        Assert.Null(db.FindBlockList(Blob("gone")));
    }

    [Fact]
    public void FindLinks_ListsEveryNameOfAnInode_AcrossArenas()
    {
        using var db = IndexDb.Open(DbPath);
        db.Commit(s_docs, [], [Row("a", 7), Row("b", 8)]);
        db.Commit(s_photos, [], [Row("c", 7)]);

        Assert.Equal([(s_docs, "a"), (s_photos, "c")], db.FindLinks(7).OrderBy(l => l.Path, StringComparer.Ordinal));
    }

    [Fact]
    public void OpeningAVersion1Index_AddsTheInodeIndexThePeerCursorsAndAHistoryId_AndKeepsTheRows()
    {
        // A version 1 file: today's tables without what versions 2 to 6 add.
        IndexDb.Open(DbPath).Dispose();
        Query("DROP TABLE block_lists; DROP INDEX files_blob; DROP INDEX files_inode; DROP TABLE peer_cursors; DROP TABLE history_id; INSERT INTO files (arena, path, blob, size, mtime_ns, inode, source) VALUES ('docs', 'kept', NULL, NULL, NULL, 5, 0); PRAGMA user_version = 1;");
        Assert.Equal("", Query("SELECT name FROM sqlite_master WHERE name = 'files_inode'"));

        using var db = IndexDb.Open(DbPath);

        Assert.Equal("6", Query("PRAGMA user_version"));
        Assert.True(db.HistoryId > 0);
        Assert.Equal("files_inode", Query("SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'files_inode'"));
        Assert.Equal("files_blob", Query("SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'files_blob'"));
        Assert.Equal("peer_cursors", Query("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'peer_cursors'"));
        Assert.Equal(["kept"], db.LoadFiles(s_docs).Keys);
    }

    [Fact]
    public void TrimHistory_KeepsTheIndexesGoing_AndFirstIndexTellsWhereTheLogStarts()
    {
        using var db = IndexDb.Open(DbPath);
        Assert.Equal(1, db.FirstIndex(s_docs));
        db.Commit(s_docs, Added(5), []);

        Assert.Equal(3, db.TrimHistory(s_docs, 3));

        Assert.Equal(4, db.FirstIndex(s_docs));
        Assert.Equal([4L, 5L], Indexes(db.ReadHistory(s_docs)));
        db.TrimHistory(s_docs, 5);
        Assert.Equal(6, db.FirstIndex(s_docs));
        Assert.Equal(6, db.Commit(s_docs, [Added("later")], []));
    }

    [Fact]
    public void ReadHistory_InBatches_StopsAtTheLimit()
    {
        using var db = IndexDb.Open(DbPath);
        db.Commit(s_docs, Added(10), []);
        db.Commit(s_photos, Added(3), []);

        var batch = new List<Notification>();
        db.ReadHistory(s_docs, 4, 3, batch);

        Assert.Equal([5L, 6L, 7L], Indexes(batch));
        Assert.All(batch, n => Assert.Equal(s_docs, n.Arena));
    }

    [Fact]
    public void ASnapshot_SeesTheFilesAsOfItsIndex_WhateverIsCommittedMeanwhile()
    {
        using var db = IndexDb.Open(DbPath);
        var row = new IndexedFile(Blob("a"), 1, new FileTime(1, 2), 7, FileSource.Real);
        db.Commit(s_docs, [Added("a.txt", "a"), Added("b.txt", "a")], [new RowChange("a.txt", row), new RowChange("b.txt", row), new RowChange("gone.txt", IndexedFile.Tombstone)]);

        using (var snapshot = db.ReadSnapshot(s_docs))
        {
            using (var other = IndexDb.Open(DbPath))
            {
                other.Commit(s_docs, [Added("c.txt", "a")], [new RowChange("c.txt", row), new RowChange("a.txt", null)]);
            }

            Assert.Equal(2, snapshot.Index);
            var files = snapshot.Batches(1).SelectMany(b => b).ToList();
            Assert.Equal(["a.txt", "b.txt"], files.Select(f => f.Path.Value));
            Assert.All(files, f => Assert.Equal((NotificationType.Added, 2L, Blob("a")), (f.Type, f.Index, f.Blob!.Value)));
        }
        using var after = db.ReadSnapshot(s_docs);
        Assert.Equal(3, after.Index);
        Assert.Equal(["b.txt", "c.txt"], after.Batches(10).SelectMany(b => b).Select(f => f.Path.Value));
    }

    [Fact]
    public void AckedIndex_IsKeptPerPeerAndArena()
    {
        var nas = PeerId.FromSubjectPublicKeyInfo([1]);
        var laptop = PeerId.FromSubjectPublicKeyInfo([2]);
        using (var db = IndexDb.Open(DbPath))
        {
            db.SetAckedIndex(nas, s_docs, 5, s_noon);
            db.SetAckedIndex(nas, s_docs, 7, s_noon.AddSeconds(1.5));
            db.SetAckedIndex(laptop, s_photos, 2, s_noon);
        }

        using var reopened = IndexDb.Open(DbPath);
        Assert.Equal(7, reopened.AckedIndex(nas, s_docs));
        Assert.Equal(new PeerCursor(7, s_noon.AddSeconds(1.5)), reopened.Cursor(nas, s_docs));
        Assert.Equal(0, reopened.AckedIndex(nas, s_photos));
        Assert.Null(reopened.Cursor(nas, s_photos));
        Assert.Equal(2, reopened.AckedIndex(laptop, s_photos));
    }

    private static readonly DateTimeOffset s_noon = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void EnsureCursors_DatesOnlyTheMissingOnes_AtIndexZero()
    {
        var nas = PeerId.FromSubjectPublicKeyInfo([1]);
        var laptop = PeerId.FromSubjectPublicKeyInfo([2]);
        using var db = IndexDb.Open(DbPath);
        db.SetAckedIndex(nas, s_docs, 5, s_noon);

        db.EnsureCursors([(nas, s_docs), (nas, s_photos), (laptop, s_docs)], s_noon.AddDays(3));

        Assert.Equal(new PeerCursor(5, s_noon), db.Cursor(nas, s_docs));
        Assert.Equal(new PeerCursor(0, s_noon.AddDays(3)), db.Cursor(nas, s_photos));
        Assert.Equal(new PeerCursor(0, s_noon.AddDays(3)), db.Cursor(laptop, s_docs));
    }

    [Fact]
    public void OpeningAVersion4Index_DatesTheExistingPeerCursorsNow()
    {
        var nas = PeerId.FromSubjectPublicKeyInfo([1]);
        IndexDb.Open(DbPath).Dispose();
        Query($"DROP TABLE block_lists; DROP INDEX files_blob; ALTER TABLE peer_cursors DROP COLUMN acked_at_ms; INSERT INTO peer_cursors (peer, arena, acked) VALUES ('{nas}', 'docs', 9); PRAGMA user_version = 4;");
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);

        using var db = IndexDb.Open(DbPath);

        Assert.Equal("6", Query("PRAGMA user_version"));
        var cursor = db.Cursor(nas, s_docs)!;
        Assert.Equal(9, cursor.Acked);
        Assert.InRange(cursor.AckedAt, before, DateTimeOffset.UtcNow.AddSeconds(1));
    }

    [Fact]
    public void HistoryId_IsRandom_AndKeptByTheFile()
    {
        long id;
        using (var db = IndexDb.Open(DbPath))
        {
            id = db.HistoryId;
        }
        using (var again = IndexDb.Open(DbPath))
        {
            Assert.Equal(id, again.HistoryId);
        }
        using var other = IndexDb.Open(_dir.Combine("other.db"));
        Assert.NotEqual(id, other.HistoryId);
    }
}
