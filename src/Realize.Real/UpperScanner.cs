using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging;
using Realize.Core;
using Realize.Linux;
using Realize.Storage;

namespace Realize.Real;

/// <summary>What a scan did, for its one-line summary.</summary>
public sealed record ScanSummary(int Arenas, long Files, int Added, int Updated, int Removed, int Skipped, int Outside, int Hashed, TimeSpan Elapsed)
{
    /// <summary>The totals of two scans.</summary>
    public static ScanSummary operator +(ScanSummary a, ScanSummary b) => new(
        a.Arenas + b.Arenas, a.Files + b.Files, a.Added + b.Added, a.Updated + b.Updated, a.Removed + b.Removed,
        a.Skipped + b.Skipped, a.Outside + b.Outside, a.Hashed + b.Hashed, a.Elapsed + b.Elapsed);

    /// <summary>The summary line printed by <c>realize scan</c>.</summary>
    public override string ToString() =>
        $"scanned {Arenas} arena{(Arenas == 1 ? "" : "s")}, {Files} file{(Files == 1 ? "" : "s")} in {Elapsed.TotalSeconds:0.00} s: " +
        $"{Added} added, {Updated} updated, {Removed} removed; {Hashed} hashed, {Skipped} skipped (not regular files), {Outside} outside every arena";
}

/// <summary>
/// What one scan looks at in an arena: all of it, or only some paths and what lies below
/// them (the paths inotify named), leaving out paths still settling.
/// </summary>
/// <param name="Arena">The arena.</param>
/// <param name="Paths">Paths relative to the arena ("" is its root); null for the whole arena.</param>
/// <param name="Deferred">Paths below those that are not examined now (they are still being written) and keep their rows.</param>
/// <param name="Renamed">Those of <paramref name="Paths"/> that something was renamed to: the files below them may be known under another name, also in another arena.</param>
public sealed record ScanScope(ArenaName Arena, IReadOnlyCollection<string>? Paths = null, IReadOnlySet<string>? Deferred = null, IReadOnlySet<string>? Renamed = null)
{
    /// <summary>True when the whole arena is scanned.</summary>
    public bool IsWhole => Paths is null || Paths.Contains("");

    /// <summary>The paths examined, none below another, in order; null for the whole arena.</summary>
    internal string[]? Roots() => IsWhole ? null : Names.Outermost(Paths!);

    /// <summary>The deferred paths that lie below <paramref name="roots"/> (the whole arena when null).</summary>
    internal HashSet<string> DeferredBelow(string[]? roots) =>
        (Deferred ?? (IEnumerable<string>)[]).Where(path => roots is null ? path.Length > 0 : roots.Any(r => Names.IsStrictlyBelow(path, r))).ToHashSet(StringComparer.Ordinal);
}

/// <summary>
/// The catch-up scan: walks the overlay upper dir (<c>real/</c>), works out what the merged
/// view now shows for every path the upper dir speaks of, compares it with what the
/// history last said (the <c>files</c> table, or the lower layer where it has no row) and
/// appends only the differences (DESIGN.md "History").
/// </summary>
public sealed partial class UpperScanner
{
    private const string OverlayOpaque = "trusted.overlay.opaque";
    private const string OverlayRedirect = "trusted.overlay.redirect";
    private const string OverlayMetacopy = "trusted.overlay.metacopy";
    private const string OverlayWhiteout = "trusted.overlay.whiteout";
    /// <summary>Notifications (or row changes) committed in one transaction.</summary>
    internal const int BatchSize = 5_000;

    private readonly string _realDir;
    private readonly LowerLayer _lower;
    private readonly IndexDb _index;
    private readonly ILogger _logger;

    // Plain-directory arenas: arena -> its directory. Null when scanning the overlay's upper dir.
    private readonly IReadOnlyDictionary<ArenaName, string>? _plainRoots;

    public UpperScanner(string realDir, LowerLayer lower, IndexDb index, ILogger logger)
    {
        _realDir = realDir;
        _lower = lower;
        _index = index;
        _logger = logger;
    }

    private UpperScanner(IReadOnlyDictionary<ArenaName, string> plainRoots, IndexDb index, ILogger logger)
        : this("", LowerLayer.Empty, index, logger) => _plainRoots = plainRoots;

