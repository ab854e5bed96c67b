using System.Runtime.InteropServices;
using System.Text;

namespace Realize.Linux;

/// <summary><c>statx</c> without following symlinks.</summary>
public static class Stat
{
    /// <summary>Stats <paramref name="path"/>; null when it does not exist.</summary>
    public static unsafe FileStatus? TryLstat(string path)
    {
        byte[] bytes = NullTerminated(path);
        fixed (byte* p = bytes)
        {
            if (Interop.statx(Interop.AT_FDCWD, p, Interop.AT_SYMLINK_NOFOLLOW, Interop.STATX_BASIC_STATS, out var buf) == 0)
            {
                return FileStatus.From(buf);
            }
        }
        // Expected errors build no exception: scans ask about many paths that are not there.
        return Marshal.GetLastPInvokeError() is Interop.ENOENT or Interop.ENOTDIR ? null : throw LinuxException.FromLastError("statx", path);
    }

    /// <summary>Stats <paramref name="path"/>; throws when it does not exist.</summary>
    public static FileStatus Lstat(string path) =>
        TryLstat(path) ?? throw new LinuxException(Interop.ENOENT, "statx", path);

    /// <summary>Stats the entry named <paramref name="name"/> (NUL-terminated UTF-8) in an open directory.</summary>
    public static unsafe FileStatus? TryLstatAt(DirectoryHandle directory, ReadOnlySpan<byte> name)
    {
        bool added = false;
        directory.DangerousAddRef(ref added);
        try
        {
            fixed (byte* p = name)
            {
                if (Interop.statx((int)directory.DangerousGetHandle(), p, Interop.AT_SYMLINK_NOFOLLOW, Interop.STATX_BASIC_STATS, out var buf) == 0)
                {
                    return FileStatus.From(buf);
                }
            }
        }
        finally
        {
            if (added)
            {
                directory.DangerousRelease();
            }
        }
        return Marshal.GetLastPInvokeError() is Interop.ENOENT ? null : throw LinuxException.FromLastError("statx", Encoding.UTF8.GetString(name.TrimEnd((byte)0)));
    }

    /// <summary>
    /// The ID of the mount whose root <paramref name="path"/> is (following symlinks), or null
    /// when it is no mount point. Of stacked mounts, the top one.
    /// </summary>
    public static unsafe ulong? MountRootId(string path)
    {
        byte[] bytes = NullTerminated(path);
        fixed (byte* p = bytes)
        {
            if (Interop.statx(Interop.AT_FDCWD, p, 0, Interop.STATX_BASIC_STATS | Interop.STATX_MNT_ID, out var buf) != 0)
            {
                var error = LinuxException.FromLastError("statx", path);
                return error.Errno is Interop.ENOENT or Interop.ENOTDIR ? null : throw error;
            }
            return (buf.stx_attributes & Interop.STATX_ATTR_MOUNT_ROOT) != 0 ? buf.stx_mnt_id : null;
        }
    }

    /// <summary>The ID of the mount that <paramref name="path"/> (not following a symlink) lies on, or null when it does not exist.</summary>
    public static unsafe ulong? MountId(string path)
    {
        byte[] bytes = NullTerminated(path);
        fixed (byte* p = bytes)
        {
            if (Interop.statx(Interop.AT_FDCWD, p, Interop.AT_SYMLINK_NOFOLLOW, Interop.STATX_BASIC_STATS | Interop.STATX_MNT_ID, out var buf) != 0)
            {
                var error = LinuxException.FromLastError("statx", path);
                return error.Errno is Interop.ENOENT or Interop.ENOTDIR ? null : throw error;
            }
            return buf.stx_mnt_id;
        }
    }

    internal static byte[] NullTerminated(string path)
    {
        byte[] bytes = new byte[Encoding.UTF8.GetByteCount(path) + 1];
        Encoding.UTF8.GetBytes(path, bytes);
        return bytes;
    }
}
