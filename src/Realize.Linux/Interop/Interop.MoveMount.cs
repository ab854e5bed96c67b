using System.Runtime.InteropServices;

namespace Realize.Linux;

internal static partial class Interop
{
    // linux/mount.h
    internal const uint MOVE_MOUNT_F_EMPTY_PATH = 0x00000004;

    // Linux 6.5; newer than this machine's headers.
    internal const uint MOVE_MOUNT_BENEATH = 0x00000200;

    /// <summary>Attaches or moves a mount; with <see cref="MOVE_MOUNT_F_EMPTY_PATH"/> the source is the mount fd itself.</summary>
    [LibraryImport(Libc, EntryPoint = "move_mount", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int move_mount(int fromDirfd, string fromPath, int toDirfd, string toPath, uint flags);
}
