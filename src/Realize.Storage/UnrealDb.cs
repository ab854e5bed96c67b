using Realize.Core;

namespace Realize.Storage;

/// <summary>A file of another peer, as its history left it.</summary>
public sealed record RemoteFile(PeerId Peer, ArenaName Arena, RelPath Path, BlobHash Blob, long Size, FileTime MTime);

/// <summary>One version of a path in a conflict: the peer's content, or null when that peer removed it.</summary>
public sealed record ConflictVersion(PeerId Peer, BlobHash? Blob);

/// <summary>A path whose versions on several peers do not supersede one another.</summary>
public sealed record Conflict(ArenaName Arena, RelPath Path, IReadOnlyList<ConflictVersion> Versions);

/// <summary>A batch whose indexes do not follow on from what was applied: it is refused whole.</summary>
public sealed class HistoryGapException : Exception
{
    public HistoryGapException(string message)
        : base(message)
    {
    }

    public HistoryGapException()
    {
    }

    public HistoryGapException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// <c>unreal.db</c>: the other peers' files, per peer and arena, with the index of each peer's
/// history applied so far in the same file (DESIGN.md "HistoryService and the wire"). One
/// connection, used by one thread at a time.
/// </summary>
public sealed partial class UnrealDb : SqliteDb
{
    private static readonly string[] s_migrations = ["unreal_001.sql", "unreal_002.sql", "unreal_003.sql"];

    private static readonly string[] s_finishReset =
    [
        "DELETE FROM files WHERE peer = $peer AND arena = $arena",
        "INSERT INTO files (peer, arena, path, blob, size, mtime_ns, old_blob) SELECT peer, arena, path, blob, size, mtime_ns, NULL FROM reset_files WHERE peer = $peer AND arena = $arena",
        "DELETE FROM reset_files WHERE peer = $peer AND arena = $arena",
    ];

    private static readonly string[] s_resetPaths =
    [
        "SELECT path FROM files WHERE peer = $peer AND arena = $arena",
        "SELECT path FROM reset_files WHERE peer = $peer AND arena = $arena",
    ];

    private UnrealDb(string path)
        : base(path, "unreal.db", s_migrations, Migrated)
    {
    }

    /// <summary>After the migrations from schema <paramref name="from"/>, in their transaction: schema 2 brings the view tree, built here from the files already received.</summary>
    private static void Migrated(SqliteDb db, long from)
    {
        if (from < 2)
        {
            ((UnrealDb)db).BuildView();
        }
    }

    /// <summary>Opens (creating when missing) the database at <paramref name="path"/>.</summary>
    public static UnrealDb Open(string path) => new(path);

    private readonly Dictionary<PeerId, long> _numbers = [];

    /// <summary>The small number that stands for <paramref name="peer"/> in the tables; given on first use.</summary>
    private long Number(PeerId peer)
    {
        if (_numbers.TryGetValue(peer, out long number))
        {
            return number;
        }
        number = InTransaction(() =>
        {
            var (insert, i) = Prepared("INSERT INTO peers (peer_id) VALUES ($peer) ON CONFLICT (peer_id) DO NOTHING", "$peer");
            i[0].Value = peer.ToString();
            insert.ExecuteNonQuery();
            var (select, p) = Prepared("SELECT id FROM peers WHERE peer_id = $peer", "$peer");
            p[0].Value = peer.ToString();
            return (long)select.ExecuteScalar()!;
        });
        _numbers[peer] = number;
        return number;
    }

    /// <summary>The number of <paramref name="peer"/>, or null when this database never heard of it (without writing).</summary>
    private long? KnownNumber(PeerId peer)
    {
        if (_numbers.TryGetValue(peer, out long number))
        {
            return number;
        }
        var (select, p) = Prepared("SELECT id FROM peers WHERE peer_id = $peer", "$peer");
        p[0].Value = peer.ToString();
        return select.ExecuteScalar() is long found ? _numbers[peer] = found : null;
    }

    /// <summary>The last index of <paramref name="peer"/>'s history of <paramref name="arena"/> applied here, 0 when none.</summary>
    public long ReceivedIndex(PeerId peer, ArenaName arena) => Received(peer, arena).Index;

    /// <summary>The last index applied and the id of the history it is of; (0, 0) when none.</summary>
    public (long Index, long History) Received(PeerId peer, ArenaName arena) => Guarded(() =>
    {
        if (KnownNumber(peer) is not { } number)
        {
            return (0, 0);
        }
        var (command, p) = Prepared("SELECT idx, history FROM received WHERE peer = $peer AND arena = $arena", "$peer", "$arena");
        p[0].Value = number;
        p[1].Value = arena.Value;
        using var reader = command.ExecuteReader();
        return reader.Read() ? (reader.GetInt64(0), reader.GetInt64(1)) : (0, 0);
    });

