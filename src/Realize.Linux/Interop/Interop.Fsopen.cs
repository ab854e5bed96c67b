using System.Runtime.InteropServices;

namespace Realize.Linux;

internal static partial class Interop
{
    // linux/mount.h
    internal const uint FSOPEN_CLOEXEC = 0x00000001;

    /// <summary>Opens a filesystem context (new mount API, Linux 5.2) for type <paramref name="fsname"/>.</summary>
    [LibraryImport(Libc, EntryPoint = "fsopen", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int fsopen(string fsname, uint flags);
}
