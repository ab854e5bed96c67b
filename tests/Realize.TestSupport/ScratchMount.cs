namespace Realize.TestSupport;

/// <summary>
/// A throwaway filesystem (tmpfs, ramfs) mounted with mount(8) on a directory; Dispose
/// always unmounts it (lazily when it is busy), also when the test failed.
/// </summary>
public sealed class ScratchMount : IDisposable
{
    /// <param name="options">mount(8)'s <c>-o</c>, such as <c>size=1m</c> for a small tmpfs; null for none.</param>
    public ScratchMount(string mountPoint, string fsType, string? options = null)
    {
        Root.Require();
        Directory.CreateDirectory(mountPoint);
        Shell.Check("mount", ["-t", fsType, .. options is null ? Array.Empty<string>() : ["-o", options], fsType, mountPoint]);
        MountPoint = mountPoint;
        IsMounted = true;
    }

    /// <summary>Where the filesystem is mounted.</summary>
    public string MountPoint { get; }

    public bool IsMounted { get; private set; }

    /// <summary>Unmounts now; Dispose then does nothing.</summary>
    public void Unmount()
    {
        if (IsMounted)
        {
            Shell.Check("umount", MountPoint);
            IsMounted = false;
        }
    }

    public void Dispose()
    {
        if (!IsMounted)
        {
            return;
        }
        if (Shell.Run("umount", [MountPoint]).ExitCode != 0)
        {
            Shell.Run("umount", ["-l", MountPoint]);
        }
        IsMounted = false;
    }
}
