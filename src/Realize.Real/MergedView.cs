using Realize.Core;
using Realize.Linux;
using Realize.Storage;

namespace Realize.Real;

/// <summary>
/// The merged view of a store: a kernel overlay with upper <c>real/</c>, work <c>work/</c>
/// and, for a <c>--lower</c> store, that directory as lower layer
/// (<c>metacopy=on,redirect_dir=on</c>, so renames are redirects and chmod copies no data).
/// </summary>
public static class MergedView
{
    private const string ProbeXattr = "trusted.realize.probe";

    /// <summary>The overlay option string for a store.</summary>
    public static string Options(Store store, string lower) =>
        $"lowerdir={Mounts.EscapeOverlayPath(lower)},upperdir={Mounts.EscapeOverlayPath(store.RealDir)},workdir={Mounts.EscapeOverlayPath(store.WorkDir)}," +
        "metacopy=on,redirect_dir=on,index=off";

    /// <summary>Mounts the merged view; every failure is a <see cref="RealizeException"/> saying what to do.</summary>
    public static string Mount(Store store)
    {
        string target = store.Config.Mount
            ?? throw new RealizeException($"the store {store.Root} has no merged view: create one with 'realize init --mount DIR'");
        string lower = store.Config.Lower
            ?? throw new RealizeException("this store's merged view lies over the Unreal, which 'realize up' serves; 'realize mount' only mounts stores created with --lower");
        if (!Environment.IsPrivilegedProcess)
        {
            throw new RealizeException("mounting an overlay needs root (CAP_SYS_ADMIN): run this command as root");
        }
        if (!Directory.Exists(lower))
        {
            throw new RealizeException($"the lower directory {lower} does not exist: create it, or fix 'lower' in {store.ConfigPath}");
        }
        if (Mounts.FindMount(target) is { } fstype)
        {
            throw new RealizeException($"{target} is already mounted ({fstype}): run 'realize unmount' first");
        }
        CheckTrustedXattrs(store.WorkDir);
        Directory.CreateDirectory(target);
        try
        {
            Mounts.MountOverlay(target, Options(store, lower));
        }
        catch (LinuxException e) when (e.Errno == Errno.EPERM)
        {
            throw new RealizeException("the kernel refused to mount the overlay (EPERM): run as root, outside a user namespace", e);
        }
        catch (LinuxException e)
        {
            throw new RealizeException($"could not mount the merged view at {target}: {e.Message} (the kernel log, 'dmesg | tail', says why)", e);
        }
        return target;
    }

    /// <summary>Unmounts the merged view.</summary>
    public static string Unmount(Store store)
    {
        string target = store.Config.Mount
            ?? throw new RealizeException($"the store {store.Root} has no merged view, so nothing to unmount");
        if (Mounts.FindMount(target) is null)
        {
            throw new RealizeException($"{target} is not mounted: nothing to do");
        }
        try
        {
            Mounts.Unmount(target);
        }
        catch (LinuxException e) when (e.Errno == Errno.EBUSY)
        {
            throw new RealizeException($"{target} is busy: a process has a file or its working directory there ('fuser -vm {target}' names it); close it and try again", e);
        }
        catch (LinuxException e) when (e.Errno == Errno.EPERM)
        {
            throw new RealizeException("unmounting needs root: run this command as root", e);
        }
        return target;
    }

    /// <summary>The upper and work directories need <c>trusted.*</c> xattrs, which overlay keeps its records in.</summary>
    internal static void CheckTrustedXattrs(string workDir)
    {
        try
        {
            Xattr.Set(workDir, ProbeXattr, "y"u8);
            Xattr.Remove(workDir, ProbeXattr);
        }
        catch (LinuxException e) when (e.Errno == Errno.EOPNOTSUPP)
        {
            throw new RealizeException($"the filesystem of {workDir} does not support trusted.* extended attributes: put the store on ext4, xfs or btrfs", e);
        }
        catch (LinuxException e) when (e.Errno is Errno.EPERM or Errno.EACCES)
        {
            throw new RealizeException("setting trusted.* extended attributes needs root (CAP_SYS_ADMIN): run this command as root", e);
        }
    }
}
