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
    public const int EINTR = Interop.EINTR;
    public const int EAGAIN = Interop.EAGAIN;
    public const int ENODEV = Interop.ENODEV;
    public const int EISDIR = 21;
    public const int ERANGE = Interop.ERANGE;
    public const int ENAMETOOLONG = 36;
    public const int ENOSYS = 38;
    public const int EROFS = 30;
    public const int EPROTO = 71;
    public const int ENOTCONN = Interop.ENOTCONN;
    public const int ETIMEDOUT = 110;
    public const int ESTALE = Interop.ESTALE;
}
