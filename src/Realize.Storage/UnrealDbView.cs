using Realize.Core;

namespace Realize.Storage;

/// <summary>
/// The view tree of unreal.db (<c>entries</c> and <c>conflicts</c>): kept up to date for the
/// paths each batch touches, in the batch's transaction, and read by the Unreal.
/// </summary>
public sealed partial class UnrealDb
{
    private const string EntryColumns = "id, parent, name, arena, path, is_dir, peer, blob, size, mtime_ns, conflict";

    /// <summary>The changes of the view made by the transaction in progress; raised once it committed.</summary>
    private readonly List<ViewChange> _changes = [];

    /// <summary>Directories of the view found or made by the transaction in progress: (arena, path) → id.</summary>
    private readonly Dictionary<(string Arena, string Path), long> _directories = [];

    /// <summary>Ids of the directories made by the transaction in progress: every entry in them was made by it too, so a path in one needs no read of entries.</summary>
    private readonly HashSet<long> _newDirectories = [];

    /// <summary>Files added to the view by the transaction in progress: (arena, path) → (id, parent), for the paths of new directories.</summary>
    private readonly Dictionary<(string Arena, string Path), (long Id, long Parent)> _newFiles = [];

    /// <summary>Entries made into (positive) and out of (negative) directories by the paths being updated, not yet counted: directory id → difference.</summary>
    private readonly Dictionary<long, long> _counts = [];

    /// <summary>The id the next new entry gets, read from next_entry when first needed by an update; 0: not read.</summary>
    private long _nextId;

    /// <summary>Peer IDs by their number in this file.</summary>
    private readonly Dictionary<long, PeerId> _peerIds = [];

    /// <summary>
    /// Raised after a transaction that changed the view tree committed (on the thread that
    /// applied it), with every entry it added, changed or removed, files and directories.
    /// Handlers must not throw: the change is already durable.
    /// </summary>
    public event Action<IReadOnlyList<ViewChange>>? ViewChanged;

    /// <summary>Runs a write that may change the view, then raises <see cref="ViewChanged"/> with what it changed once it committed.</summary>
    private T ChangingView<T>(Func<T> body)
    {
        _changes.Clear();
        ClearBatchState();
        T result;
        try
        {
            result = InTransaction(body);
        }
        catch
        {
            _changes.Clear();
            throw;
        }
        finally
        {
            ClearBatchState();
        }
        if (_changes.Count > 0)
        {
            var changes = _changes.ToArray();
            _changes.Clear();
            ViewChanged?.Invoke(changes);
        }
        return result;
    }

    private void ClearBatchState()
    {
        _directories.Clear();
        _newDirectories.Clear();
        _newFiles.Clear();
        _counts.Clear();
        _nextId = 0;
    }

    /// <summary>The entry with inode number <paramref name="id"/>; null when there is none (any more).</summary>
    public ViewEntry? Entry(long id) => Guarded(() =>
    {
        var select = PreparedRaw($"SELECT {EntryColumns} FROM entries WHERE id = ?1");
        select.Bind(1, id);
        return ReadEntry(select);
    });

    /// <summary>The entry named <paramref name="name"/> in the directory <paramref name="parent"/>; null when there is none.</summary>
    public ViewEntry? Lookup(long parent, string name) => Guarded(() =>
    {
        var select = PreparedRaw($"SELECT {EntryColumns} FROM entries WHERE parent = ?1 AND name = ?2");
        select.Bind(1, parent);
        select.Bind(2, name);
        return ReadEntry(select);
    });

    /// <summary>The entry of <paramref name="path"/> in <paramref name="arena"/> ("" for the arena's directory); null when the view has none.</summary>
    public ViewEntry? FindPath(ArenaName arena, string path) => Guarded(() => ReadEntry(AtPath(EntryColumns, arena.Value, path)));

    /// <summary>
    /// A statement reading <paramref name="columns"/> of the entry at <paramref name="path"/>,
    /// bound: by its directory (only directories are indexed by path, schema 4) and its name.
    /// </summary>
    private RawStatement AtPath(string columns, string arena, string path)
    {
        RawStatement select;
        if (path.Length == 0)
        {
            select = PreparedRaw($"SELECT {columns} FROM entries WHERE arena = ?1 AND path = '' AND is_dir = 1");
            select.Bind(1, arena);
            return select;
        }
        select = PreparedRaw($"SELECT {columns} FROM entries WHERE {InDirectory}");
        BindInDirectory(select, arena, path);
        return select;
    }

