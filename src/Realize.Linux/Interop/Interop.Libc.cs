namespace Realize.Linux;

internal static partial class Interop
{
    internal const string Libc = "libc";
    internal const int AT_FDCWD = -100;
    internal const int AT_SYMLINK_NOFOLLOW = 0x100;
    internal const int AT_EMPTY_PATH = 0x1000;
    internal const int AT_STATX_FORCE_SYNC = 0x2000;
    internal const int O_RDONLY = 0;
    internal const int O_NOFOLLOW = 0x20000;
    internal const int O_NONBLOCK = 0x800;
    internal const int O_DIRECTORY = 0x10000;
    internal const int O_CLOEXEC = 0x80000;

    internal const int ENOENT = 2;
    internal const int EIO = 5;
    internal const int EACCES = 13;
    internal const int EBUSY = 16;
    internal const int EXDEV = 18;
    internal const int ENOTDIR = 20;
    internal const int EINVAL = 22;
    internal const int ERANGE = 34;
    internal const int ENODATA = 61;
    internal const int EOPNOTSUPP = 95;
    internal const int EPERM = 1;
    internal const int ELOOP = 40;
    internal const int ESTALE = 116;
}
