using System.Runtime.InteropServices;

namespace Realize.Linux;

internal static partial class Interop
{
    internal const int O_RDWR = 2;
    internal const int ENODEV = 19;
    internal const int ENOTCONN = 107;
    internal const short POLLERR = 0x008;
    internal const short POLLHUP = 0x010;
    internal const ulong MS_RDONLY = 1;
    internal const ulong MS_NOSUID = 2;
    internal const ulong MS_NODEV = 4;

    // linux/fuse.h 7.40: FUSE_DEV_IOC_BACKING_OPEN = _IOW(229, 1, struct fuse_backing_map).
    internal const uint FUSE_DEV_IOC_BACKING_OPEN = 0x4010e501;

    // linux/fuse.h 7.40: FUSE_DEV_IOC_BACKING_CLOSE = _IOW(229, 2, uint32_t).
    internal const uint FUSE_DEV_IOC_BACKING_CLOSE = 0x4004e502;

    /// <summary><c>struct fuse_backing_map</c> (linux/fuse.h 7.40), 16 bytes.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct fuse_backing_map
    {
        public int fd;
        public uint flags;
        public ulong padding;
    }

    [LibraryImport(Libc, EntryPoint = "geteuid")]
    internal static partial uint geteuid();

    [LibraryImport(Libc, EntryPoint = "getegid")]
    internal static partial uint getegid();

    [LibraryImport(Libc, EntryPoint = "ioctl", SetLastError = true)]
    internal static unsafe partial int ioctl(SafeHandle fd, nuint request, void* argument);

    [LibraryImport(Libc, EntryPoint = "read", SetLastError = true)]
    internal static unsafe partial nint read(SafeHandle fd, byte* buffer, nuint count);

    [LibraryImport(Libc, EntryPoint = "write", SetLastError = true)]
    internal static unsafe partial nint write(SafeHandle fd, byte* buffer, nuint count);
}
