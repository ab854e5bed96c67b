using System.Runtime.InteropServices;

namespace Realize.Linux;

internal static partial class Interop
{
    [LibraryImport(Libc, EntryPoint = "malloc_trim")]
    internal static partial int malloc_trim(nuint pad);
}
