using Realize.Core;
using Realize.Linux;
using Realize.Storage;

namespace Realize.Real;

/// <summary>
/// The scan of one merged-view arena (docs/history.md): walks its part of the overlay's upper
/// dir, works out with <see cref="OverlayRules"/> what the merged view shows at every path the
/// upper dir speaks of, and compares it with the index (or the lower layer where it has no row);
/// <see cref="PathDiff"/> says which notification follows.
/// </summary>
public sealed partial class UpperScanner
{
    /// <summary>What the merged view shows at a path: a file with this content.</summary>
    private sealed record Merged(BlobHash Blob, long Size, FileTime MTime, ulong? Inode, FileSource Source, FileTime? CTime = null)
    {
        /// <summary>A lower file showing through, with no entry of its own in real/.</summary>
        public static Merged? Of(LowerFile? lower) => lower is null ? null : new(lower.Blob, lower.Size, lower.MTime, null, FileSource.Lower);
    }

    /// <summary>The scan of one arena. Merged paths are relative to the arena ("" is its root); lower paths include the arena.</summary>
    private sealed class OverlayArenaScan
    {
        private readonly UpperScanner _owner;
        private readonly ArenaName _arena;
        private readonly ScanCounts _counts;
        private readonly IProgress<long>? _progress;

        // What the history last said, by path; a path without a row is as the lower layer shows it.
        private readonly Dictionary<string, IndexedFile> _rows;

        // Rows whose file in real/ is unchanged (same inode, size and mtime): nothing to compare.
        private readonly HashSet<IndexedFile> _unchanged = new(ReferenceEqualityComparer.Instance);

        // What the merged view shows at each other path the upper dir speaks of directly.
        private readonly Dictionary<string, Merged> _found = new(StringComparer.Ordinal);

        // Upper directories: merged path -> the lower directory merged under it (null: none).
        private readonly Dictionary<string, string?> _covers = new(StringComparer.Ordinal);

        // Merged paths where the upper dir holds a whiteout or another non-directory:
        // nothing of the lower layer shows at or below them.
        private readonly HashSet<string> _cut = new(StringComparer.Ordinal);

        // Merged paths whose lower files at the same path must be checked: they may no longer show.
        private readonly List<string> _baselineRoots = [];

        // Paths that changed while read: left as they are until the next scan.
        private readonly HashSet<string> _unsettled = new(StringComparer.Ordinal);

        // The roots of a partial scan, compared even when nothing stands at them any more.
        private readonly List<string> _extra = [];

        // The paths examined, none below another; null for the whole arena.
        private readonly string[]? _roots;

        // Paths below the roots left alone for now (still settling), with what lies below them.
        private readonly HashSet<string> _deferred;

        // Roots that something was renamed to.
        private readonly HashSet<string> _renamed = new(StringComparer.Ordinal);

        // Lower directories (with the arena) -> whether they exist: most new files have none below.
        private readonly Dictionary<string, bool> _lowerDirectories = new(StringComparer.Ordinal);

        // Keeps the scan's short-lived garbage small.
        private GarbageBound _garbage = GarbageBound.Start();

        // (inode, size, mtime, ctime) -> path and blob of files in real/: the files of a moved directory, or hard links, need no hashing.
        private Dictionary<(ulong, long, FileTime, FileTime?), (string Path, BlobHash Blob)>? _byInode;

        public OverlayArenaScan(UpperScanner owner, ScanScope scope, ScanCounts counts, IProgress<long>? progress)
        {
            _owner = owner;
            _arena = scope.Arena;
            _counts = counts;
            _progress = progress;
            _roots = scope.Roots();
            _deferred = scope.DeferredBelow(_roots);
            if (_roots is not null && scope.Renamed is { } renamed)
            {
                _renamed.UnionWith(renamed);
            }
            _rows = _roots is null ? owner._index.LoadFiles(_arena) : owner._index.LoadFiles(_arena, _roots);
            _garbage.Check();
        }

