using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Realize.Linux;

/// <summary>Regular files opened for reading with their status, never through a symlink, never blocking on a FIFO.</summary>
public static class RegularFile
{
    /// <summary>
    /// Opens <paramref name="path"/> read-only (<c>O_NOFOLLOW|O_NONBLOCK</c>) and stats the open file;
    /// null when it does not exist, is a symlink or is not a regular file. The handle serves
    /// <see cref="RandomAccess"/>.
    /// </summary>
    public static SafeFileHandle? TryOpenRead(string path, out FileStatus status)
    {
        status = default;
        int fd = Interop.open(path, Interop.O_RDONLY | Interop.O_NOFOLLOW | Interop.O_NONBLOCK | Interop.O_CLOEXEC, 0);
        if (fd < 0)
        {
            return Marshal.GetLastPInvokeError() is Interop.ENOENT or Interop.ENOTDIR or Interop.ELOOP ? null : throw LinuxException.FromLastError("open", path);
        }
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            status = Status(handle);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
        if (status.Kind != FileKind.Regular)
        {
            handle.Dispose();
            return null;
        }
        return handle;
    }

    /// <summary>The status of an open file (<c>statx</c> with <c>AT_EMPTY_PATH</c>): what it is now, whatever its name became.</summary>
    public static unsafe FileStatus Status(SafeFileHandle handle)
    {
        bool added = false;
        handle.DangerousAddRef(ref added);
        try
        {
            byte empty = 0;
            return Interop.statx((int)handle.DangerousGetHandle(), &empty, Interop.AT_EMPTY_PATH, Interop.STATX_BASIC_STATS, out var buf) == 0
                ? FileStatus.From(buf)
                : throw LinuxException.FromLastError("statx", null);
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }
}
