using Microsoft.Data.Sqlite;
using Realize.Core;
using Realize.TestSupport;

namespace Realize.Storage.Tests;

/// <summary>The view tree of unreal.db: entries and conflicts, kept up to date by Apply and FinishReset.</summary>
public sealed class UnrealViewTests : IDisposable
{
    private static readonly ArenaName s_docs = ArenaName.Parse("docs");
    private static readonly ArenaName s_pics = ArenaName.Parse("pics");
    private static readonly PeerId s_nas = PeerId.FromSubjectPublicKeyInfo([1]);
    private static readonly PeerId s_laptop = PeerId.FromSubjectPublicKeyInfo([2]);
    private static readonly PeerId s_phone = PeerId.FromSubjectPublicKeyInfo([3]);

    private readonly TempDir _dir = new("unrealview");

    private string DbPath => _dir.Combine("unreal.db");

    public void Dispose() => _dir.Dispose();

    private static BlobHash Blob(string text) => ContentHasher.HashBytes(System.Text.Encoding.UTF8.GetBytes(text));

    private static Notification Added(long index, string path, string content = "x", long mtime = 1_700_000_000, ArenaName? arena = null) =>
        new(index, arena ?? s_docs, NotificationType.Added, RelPath.Parse(path), Blob(content), content.Length, new FileTime(mtime, 0), null);

    private static Notification Updated(long index, string path, string content, string old, long mtime = 1_700_000_001) =>
        new(index, s_docs, NotificationType.Updated, RelPath.Parse(path), Blob(content), content.Length, new FileTime(mtime, 0), Blob(old));

    private static Notification Removed(long index, string path, string old) =>
        new(index, s_docs, NotificationType.Removed, RelPath.Parse(path), null, null, null, Blob(old));

    /// <summary>Every entry below <paramref name="parent"/>, depth first, read through ListChildren in pages of <paramref name="page"/>.</summary>
    private static List<ViewEntry> Walk(UnrealDb db, long parent = ViewEntry.RootId, int page = 2)
    {
        var all = new List<ViewEntry>();
        var children = new List<ViewEntry>();
        string after = "";
        while (true)
        {
            int before = children.Count;
            db.ListChildren(parent, after, page, children);
            if (children.Count == before)
            {
                break;
            }
            after = children[^1].Name;
        }
        foreach (var child in children)
        {
            all.Add(child);
            if (child.IsDirectory)
            {
                all.AddRange(Walk(db, child.Id, page));
            }
        }
        return all;
    }

    [Fact]
    public void Apply_ShowsFilesUnderTheirArenaAndDirectories_AndLookupsFindThem()
    {
        using var db = UnrealDb.Open(DbPath);

        db.Apply(s_nas, s_docs, 1, [Added(1, "a/b/c.txt", "one"), Added(2, "a/d.txt", "two", 1_700_000_005), Added(3, "top.txt")]);
        db.Apply(s_nas, s_pics, 1, [Added(1, "p.jpg", arena: s_pics)]);

        var root = db.Entry(ViewEntry.RootId)!;
        Assert.True(root.IsDirectory);
        Assert.Null(root.Arena);
        var docs = db.Lookup(ViewEntry.RootId, "docs")!;
        Assert.Equal((s_docs, "", true), (docs.Arena!.Value, docs.Path, docs.IsDirectory));
        Assert.Equal(docs, db.FindPath(s_docs, ""));
        var a = db.Lookup(docs.Id, "a")!;
        Assert.Equal(("a", true), (a.Path, a.IsDirectory));
        var d = db.Lookup(a.Id, "d.txt")!;
        Assert.Equal((false, Blob("two"), 3L, new FileTime(1_700_000_005, 0), s_nas, "a/d.txt"), (d.IsDirectory, d.Blob!.Value, d.Size, d.MTime, d.Peer!.Value, d.Path));
        Assert.Equal(d, db.Entry(d.Id));
        Assert.Equal(d, db.FindPath(s_docs, "a/d.txt"));
        Assert.Equal(db.FindPath(s_docs, "a/b/c.txt"), db.Lookup(db.Lookup(a.Id, "b")!.Id, "c.txt"));
        Assert.Null(db.Lookup(docs.Id, "missing"));
        Assert.Null(db.FindPath(s_docs, "a/missing"));
        Assert.Null(db.Entry(10_000));

        Assert.Equal(["docs", "pics"], Walk(db, ViewEntry.RootId).Where(e => e.Parent == ViewEntry.RootId).Select(e => e.Name));
        Assert.Equal(["a", "b", "c.txt", "d.txt", "top.txt"], Walk(db, docs.Id).Select(e => e.Name));
        Assert.All(Walk(db), e => Assert.Equal(e, db.Entry(e.Id)));
    }