        /// <summary>Hands the other names of a changed hard-linked file, where this scan does not look, to <see cref="LinkedElsewhere"/>.</summary>
        private void NoteLinks(string path, ulong inode)
        {
            foreach (var link in _owner._index.FindLinks(inode))
            {
                if (link.Arena != _arena || (link.Path != path && !_roots!.Any(r => link.Path == r || Names.IsStrictlyBelow(link.Path, r))))
                {
                    _owner._linkedElsewhere.Add(link);
                }
            }
        }

        /// <summary>The lower file at <paramref name="lowerPath"/>, without asking for it when its directory is known to be missing.</summary>
        private LowerFile? Lower(string lowerPath)
        {
            string directory = Names.Parent(lowerPath);
            if (!_lowerDirectories.TryGetValue(directory, out bool exists))
            {
                exists = _owner._lower.KindOf(directory) == FileKind.Directory;
                _lowerDirectories[directory] = exists;
            }
            return exists ? _owner._lower.File(lowerPath) : null;
        }

        public void Run()
        {
            if (_roots is null)
            {
                RunWhole();
            }
            else
            {
                foreach (string root in _roots)
                {
                    RunBelow(root);
                }
            }
            Compare();
        }

        private void RunWhole()
        {
            string upperRoot = _owner.RootOf(_arena);
            var status = Stat.TryLstat(upperRoot);
            if (status is { Kind: FileKind.Directory })
            {
                string? source = OverlayRules.LowerSource(upperRoot, "", _arena.Value);
                _covers[""] = source;
                if (source != _arena.Value)
                {
                    _baselineRoots.Add("");
                }
                Walk(upperRoot, "", source);
            }
            else if (status is not null)
            {
                // The arena itself was deleted (whiteout) or replaced by a non-directory.
                _cut.Add("");
                _baselineRoots.Add("");
            }
        }

        /// <summary>
        /// Examines <paramref name="root"/> and what lies below it. The directories above it are
        /// read first, as overlayfs would, for the lower directory that shows through at it.
        /// </summary>
        private void RunBelow(string root)
        {
            // Its lower files may no longer show, or show again: always compared, as is the root itself.
            _baselineRoots.Add(root);
            _extra.Add(root);
            string upperRoot = _owner.RootOf(_arena);
            string[] segments = root.Split('/');
            // Walking down from the arena's root: at, its name, the lower directory merged under
            // its parent, and whether real/ still holds the directories above.
            string at = "";
            string name = _arena.Value;
            string? parentSource = "";
            string parentFull = _owner._realDir;
            bool inUpper = true;
            for (int i = 0; ; i++)
            {
                bool isRoot = i == segments.Length;
                string full = at.Length == 0 ? upperRoot : upperRoot + "/" + at;
                string? source = parentSource is null ? null : Names.Join(parentSource, name);
                if (!isRoot && inUpper && _covers.TryGetValue(at, out string? known))
                {
                    // A directory above an earlier root of this scan: read already.
                    source = known;
                }
                else if (!isRoot && _cut.Contains(at))
                {
                    return;
                }
                else if (inUpper && Stat.TryLstat(full) is { } status)
                {
                    if (status.Kind != FileKind.Directory)
                    {
                        if (isRoot && status.Kind == FileKind.Regular)
                        {
                            try
                            {
                                ExamineFile(parentFull, at, parentSource, name, status, isRoot: true);
                            }
                            catch (IOException e) when (Vanished(e))
                            {
                                _unsettled.Add(at);
                            }
                            return;
                        }
                        if (isRoot && status.Kind != FileKind.Regular && !status.IsWhiteoutDevice)
                        {
                            _counts.Skipped++;
                            Log.SkippedSpecial(_owner._logger, full, status.Kind);
                        }
                        // A file, a whiteout or a special file stands here: nothing below it shows.
                        _cut.Add(at);
                        return;
                    }
                    source = OverlayRules.LowerSource(full, parentSource, name);
                    _covers[at] = source;
                    if (isRoot)
                    {
                        if (source != Baseline(at))
                        {
                            _baselineRoots.Add(at);
                        }
                        Walk(full, at, source);
                        return;
                    }
                }
                else
                {
                    // real/ says nothing here: the lower directory shows through, as overlayfs merges it.
                    inUpper = false;
                }
                if (isRoot)
                {
                    if (_owner._gone.TryGetValue((_arena, at), out ulong inode))
                    {
                        // Overlay reports the writes to a hard-linked file under the name it first
                        // looked it up by, even once that name is deleted: look at the other names.
                        NoteLinks(at, inode);
                    }
                    if (source is not null && source != Baseline(at))
                    {
                        MergeLowerOnly(at, source, []);
                    }
                    return;
                }
                parentSource = source;
                parentFull = full;
                name = segments[i];
                at = Names.Join(at, name);
            }
        }

