using Microsoft.Extensions.Logging;
using Realize.Core;
using Realize.Storage;

namespace Realize.Real;

/// <summary>
/// The scans of a whole store: its merged-view arenas from real/, its plain-directory arenas
/// from their own directories. One per index connection; it keeps the lower layer's hash cache
/// and, for a merged view over the Unreal, a connection to unreal.db (disposed with it).
/// </summary>
public sealed class StoreScan : IDisposable
{
    private readonly UnrealDb? _unreal;
    private readonly UpperScanner _overlay;
    private readonly UpperScanner? _plain;
    private readonly HashSet<ArenaName> _plainArenas;
    private readonly HashSet<ArenaName> _arenas;

    public StoreScan(Store store, IndexDb index, ILogger logger)
        : this(store, store.Config, index, logger)
    {
    }

    /// <summary>The scans of <paramref name="store"/>'s arenas as <paramref name="config"/> declares them (the daemon's, once it applied a change).</summary>
    public StoreScan(Store store, StoreConfig config, IndexDb index, ILogger logger)
    {
        OverlayArenas = OverlayArenasOf(config);
        PlainRoots = config.Arenas.Where(a => a.PlainPath is not null).ToDictionary(a => a.Name, a => a.PlainPath!);
        _plainArenas = [.. PlainRoots.Keys];
        _arenas = [.. Arenas];
        LowerLayer lower;
        if (config.Lower is { } directory)
        {
            lower = new DirectoryLower(directory, index);
        }
        else if (config.Mount is not null)
        {
            // The view lies over the Unreal: its lower files are the other peers', read from their table.
            _unreal = store.OpenUnreal();
            lower = new UnrealLower(_unreal);
        }
        else
        {
            lower = LowerLayer.Empty;
        }
        _overlay = new UpperScanner(store.RealDir, lower, index, logger);
        _plain = PlainRoots.Count == 0 ? null : UpperScanner.ForPlainDirectories(PlainRoots, index, logger);
    }

    /// <summary>The arenas of the merged view (those without a directory of their own).</summary>
    public IReadOnlyList<ArenaName> OverlayArenas { get; }

    /// <summary>How long a file found in a directory must have been left alone to be examined (zero: at once); the rest is in <see cref="Settling"/>.</summary>
    public TimeSpan SettleDelay
    {
        get => _overlay.SettleDelay;
        set
        {
            _overlay.SettleDelay = value;
            _plain?.SettleDelay = value;
        }
    }

    /// <summary>Files the last scan left for later, as they had changed within the settle delay.</summary>
    public IReadOnlyList<(ArenaName Arena, string Path)> Settling => _settling;

    private readonly List<(ArenaName Arena, string Path)> _settling = [];

    /// <summary>
    /// The arenas that failed in the last <see cref="Scan(IReadOnlyList{ScanScope}, IProgress{long})"/> or <see cref="ScanAll"/>, and why: an
    /// <see cref="ArenaUnavailableException"/> (a plain arena's directory or marker missing), or the
    /// <see cref="IOException"/> or <see cref="UnauthorizedAccessException"/> that stopped its scan.
    /// The other arenas were scanned and committed as usual; a failed arena recorded nothing the
    /// scan did not see. Empty when every arena was scanned.
    /// </summary>
    public IReadOnlyDictionary<ArenaName, Exception> Failed => _failed;

    private readonly Dictionary<ArenaName, Exception> _failed = [];

    /// <summary>The plain-directory arenas and their directories.</summary>
    public IReadOnlyDictionary<ArenaName, string> PlainRoots { get; }

    /// <summary>Every arena, merged-view ones first.</summary>
    public IEnumerable<ArenaName> Arenas => OverlayArenas.Concat(PlainRoots.Keys);

    /// <summary>The arenas of the merged view of <paramref name="config"/>.</summary>
    public static ArenaName[] OverlayArenasOf(StoreConfig config) => config.Arenas.Where(a => a.PlainPath is null).Select(a => a.Name).ToArray();

    /// <summary>Scans every arena of <paramref name="store"/> and commits the history.</summary>
    public static ScanSummary Run(Store store, IndexDb index, ILogger logger, IProgress<long>? progress = null)
    {
        using var scan = new StoreScan(store, index, logger);
        return scan.ScanAll(progress);
    }

    public void Dispose() => _unreal?.Dispose();

    /// <summary>Scans every arena and commits the history.</summary>
    public ScanSummary ScanAll(IProgress<long>? progress = null) => Scan(Arenas.Select(a => new ScanScope(a)).ToArray(), progress, whole: true);

    /// <summary>Scans what <paramref name="scopes"/> name, each with the scanner of its kind of arena, and commits the history.</summary>
    public ScanSummary Scan(IReadOnlyList<ScanScope> scopes, IProgress<long>? progress = null) => Scan(scopes, progress, whole: false);

    private ScanSummary Scan(IReadOnlyList<ScanScope> scopes, IProgress<long>? progress, bool whole)
    {
        _settling.Clear();
        _failed.Clear();
        var (summary, linked) = ScanOnce(scopes, progress, whole);
        // A file written through one of its hard links changed under its other names too, and
        // inotify told of one: examine the others (a few rounds: links of links are the same file).
        for (int round = 0; round < 4 && linked.Length > 0; round++)
        {
            (var more, linked) = ScanOnce(linked, progress, whole: false);
            // The same arenas again, and entries the first round already counted as skipped.
            summary += more with { Arenas = 0, Skipped = 0 };
        }
        return summary;
    }

    private (ScanSummary Summary, ScanScope[] Linked) ScanOnce(IReadOnlyList<ScanScope> scopes, IProgress<long>? progress, bool whole)
    {
        var overlayScopes = scopes.Where(s => !_plainArenas.Contains(s.Arena)).ToArray();
        var plainScopes = scopes.Where(s => _plainArenas.Contains(s.Arena)).ToArray();
        var linked = new List<(ArenaName Arena, string Path)>();
        ScanSummary? overlay = null, plain = null;
        // A whole scan also counts (and logs) what real/ holds outside every arena, even with no arena.
        if (overlayScopes.Length > 0 || whole)
        {
            overlay = _overlay.Scan(overlayScopes, progress);
            linked.AddRange(_overlay.LinkedElsewhere);
            _settling.AddRange(_overlay.Settling);
            Note(_overlay.Failed);
        }
        if (plainScopes.Length > 0)
        {
            plain = _plain!.Scan(plainScopes, progress);
            linked.AddRange(_plain.LinkedElsewhere);
            _settling.AddRange(_plain.Settling);
            Note(_plain.Failed);
        }
        var summary = overlay is not null && plain is not null ? overlay + plain
            : overlay ?? plain ?? new ScanSummary(0, 0, 0, 0, 0, 0, 0, 0, TimeSpan.Zero);
        var more = linked.Where(l => _arenas.Contains(l.Arena))
            .GroupBy(l => l.Arena)
            .Select(g => new ScanScope(g.Key, g.Select(l => l.Path).Distinct(StringComparer.Ordinal).ToArray()))
            .ToArray();
        return (summary, more);
    }

    private void Note(IReadOnlyDictionary<ArenaName, Exception> failed)
    {
        foreach (var (arena, why) in failed)
        {
            _failed.TryAdd(arena, why);
        }
    }
}
