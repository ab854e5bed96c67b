using Realize.Linux;

namespace Realize.TestSupport;

/// <summary>What the daemon tests undo when they end, also when they failed.</summary>
public static class Teardown
{
    /// <summary>
    /// Stops <paramref name="daemon"/>, detaches <paramref name="view"/> if it is still mounted
    /// and removes <paramref name="dir"/>: each also when the one before failed.
    /// </summary>
    public static void DaemonViewAndDir(IDisposable? daemon, string view, TempDir dir)
    {
        try
        {
            daemon?.Dispose();
        }
        finally
        {
            try
            {
                if (Mounts.FindMount(view) is not null)
                {
                    Mounts.Unmount(view, detach: true);
                }
            }
            finally
            {
                dir.Dispose();
            }
        }
    }
}