        private void Walk(string upperDir, string mergedDir, string? lowerDir)
        {
            using var directory = DirectoryHandle.TryOpen(upperDir);
            if (directory is null)
            {
                return;
            }
            var entries = directory.ReadAll();
            HashSet<string>? upperNames = lowerDir is not null && lowerDir != Baseline(mergedDir) ? new(StringComparer.Ordinal) : null;
            foreach (var entry in entries)
            {
                if (!Names.TryDecode(entry.Name, out string? name))
                {
                    _counts.Skipped++;
                    Log.InvalidName(_owner._logger, upperDir);
                    continue;
                }
                upperNames?.Add(name);
                string path = Names.Join(mergedDir, name);
                if (_deferred.Count > 0 && _deferred.Contains(path))
                {
                    continue;
                }
                if (Stat.TryLstatAt(directory, entry.NameBytes) is not { } status)
                {
                    continue;
                }
                switch (status.Kind)
                {
                    case FileKind.Directory:
                        string full = upperDir + "/" + name;
                        string? source = OverlayRules.LowerSource(full, lowerDir, name);
                        _covers[path] = source;
                        if (source != Baseline(path))
                        {
                            _baselineRoots.Add(path);
                        }
                        Walk(full, path, source);
                        break;
                    case FileKind.Regular:
                        try
                        {
                            ExamineFile(upperDir, path, lowerDir, name, status, isRoot: false);
                        }
                        catch (IOException e) when (Vanished(e))
                        {
                            // Gone while examined (an editor's temporary file): its row stays until the next look.
                            _unsettled.Add(path);
                        }
                        break;
                    case FileKind.CharDevice when status.IsWhiteoutDevice:
                        _cut.Add(path);
                        _baselineRoots.Add(path);
                        break;
                    default:
                        _counts.Skipped++;
                        Log.SkippedSpecial(_owner._logger, upperDir + "/" + name, status.Kind);
                        _cut.Add(path);
                        _baselineRoots.Add(path);
                        break;
                }
            }
            if (upperNames is not null)
            {
                // A renamed or moved directory: its lower files now show under this name.
                MergeLowerOnly(mergedDir, lowerDir!, upperNames);
            }
        }

        /// <param name="isRoot">The path was named to the scan (inotify told of it), rather than found in a directory.</param>
        private void ExamineFile(string upperDir, string path, string? lowerDir, string name, FileStatus status, bool isRoot)
        {
            _counts.Files++;
            if ((_counts.Files & 255) == 0)
            {
                _garbage.Check();
                _progress?.Report(_counts.Files);
            }
            if (_rows.TryGetValue(path, out var row) && row.Source != FileSource.Tombstone
                && row.Inode == status.Inode && row.Size == status.Size && row.MTime == status.MTime && row.CTime == status.CTime)
            {
                // Unchanged since the last scan: never hashed again, and its row stays as it is.
                // ctime too: a rewrite whose mtime was set back (touch -d, rsync -t) still changes it.
                _unchanged.Add(row);
                return;
            }
            if (!isRoot && _owner.IsSettling(status))
            {
                // Found in a directory while it may still be written (a rescan, or a directory
                // listed before its files had events): examined once quiet, not half-written now.
                _unsettled.Add(path);
                _owner.AddSettling(_arena, path);
                return;
            }
            if (_roots is not null && status.LinkCount > 1)
            {
                NoteLinks(path, status.Inode);
            }
            string full = upperDir + "/" + name;
            if (status.Size == 0 && OverlayRules.IsWhiteoutFile(full))
            {
                _cut.Add(path);
                _baselineRoots.Add(path);
                return;
            }
            // New or changed: the lower layer may hold a directory here that this file replaced.
            _baselineRoots.Add(path);
            if (OverlayRules.IsMetacopy(full))
            {
                string? lowerPath = OverlayRules.Redirect(full, lowerDir) ?? (lowerDir is null ? null : Names.Join(lowerDir, name));
                if (lowerPath is null || _owner._lower.File(lowerPath) is not { } lower)
                {
                    Log.MetacopyWithoutLower(_owner._logger, full, lowerPath);
                    _counts.Skipped++;
                    _unsettled.Add(path);
                    return;
                }
                _found[path] = new Merged(lower.Blob, status.Size, status.MTime, status.Inode, FileSource.Lower, status.CTime);
                return;
            }
            if (HashSettled(path, full, status) is ({ } blob, { } hashed))
            {
                _found[path] = new Merged(blob, hashed.Size, hashed.MTime, hashed.Inode, FileSource.Real, hashed.CTime);
            }
            else
            {
                _unsettled.Add(path);
            }
        }