    /// <summary>The entry of the path (not the arena's directory) bound by <see cref="BindInDirectory"/>: ?1 arena, ?3 its directory's path, ?4 its name.</summary>
    private const string InDirectory = "parent = (SELECT id FROM entries WHERE arena = ?1 AND path = ?3 AND is_dir = 1) AND name = ?4";

    private static void BindInDirectory(RawStatement statement, string arena, string path)
    {
        statement.Bind(1, arena);
        statement.Bind(3, RelPaths.Parent(path));
        statement.Bind(4, RelPaths.Name(path));
    }

    /// <summary>
    /// Adds to <paramref name="into"/> at most <paramref name="limit"/> entries of the directory
    /// <paramref name="parent"/> whose names come after <paramref name="afterName"/> ("" for the
    /// first), in name order (bytewise UTF-8): a listing goes on from the last name it got.
    /// </summary>
    public void ListChildren(long parent, string afterName, int limit, List<ViewEntry> into) => Guarded(() =>
    {
        var select = PreparedRaw($"SELECT {EntryColumns} FROM entries WHERE parent = ?1 AND name > ?2 ORDER BY name LIMIT ?3");
        select.Bind(1, parent);
        select.Bind(2, afterName);
        select.Bind(3, limit);
        while (select.Read())
        {
            into.Add(EntryOf(select));
        }
    });

    /// <summary>The peers whose current version of <paramref name="path"/> in <paramref name="arena"/> has <paramref name="blob"/>: those a download of that file asks.</summary>
    public List<PeerId> HoldersOf(BlobHash blob, ArenaName arena, string path) => Guarded(() =>
    {
        // By the primary key: an index of files by blob (random keys) made applying a batch 10x slower.
        var select = PreparedRaw("SELECT peer FROM files WHERE arena = ?1 AND path = ?2 AND blob = ?3");
        select.Bind(1, arena.Value);
        select.Bind(2, path);
        select.Bind(3, blob);
        var holders = new List<long>();
        while (select.Read())
        {
            holders.Add(select.Value(0));
        }
        select.Reset();
        return holders.Select(PeerOf).ToList();
    });

    private ViewEntry? ReadEntry(RawStatement select)
    {
        if (!select.Read())
        {
            return null;
        }
        var entry = EntryOf(select);
        select.Reset();
        return entry;
    }

    private ViewEntry EntryOf(RawStatement row)
    {
        bool isDir = row.Value(5) != 0;
        return new ViewEntry(
            Id: row.Value(0),
            Parent: row.Value(1),
            Name: row.Text(2),
            Arena: row.IsNull(3) ? null : ArenaName.Parse(row.Text(3)),
            Path: row.Text(4),
            IsDirectory: isDir,
            Blob: row.Blob(7, DatabaseName),
            Size: row.NullableValue(8) ?? 0,
            MTime: row.NullableValue(9) is { } ns ? FileTime.FromTotalNanoseconds(ns) : default,
            Peer: row.NullableValue(6) is { } peer ? PeerOf(peer) : null,
            Conflict: row.Value(10) != 0);
    }

    /// <summary>The peer ID of a peer's number here.</summary>
    private PeerId PeerOf(long number)
    {
        if (_peerIds.TryGetValue(number, out var id))
        {
            return id;
        }
        var select = PreparedRaw("SELECT peer_id FROM peers WHERE id = ?1");
        select.Bind(1, number);
        if (!select.Read())
        {
            throw new InvalidDataException($"{DatabaseName} names peer number {number}, which it does not hold: remove it and start again");
        }
        id = PeerId.Parse(select.Text(0));
        select.Reset();
        return _peerIds[number] = id;
    }

    /// <summary>Every version of one path, one per peer that speaks of it.</summary>
    private List<PathVersion> VersionsOf(string arena, string path)
    {
        var select = PreparedRaw("SELECT peer, blob, size, mtime_ns, old_blob FROM files WHERE arena = ?1 AND path = ?2");
        select.Bind(1, arena);
        select.Bind(2, path);
        var versions = new List<PathVersion>(1);
        while (select.Read())
        {
            long peer = select.Value(0);
            versions.Add(new PathVersion(peer, default, select.Blob(1, DatabaseName), select.NullableValue(2) ?? 0, select.NullableValue(3) ?? long.MinValue, select.Blob(4, DatabaseName)));
        }
        // Peer IDs only now: reading them steps another statement.
        for (int i = 0; i < versions.Count; i++)
        {
            versions[i] = versions[i] with { PeerId = PeerOf(versions[i].Peer) };
        }
        return versions;
    }

