using Microsoft.Extensions.Logging.Abstractions;
using Realize.Core;
using Realize.Linux;
using Realize.Real;
using Realize.Storage;

namespace Realize.TestSupport;

/// <summary>
/// A store whose merged view is kept as swapped overlay instances over a plain lower
/// directory (standing in for the Unreal), in a temporary directory. Dispose always unmounts
/// every instance left at the mount point, also when the test failed.
/// </summary>
public sealed class SwapStore : IDisposable
{
    private readonly TempDir _dir;

    /// <param name="label">Part of the temporary directory's name (to test unusual characters in paths).</param>
    public SwapStore(string label = "swap")
    {
        Root.Require();
        _dir = new TempDir(label);
        try
        {
            Lower = _dir.Combine("lower");
            ViewRoot = _dir.Combine("view");
            Directory.CreateDirectory(Path.Combine(Lower, "docs"));
            Store = Store.Create(_dir.Combine("store"), new StoreConfig
            {
                Mount = ViewRoot,
                Arenas = [new ArenaConfig(ArenaName.Parse("docs"))],
            });
        }
        catch
        {
            _dir.Dispose();
            throw;
        }
    }

    public Store Store { get; }

    /// <summary>The plain lower directory; arena <c>docs</c> exists in it.</summary>
    public string Lower { get; }

    /// <summary>The mount point.</summary>
    public string ViewRoot { get; }

    /// <summary>The mounted view, once <see cref="Mount"/> was called.</summary>
    public MergedViewInstances? Instances { get; private set; }

    public MergedViewInstances Mount() => Instances = MergedViewInstances.Mount(Store, Lower, NullLogger.Instance);

    /// <summary>A path in the merged view.</summary>
    public string InView(string relative) => Path.Combine(ViewRoot, relative);

    /// <summary>A path in the lower directory.</summary>
    public string InLower(string relative) => Path.Combine(Lower, relative);

    /// <summary>A path in real/, the upper layer.</summary>
    public string InReal(string relative) => Path.Combine(Store.RealDir, relative);

    /// <summary>The workdir of instance <paramref name="number"/>.</summary>
    public string WorkDirOf(int number) => Path.Combine(Store.WorkDir, number.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public void Dispose()
    {
        try
        {
            Instances?.Dispose();
        }
        finally
        {
            // Whatever a failed test left at the mount point goes too.
            for (int i = 0; i < 100 && Mounts.FindMount(ViewRoot) is not null; i++)
            {
                Mounts.Unmount(ViewRoot, detach: true);
            }
            _dir.Dispose();
        }
    }
}