    /// <summary>
    /// Applies a batch of <paramref name="peer"/>'s history of <paramref name="arena"/> in one
    /// transaction, with the received cursor: entries already applied are skipped, the first new
    /// one must follow the cursor and each the one before, and all be of the history the cursor
    /// is of (<paramref name="history"/>, the sender's history id). Throws <see cref="HistoryGapException"/>
    /// (applying nothing) otherwise. Returns the index now applied.
    /// </summary>
    public long Apply(PeerId peer, ArenaName arena, long history, IReadOnlyList<Notification> batch) => Guarded(() =>
    {
        // Outside the transaction: a number given in one that is rolled back would stay cached.
        long number = Number(peer);
        return ChangingView(() =>
        {
            var (cursor, of) = Received(peer, arena);
            if (cursor > 0 && of != history)
            {
                throw new HistoryGapException($"history of {arena} continues another history than the one applied here (up to {cursor}): a reset must come first");
            }
            long previous = 0;
            int first = -1;
            for (int i = 0; i < batch.Count; i++)
            {
                long index = batch[i].Index;
                if (index <= previous)
                {
                    throw new HistoryGapException($"index {index} of {arena} follows {previous}: a history goes up one at a time");
                }
                if (index > cursor && first < 0)
                {
                    if (index != cursor + 1)
                    {
                        throw new HistoryGapException($"index {index} of {arena} does not follow {cursor}, the last one applied");
                    }
                    first = i;
                }
                else if (first >= 0 && index != previous + 1)
                {
                    throw new HistoryGapException($"index {index} of {arena} does not follow {previous}");
                }
                previous = index;
            }
            if (first < 0)
            {
                // All seen before: a replay changes nothing.
                return cursor;
            }
            var upsert = PreparedRaw("INSERT OR REPLACE INTO files (peer, arena, path, blob, size, mtime_ns, old_blob) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
            upsert.Bind(1, number);
            upsert.Bind(2, arena.Value);
            var touched = new HashSet<string>(batch.Count - first, StringComparer.Ordinal);
            for (int i = first; i < batch.Count; i++)
            {
                var n = batch[i];
                touched.Add(n.Path.Value);
                upsert.Bind(3, n.Path.Value);
                if (n.Type == NotificationType.Removed)
                {
                    upsert.BindNull(4);
                    upsert.BindNull(5);
                    upsert.BindNull(6);
                }
                else
                {
                    upsert.Bind(4, n.Blob);
                    upsert.Bind(5, n.Size!.Value);
                    upsert.Bind(6, n.MTime!.Value.TotalNanoseconds);
                }
                upsert.Bind(7, n.OldBlob);
                upsert.Execute();
            }
            UpdateView(arena.Value, touched, rowsRemoved: false);
            SetReceived(number, arena, previous, history);
            return previous;
        });
    });

    /// <summary>Starts a reset of <paramref name="peer"/>'s table of <paramref name="arena"/>: forgets the files of one begun before.</summary>
    public void StartReset(PeerId peer, ArenaName arena) => Guarded(() =>
    {
        long number = Number(peer);
        InTransaction(() =>
        {
            var (command, p) = Prepared("DELETE FROM reset_files WHERE peer = $peer AND arena = $arena", "$peer", "$arena");
            p[0].Value = number;
            p[1].Value = arena.Value;
            return command.ExecuteNonQuery();
        });
    });

    /// <summary>Keeps files of a reset in progress (<c>Added</c> notifications) until <see cref="FinishReset"/>.</summary>
    public void StageReset(PeerId peer, ArenaName arena, IReadOnlyList<Notification> files) => Guarded(() =>
    {
        long number = Number(peer);
        InTransaction(() =>
        {
            var (insert, p) = Prepared("INSERT OR REPLACE INTO reset_files (peer, arena, path, blob, size, mtime_ns) VALUES ($peer, $arena, $path, $blob, $size, $mtime)",
                "$peer", "$arena", "$path", "$blob", "$size", "$mtime");
            p[0].Value = number;
            p[1].Value = arena.Value;
            foreach (var n in files)
            {
                if (n.Type != NotificationType.Added || n.Blob is null || n.Size is null || n.MTime is null)
                {
                    throw new InvalidDataException($"a reset of {arena} carries only added files, not {n.Type} of {n.Path}");
                }
                p[2].Value = n.Path.Value;
                p[3].Value = BlobValue(n.Blob);
                p[4].Value = n.Size;
                p[5].Value = n.MTime.Value.TotalNanoseconds;
                insert.ExecuteNonQuery();
            }
            return 0;
        });
    });

    /// <summary>
    /// Ends a reset in one transaction: the peer's table of the arena becomes exactly the files
    /// staged since <see cref="StartReset"/>, and its history is applied up to <paramref name="index"/>.
    /// </summary>
    public void FinishReset(PeerId peer, ArenaName arena, long history, long index) => Guarded(() =>
    {
        long number = Number(peer);
        ChangingView(() =>
        {
            // The paths the reset may change: those the peer had and those it has now.
            var touched = new HashSet<string>(StringComparer.Ordinal);
            foreach (string sql in s_resetPaths)
            {
                var (paths, q) = Prepared(sql, "$peer", "$arena");
                q[0].Value = number;
                q[1].Value = arena.Value;
                using var reader = paths.ExecuteReader();
                while (reader.Read())
                {
                    touched.Add(reader.GetString(0));
                }
            }
            foreach (string sql in s_finishReset)
            {
                var (command, p) = Prepared(sql, "$peer", "$arena");
                p[0].Value = number;
                p[1].Value = arena.Value;
                command.ExecuteNonQuery();
            }
            UpdateView(arena.Value, touched, rowsRemoved: true);
            SetReceived(number, arena, index, history);
            return 0;
        });
    });

    private void SetReceived(long peer, ArenaName arena, long index, long history)
    {
        var (command, p) = Prepared("INSERT INTO received (peer, arena, idx, history) VALUES ($peer, $arena, $idx, $history) ON CONFLICT (peer, arena) DO UPDATE SET idx = excluded.idx, history = excluded.history",
            "$peer", "$arena", "$idx", "$history");
        p[0].Value = peer;
        p[1].Value = arena.Value;
        p[2].Value = index;
        p[3].Value = history;
        command.ExecuteNonQuery();
    }

    /// <summary>The other peers' files (not tombstones), by peer, arena and path; only one arena or peer when given.</summary>
    public IEnumerable<RemoteFile> ListFiles(ArenaName? arena = null, PeerId? peer = null) => GuardedRows(FilesOf(arena, peer));

    private IEnumerable<RemoteFile> FilesOf(ArenaName? arena, PeerId? peer)
    {
        using var command = Command("SELECT peers.peer_id, arena, path, blob, size, mtime_ns FROM files JOIN peers ON peers.id = files.peer WHERE blob IS NOT NULL"
            + (arena is null ? "" : " AND arena = $arena") + (peer is null ? "" : " AND peers.peer_id = $peer") + " ORDER BY peers.peer_id, arena, path");
        if (arena is { } a)
        {
            command.Parameters.AddWithValue("$arena", a.Value);
        }
        if (peer is { } p)
        {
            command.Parameters.AddWithValue("$peer", p.ToString());
        }
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            yield return new RemoteFile(PeerId.Parse(reader.GetString(0)), ArenaName.Parse(reader.GetString(1)), RelPath.Parse(reader.GetString(2)),
                ReadBlob(reader, 3)!.Value, reader.GetInt64(4), FileTime.FromTotalNanoseconds(reader.GetInt64(5)));
        }
    }

