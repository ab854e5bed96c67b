using Realize.Core;
using Realize.Linux;
using Realize.Storage;

namespace Realize.Real;

/// <summary>
/// The scan of one plain-directory arena (DESIGN.md "without OverlayFS"): a directory shared as
/// it is, over nothing, where no overlay attribute means anything. It walks each directory in
/// the byte order of paths (the order of the <c>files</c> key) and merges what it finds with the
/// arena's rows read in that same order, a page at a time, so that it holds one directory's
/// entries and one page of rows, never the tree's: a file with no row is <c>Added</c>, a file
/// whose blob differs from its row's <c>Updated</c>, and a row with no file <c>Removed</c>.
/// </summary>
internal sealed class PlainArenaScan
{
    private const int PageSize = 1024;

    // Removed rows of this scan remembered by file, so that the files of a directory renamed to a
    // name after its old one (whose rows went first) are not hashed again; bounded.
    private const int RemovedLimit = 65_536;

    private readonly UpperScanner _owner;
    private readonly IndexDb _index;
    private readonly ArenaName _arena;
    private readonly string _root;
    private readonly ScanCounts _counts;
    private readonly IProgress<long>? _progress;

    // The paths examined, none below another; null for the whole arena.
    private readonly string[]? _roots;

    // Paths left alone for now (still settling), with what lies below them.
    private readonly HashSet<string> _deferred;

    // Whether the arena has rows at all: a first scan has none to find a file under another name in.
    private readonly bool _hasRows;

    // (inode, size, mtime, ctime) of files with several names hashed by this scan, and of rows it
    // removed -> their path and blob: the same file, found again under another name, is not read again.
    private readonly Dictionary<(ulong, long, FileTime, FileTime?), (string Path, BlobHash Blob)> _known = [];

    // The page of rows being merged, the next one's position in it, and where the next page starts.
    private readonly List<(string Path, IndexedFile Row)> _page = new(PageSize);
    private int _next;
    private string _after = "";
    private string? _before;
    private bool _lastPage = true;

    private readonly List<PendingNotification> _notifications = [];
    private readonly List<RowChange> _rowChanges = [];

    // Keeps the scan's short-lived garbage small.
    private GarbageBound _garbage = GarbageBound.Start();

    public PlainArenaScan(UpperScanner owner, IndexDb index, ScanScope scope, string root, ScanCounts counts, IProgress<long>? progress)
    {
        _owner = owner;
        _index = index;
        _arena = scope.Arena;
        _root = root;
        _counts = counts;
        _progress = progress;
        _roots = scope.Roots();
        _deferred = scope.DeferredBelow(_roots);
        _hasRows = index.HasFiles(_arena);
        _rootIdentity = Identity(root);
    }

    // The arena's directory as the scan began (its inode and mount): a disk unmounted, or another
    // directory put in its place, during the walk makes every path below look gone.
    private readonly (ulong Inode, ulong? Mount)? _rootIdentity;

    private static (ulong Inode, ulong? Mount)? Identity(string root) =>
        Stat.TryLstat(root) is { Kind: FileKind.Directory } status ? (status.Inode, Stat.MountId(root)) : null;

    public void Run()
    {
        if (_roots is null)
        {
            StartRows(null, "", null);
            WalkDirectory(_root, "");
            Drain();
        }
        else
        {
            foreach (string root in _roots)
            {
                RunBelow(root);
            }
        }
        Flush();
    }

    /// <summary>Examines <paramref name="root"/> and what lies below it: the paths inotify named.</summary>
    private void RunBelow(string root)
    {
        if (!root.Contains('/', StringComparison.Ordinal) && ArenaMarker.IsMarkerName(root))
        {
            // The arena's marker is this peer's, never shared.
            return;
        }
        StartRows(root, root + "/", root + "0");
        string full = _root + "/" + root;
        if (AncestorsAreDirectories(root))
        {
            switch (Stat.TryLstat(full))
            {
                case { Kind: FileKind.Regular } status:
                    Offer(root, full, status, isRoot: true);
                    break;
                case { Kind: FileKind.Directory }:
                    WalkDirectory(full, root);
                    break;
                case null:
                    if (_owner.TryGone(_arena, root) is { } inode)
                    {
                        // Overlay reports the writes to a hard-linked file under the name it first
                        // looked it up by, even once that name is deleted: look at the other names.
                        NoteLinks(root, inode);
                    }
                    break;
                case { } other:
                    Skip(full, other.Kind);
                    break;
            }
        }
        // Rows left below the root: nothing stands there any more.
        Drain();
    }