    /// <summary>An entry as the maintenance reads it.</summary>
    private readonly record struct Row(long Id, long Parent, bool IsDir, long? Peer, BlobHash? Blob, long? Size, long? MTimeNs, bool Conflict);

    private Row? RowAt(string arena, string path)
    {
        var select = AtPath("id, parent, is_dir, peer, blob, size, mtime_ns, conflict", arena, path);
        if (!select.Read())
        {
            return null;
        }
        var row = new Row(select.Value(0), select.Value(1), select.Value(2) != 0, select.NullableValue(3), select.Blob(4, DatabaseName), select.NullableValue(5), select.NullableValue(6), select.Value(7) != 0);
        select.Reset();
        return row;
    }

    /// <summary>The versions of a path and its entry, in one statement: the hottest read of a batch.</summary>
    private (List<PathVersion> Versions, Row? Entry) ReadPath(string arena, string path)
    {
        var select = PreparedRaw($"""
            SELECT 0, peer, blob, size, mtime_ns, old_blob, 0, 0 FROM files WHERE arena = ?1 AND path = ?2
            UNION ALL
            SELECT 1, id, blob, size, mtime_ns, peer, parent, is_dir | (conflict << 1) FROM entries WHERE {InDirectory}
            """);
        BindInDirectory(select, arena, path);
        select.Bind(2, path);
        var versions = new List<PathVersion>(1);
        Row? entry = null;
        while (select.Read())
        {
            if (select.Value(0) == 0)
            {
                versions.Add(new PathVersion(select.Value(1), default, select.Blob(2, DatabaseName), select.NullableValue(3) ?? 0, select.NullableValue(4) ?? long.MinValue, select.Blob(5, DatabaseName)));
            }
            else
            {
                long flags = select.Value(7);
                entry = new Row(select.Value(1), select.Value(6), (flags & 1) != 0, select.NullableValue(5), select.Blob(2, DatabaseName), select.NullableValue(3), select.NullableValue(4), (flags & 2) != 0);
            }
        }
        for (int i = 0; i < versions.Count; i++)
        {
            versions[i] = versions[i] with { PeerId = PeerOf(versions[i].Peer) };
        }
        return (versions, entry);
    }

    /// <summary>
    /// Brings the view of <paramref name="paths"/> of <paramref name="arena"/> in line with the
    /// files table. Paths that show a file are done first and removals after, so that a
    /// directory whose files are replaced within one batch keeps its id; directories count
    /// their entries at the end, once per directory. <paramref name="rowsRemoved"/>: some of
    /// the paths may have fewer versions than before (a reset), so one version alone does not
    /// prove the path was never in conflict.
    /// </summary>
    /// <param name="onlyVersions">
    /// When not null, each path's only version (its sender is the only peer with files in the
    /// arena): a path in a directory this transaction made then needs no read at all.
    /// </param>
    private void UpdateView(string arena, IEnumerable<string> paths, bool rowsRemoved, Dictionary<string, PathVersion>? onlyVersions = null)
    {
        var only = new List<PathVersion>(1);
        foreach (string path in paths)
        {
            long parent = 0;
            var (versions, row) = onlyVersions is not null && InNewDirectory(arena, path, out parent, out var known)
                ? (Only(only, onlyVersions[path]), known)
                : ReadPath(arena, path);
            var standing = VersionRule.Standing(versions);
            var winner = VersionRule.Winner(standing);
            bool conflict = VersionRule.IsConflict(standing);
            // Versions of a path only grow in number while batches apply, and a shown file
            // carries its flag: either way, a path known not to be in conflict needs no delete.
            if (conflict || !((versions.Count == 1 && !rowsRemoved) || row is { IsDir: false, Conflict: false }))
            {
                SetConflict(arena, path, conflict);
            }
            if (winner is { } w)
            {
                Show(arena, path, row, w, conflict, parent);
            }
            else if (row is { IsDir: false } file)
            {
                _newFiles.Remove((arena, path));
                Delete(file.Id, file.Parent, RelPaths.Name(path), ViewPath(arena, path));
                _counts[file.Parent] = _counts.GetValueOrDefault(file.Parent) - 1;
            }
        }
        CountChildren();
        SaveNextId();
    }

    private static List<PathVersion> Only(List<PathVersion> list, PathVersion version)
    {
        list.Clear();
        list.Add(version);
        return list;
    }

