using System.Runtime.InteropServices;
using System.Text;

namespace Realize.Linux;

/// <summary>
/// The new mount API (<c>fsopen</c>, <c>fsconfig</c>, <c>fsmount</c>, <c>move_mount</c>): a
/// filesystem configured parameter by parameter (no option string to escape), mounted detached,
/// then attached at a mount point, on top of what is there or beneath it.
/// </summary>
public static class MountApi
{
    /// <summary>
    /// Creates a detached mount of filesystem <paramref name="fsType"/> with <paramref name="parameters"/>
    /// in order (a null value is a flag parameter). Failures carry the kernel's own messages.
    /// </summary>
    public static DetachedMount Create(string fsType, IEnumerable<KeyValuePair<string, string?>> parameters)
    {
        int fs = Interop.fsopen(fsType, Interop.FSOPEN_CLOEXEC);
        if (fs < 0)
        {
            throw LinuxException.FromLastError("fsopen " + fsType, null);
        }
        using var context = new SafeFd(fs);
        foreach (var (key, value) in parameters)
        {
            int result = value is null
                ? Interop.fsconfig(fs, Interop.FSCONFIG_SET_FLAG, key, null, 0)
                : Interop.fsconfig(fs, Interop.FSCONFIG_SET_STRING, key, value, 0);
            if (result != 0)
            {
                throw Failure(fs, $"fsconfig {fsType} {key}", value);
            }
        }
        if (Interop.fsconfig(fs, Interop.FSCONFIG_CMD_CREATE, null, null, 0) != 0)
        {
            throw Failure(fs, $"fsconfig {fsType} create", null);
        }
        int mount = Interop.fsmount(fs, Interop.FSMOUNT_CLOEXEC, 0);
        if (mount < 0)
        {
            throw Failure(fs, "fsmount " + fsType, null);
        }
        return new DetachedMount(mount);
    }

    /// <summary>
    /// Attaches <paramref name="mount"/> at <paramref name="target"/>: on top of whatever is
    /// mounted there, or with <paramref name="beneath"/> (<c>MOVE_MOUNT_BENEATH</c>, Linux 6.5)
    /// under the mount at the top of <paramref name="target"/>, which then stays visible until
    /// it is unmounted and uncovers this one.
    /// </summary>
    public static void Attach(DetachedMount mount, string target, bool beneath = false)
    {
        uint flags = Interop.MOVE_MOUNT_F_EMPTY_PATH | (beneath ? Interop.MOVE_MOUNT_BENEATH : 0);
        bool added = false;
        mount.DangerousAddRef(ref added);
        try
        {
            if (Interop.move_mount(mount.Fd, "", Interop.AT_FDCWD, target, flags) != 0)
            {
                var error = LinuxException.FromLastError(beneath ? "move_mount beneath" : "move_mount", target);
                throw beneath && error.Errno == Interop.EINVAL
                    ? new LinuxException(error.Errno, $"move_mount beneath (needs Linux 6.5 and a mount at the target; the target's parent must not propagate to it)", target)
                    : error;
            }
        }
        finally
        {
            if (added)
            {
                mount.DangerousRelease();
            }
        }
    }

    // The errno of the failed call, with what the kernel wrote to the context's message log
    // ("e overlayfs: workdir and upperdir must reside under the same mount").
    private static LinuxException Failure(int fs, string operation, string? value)
    {
        int errno = Marshal.GetLastPInvokeError();
        string log = KernelMessages(fs);
        string detail = value is null ? "" : $"={value}";
        return new LinuxException(errno, log.Length == 0 ? operation + detail : $"{operation}{detail} ({log})", null);
    }

    private static unsafe string KernelMessages(int fs)
    {
        var messages = new List<string>();
        byte[] buffer = new byte[1024];
        while (true)
        {
            nint n;
            fixed (byte* p = buffer)
            {
                n = Interop.read(fs, p, (nuint)buffer.Length);
            }
            if (n <= 0)
            {
                // ENODATA: the log is empty.
                return string.Join("; ", messages);
            }
            messages.Add(Encoding.UTF8.GetString(buffer, 0, (int)n).TrimEnd('\n'));
        }
    }
}