        /// <summary>
        /// Hashes a file of real/, or finds its blob under another name (a rename or a hard link);
        /// returns it with the file's status as hashed, or null when the file would not keep still.
        /// </summary>
        private (BlobHash Blob, FileStatus Status)? HashSettled(string path, string full, FileStatus status)
        {
            _byInode ??= _rows
                .Where(r => r.Value.Source == FileSource.Real && r.Value.Inode is not null)
                .GroupBy(r => (r.Value.Inode!.Value, r.Value.Size!.Value, r.Value.MTime!.Value, r.Value.CTime))
                .ToDictionary(g => g.Key, g => (g.First().Key, g.First().Value.Blob!.Value));
            // Another path's row with the same inode, size, mtime and ctime: the files of a renamed
            // directory, or a hard link. (Renaming a file itself changes its ctime: it is hashed
            // again, so that a rename followed by a rewrite with mtime set back is never missed.)
            if (_byInode.TryGetValue((status.Inode, status.Size, status.MTime, status.CTime), out var known) && known.Path != path)
            {
                return (known.Blob, status);
            }
            // A partial scan holds only the rows below its roots: a file renamed here may come from
            // elsewhere, also from another arena.
            if (_renamed.Count > 0 && Names.IsAtOrBelowAny(path, _renamed) && _owner._index.FindByInode(status.Inode, status.Size, status.MTime, status.CTime) is { } elsewhere
                && (elsewhere.Arena != _arena || elsewhere.Path != path))
            {
                return (elsewhere.Blob, status);
            }
            if (UpperScanner.HashSettled(full, status, _counts, _owner._logger) is ({ } blob, { } hashed))
            {
                _byInode[(hashed.Inode, hashed.Size, hashed.MTime, hashed.CTime)] = (path, blob);
                return (blob, hashed);
            }
            return null;
        }

        private void MergeLowerOnly(string mergedDir, string lowerDir, HashSet<string> upperNames)
        {
            foreach (var entry in _owner._lower.List(lowerDir))
            {
                if (!Names.TryDecode(entry.Name, out string? name) || upperNames.Contains(name))
                {
                    continue;
                }
                string path = Names.Join(mergedDir, name);
                string source = Names.Join(lowerDir, name);
                if (entry.Kind == FileKind.Directory)
                {
                    _covers[path] = source;
                    MergeLowerOnly(path, source, []);
                }
                else if (entry.Kind == FileKind.Regular && Merged.Of(_owner._lower.File(source)) is { } lower)
                {
                    _counts.Files++;
                    _found[path] = lower;
                }
            }
        }