    /// <summary>
    /// A scanner of plain-directory arenas (DESIGN.md "without OverlayFS"): each directory is
    /// shared as it is, over nothing, and no overlay attribute means anything in it.
    /// </summary>
    public static UpperScanner ForPlainDirectories(IReadOnlyDictionary<ArenaName, string> roots, IndexDb index, ILogger logger) =>
        new(roots, index, logger);

    private bool IsPlain => _plainRoots is not null;

    /// <summary>
    /// Never "every file removed" because a disk is not mounted: a plain arena's directory must
    /// hold its marker (<see cref="ArenaMarker"/>), or the arena is not scanned.
    /// </summary>
    private void CheckPlainRoot(ArenaName arena)
    {
        string root = RootOf(arena);
        if (ArenaMarker.Ensure(root, arena, _index))
        {
            Log.MarkerWritten(_logger, root, arena.Value);
        }
    }

    private string RootOf(ArenaName arena) => _plainRoots is null ? Path.Combine(_realDir, arena.Value) : _plainRoots[arena];

    /// <summary>Scans every arena in <paramref name="arenas"/> and commits the history.</summary>
    /// <param name="progress">Told the number of files seen so far, now and then.</param>
    public ScanSummary Scan(IReadOnlyCollection<ArenaName> arenas, IProgress<long>? progress = null) =>
        Scan(arenas.Select(a => new ScanScope(a)).ToArray(), progress);

    /// <summary>The arenas the last scan could not scan, and why; nothing was recorded for them that the scan did not see.</summary>
    public IReadOnlyDictionary<ArenaName, Exception> Failed => _failed;

    private readonly Dictionary<ArenaName, Exception> _failed = [];

    /// <summary>
    /// Other names of hard-linked files that the last partial scan found changed, outside what
    /// it examined: inotify only tells of the name written through, so these must be examined too.
    /// </summary>
    public IReadOnlyList<(ArenaName Arena, string Path)> LinkedElsewhere => _linkedElsewhere;

    private readonly List<(ArenaName Arena, string Path)> _linkedElsewhere = [];

    /// <summary>
    /// How long a file found in a directory must have been left alone (its ctime) to be
    /// examined; zero (the default, for 'realize scan') examines every file at once.
    /// </summary>
    public TimeSpan SettleDelay { get; set; }

    /// <summary>Files the last scan found too recently changed to examine (see <see cref="SettleDelay"/>): to be examined once quiet.</summary>
    public IReadOnlyList<(ArenaName Arena, string Path)> Settling => _settling;

    private readonly List<(ArenaName Arena, string Path)> _settling = [];

    // Nanoseconds since the epoch before which a file's last change must lie, for this scan; null:
    // no such rule. A change dated after now plus a second (the clock was set back) does not count.
    private long? _settledBefore;
    private long _settleSpan;

    // Names of files of real/ that went away lately -> their inode, oldest first in _goneOrder.
    private readonly Dictionary<(ArenaName Arena, string Path), ulong> _gone = [];
    private readonly Queue<(ArenaName Arena, string Path)> _goneOrder = new();

    internal ILogger Logger => _logger;

    /// <summary>The inode of a file of this arena that went away lately under this name, or null.</summary>
    internal ulong? TryGone(ArenaName arena, string path) => _gone.TryGetValue((arena, path), out ulong inode) ? inode : null;

    /// <summary>True when a file found in a directory changed too recently to be examined now (see <see cref="SettleDelay"/>).</summary>
    internal bool IsSettling(FileStatus status) =>
        _settledBefore is { } settled && status.CTime.TotalNanoseconds > settled && status.CTime.TotalNanoseconds < settled + _settleSpan;

    internal void AddSettling(ArenaName arena, string path) => _settling.Add((arena, path));

    internal void AddLinked((ArenaName Arena, string Path) link) => _linkedElsewhere.Add(link);

    internal void RememberGone(ArenaName arena, string path, ulong inode)
    {
        if (_gone.TryAdd((arena, path), inode))
        {
            _goneOrder.Enqueue((arena, path));
            while (_goneOrder.Count > 4096)
            {
                _gone.Remove(_goneOrder.Dequeue());
            }
        }
        else
        {
            _gone[(arena, path)] = inode;
        }
    }

