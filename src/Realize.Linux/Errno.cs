namespace Realize.Linux;

/// <summary>errno values callers of this library need to tell apart.</summary>
public static class Errno
{
    public const int EPERM = Interop.EPERM;
    public const int ENOENT = Interop.ENOENT;
    public const int ESRCH = Interop.ESRCH;
    public const int EIO = Interop.EIO;
    public const int EACCES = Interop.EACCES;
    public const int EBUSY = Interop.EBUSY;
    public const int EXDEV = Interop.EXDEV;
    public const int ENOTDIR = Interop.ENOTDIR;
    public const int EINVAL = Interop.EINVAL;
    public const int ENODATA = Interop.ENODATA;
    public const int EOPNOTSUPP = Interop.EOPNOTSUPP;
    public const int ENOSPC = Interop.ENOSPC;
    public const int ESTALE = Interop.ESTALE;
}