    [Fact]
    public void ListChildren_GoesOnAfterTheLastName_InNameOrder()
    {
        using var db = UnrealDb.Open(DbPath);
        string[] names = ["b", "a", "c.txt", "B", "ä", "a.b", "z"];
        db.Apply(s_nas, s_docs, 1, names.Select((n, i) => Added(i + 1, "dir/" + n)).ToList());
        long dir = db.FindPath(s_docs, "dir")!.Id;

        var first = new List<ViewEntry>();
        db.ListChildren(dir, "", 3, first);
        var rest = new List<ViewEntry>();
        db.ListChildren(dir, first[^1].Name, 100, rest);

        Assert.Equal(3, first.Count);
        Assert.Equal(names.Order(StringComparer.Ordinal), first.Concat(rest).Select(e => e.Name));
        Assert.All(first.Concat(rest), e => Assert.Equal(dir, e.Parent));
    }

    [Fact]
    public void ARemoval_TakesEmptyDirectoriesAndTheArenaAway_AndAFileKeepsItsIdWhenItChanges()
    {
        using var db = UnrealDb.Open(DbPath);
        db.Apply(s_nas, s_docs, 1, [Added(1, "a/b/c.txt", "one"), Added(2, "a/d.txt", "two")]);
        long id = db.FindPath(s_docs, "a/b/c.txt")!.Id;

        db.Apply(s_nas, s_docs, 1, [Updated(3, "a/b/c.txt", "changed", "one")]);
        Assert.Equal((id, Blob("changed")), (db.FindPath(s_docs, "a/b/c.txt")!.Id, db.FindPath(s_docs, "a/b/c.txt")!.Blob!.Value));

        db.Apply(s_nas, s_docs, 1, [Removed(4, "a/b/c.txt", "changed")]);
        Assert.Null(db.FindPath(s_docs, "a/b"));
        Assert.NotNull(db.FindPath(s_docs, "a"));

        db.Apply(s_nas, s_docs, 1, [Removed(5, "a/d.txt", "two")]);
        Assert.Null(db.FindPath(s_docs, ""));
        Assert.Null(db.Lookup(ViewEntry.RootId, "docs"));
        Assert.Empty(Walk(db));
    }

    [Fact]
    public void AFileAndADirectoryOfOneName_TheDirectoryShows_AndTheFileAgainOnceItGoes()
    {
        using var db = UnrealDb.Open(DbPath);
        db.Apply(s_nas, s_docs, 1, [Added(1, "x", "file")]);
        db.Apply(s_laptop, s_docs, 1, [Added(1, "x/y", "below")]);

        Assert.True(db.FindPath(s_docs, "x")!.IsDirectory);

        db.Apply(s_laptop, s_docs, 1, [Removed(2, "x/y", "below")]);

        var x = db.FindPath(s_docs, "x")!;
        Assert.Equal((false, Blob("file")), (x.IsDirectory, x.Blob!.Value));
    }