    /// <summary>
    /// Whether <paramref name="path"/> is in a directory this transaction made, and then its
    /// entry, known without a read: every entry of a new directory was made by this transaction.
    /// </summary>
    private bool InNewDirectory(string arena, string path, out long parent, out Row? entry)
    {
        entry = null;
        if (path.Length == 0 || !_directories.TryGetValue((arena, RelPaths.Parent(path)), out parent) || !_newDirectories.Contains(parent))
        {
            parent = 0;
            return false;
        }
        entry = _directories.TryGetValue((arena, path), out long directory)
            ? new Row(directory, parent, IsDir: true, null, null, null, null, Conflict: false)
            : NewFileAt(arena, path);
        return true;
    }

    private void SetConflict(string arena, string path, bool conflict)
    {
        var statement = PreparedRaw(conflict
            ? "INSERT INTO conflicts (arena, path) VALUES (?1, ?2) ON CONFLICT DO NOTHING"
            : "DELETE FROM conflicts WHERE arena = ?1 AND path = ?2");
        statement.Bind(1, arena);
        statement.Bind(2, path);
        statement.Execute();
    }

    /// <param name="knownParent">The id of the path's directory when known (it exists), else 0.</param>
    private void Show(string arena, string path, Row? existing, PathVersion winner, bool conflict, long knownParent)
    {
        if (existing is { } row)
        {
            if (row.IsDir)
            {
                // A directory of that name holds other files: it hides this one (still in conflicts when it is).
                return;
            }
            if (row.Peer != winner.Peer || row.Blob != winner.Blob || row.Size != winner.Size || row.MTimeNs != winner.MTimeNs || row.Conflict != conflict)
            {
                var update = PreparedRaw("UPDATE entries SET peer = ?2, blob = ?3, size = ?4, mtime_ns = ?5, conflict = ?6 WHERE id = ?1");
                update.Bind(1, row.Id);
                BindFile(update, winner, conflict);
                update.Execute();
                _changes.Add(new ViewChange(row.Parent, RelPaths.Name(path), row.Id, ViewChangeKind.Changed, ViewPath(arena, path)));
            }
            return;
        }
        long parent = knownParent != 0 ? knownParent : Directory(arena, RelPaths.Parent(path));
        long id = InsertFile(parent, arena, path, winner, conflict);
        if (_newDirectories.Contains(parent))
        {
            _newFiles[(arena, path)] = (id, parent);
        }
        _counts[parent] = _counts.GetValueOrDefault(parent) + 1;
    }

    private long InsertFile(long parent, string arena, string path, PathVersion winner, bool conflict) => Insert(parent, arena, path, winner, conflict);

    private long InsertDirectory(long parent, string arena, string path)
    {
        long id = Insert(parent, arena, path, null, false);
        _newDirectories.Add(id);
        return id;
    }

