using System.Runtime.InteropServices;

namespace Realize.Linux;

internal static partial class Interop
{
    [LibraryImport(Libc, EntryPoint = "lgetxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static unsafe partial nint lgetxattr(string path, string name, byte* value, nuint size);

    [LibraryImport(Libc, EntryPoint = "llistxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static unsafe partial nint llistxattr(string path, byte* list, nuint size);

    [LibraryImport(Libc, EntryPoint = "lsetxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static unsafe partial int lsetxattr(string path, string name, byte* value, nuint size, int flags);

    [LibraryImport(Libc, EntryPoint = "lremovexattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int lremovexattr(string path, string name);
}