    [Fact]
    public void ASolePeersBatch_ShowsItsNewPathsInNewDirectories_AndLaterPeersMeetThem()
    {
        using var db = UnrealDb.Open(DbPath);
        var changes = new List<ViewChange>();
        db.ViewChanged += changes.AddRange;

        // nas alone has files in docs: its new directories hold only what this batch shows.
        db.Apply(s_nas, s_docs, 1,
        [
            Added(1, "n/a", "a"), Added(2, "n/b", "b1"), Removed(3, "n/c", "c0"), Added(4, "n/f", "file"),
            Added(5, "n/f/g", "below"), Updated(6, "n/b", "b2", "b1"), Added(7, "n/m/deep/x", "x"),
        ]);

        Assert.Equal(
            [("n", true, null), ("n/a", false, Blob("a")), ("n/b", false, Blob("b2")), ("n/f", true, null), ("n/f/g", false, Blob("below")),
                ("n/m", true, null), ("n/m/deep", true, null), ("n/m/deep/x", false, Blob("x"))],
            Walk(db, db.FindPath(s_docs, "")!.Id).Select(e => (e.Path, e.IsDirectory, e.Blob)).ToList());
        Assert.Equal(4, changes.Count(c => c.Kind == ViewChangeKind.Added && db.Entry(c.Id) is { IsDirectory: false }));
        Assert.Empty(db.FindConflicts());

        // The file n/f, hidden by the directory, shows again once the directory goes.
        db.Apply(s_nas, s_docs, 1, [Removed(8, "n/f/g", "below")]);
        Assert.Equal((false, Blob("file")), (db.FindPath(s_docs, "n/f")!.IsDirectory, db.FindPath(s_docs, "n/f")!.Blob));

        // A second peer with the same content agrees; a third with other content is a conflict it wins by mtime.
        db.Apply(s_laptop, s_docs, 1, [Added(1, "n/a", "a"), Added(2, "n/c", "c1")]);
        Assert.Equal([("docs", "n/c")], db.FindConflicts().Select(c => (c.Arena.Value, c.Path.Value)).ToList());
        db.Apply(s_phone, s_docs, 1, [Added(1, "n/a", "other", 1_700_000_009)]);

        var a = db.FindPath(s_docs, "n/a")!;
        Assert.Equal((Blob("other"), s_phone, true), (a.Blob!.Value, a.Peer!.Value, a.Conflict));
        Assert.Equal([("docs", "n/a"), ("docs", "n/c")], db.FindConflicts().Select(c => (c.Arena.Value, c.Path.Value)).ToList());
        Assert.Equal(Blob("c1"), db.FindPath(s_docs, "n/c")!.Blob);
    }

    [Fact]
    public void ViewChanged_TellsWhatAppearedChangedAndWent_AfterTheCommit()
    {
        using var db = UnrealDb.Open(DbPath);
        using var reader = UnrealDb.Open(DbPath);
        var seen = new List<IReadOnlyList<ViewChange>>();
        db.ViewChanged += changes =>
        {
            // Committed: another connection sees it already.
            Assert.All(changes.Where(c => c.Kind != ViewChangeKind.Removed), c => Assert.NotNull(reader.Entry(c.Id)));
            seen.Add(changes);
        };

        db.Apply(s_nas, s_docs, 1, [Added(1, "a/b.txt", "one")]);
        var docs = db.FindPath(s_docs, "")!;
        var a = db.FindPath(s_docs, "a")!;
        var b = db.FindPath(s_docs, "a/b.txt")!;
        Assert.Equal([new(ViewEntry.RootId, "docs", docs.Id, ViewChangeKind.Added, "docs"), new(docs.Id, "a", a.Id, ViewChangeKind.Added, "docs/a"), new ViewChange(a.Id, "b.txt", b.Id, ViewChangeKind.Added, "docs/a/b.txt")],
            seen[0].OrderBy(c => c.Id));

        db.Apply(s_nas, s_docs, 1, [Updated(2, "a/b.txt", "two", "one")]);
        Assert.Equal([new ViewChange(a.Id, "b.txt", b.Id, ViewChangeKind.Changed, "docs/a/b.txt")], seen[1]);

        // A replay changes nothing, and says nothing.
        db.Apply(s_nas, s_docs, 1, [Updated(2, "a/b.txt", "two", "one")]);
        Assert.Equal(2, seen.Count);

        db.Apply(s_nas, s_docs, 1, [Removed(3, "a/b.txt", "two")]);
        Assert.Equal([new(ViewEntry.RootId, "docs", docs.Id, ViewChangeKind.Removed, "docs"), new(docs.Id, "a", a.Id, ViewChangeKind.Removed, "docs/a"), new ViewChange(a.Id, "b.txt", b.Id, ViewChangeKind.Removed, "docs/a/b.txt")],
            seen[2].OrderBy(c => c.Id));
    }