    /// <summary>Scans what <paramref name="scopes"/> name and commits the history.</summary>
    /// <param name="progress">Told the number of files seen so far, now and then.</param>
    public ScanSummary Scan(IReadOnlyList<ScanScope> scopes, IProgress<long>? progress = null)
    {
        _linkedElsewhere.Clear();
        _settling.Clear();
        _settledBefore = SettleDelay > TimeSpan.Zero ? (DateTimeOffset.UtcNow - SettleDelay).ToUnixTimeMilliseconds() * 1_000_000 : null;
        _settleSpan = (long)(SettleDelay + TimeSpan.FromSeconds(1)).TotalNanoseconds;
        var clock = Stopwatch.StartNew();
        var totals = new ScanCounts();
        int outside = IsPlain || !scopes.All(s => s.IsWhole) ? 0 : CountOutside(scopes.Select(s => s.Arena).ToArray());
        int lowerHashedBefore = _lower.Hashed;
        // Where something was renamed to first: its files may take the blobs of rows that the
        // scan of the other end (another arena) would remove.
        _failed.Clear();
        foreach (var scope in scopes.OrderBy(s => s.Renamed is { Count: > 0 } ? 0 : 1))
        {
            try
            {
                if (IsPlain)
                {
                    CheckPlainRoot(scope.Arena);
                    new PlainArenaScan(this, _index, scope, RootOf(scope.Arena), totals, progress).Run();
                }
                else
                {
                    new OverlayArenaScan(this, scope, totals, progress).Run();
                }
            }
            catch (Exception e) when (e is ArenaUnavailableException or IOException or UnauthorizedAccessException)
            {
                // That arena's alone (its directory gone, an I/O error, an unreadable subtree): the
                // others are scanned. What its scan had committed is true; what it could not see
                // was never compared, so it is never reported removed.
                _failed[scope.Arena] = e;
                Log.ArenaNotScanned(_logger, scope.Arena.Value, e.Message);
            }
        }
        _index.SaveLowerBlobs();
        return new ScanSummary(scopes.Select(s => s.Arena).Distinct().Count(a => !_failed.ContainsKey(a)), totals.Files, totals.Added, totals.Updated, totals.Removed, totals.Skipped, outside, totals.Hashed + _lower.Hashed - lowerHashedBefore, clock.Elapsed);
    }

    private int CountOutside(IReadOnlyCollection<ArenaName> arenas)
    {
        var names = arenas.Select(a => a.Value).ToHashSet(StringComparer.Ordinal);
        using var root = DirectoryHandle.TryOpen(_realDir);
        if (root is null)
        {
            return 0;
        }
        int outside = 0;
        foreach (var entry in root.ReadAll())
        {
            string name = Encoding.UTF8.GetString(entry.Name);
            if (!names.Contains(name))
            {
                outside++;
                Log.OutsideArena(_logger, Path.Combine(_realDir, name), name);
            }
        }
        return outside;
    }

    /// <summary>
    /// Hashes a file, then stats it again: if it changed meanwhile it is hashed again (three
    /// tries). Returns the blob with the file's status as hashed, or null when it would not keep
    /// still or is gone.
    /// </summary>
    internal static (BlobHash Blob, FileStatus Status)? HashSettled(string full, FileStatus status, ScanCounts counts, ILogger logger)
    {
        for (int attempt = 0; attempt < 3; attempt++)
        {
            try
            {
                var blob = ContentHasher.HashFile(full);
                counts.Hashed++;
                if (Stat.TryLstat(full) is not { } after)
                {
                    return null;
                }
                if (after.Size == status.Size && after.MTime == status.MTime && after.Inode == status.Inode && after.CTime == status.CTime)
                {
                    return (blob, status);
                }
                status = after;
            }
            catch (FileChangedException)
            {
                status = Stat.TryLstat(full) ?? status;
            }
            catch (IOException e) when (Vanished(e))
            {
                return null;
            }
        }
        Log.Unsettled(logger, full);
        return null;
    }

    /// <summary>True for the errors of a file or directory gone while examined.</summary>
    internal static bool Vanished(IOException e) =>
        e is FileNotFoundException or DirectoryNotFoundException or LinuxException { Errno: Errno.ENOENT or Errno.ENOTDIR };

}

/// <summary>Running totals over all arenas of a scan.</summary>
internal sealed class ScanCounts
{
    public long Files;
    public int Added;
    public int Updated;
    public int Removed;
    public int Skipped;
    public int Hashed;
}
