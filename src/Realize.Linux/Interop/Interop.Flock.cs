using System.Runtime.InteropServices;

namespace Realize.Linux;

internal static partial class Interop
{
    internal const int LOCK_EX = 2;
    internal const int LOCK_NB = 4;
    internal const int EWOULDBLOCK = 11;

    [LibraryImport(Libc, EntryPoint = "flock", SetLastError = true)]
    internal static partial int flock(int fd, int operation);
}

internal static partial class Interop
{
    [LibraryImport(Libc, EntryPoint = "ftruncate", SetLastError = true)]
    internal static partial int ftruncate(int fd, long length);

    [LibraryImport(Libc, EntryPoint = "pwrite", SetLastError = true)]
    internal static unsafe partial nint pwrite(int fd, byte* buffer, nuint count, long offset);
}
