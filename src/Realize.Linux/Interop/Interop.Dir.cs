using System.Runtime.InteropServices;

namespace Realize.Linux;

internal static partial class Interop
{
    [LibraryImport(Libc, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int open(string path, int flags, int mode);

    [LibraryImport(Libc, EntryPoint = "openat", SetLastError = true)]
    internal static unsafe partial int openat(int dirfd, byte* path, int flags, int mode);

    [LibraryImport(Libc, EntryPoint = "close", SetLastError = true)]
    internal static partial int close(int fd);

    [LibraryImport(Libc, EntryPoint = "fsync", SetLastError = true)]
    internal static partial int fsync(int fd);

    [LibraryImport(Libc, EntryPoint = "getdents64", SetLastError = true)]
    internal static unsafe partial nint getdents64(int fd, byte* buffer, nuint count);
}
