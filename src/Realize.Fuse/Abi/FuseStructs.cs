using System.Runtime.InteropServices;

namespace Realize.Fuse.Abi;

// The structs of linux/fuse.h, field for field; sizes are checked by AbiLayoutTests.
#pragma warning disable CA1051 // Visible fields: these are wire layouts.
#pragma warning disable IDE1006 // The kernel's names.

[StructLayout(LayoutKind.Sequential)]
internal struct fuse_in_header
{
    public uint len;
    public uint opcode;
    public ulong unique;
    public ulong nodeid;
    public uint uid;
    public uint gid;
    public uint pid;

    /// <summary>7.38: length of extensions in 8-byte units.</summary>
    public ushort total_extlen;
    public ushort padding;
}

[StructLayout(LayoutKind.Sequential)]
internal struct fuse_out_header
{
    public uint len;
    public int error;
    public ulong unique;
}

[StructLayout(LayoutKind.Sequential)]
internal struct fuse_attr
{
    public ulong ino;
    public ulong size;
    public ulong blocks;
    public ulong atime;
    public ulong mtime;
    public ulong ctime;
    public uint atimensec;
    public uint mtimensec;
    public uint ctimensec;
    public uint mode;
    public uint nlink;
    public uint uid;
    public uint gid;
    public uint rdev;
    public uint blksize;

    /// <summary>7.32.</summary>
    public uint flags;
}

[StructLayout(LayoutKind.Sequential)]
internal struct fuse_entry_out
{
    public ulong nodeid;
    public ulong generation;
    public ulong entry_valid;
    public ulong attr_valid;
    public uint entry_valid_nsec;
    public uint attr_valid_nsec;
    public fuse_attr attr;
}

[StructLayout(LayoutKind.Sequential)]
internal struct fuse_attr_out
{
    public ulong attr_valid;
    public uint attr_valid_nsec;
    public uint dummy;
    public fuse_attr attr;
}

[StructLayout(LayoutKind.Sequential)]
internal struct fuse_forget_in
{
    public ulong nlookup;
}

[StructLayout(LayoutKind.Sequential)]
internal struct fuse_forget_one
{
    public ulong nodeid;
    public ulong nlookup;
}

[StructLayout(LayoutKind.Sequential)]
internal struct fuse_batch_forget_in
{
    public uint count;
    public uint dummy;
}

[StructLayout(LayoutKind.Sequential)]
internal struct fuse_getattr_in
{
    public uint getattr_flags;
    public uint dummy;
    public ulong fh;
}

[StructLayout(LayoutKind.Sequential)]
internal struct fuse_open_in
{
    public uint flags;

    /// <summary>7.33: FUSE_OPEN_KILL_SUIDGID.</summary>
    public uint open_flags;
}

[StructLayout(LayoutKind.Sequential)]
internal struct fuse_open_out
{
    public ulong fh;
    public uint open_flags;

    /// <summary>7.40: the passthrough backing id (was padding).</summary>
    public int backing_id;
}

[StructLayout(LayoutKind.Sequential)]
internal struct fuse_release_in
{
    public ulong fh;
    public uint flags;
    public uint release_flags;
    public ulong lock_owner;
}

[StructLayout(LayoutKind.Sequential)]
internal struct fuse_flush_in
{
    public ulong fh;
    public uint unused;
    public uint padding;
    public ulong lock_owner;
}

[StructLayout(LayoutKind.Sequential)]
internal struct fuse_read_in
{
    public ulong fh;
    public ulong offset;
    public uint size;
    public uint read_flags;
    public ulong lock_owner;
    public uint flags;
    public uint padding;
}

[StructLayout(LayoutKind.Sequential)]
internal struct fuse_write_in
{
    public ulong fh;
    public ulong offset;
    public uint size;
    public uint write_flags;
    public ulong lock_owner;
    public uint flags;
    public uint padding;
}

[StructLayout(LayoutKind.Sequential)]
internal struct fuse_kstatfs
{
    public ulong blocks;
    public ulong bfree;
    public ulong bavail;
    public ulong files;
    public ulong ffree;
    public uint bsize;
    public uint namelen;
    public uint frsize;
    public uint padding;
    public unsafe fixed uint spare[6];
}

[StructLayout(LayoutKind.Sequential)]
internal struct fuse_getxattr_in
{
    public uint size;
    public uint padding;
}

[StructLayout(LayoutKind.Sequential)]
internal struct fuse_getxattr_out
{
    public uint size;
    public uint padding;
}

[StructLayout(LayoutKind.Sequential)]
internal struct fuse_access_in
{
    public uint mask;
    public uint padding;
}

[StructLayout(LayoutKind.Sequential)]
internal struct fuse_interrupt_in
{
    public ulong unique;
}

[StructLayout(LayoutKind.Sequential)]
internal struct fuse_init_in
{
    public uint major;
    public uint minor;
    public uint max_readahead;
    public uint flags;

    /// <summary>7.36, with FUSE_INIT_EXT.</summary>
    public uint flags2;
    public unsafe fixed uint unused[11];
}

