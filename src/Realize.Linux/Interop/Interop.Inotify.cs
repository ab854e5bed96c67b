using System.Runtime.InteropServices;

namespace Realize.Linux;

internal static partial class Interop
{
    // linux/inotify.h
    internal const uint IN_MODIFY = 0x00000002;
    internal const uint IN_ATTRIB = 0x00000004;
    internal const uint IN_CLOSE_WRITE = 0x00000008;
    internal const uint IN_MOVED_FROM = 0x00000040;
    internal const uint IN_MOVED_TO = 0x00000080;
    internal const uint IN_CREATE = 0x00000100;
    internal const uint IN_DELETE = 0x00000200;
    internal const uint IN_DELETE_SELF = 0x00000400;
    internal const uint IN_MOVE_SELF = 0x00000800;
    internal const uint IN_UNMOUNT = 0x00002000;
    internal const uint IN_Q_OVERFLOW = 0x00004000;
    internal const uint IN_IGNORED = 0x00008000;
    internal const uint IN_ONLYDIR = 0x01000000;
    internal const uint IN_DONT_FOLLOW = 0x02000000;
    internal const uint IN_EXCL_UNLINK = 0x04000000;
    internal const uint IN_ISDIR = 0x40000000;
    internal const int IN_CLOEXEC = 0x80000;
    internal const int IN_NONBLOCK = 0x800;

    [LibraryImport(Libc, EntryPoint = "inotify_init1", SetLastError = true)]
    internal static partial int inotify_init1(int flags);

    [LibraryImport(Libc, EntryPoint = "inotify_add_watch", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int inotify_add_watch(int fd, string path, uint mask);

    [LibraryImport(Libc, EntryPoint = "inotify_rm_watch", SetLastError = true)]
    internal static partial int inotify_rm_watch(int fd, int wd);

    [LibraryImport(Libc, EntryPoint = "read", SetLastError = true)]
    internal static unsafe partial nint read(int fd, byte* buffer, nuint count);

    [LibraryImport(Libc, EntryPoint = "poll", SetLastError = true)]
    internal static unsafe partial int poll(pollfd* fds, nuint nfds, int timeout);

    [StructLayout(LayoutKind.Sequential)]
    internal struct pollfd
    {
        public int fd;
        public short events;
        public short revents;
    }

    internal const short POLLIN = 0x001;
    internal const int EINTR = 4;
    internal const int EAGAIN = 11;
    internal const int ENOSPC = 28;
}

internal static partial class Interop
{
    internal const int EFD_CLOEXEC = 0x80000;
    internal const int EFD_NONBLOCK = 0x800;

    [LibraryImport(Libc, EntryPoint = "eventfd", SetLastError = true)]
    internal static partial int eventfd(uint initval, int flags);

    [LibraryImport(Libc, EntryPoint = "write", SetLastError = true)]
    internal static unsafe partial nint write(int fd, byte* buffer, nuint count);
}