    /// <summary>Adds an entry with a new id: a file showing <paramref name="file"/>, or a directory when null.</summary>
    private long Insert(long parent, string arena, string path, PathVersion? file, bool conflict)
    {
        var insert = PreparedRaw("INSERT INTO entries (id, peer, blob, size, mtime_ns, conflict, parent, name, arena, path, is_dir) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
        long id = NewId();
        insert.Bind(1, id);
        if (file is { } winner)
        {
            BindFile(insert, winner, conflict);
        }
        else
        {
            for (int i = 2; i <= 5; i++)
            {
                insert.BindNull(i);
            }
            insert.Bind(6, 0);
        }
        string name = path.Length == 0 ? arena : RelPaths.Name(path);
        insert.Bind(7, parent);
        insert.Bind(8, name);
        insert.Bind(9, arena);
        insert.Bind(10, path);
        insert.Bind(11, file is null ? 1 : 0);
        insert.Execute();
        _changes.Add(new ViewChange(parent, name, id, ViewChangeKind.Added, ViewPath(arena, path)));
        return id;
    }

    private static void BindFile(RawStatement statement, PathVersion winner, bool conflict)
    {
        statement.Bind(2, winner.Peer);
        statement.Bind(3, winner.Blob);
        statement.Bind(4, winner.Size);
        statement.Bind(5, winner.MTimeNs);
        statement.Bind(6, conflict ? 1 : 0);
    }

    /// <summary>An id no entry ever had: from next_entry, which the end of the update writes back.</summary>
    private long NewId()
    {
        if (_nextId == 0)
        {
            var select = PreparedRaw("SELECT id FROM next_entry");
            if (!select.Read())
            {
                throw new InvalidDataException($"{DatabaseName} has lost its next_entry row: remove it and start again");
            }
            _nextId = select.Value(0);
            select.Reset();
        }
        return _nextId++;
    }

    /// <summary>Writes back the next id, when ids were given.</summary>
    private void SaveNextId()
    {
        if (_nextId != 0)
        {
            var update = PreparedRaw("UPDATE next_entry SET id = ?1");
            update.Bind(1, _nextId);
            update.Execute();
            _nextId = 0;
        }
    }

    /// <summary>The id of the directory <paramref name="path"/> of <paramref name="arena"/> ("" for the arena's), made (with its parents) when missing.</summary>
    private long Directory(string arena, string path)
    {
        if (_directories.TryGetValue((arena, path), out long id))
        {
            return id;
        }
        var row = InNewDirectory(arena, path, out _, out var known) ? known : RowAt(arena, path);
        if (row is { IsDir: true })
        {
            id = row.Value.Id;
        }
        else if (row is { } file)
        {
            // A file of that name gives way to the directory, which holds more.
            _newFiles.Remove((arena, path));
            Delete(file.Id, file.Parent, RelPaths.Name(path), ViewPath(arena, path));
            id = InsertDirectory(file.Parent, arena, path);
        }
        else
        {
            long parent = path.Length == 0 ? ViewEntry.RootId : Directory(arena, RelPaths.Parent(path));
            id = InsertDirectory(parent, arena, path);
            _counts[parent] = _counts.GetValueOrDefault(parent) + 1;
        }
        _directories[(arena, path)] = id;
        return id;
    }

    /// <summary>The file this transaction added at a path of a new directory, as an entry (its id and parent: all a change of it reads); null when none.</summary>
    private Row? NewFileAt(string arena, string path) =>
        _newFiles.TryGetValue((arena, path), out var file) ? new Row(file.Id, file.Parent, IsDir: false, null, null, null, null, Conflict: false) : null;

    /// <summary>A path of the view, arena first, as the merged view shows it.</summary>
    private static string ViewPath(string arena, string path) => path.Length == 0 ? arena : arena + "/" + path;

    private void Delete(long id, long parent, string name, string viewPath)
    {
        var delete = PreparedRaw("DELETE FROM entries WHERE id = ?1");
        delete.Bind(1, id);
        delete.Execute();
        _changes.Add(new ViewChange(parent, name, id, ViewChangeKind.Removed, viewPath));
    }

    /// <summary>
    /// Applies the counts of entries made into and out of directories: one left empty goes
    /// (which may leave its own parent empty), and a file its name hid shows again.
    /// </summary>
    private void CountChildren()
    {
        var update = PreparedRaw("UPDATE entries SET children = children + ?2 WHERE id = ?1 RETURNING children, parent, arena, path");
        // In rounds: the first has every entry added and removed by the paths; later ones only
        // the directories that went, so a count that reached 0 never rises again.
        while (_counts.Count > 0)
        {
            var round = _counts.ToArray();
            _counts.Clear();
            foreach (var (directory, delta) in round)
            {
                if (delta != 0)
                {
                    Count(update, directory, delta);
                }
            }
        }
    }

    private void Count(RawStatement update, long directory, long delta)
    {
        update.Bind(1, directory);
        update.Bind(2, delta);
        if (!update.Read())
        {
            throw new System.Diagnostics.UnreachableException($"directory {directory} of the view is missing");
        }
        long children = update.Value(0);
        long parent = update.Value(1);
        string? arena = update.IsNull(2) ? null : update.Text(2);
        string path = update.Text(3);
        update.Reset();
        if (children > 0 || directory == ViewEntry.RootId || arena is null)
        {
            return;
        }
        _directories.Remove((arena, path));
        string name = path.Length == 0 ? arena : RelPaths.Name(path);
        Delete(directory, parent, name, ViewPath(arena, path));
        var standing = path.Length == 0 ? [] : VersionRule.Standing(VersionsOf(arena, path));
        if (VersionRule.Winner(standing) is { } winner)
        {
            // The directory hid a file of the same name: it shows again, in the same parent.
            InsertFile(parent, arena, path, winner, VersionRule.IsConflict(standing));
            return;
        }
        _counts[parent] = _counts.GetValueOrDefault(parent) - 1;
    }

    /// <summary>Builds the view from the files table: the migration to schema 2 calls it, in its transaction.</summary>
    private void BuildView()
    {
        var paths = new List<(string Arena, string Path)>();
        using (var command = Command("SELECT DISTINCT arena, path FROM files"))
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                paths.Add((reader.GetString(0), reader.GetString(1)));
            }
        }
        foreach (var arena in paths.GroupBy(p => p.Arena, StringComparer.Ordinal))
        {
            UpdateView(arena.Key, arena.Select(p => p.Path), rowsRemoved: false);
        }
        _changes.Clear();
        _directories.Clear();
    }
}