    [Fact]
    public void ViewChanged_IsNotRaised_ForABatchRefused()
    {
        using var db = UnrealDb.Open(DbPath);
        int raised = 0;
        db.ViewChanged += _ => raised++;

        Assert.Throws<HistoryGapException>(() => db.Apply(s_nas, s_docs, 1, [Added(1, "a.txt"), Added(3, "b.txt")]));

        Assert.Equal(0, raised);
        Assert.Empty(Walk(db));
    }

    [Fact]
    public void AReset_UpdatesTheViewOfThePathsItDropsAndBrings()
    {
        using var db = UnrealDb.Open(DbPath);
        db.Apply(s_nas, s_docs, 1, [Added(1, "gone/a.txt"), Added(2, "kept.txt", "old")]);
        db.Apply(s_laptop, s_docs, 1, [Updated(1, "kept.txt", "theirs", "base")]);
        Assert.Single(db.FindConflicts());
        var changes = new List<ViewChange>();
        db.ViewChanged += changes.AddRange;

        db.StartReset(s_nas, s_docs);
        db.StageReset(s_nas, s_docs, [Added(9, "new.txt")]);
        db.FinishReset(s_nas, s_docs, 1, 9);

        Assert.Equal(["kept.txt", "new.txt"], Walk(db, db.FindPath(s_docs, "")!.Id).Select(e => e.Path));
        Assert.Equal(Blob("theirs"), db.FindPath(s_docs, "kept.txt")!.Blob);
        Assert.False(db.FindPath(s_docs, "kept.txt")!.Conflict);
        Assert.Empty(db.FindConflicts());
        Assert.Contains(changes, c => c is { Name: "gone", Kind: ViewChangeKind.Removed });
        Assert.Contains(changes, c => c is { Name: "new.txt", Kind: ViewChangeKind.Added });
    }

    [Fact]
    public void HoldersOf_NamesThePeersWhoseCurrentVersionOfTheFileHasTheBlob()
    {
        using var db = UnrealDb.Open(DbPath);
        db.Apply(s_nas, s_docs, 1, [Added(1, "a.txt", "shared"), Added(2, "b.txt", "shared")]);
        db.Apply(s_laptop, s_pics, 1, [Added(1, "c.txt", "shared", arena: s_pics)]);
        db.Apply(s_phone, s_docs, 1, [Added(1, "a.txt", "shared"), Removed(2, "a.txt", "shared")]);
        db.Apply(s_phone, s_docs, 1, [Updated(3, "d.txt", "other", "shared")]);

        db.Apply(s_laptop, s_docs, 1, [Added(1, "a.txt", "shared")]);

        Assert.Equal(new HashSet<PeerId> { s_nas, s_laptop }, db.HoldersOf(Blob("shared"), s_docs, "a.txt").ToHashSet());
        Assert.Equal([s_laptop], db.HoldersOf(Blob("shared"), s_pics, "c.txt"));
        // The phone removed its a.txt, and its d.txt has other content.
        Assert.Empty(db.HoldersOf(Blob("shared"), s_docs, "d.txt"));
        Assert.Empty(db.HoldersOf(Blob("nobody"), s_docs, "a.txt"));
    }