        private void Compare()
        {
            var candidates = new List<string>(_found.Keys);
            candidates.AddRange(_extra);
            foreach (var (path, row) in _rows)
            {
                if (!_unchanged.Contains(row) && !_found.ContainsKey(path))
                {
                    candidates.Add(path);
                }
            }
            foreach (string root in _baselineRoots)
            {
                foreach (string below in _owner._lower.FilesBelow(Baseline(root)))
                {
                    candidates.Add(below.Length == 0 ? root : Names.Join(root, below));
                }
            }
            candidates.Sort(StringComparer.Ordinal);
            var ordered = candidates.Where((path, i) => i == 0 || path != candidates[i - 1]);

            var notifications = new List<PendingNotification>();
            var rowChanges = new List<RowChange>();
            foreach (string path in ordered)
            {
                if (_unsettled.Contains(path) || Names.IsAtOrBelowAny(path, _deferred) || !RelPath.TryParse(path, out RelPath relPath, out _))
                {
                    continue;
                }
                _rows.TryGetValue(path, out var row);
                if (row is not null && _unchanged.Contains(row))
                {
                    // A lower file below a baseline root that an unchanged file of real/ hides.
                    continue;
                }
                bool found = _found.TryGetValue(path, out var merged);
                if (!found)
                {
                    merged = Resolve(path);
                }
                LowerFile? baseline = null;
                bool baselineKnown = false;
                LowerFile? BaselineFile()
                {
                    if (!baselineKnown)
                    {
                        baseline = Lower(Baseline(_arena, path));
                        baselineKnown = true;
                    }
                    return baseline;
                }

                BlobHash? before = row is not null ? row.Blob : BaselineFile()?.Blob;
                if (PathDiff.Notification(relPath, before, merged is null ? null : new PathDiff.Content(merged.Blob, merged.Size, merged.MTime), _counts) is { } notification)
                {
                    notifications.Add(notification);
                }

                IndexedFile? wanted;
                if (found)
                {
                    wanted = new IndexedFile(merged!.Blob, merged.Size, merged.MTime, merged.Inode, merged.Source, merged.CTime);
                }
                else if (merged is null)
                {
                    wanted = BaselineFile() is null ? null : IndexedFile.Tombstone;
                }
                else
                {
                    wanted = BaselineFile()?.Blob == merged.Blob ? null : new IndexedFile(merged.Blob, merged.Size, merged.MTime, null, FileSource.Lower);
                }
                if (wanted != row)
                {
                    rowChanges.Add(new RowChange(path, wanted));
                    if (row?.Inode is { } inode && wanted?.Inode != inode)
                    {
                        _owner.RememberGone(_arena, path, inode);
                    }
                }
                if (notifications.Count >= BatchSize || rowChanges.Count >= BatchSize)
                {
                    Flush(notifications, rowChanges);
                }
            }
            Flush(notifications, rowChanges);
        }

        private void Flush(List<PendingNotification> notifications, List<RowChange> rowChanges)
        {
            _garbage.Check();
            if (notifications.Count > 0 || rowChanges.Count > 0)
            {
                _owner._index.Commit(_arena, notifications, rowChanges);
                notifications.Clear();
                rowChanges.Clear();
            }
        }

        /// <summary>What the merged view shows at a path the upper dir does not hold itself.</summary>
        private Merged? Resolve(string path)
        {
            string ancestor = path;
            string? child = null;
            while (true)
            {
                if (_cut.Contains(ancestor) || (ancestor != path && _found.ContainsKey(ancestor)))
                {
                    // A whiteout, a special file or a regular file stands here: nothing shows below.
                    return null;
                }
                if (_covers.TryGetValue(ancestor, out string? lowerDir))
                {
                    if (ancestor == path || lowerDir is null)
                    {
                        // A directory now stands at this path, or the directory above hides the lower layer.
                        return null;
                    }
                    if (child != path && Stat.TryLstat(Path.Combine(_owner.RootOf(_arena), child!)) is { Kind: not FileKind.Directory })
                    {
                        // An unchanged file of real/ (not kept in _found) stands above this path.
                        return null;
                    }
                    string rest = ancestor.Length == 0 ? path : path[(ancestor.Length + 1)..];
                    return Merged.Of(Lower(Names.Join(lowerDir, rest)));
                }
                if (ancestor.Length == 0)
                {
                    // The upper dir says nothing of this arena: the lower layer shows through.
                    return Merged.Of(Lower(Baseline(path)));
                }
                child = ancestor;
                ancestor = Names.Parent(ancestor);
            }
        }

        private string Baseline(string path) => Baseline(_arena, path);

        private static string Baseline(ArenaName arena, string path) => path.Length == 0 ? arena.Value : arena.Value + "/" + path;
    }
}
