using Microsoft.Extensions.Logging.Abstractions;
using Realize.Core;
using Realize.Linux;
using Realize.Real;
using Realize.Storage;

namespace Realize.TestSupport;

/// <summary>
/// A store with a <c>--lower</c> directory and its merged view mounted, in a temporary
/// directory. Dispose always unmounts, also when the test failed.
/// </summary>
public sealed class OverlayStore : IDisposable
{
    private readonly TempDir _dir;
    private IndexDb? _index;

    /// <param name="arenas">Arenas to declare.</param>
    /// <param name="prepareLower">Fills the lower directory before the mount.</param>
    public OverlayStore(string[] arenas, Action<string>? prepareLower = null)
    {
        Root.Require();
        _dir = new TempDir("overlay");
        try
        {
            Lower = _dir.Combine("lower");
            View = _dir.Combine("view");
            Directory.CreateDirectory(Lower);
            prepareLower?.Invoke(Lower);
            Store = Store.Create(_dir.Combine("store"), new StoreConfig
            {
                Mount = View,
                Lower = Lower,
                Arenas = arenas.Select(a => new ArenaConfig(ArenaName.Parse(a))).ToArray(),
            });
            Mount();
        }
        catch
        {
            _dir.Dispose();
            throw;
        }
    }

    public Store Store { get; }

    public string Lower { get; }

    /// <summary>The merged view's mount point.</summary>
    public string View { get; }

    public bool IsMounted { get; private set; }

    public IndexDb Index => _index ??= Store.OpenIndex();

    /// <summary>A path in the merged view.</summary>
    public string InView(string relative) => Path.Combine(View, relative);

    public void Mount()
    {
        MergedView.Mount(Store);
        IsMounted = true;
    }

    public void Unmount()
    {
        if (IsMounted)
        {
            MergedView.Unmount(Store);
            IsMounted = false;
        }
    }

    /// <summary>Runs a catch-up scan of every arena.</summary>
    public ScanSummary Scan() =>
        new UpperScanner(Store.RealDir, new LowerLayer(Lower, Index), Index, NullLogger.Instance)
            .Scan(Store.Config.Arenas.Select(a => a.Name).ToArray());

    /// <summary>The whole history, in order per arena.</summary>
    public List<Notification> History() => Index.ReadHistory(null).ToList();

    public void Dispose()
    {
        _index?.Dispose();
        try
        {
            Unmount();
        }
        catch (RealizeException)
        {
            // Busy: detach it so nothing is left behind.
            Mounts.Unmount(View, detach: true);
        }
        _dir.Dispose();
    }
}