    /// <summary>The file of <paramref name="peer"/> at <paramref name="path"/>; null when it has none there (or removed it).</summary>
    public RemoteFile? Find(PeerId peer, ArenaName arena, RelPath path) => Guarded(() =>
    {
        if (KnownNumber(peer) is not { } number)
        {
            return null;
        }
        var (command, p) = Prepared("SELECT blob, size, mtime_ns FROM files WHERE peer = $peer AND arena = $arena AND path = $path AND blob IS NOT NULL",
            "$peer", "$arena", "$path");
        p[0].Value = number;
        p[1].Value = arena.Value;
        p[2].Value = path.Value;
        using var reader = command.ExecuteReader();
        return reader.Read()
            ? new RemoteFile(peer, arena, path, ReadBlob(reader, 0)!.Value, reader.GetInt64(1), FileTime.FromTotalNanoseconds(reader.GetInt64(2)))
            : null;
    });

    /// <summary>Every received cursor: (peer, arena) → last index applied.</summary>
    public Dictionary<(PeerId Peer, ArenaName Arena), long> ReceivedIndexes() => Guarded(() =>
    {
        using var command = Command("SELECT peers.peer_id, arena, idx FROM received JOIN peers ON peers.id = received.peer");
        using var reader = command.ExecuteReader();
        var cursors = new Dictionary<(PeerId, ArenaName), long>();
        while (reader.Read())
        {
            cursors[(PeerId.Parse(reader.GetString(0)), ArenaName.Parse(reader.GetString(1)))] = reader.GetInt64(2);
        }
        return cursors;
    });

    /// <summary>
    /// Paths whose versions on different peers do not supersede one another (DESIGN.md: Y
    /// supersedes X when Y's old_blob is X's blob, transitively; a removal is a version too),
    /// at most <paramref name="limit"/>, by arena and path, each with its standing versions by
    /// peer ID. Read from the conflicts the batches left, not by scanning the files.
    /// </summary>
    public List<Conflict> FindConflicts(int limit = 100) => Guarded(() =>
    {
        var paths = new List<(string Arena, string Path)>();
        var select = PreparedRaw("SELECT arena, path FROM conflicts ORDER BY arena, path LIMIT ?1");
        select.Bind(1, limit);
        while (select.Read())
        {
            paths.Add((select.Text(0), select.Text(1)));
        }
        var conflicts = new List<Conflict>(paths.Count);
        foreach (var (arena, path) in paths)
        {
            var standing = VersionRule.Standing(VersionsOf(arena, path))
                .Select(v => new ConflictVersion(v.PeerId, v.Blob))
                .OrderBy(v => v.Peer.ToString(), StringComparer.Ordinal)
                .ToList();
            conflicts.Add(new Conflict(ArenaName.Parse(arena), RelPath.Parse(path), standing));
        }
        return conflicts;
    });
}
