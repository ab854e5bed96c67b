using System.Runtime.InteropServices;

namespace Realize.Linux;

internal static partial class Interop
{
    // enum fsconfig_command, linux/mount.h
    internal const uint FSCONFIG_SET_FLAG = 0;
    internal const uint FSCONFIG_SET_STRING = 1;
    internal const uint FSCONFIG_CMD_CREATE = 6;

    /// <summary>Sets a parameter of, or gives a command to, a filesystem context from <see cref="fsopen"/>.</summary>
    [LibraryImport(Libc, EntryPoint = "fsconfig", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int fsconfig(int fd, uint cmd, string? key, string? value, int aux);
}