[StructLayout(LayoutKind.Sequential)]
internal struct fuse_init_out
{
    public uint major;
    public uint minor;
    public uint max_readahead;
    public uint flags;
    public ushort max_background;
    public ushort congestion_threshold;
    public uint max_write;
    public uint time_gran;
    public ushort max_pages;
    public ushort map_alignment;

    /// <summary>7.36.</summary>
    public uint flags2;

    /// <summary>7.40: how many file systems may stack on a passthrough backing file's.</summary>
    public uint max_stack_depth;

    /// <summary>7.43.</summary>
    public ushort request_timeout;
    public unsafe fixed ushort unused[11];
}

[StructLayout(LayoutKind.Sequential)]
internal struct fuse_dirent
{
    public ulong ino;
    public ulong off;
    public uint namelen;
    public uint type;
}

[StructLayout(LayoutKind.Sequential)]
internal struct fuse_direntplus
{
    public fuse_entry_out entry_out;
    public fuse_dirent dirent;
}

[StructLayout(LayoutKind.Sequential)]
internal struct fuse_notify_inval_inode_out
{
    public ulong ino;
    public long off;
    public long len;
}

[StructLayout(LayoutKind.Sequential)]
internal struct fuse_notify_inval_entry_out
{
    public ulong parent;
    public uint namelen;
    public uint flags;
}

[StructLayout(LayoutKind.Sequential)]
internal struct fuse_mknod_in
{
    public uint mode;
    public uint rdev;
    public uint umask;
    public uint padding;
}

[StructLayout(LayoutKind.Sequential)]
internal struct fuse_mkdir_in
{
    public uint mode;
    public uint umask;
}

[StructLayout(LayoutKind.Sequential)]
internal struct fuse_rename_in
{
    public ulong newdir;
}

[StructLayout(LayoutKind.Sequential)]
internal struct fuse_rename2_in
{
    public ulong newdir;
    public uint flags;
    public uint padding;
}

[StructLayout(LayoutKind.Sequential)]
internal struct fuse_link_in
{
    public ulong oldnodeid;
}

[StructLayout(LayoutKind.Sequential)]
internal struct fuse_setattr_in
{
    public uint valid;
    public uint padding;
    public ulong fh;
    public ulong size;
    public ulong lock_owner;
    public ulong atime;
    public ulong mtime;
    public ulong ctime;
    public uint atimensec;
    public uint mtimensec;
    public uint ctimensec;
    public uint mode;
    public uint unused4;
    public uint uid;
    public uint gid;
    public uint unused5;
}

[StructLayout(LayoutKind.Sequential)]
internal struct fuse_create_in
{
    public uint flags;
    public uint mode;
    public uint umask;
    public uint open_flags;
}

[StructLayout(LayoutKind.Sequential)]
internal struct fuse_setxattr_in
{
    public uint size;
    public uint flags;
    public uint setxattr_flags;
    public uint padding;
}

[StructLayout(LayoutKind.Sequential)]
internal struct fuse_fsync_in
{
    public ulong fh;
    public uint fsync_flags;
    public uint padding;
}

[StructLayout(LayoutKind.Sequential)]
internal struct fuse_lk_in
{
    public ulong fh;
    public ulong owner;
    public ulong lk_start;
    public ulong lk_end;
    public uint lk_type;
    public uint lk_pid;
    public uint lk_flags;
    public uint padding;
}

[StructLayout(LayoutKind.Sequential)]
internal struct fuse_bmap_in
{
    public ulong block;
    public uint blocksize;
    public uint padding;
}

[StructLayout(LayoutKind.Sequential)]
internal struct fuse_ioctl_in
{
    public ulong fh;
    public uint flags;
    public uint cmd;
    public ulong arg;
    public uint in_size;
    public uint out_size;
}

[StructLayout(LayoutKind.Sequential)]
internal struct fuse_poll_in
{
    public ulong fh;
    public ulong kh;
    public uint flags;
    public uint events;
}

[StructLayout(LayoutKind.Sequential)]
internal struct fuse_fallocate_in
{
    public ulong fh;
    public ulong offset;
    public ulong length;
    public uint mode;
    public uint padding;
}

[StructLayout(LayoutKind.Sequential)]
internal struct fuse_lseek_in
{
    public ulong fh;
    public ulong offset;
    public uint whence;
    public uint padding;
}

[StructLayout(LayoutKind.Sequential)]
internal struct fuse_copy_file_range_in
{
    public ulong fh_in;
    public ulong off_in;
    public ulong nodeid_out;
    public ulong fh_out;
    public ulong off_out;
    public ulong len;
    public ulong flags;
}

[StructLayout(LayoutKind.Sequential)]
internal struct fuse_setupmapping_in
{
    public ulong fh;
    public ulong foffset;
    public ulong len;
    public ulong flags;
    public ulong moffset;
}

[StructLayout(LayoutKind.Sequential)]
internal struct fuse_removemapping_in
{
    public uint count;
}

[StructLayout(LayoutKind.Sequential)]
internal struct fuse_syncfs_in
{
    public ulong padding;
}

/// <summary>7.39.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct fuse_statx_in
{
    public uint getattr_flags;
    public uint reserved;
    public ulong fh;
    public uint sx_flags;
    public uint sx_mask;
}
