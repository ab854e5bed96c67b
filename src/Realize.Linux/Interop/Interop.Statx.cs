using System.Runtime.InteropServices;

namespace Realize.Linux;

internal static partial class Interop
{
    internal const uint STATX_BASIC_STATS = 0x7ff;
    internal const uint STATX_MNT_ID = 0x1000;
    internal const ulong STATX_ATTR_MOUNT_ROOT = 0x2000;

    /// <summary><c>struct statx_timestamp</c> from <c>linux/stat.h</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct statx_timestamp
    {
        public long tv_sec;
        public uint tv_nsec;
        public int __reserved;
    }

    /// <summary><c>struct statx</c> from <c>linux/stat.h</c> (256 bytes).</summary>
    [StructLayout(LayoutKind.Sequential, Size = 256)]
    internal struct statx_buf
    {
        public uint stx_mask;
        public uint stx_blksize;
        public ulong stx_attributes;
        public uint stx_nlink;
        public uint stx_uid;
        public uint stx_gid;
        public ushort stx_mode;
        public ushort __spare0;
        public ulong stx_ino;
        public ulong stx_size;
        public ulong stx_blocks;
        public ulong stx_attributes_mask;
        public statx_timestamp stx_atime;
        public statx_timestamp stx_btime;
        public statx_timestamp stx_ctime;
        public statx_timestamp stx_mtime;
        public uint stx_rdev_major;
        public uint stx_rdev_minor;
        public uint stx_dev_major;
        public uint stx_dev_minor;
        public ulong stx_mnt_id;
    }

    [LibraryImport(Libc, EntryPoint = "statx", SetLastError = true)]
    internal static unsafe partial int statx(int dirfd, byte* pathname, int flags, uint mask, out statx_buf buf);
}