    [Fact]
    public void Open_OfADatabaseOfTheFirstSchema_BuildsTheViewAndConflictsFromItsFiles()
    {
        // unreal.db as the schema before the view left it, with files of three peers.
        using (var connection = new SqliteConnection($"Data Source={DbPath};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = SqliteDb.ReadSchema("unreal_001.sql") + "PRAGMA user_version = 1;";
            command.ExecuteNonQuery();
            void Insert(int peer, string path, string? blob, string? old, long mtime = 1_700_000_000)
            {
                using var insert = connection.CreateCommand();
                insert.CommandText = "INSERT INTO files (arena, path, peer, blob, size, mtime_ns, old_blob) VALUES ('docs', $path, $peer, $blob, $size, $mtime, $old)";
                insert.Parameters.AddWithValue("$path", path);
                insert.Parameters.AddWithValue("$peer", peer);
                insert.Parameters.AddWithValue("$blob", blob is null ? DBNull.Value : Bytes(Blob(blob)));
                insert.Parameters.AddWithValue("$size", blob is null ? DBNull.Value : blob.Length);
                insert.Parameters.AddWithValue("$mtime", blob is null ? DBNull.Value : mtime * 1_000_000_000);
                insert.Parameters.AddWithValue("$old", old is null ? DBNull.Value : Bytes(Blob(old)));
                insert.ExecuteNonQuery();
            }
            foreach (var (number, peer) in new[] { (1, s_nas), (2, s_laptop), (3, s_phone) })
            {
                using var insert = connection.CreateCommand();
                insert.CommandText = $"INSERT INTO peers (id, peer_id) VALUES ({number}, '{peer}')";
                insert.ExecuteNonQuery();
            }
            Insert(1, "a/b.txt", "one", null);
            Insert(2, "a/b.txt", "two", "one", 1_700_000_009);
            Insert(1, "both.txt", "mine", "base", 1_700_000_001);
            Insert(3, "both.txt", "theirs", "base", 1_700_000_002);
            Insert(1, "removed.txt", null, "r");
            Insert(2, "removed.txt", "r", null);
        }

        using var db = UnrealDb.Open(DbPath);

        Assert.Equal(["a", "a/b.txt", "both.txt"], Walk(db, db.FindPath(s_docs, "")!.Id).Select(e => e.Path));
        Assert.Equal((Blob("two"), s_laptop), (db.FindPath(s_docs, "a/b.txt")!.Blob!.Value, db.FindPath(s_docs, "a/b.txt")!.Peer!.Value));
        var both = db.FindPath(s_docs, "both.txt")!;
        Assert.Equal((Blob("theirs"), true), (both.Blob!.Value, both.Conflict));
        Assert.Equal(["both.txt"], db.FindConflicts().Select(c => c.Path.Value));
        // And it goes on from there.
        db.Apply(s_phone, s_docs, 1, [Added(1, "a/c.txt")]);
        Assert.Equal(["b.txt", "c.txt"], Walk(db, db.FindPath(s_docs, "a")!.Id).Select(e => e.Name));
    }

    [Fact]
    public void Open_OfADatabaseOfTheThirdSchema_IndexesOnlyDirectoriesByPath_AndKeepsItsView()
    {
        using (var db = UnrealDb.Open(DbPath))
        {
            db.Apply(s_nas, s_docs, 1, [Added(1, "a/b/c.txt", "one"), Added(2, "a/d.txt", "two"), Added(3, "top.txt")]);
        }
        // Back to the third schema, whose tables are the same but for the index of every entry by path.
        using (var connection = new SqliteConnection($"Data Source={DbPath};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "DROP INDEX directories_by_path; CREATE UNIQUE INDEX entries_by_path ON entries (arena, path); PRAGMA user_version = 3;";
            command.ExecuteNonQuery();
        }

        using (var db = UnrealDb.Open(DbPath))
        {
            Assert.Equal(["a", "a/b", "a/b/c.txt", "a/d.txt", "top.txt"], Walk(db, db.FindPath(s_docs, "")!.Id).Select(e => e.Path));
            Assert.Equal(Blob("two"), db.FindPath(s_docs, "a/d.txt")!.Blob);
            db.Apply(s_laptop, s_docs, 1, [Added(1, "a/d.txt", "other", 1_700_000_009), Added(2, "top.txt/below", "x")]);
            Assert.Equal((Blob("other"), true), (db.FindPath(s_docs, "a/d.txt")!.Blob!.Value, db.FindPath(s_docs, "a/d.txt")!.Conflict));
            Assert.True(db.FindPath(s_docs, "top.txt")!.IsDirectory);
        }
        using (var connection = new SqliteConnection($"Data Source={DbPath};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'entries' AND sql IS NOT NULL ORDER BY name)";
            Assert.Equal("directories_by_path", command.ExecuteScalar());
        }
    }

    private static byte[] Bytes(BlobHash blob)
    {
        byte[] bytes = new byte[32];
        blob.WriteBytes(bytes);
        return bytes;
    }
}
