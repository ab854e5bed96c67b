using Microsoft.Extensions.Logging;
using Realize.Core;
using Realize.Storage;

namespace Realize.Real;

/// <summary>The catch-up scan of a whole store: its merged-view arenas from real/, its plain-directory arenas from their directories.</summary>
public static class StoreScan
{
    /// <summary>The arenas of the merged view (those without a directory of their own).</summary>
    public static ArenaName[] OverlayArenas(StoreConfig config) => config.Arenas.Where(a => a.PlainPath is null).Select(a => a.Name).ToArray();

    /// <summary>Scans every arena of <paramref name="store"/> and commits the history.</summary>
    public static ScanSummary Run(Store store, IndexDb index, ILogger logger, IProgress<long>? progress = null)
    {
        var overlay = new UpperScanner(store.RealDir, new LowerLayer(store.Config.Lower, index), index, logger)
            .Scan(OverlayArenas(store.Config), progress);
        var plainRoots = store.Config.Arenas.Where(a => a.PlainPath is not null).ToDictionary(a => a.Name, a => a.PlainPath!);
        if (plainRoots.Count == 0)
        {
            return overlay;
        }
        var plain = UpperScanner.ForPlainDirectories(plainRoots, index, logger).Scan(plainRoots.Keys, progress);
        return overlay + plain;
    }
}