    /// <summary>True when every directory above <paramref name="path"/> (below the arena's root) is one.</summary>
    private bool AncestorsAreDirectories(string path)
    {
        for (int slash = path.IndexOf('/', StringComparison.Ordinal); slash > 0; slash = path.IndexOf('/', slash + 1))
        {
            if (Stat.TryLstat(_root + "/" + path[..slash]) is not { Kind: FileKind.Directory })
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Walks the directory at <paramref name="full"/> (path <paramref name="path"/>, "" for the root) and below, in the byte order of paths.</summary>
    private void WalkDirectory(string full, string path)
    {
        var children = new List<(byte[] Key, string Name, FileStatus Status)>();
        using (var directory = DirectoryHandle.TryOpen(full))
        {
            if (directory is null)
            {
                // Gone meanwhile: what stood below it is reported removed, as it is.
                return;
            }
            foreach (var entry in directory.ReadAll())
            {
                if (!Names.TryDecode(entry.Name, out string? name))
                {
                    _counts.Skipped++;
                    Log.InvalidName(_owner.Logger, full);
                    continue;
                }
                if (path.Length == 0 && ArenaMarker.IsMarkerName(name))
                {
                    // The arena's marker is this peer's, never shared.
                    continue;
                }
                if (_deferred.Count > 0 && _deferred.Contains(Names.Join(path, name)))
                {
                    continue;
                }
                if (Stat.TryLstatAt(directory, entry.NameBytes) is not { } status)
                {
                    continue;
                }
                // A directory sorts as its name and a slash: where the paths below it sort.
                byte[] key = entry.Name.ToArray();
                if (status.Kind == FileKind.Directory)
                {
                    key = [.. key, (byte)'/'];
                }
                children.Add((key, name, status));
            }
        }
        children.Sort((a, b) => a.Key.AsSpan().SequenceCompareTo(b.Key));
        foreach (var (_, name, status) in children)
        {
            string child = Names.Join(path, name);
            string childFull = full + "/" + name;
            switch (status.Kind)
            {
                case FileKind.Directory:
                    WalkDirectory(childFull, child);
                    break;
                case FileKind.Regular:
                    Offer(child, childFull, status, isRoot: false);
                    break;
                default:
                    Skip(childFull, status.Kind);
                    break;
            }
        }
    }

    private void Skip(string full, FileKind kind)
    {
        _counts.Skipped++;
        Log.SkippedSpecial(_owner.Logger, full, kind);
    }

    /// <summary>A regular file the walk found, compared with its row (the rows before it have no file).</summary>
    /// <param name="isRoot">The path was named to the scan (inotify told of it), rather than found in a directory.</param>
    private void Offer(string path, string full, FileStatus status, bool isRoot)
    {
        _counts.Files++;
        if ((_counts.Files & 255) == 0)
        {
            _garbage.Check();
            _progress?.Report(_counts.Files);
        }
        var row = RowAt(path);
        if (row is not null && row.Source != FileSource.Tombstone
            && row.Inode == status.Inode && row.Size == status.Size && row.MTime == status.MTime && row.CTime == status.CTime)
        {
            // Unchanged since the last scan: never hashed again, and its row stays as it is.
            // ctime too: a rewrite whose mtime was set back (touch -d, rsync -t) still changes it.
            return;
        }
        if (!isRoot && _owner.IsSettling(status))
        {
            // Found in a directory while it may still be written: examined once quiet, not half-written now.
            _owner.AddSettling(_arena, path);
            return;
        }
        if (_roots is not null && status.LinkCount > 1)
        {
            NoteLinks(path, status.Inode);
        }
        (BlobHash Blob, FileStatus Status)? hashed;
        try
        {
            hashed = HashSettled(path, full, status);
        }
        catch (IOException e) when (UpperScanner.Vanished(e))
        {
            // Gone while examined (an editor's temporary file): its row stays until the next look.
            hashed = null;
        }
        if (hashed is not ({ } blob, { } now) || !RelPath.TryParse(path, out RelPath relPath, out _))
        {
            return;
        }
        if (PathDiff.Notification(relPath, row?.Blob, new PathDiff.Content(blob, now.Size, now.MTime), _counts) is { } notification)
        {
            _notifications.Add(notification);
        }
        var wanted = new IndexedFile(blob, now.Size, now.MTime, now.Inode, FileSource.Real, now.CTime);
        if (wanted != row)
        {
            _rowChanges.Add(new RowChange(path, wanted));
            if (row?.Inode is { } inode && inode != now.Inode)
            {
                _owner.RememberGone(_arena, path, inode);
            }
        }
        FlushWhenFull();
    }

    /// <summary>A row whose file is gone: <c>Removed</c>, unless it is left alone for now.</summary>
    private void Unmatched(string path, IndexedFile row)
    {
        if (Names.IsAtOrBelowAny(path, _deferred) || !RelPath.TryParse(path, out RelPath relPath, out _))
        {
            return;
        }
        if (PathDiff.Notification(relPath, row.Blob, null, _counts) is { } notification)
        {
            _notifications.Add(notification);
        }
        _rowChanges.Add(new RowChange(path, null));
        if (row.Inode is { } inode)
        {
            _owner.RememberGone(_arena, path, inode);
            if (row is { Source: FileSource.Real, Size: { } size, MTime: { } mtime, Blob: { } blob })
            {
                Remember((inode, size, mtime, row.CTime), path, blob);
            }
        }
        FlushWhenFull();
    }

    private void Remember((ulong, long, FileTime, FileTime?) file, string path, BlobHash blob)
    {
        if (_known.Count >= RemovedLimit)
        {
            _known.Clear();
        }
        _known[file] = (path, blob);
    }

    /// <summary>
    /// Hashes a file, or finds its blob under another name (a renamed directory's files, a hard
    /// link); returns it with the file's status as hashed, or null when the file would not keep still.
    /// </summary>
    private (BlobHash Blob, FileStatus Status)? HashSettled(string path, string full, FileStatus status)
    {
        // (Renaming a file itself changes its ctime: it is hashed again, so that a rename followed
        // by a rewrite with mtime set back is never missed.)
        if (_known.TryGetValue((status.Inode, status.Size, status.MTime, status.CTime), out var known) && known.Path != path)
        {
            return (known.Blob, status);
        }
        // Only in this arena: inode numbers say nothing across disks, and another arena may be on another.
        if (_hasRows && _index.FindByInode(status.Inode, status.Size, status.MTime, status.CTime, _arena) is { } elsewhere
            && elsewhere.Path != path)
        {
            return (elsewhere.Blob, status);
        }
        if (UpperScanner.HashSettled(full, status, _counts, _owner.Logger) is not ({ } blob, { } hashed))
        {
            return null;
        }
        if (hashed.LinkCount > 1)
        {
            Remember((hashed.Inode, hashed.Size, hashed.MTime, hashed.CTime), path, blob);
        }
        return (blob, hashed);
    }

    /// <summary>Hands the other names of a changed hard-linked file, where this scan does not look, to <see cref="UpperScanner.LinkedElsewhere"/>.</summary>
    private void NoteLinks(string path, ulong inode)
    {
        foreach (var link in _index.FindLinks(inode))
        {
            if (link.Arena != _arena || (link.Path != path && !_roots!.Any(r => link.Path == r || Names.IsStrictlyBelow(link.Path, r))))
            {
                _owner.AddLinked(link);
            }
        }
    }

    /// <summary>Starts merging with the rows at <paramref name="exact"/> (when given) and in (<paramref name="after"/>, <paramref name="before"/>).</summary>
    private void StartRows(string? exact, string after, string? before)
    {
        _page.Clear();
        _next = 0;
        if (exact is not null && _index.FindFile(_arena, exact) is { } row)
        {
            _page.Add((exact, row));
        }
        _after = after;
        _before = before;
        _lastPage = false;
        if (_page.Count == 0)
        {
            NextPage();
        }
    }

    private void NextPage()
    {
        _page.Clear();
        _next = 0;
        if (_lastPage)
        {
            return;
        }
        _index.ReadFilesInOrder(_arena, _after, _before, PageSize, _page);
        _lastPage = _page.Count < PageSize;
        if (_page.Count > 0)
        {
            _after = _page[^1].Path;
        }
    }

    /// <summary>The row of <paramref name="path"/>, after handling every row before it (whose files are gone).</summary>
    private IndexedFile? RowAt(string path)
    {
        while (_next < _page.Count)
        {
            var (rowPath, row) = _page[_next];
            int order = Names.CompareUtf8(rowPath, path);
            if (order > 0)
            {
                return null;
            }
            if (++_next == _page.Count)
            {
                NextPage();
            }
            if (order == 0)
            {
                return row;
            }
            Unmatched(rowPath, row);
        }
        return null;
    }

    /// <summary>Every row left: their files are gone.</summary>
    private void Drain()
    {
        while (_next < _page.Count)
        {
            var (rowPath, row) = _page[_next];
            if (++_next == _page.Count)
            {
                NextPage();
            }
            Unmatched(rowPath, row);
        }
    }

    private void FlushWhenFull()
    {
        if (_notifications.Count >= UpperScanner.BatchSize || _rowChanges.Count >= UpperScanner.BatchSize)
        {
            Flush();
        }
    }

    private void Flush()
    {
        _garbage.Check();
        if (_notifications.Count > 0 || _rowChanges.Count > 0)
        {
            // Decided before this check, committed after it: a disk gone in between fails the
            // arena with nothing of this batch recorded, never as its files removed.
            if (Identity(_root) != _rootIdentity)
            {
                _notifications.Clear();
                _rowChanges.Clear();
                throw new ArenaUnavailableException(_arena,
                    $"the directory {_root} of arena '{_arena}' changed while it was scanned (was its disk unmounted?): nothing more was recorded for it; it is scanned again once its marker is back");
            }
            _index.Commit(_arena, _notifications, _rowChanges);
            _notifications.Clear();
            _rowChanges.Clear();
        }
    }
}
