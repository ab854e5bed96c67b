namespace Realize.TestSupport;

/// <summary>
/// A throwaway filesystem (tmpfs, ramfs) mounted with mount(8) on a directory; Dispose
/// always unmounts it (lazily when it is busy), also when the test failed.
/// </summary>
public sealed class ScratchMount : IDisposable
{
    public ScratchMount(string mountPoint, string fsType)
    {
        Root.Require();
        Directory.CreateDirectory(mountPoint);
        Shell.Check("mount", "-t", fsType, fsType, mountPoint);
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
