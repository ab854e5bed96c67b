using System.Runtime.InteropServices;

namespace Realize.Linux;

internal static partial class Interop
{
    // linux/mount.h
    internal const uint FSMOUNT_CLOEXEC = 0x00000001;

    /// <summary>Makes a detached mount of a created filesystem context; returns a file descriptor for it.</summary>
    [LibraryImport(Libc, EntryPoint = "fsmount", SetLastError = true)]
    internal static partial int fsmount(int fsfd, uint flags, uint attrFlags);
}
