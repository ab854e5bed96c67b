using Microsoft.Data.Sqlite;
using Realize.Core;

namespace Realize.Storage;

/// <summary>
/// <c>index.db</c>: the files table, the history log, what each peer acknowledged of it and
/// the lower-layer hash cache. One connection, used by one thread at a time.
/// </summary>
public sealed partial class IndexDb : SqliteDb
{
    private static readonly string[] s_migrations = ["001_index.sql", "002_files_inode.sql", "003_peer_cursors.sql", "004_history_id.sql", "005_peer_cursor_time.sql", "006_files_blob.sql"];
    private readonly Dictionary<string, LowerBlob> _pendingLowerBlobs = new(StringComparer.Ordinal);

    private IndexDb(string path)
        : base(path, "index.db", s_migrations)
    {
    }

    /// <summary>Opens (creating when missing) the database at <paramref name="path"/>.</summary>
    public static IndexDb Open(string path) => new(path);

    /// <summary>All rows of <paramref name="arena"/>, by path.</summary>
    public Dictionary<string, IndexedFile> LoadFiles(ArenaName arena) => LoadFiles(arena, (IReadOnlyCollection<string>)[""]);

    /// <summary>The rows of <paramref name="arena"/> at or below each of <paramref name="roots"/> ("" is the whole arena), by path.</summary>
    public Dictionary<string, IndexedFile> LoadFiles(ArenaName arena, IReadOnlyCollection<string> roots) => Guarded(() =>
    {
        var rows = new Dictionary<string, IndexedFile>(StringComparer.Ordinal);
        bool whole = roots.Contains("");
        // "p" and "p/..." lie in ["p", "p0") ('0' follows '/'; BINARY collation compares UTF-8
        // bytes), with siblings such as "p.txt" that are left out below: one range of the key
        // per root, with one statement prepared once.
        var (command, p) = whole
            ? Prepared("SELECT path, blob, size, mtime_ns, inode, source, ctime_ns FROM files WHERE arena = $arena", "$arena")
            : Prepared("SELECT path, blob, size, mtime_ns, inode, source, ctime_ns FROM files WHERE arena = $arena AND path >= $root AND path < $to", "$arena", "$root", "$to");
        p[0].Value = arena.Value;
        var ranges = whole ? [] : roots.ToHashSet(StringComparer.Ordinal);
        var garbage = GarbageBound.Start();
        foreach (string root in whole ? [""] : ranges)
        {
            if (!whole)
            {
                p[1].Value = root;
                p[2].Value = root + "0";
            }
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                if ((rows.Count & 1023) == 0)
                {
                    garbage.Check();
                }
                string path = reader.GetString(0);
                if (whole || RelPaths.IsAtOrBelowAny(path, ranges))
                {
                    rows[path] = ReadRow(reader);
                }
            }
        }
        return rows;
    });

    /// <summary>
    /// The rows of <paramref name="arena"/> after <paramref name="after"/> and before <paramref name="before"/>
    /// (no bound when null), at most <paramref name="limit"/>, in the byte order of their paths
    /// (the <c>files</c> key's): a scan merges them with a walk of the same order, a page at a time.
    /// </summary>
    public void ReadFilesInOrder(ArenaName arena, string after, string? before, int limit, List<(string Path, IndexedFile Row)> into) => Guarded(() =>
    {
        var (command, p) = before is null
            ? Prepared("SELECT path, blob, size, mtime_ns, inode, source, ctime_ns FROM files WHERE arena = $arena AND path > $after ORDER BY path LIMIT $limit", "$arena", "$after", "$limit")
            : Prepared("SELECT path, blob, size, mtime_ns, inode, source, ctime_ns FROM files WHERE arena = $arena AND path > $after AND path < $before ORDER BY path LIMIT $limit", "$arena", "$after", "$limit", "$before");
        p[0].Value = arena.Value;
        p[1].Value = after;
        p[2].Value = limit;
        if (before is not null)
        {
            p[3].Value = before;
        }
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            into.Add((reader.GetString(0), ReadRow(reader)));
        }
    });

    /// <summary>The row of <paramref name="path"/> in <paramref name="arena"/>, or null.</summary>
    public IndexedFile? FindFile(ArenaName arena, string path) => Guarded(() =>
    {
        var (command, p) = Prepared("SELECT path, blob, size, mtime_ns, inode, source, ctime_ns FROM files WHERE arena = $arena AND path = $path", "$arena", "$path");
        p[0].Value = arena.Value;
        p[1].Value = path;
        using var reader = command.ExecuteReader();
        return reader.Read() ? ReadRow(reader) : null;
    });

    /// <summary>True when <paramref name="arena"/> has any row.</summary>
    public bool HasFiles(ArenaName arena) => Guarded(() =>
    {
        var (command, p) = Prepared("SELECT 1 FROM files WHERE arena = $arena LIMIT 1", "$arena");
        p[0].Value = arena.Value;
        return command.ExecuteScalar() is not null;
    });

    /// <summary>Up to <paramref name="limit"/> files of <paramref name="arena"/> whose content is in its own directory, with their size and mtime.</summary>
    public List<(string Path, long Size, FileTime MTime, FileTime? CTime)> SomeFiles(ArenaName arena, int limit) => Guarded(() =>
    {
        var (command, p) = Prepared("SELECT path, size, mtime_ns, ctime_ns FROM files WHERE arena = $arena AND source = 1 LIMIT $limit", "$arena", "$limit");
        p[0].Value = arena.Value;
        p[1].Value = limit;
        using var reader = command.ExecuteReader();
        var files = new List<(string, long, FileTime, FileTime?)>();
        while (reader.Read())
        {
            files.Add((reader.GetString(0), reader.GetInt64(1), FileTime.FromTotalNanoseconds(reader.GetInt64(2)),
                reader.IsDBNull(3) ? null : FileTime.FromTotalNanoseconds(reader.GetInt64(3))));
        }
        return files;
    });

    /// <summary>
    /// The arena, path and blob of a row for a file of real/ with this inode, size, mtime and
    /// ctime (the same file under another name), or null; only in <paramref name="within"/> when given.
    /// </summary>
    public (ArenaName Arena, string Path, BlobHash Blob)? FindByInode(ulong inode, long size, FileTime mtime, FileTime ctime, ArenaName? within = null) => Guarded<(ArenaName, string, BlobHash)?>(() =>
    {
        var (command, p) = within is null
            ? Prepared("SELECT arena, path, blob FROM files WHERE inode = $inode AND size = $size AND mtime_ns = $mtime AND ctime_ns = $ctime AND source = 1 LIMIT 1",
                "$inode", "$size", "$mtime", "$ctime")
            : Prepared("SELECT arena, path, blob FROM files WHERE inode = $inode AND size = $size AND mtime_ns = $mtime AND ctime_ns = $ctime AND source = 1 AND arena = $arena LIMIT 1",
                "$inode", "$size", "$mtime", "$ctime", "$arena");
        p[0].Value = (long)inode;
        p[1].Value = size;
        p[2].Value = mtime.TotalNanoseconds;
        p[3].Value = ctime.TotalNanoseconds;
        if (within is { } arena)
        {
            p[4].Value = arena.Value;
        }
        using var reader = command.ExecuteReader();
        return reader.Read() && ReadBlob(reader, 2) is { } blob ? (ArenaName.Parse(reader.GetString(0)), reader.GetString(1), blob) : null;
    });

    /// <summary>
    /// The files of <paramref name="arenas"/> whose content is <paramref name="blob"/> and lives in
    /// real/ or a plain arena's directory (never the lower layer's, nor tombstones), through the
    /// index on files(blob).
    /// </summary>
    public List<BlobFile> FindByBlob(BlobHash blob, IReadOnlyCollection<ArenaName> arenas) => Guarded(() =>
    {
        var files = new List<BlobFile>();
        if (arenas.Count == 0)
        {
            return files;
        }
        // By blob alone, the arenas filtered here: a blob has few rows, and one statement serves any set of arenas.
        var (command, p) = Prepared("SELECT arena, path, size, mtime_ns, inode, ctime_ns FROM files WHERE blob = $blob AND source = 1", "$blob");
        p[0].Value = BlobValue(blob);
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var arena = ArenaName.Parse(reader.GetString(0));
            if (arenas.Contains(arena))
            {
                files.Add(new BlobFile(arena, reader.GetString(1), reader.GetInt64(2), FileTime.FromTotalNanoseconds(reader.GetInt64(3)),
                    reader.IsDBNull(4) ? null : (ulong)reader.GetInt64(4), reader.IsDBNull(5) ? null : FileTime.FromTotalNanoseconds(reader.GetInt64(5))));
            }
        }
        return files;
    });

    /// <summary>The block list kept for <paramref name="blob"/> (the SHA-256 of each block, concatenated), or null.</summary>
    public byte[]? FindBlockList(BlobHash blob) => Guarded(() =>
    {
        var (command, p) = Prepared("SELECT hashes FROM block_lists WHERE blob = $blob", "$blob");
        p[0].Value = BlobValue(blob);
        return command.ExecuteScalar() as byte[];
    });

    /// <summary>Keeps the block list of <paramref name="blob"/>, which the caller checked hashes to it; a list kept already stays.</summary>
    public void SaveBlockList(BlobHash blob, byte[] hashes) => Guarded(() =>
    {
        InTransaction(() =>
        {
            var (command, p) = Prepared("INSERT INTO block_lists (blob, hashes) VALUES ($blob, $hashes) ON CONFLICT (blob) DO NOTHING", "$blob", "$hashes");
            p[0].Value = BlobValue(blob);
            p[1].Value = hashes;
            return command.ExecuteNonQuery();
        });
    });

    /// <summary>Deletes the block lists of blobs no row of <c>files</c> has any more; returns how many.</summary>
    public int TrimBlockLists() => Guarded(() =>
    {
        return InTransaction(() =>
        {
            var (command, _) = Prepared("DELETE FROM block_lists WHERE NOT EXISTS (SELECT 1 FROM files WHERE files.blob = block_lists.blob)");
            return command.ExecuteNonQuery();
        });
    });

    /// <summary>The (arena, path) of every row for a file of real/ with this inode: the names of a hard-linked file.</summary>
    public List<(ArenaName Arena, string Path)> FindLinks(ulong inode) => Guarded(() =>
    {
        var (command, p) = Prepared("SELECT arena, path FROM files WHERE inode = $inode", "$inode");
        p[0].Value = (long)inode;
        using var reader = command.ExecuteReader();
        var links = new List<(ArenaName, string)>();
        while (reader.Read())
        {
            links.Add((ArenaName.Parse(reader.GetString(0)), reader.GetString(1)));
        }
        return links;
    });

    private IndexedFile ReadRow(SqliteDataReader reader) => new(
        ReadBlob(reader, 1),
        reader.IsDBNull(2) ? null : reader.GetInt64(2),
        reader.IsDBNull(3) ? null : FileTime.FromTotalNanoseconds(reader.GetInt64(3)),
        reader.IsDBNull(4) ? null : (ulong)reader.GetInt64(4),
        (FileSource)reader.GetInt32(5),
        reader.IsDBNull(6) ? null : FileTime.FromTotalNanoseconds(reader.GetInt64(6)));

    /// <summary>
    /// Appends <paramref name="notifications"/> to the history of <paramref name="arena"/>
    /// and applies <paramref name="rows"/>, in one transaction. Returns the last index used.
    /// </summary>
    public long Commit(ArenaName arena, IReadOnlyList<PendingNotification> notifications, IReadOnlyList<RowChange> rows) => Guarded(() =>
    {
        return InTransaction(() =>
        {
            long last = Append(arena, notifications, rows);
            FlushLowerBlobs();
            return last;
        });
    });

    /// <summary>Writes the lower-layer hashes found since the last commit, when there are any.</summary>
    public void SaveLowerBlobs() => Guarded(() =>
    {
        if (_pendingLowerBlobs.Count == 0)
        {
            return;
        }
        InTransaction(() =>
        {
            FlushLowerBlobs();
            return 0;
        });
    });

    private long Append(ArenaName arena, IReadOnlyList<PendingNotification> notifications, IReadOnlyList<RowChange> rows)
    {
        long next = NextIndex(arena);
        if (notifications.Count > 0)
        {
            var (insert, p) = Prepared("INSERT INTO history (arena, idx, type, path, blob, size, mtime_ns, old_blob) VALUES ($arena, $idx, $type, $path, $blob, $size, $mtime, $old)",
                "$arena", "$idx", "$type", "$path", "$blob", "$size", "$mtime", "$old");
            p[0].Value = arena.Value;
            foreach (var n in notifications)
            {
                p[1].Value = next++;
                p[2].Value = (int)n.Type;
                p[3].Value = n.Path.Value;
                p[4].Value = BlobValue(n.Blob);
                p[5].Value = (object?)n.Size ?? DBNull.Value;
                p[6].Value = (object?)n.MTime?.TotalNanoseconds ?? DBNull.Value;
                p[7].Value = BlobValue(n.OldBlob);
                insert.ExecuteNonQuery();
            }
            var (advance, a) = Prepared("INSERT INTO arenas (name, next_index) VALUES ($arena, $next) ON CONFLICT (name) DO UPDATE SET next_index = excluded.next_index", "$arena", "$next");
            a[0].Value = arena.Value;
            a[1].Value = next;
            advance.ExecuteNonQuery();
        }
        if (rows.Count > 0)
        {
            var (upsert, u) = Prepared("INSERT OR REPLACE INTO files (arena, path, blob, size, mtime_ns, inode, source, ctime_ns) VALUES ($arena, $path, $blob, $size, $mtime, $inode, $source, $ctime)",
                "$arena", "$path", "$blob", "$size", "$mtime", "$inode", "$source", "$ctime");
            var (delete, d) = Prepared("DELETE FROM files WHERE arena = $arena AND path = $path", "$arena", "$path");
            u[0].Value = arena.Value;
            d[0].Value = arena.Value;
            foreach (var change in rows)
            {
                if (change.Row is not { } row)
                {
                    d[1].Value = change.Path;
                    delete.ExecuteNonQuery();
                    continue;
                }
                u[1].Value = change.Path;
                u[2].Value = BlobValue(row.Blob);
                u[3].Value = (object?)row.Size ?? DBNull.Value;
                u[4].Value = (object?)row.MTime?.TotalNanoseconds ?? DBNull.Value;
                u[5].Value = row.Inode is { } inode ? (long)inode : DBNull.Value;
                u[6].Value = (int)row.Source;
                u[7].Value = (object?)row.CTime?.TotalNanoseconds ?? DBNull.Value;
                upsert.ExecuteNonQuery();
            }
        }
        return next - 1;
    }

    /// <summary>
    /// The files of <paramref name="arena"/> as its history up to <see cref="FileSnapshot.Index"/>
    /// leaves them (tombstones left out), read in one transaction so that both agree: what a
    /// reset sends. Dispose it to end the transaction.
    /// </summary>
    public FileSnapshot ReadSnapshot(ArenaName arena)
    {
        var transaction = Guarded(BeginReadTransaction);
        try
        {
            return new FileSnapshot(this, arena, LastIndex(arena), transaction);
        }
        catch
        {
            transaction.Dispose();
            throw;
        }
    }

    /// <summary>A consistent view of an arena's files and the index of the history they follow from.</summary>
    public sealed class FileSnapshot : IDisposable
    {
        private readonly IndexDb _db;
        private readonly ArenaName _arena;
        private readonly IDisposable _transaction;

        internal FileSnapshot(IndexDb db, ArenaName arena, long index, IDisposable transaction)
        {
            _db = db;
            _arena = arena;
            Index = index;
            _transaction = transaction;
        }

        /// <summary>The last index of the history the files follow from.</summary>
        public long Index { get; }

        /// <summary>The files as <c>Added</c> notifications carrying <see cref="Index"/>, by path, in lists of at most <paramref name="size"/>.</summary>
        public IEnumerable<List<Notification>> Batches(int size) => _db.GuardedRows(BatchesOf(size));

        private IEnumerable<List<Notification>> BatchesOf(int size)
        {
            var (command, p) = _db.Prepared("SELECT path, blob, size, mtime_ns FROM files WHERE arena = $arena AND blob IS NOT NULL ORDER BY path", "$arena");
            p[0].Value = _arena.Value;
            var rows = new List<Notification>(size);
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                rows.Add(new Notification(Index, _arena, NotificationType.Added, RelPath.Parse(reader.GetString(0)), _db.ReadBlob(reader, 1),
                    reader.GetInt64(2), FileTime.FromTotalNanoseconds(reader.GetInt64(3)), null));
                if (rows.Count == size)
                {
                    yield return rows;
                    rows = new List<Notification>(size);
                }
            }
            if (rows.Count > 0)
            {
                yield return rows;
            }
        }

        /// <inheritdoc/>
        public void Dispose() => _transaction.Dispose();
    }

    /// <summary>Which history this index.db holds: random, given when it was made; a receiver's position is of one history.</summary>
    public long HistoryId
    {
        get
        {
            var (command, _) = Prepared("SELECT id FROM history_id");
            return Guarded(() => (long)command.ExecuteScalar()!);
        }
    }

    /// <summary>Number of files (not tombstones) of <paramref name="arena"/> in the index.</summary>
    public long CountFiles(ArenaName arena) => Guarded(() =>
    {
        using var command = Command("SELECT count(*) FROM files WHERE arena = $arena AND blob IS NOT NULL");
        command.Parameters.AddWithValue("$arena", arena.Value);
        return (long)command.ExecuteScalar()!;
    });

    /// <summary>The last index used in <paramref name="arena"/>'s history, 0 when none.</summary>
    public long LastIndex(ArenaName arena) => Guarded(() => NextIndex(arena) - 1);

    /// <summary>The cached hash of lower file <paramref name="path"/>, whatever its current state.</summary>
    public LowerBlob? FindLowerBlob(string path) => Guarded(() =>
    {
        if (_pendingLowerBlobs.TryGetValue(path, out var pending))
        {
            return pending;
        }
        var (command, p) = Prepared("SELECT size, mtime_ns, inode, blob FROM lower_blobs WHERE path = $path", "$path");
        p[0].Value = path;
        using var reader = command.ExecuteReader();
        return reader.Read()
            ? new LowerBlob(reader.GetInt64(0), FileTime.FromTotalNanoseconds(reader.GetInt64(1)), (ulong)reader.GetInt64(2), ReadBlob(reader, 3)!.Value)
            : null;
    });

    /// <summary>Remembers the hash of a lower file; written with the next <see cref="Commit"/>.</summary>
    public void PutLowerBlob(string path, LowerBlob blob) => _pendingLowerBlobs[path] = blob;

    private void FlushLowerBlobs()
    {
        if (_pendingLowerBlobs.Count == 0)
        {
            return;
        }
        using var upsert = Command("INSERT OR REPLACE INTO lower_blobs (path, size, mtime_ns, inode, blob) VALUES ($path, $size, $mtime, $inode, $blob)");
        var p = AddParameters(upsert, "$path", "$size", "$mtime", "$inode", "$blob");
        foreach (var (path, blob) in _pendingLowerBlobs)
        {
            p[0].Value = path;
            p[1].Value = blob.Size;
            p[2].Value = blob.MTime.TotalNanoseconds;
            p[3].Value = (long)blob.Inode;
            p[4].Value = BlobValue(blob.Blob);
            upsert.ExecuteNonQuery();
        }
        _pendingLowerBlobs.Clear();
    }

    private long NextIndex(ArenaName arena)
    {
        var (command, p) = Prepared("SELECT next_index FROM arenas WHERE name = $arena", "$arena");
        p[0].Value = arena.Value;
        return command.ExecuteScalar() is long next ? next : 1;
    }
}
