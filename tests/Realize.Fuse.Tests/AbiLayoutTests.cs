using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Realize.Fuse.Abi;

namespace Realize.Fuse.Tests;

/// <summary>
/// The ABI structs must match the kernel's byte for byte. Expected values are those of
/// linux/fuse.h (7.38 in /usr/include, the 7.40+ fields from the kernel's header as
/// /work/shared/notes/fuse-passthrough.md records them), not of the C# code.
/// </summary>
public sealed class AbiLayoutTests
{
    [Theory]
    [InlineData(typeof(fuse_in_header), 40)]
    [InlineData(typeof(fuse_out_header), 16)]
    [InlineData(typeof(fuse_attr), 88)]
    [InlineData(typeof(fuse_entry_out), 128)]
    [InlineData(typeof(fuse_attr_out), 104)]
    [InlineData(typeof(fuse_forget_in), 8)]
    [InlineData(typeof(fuse_forget_one), 16)]
    [InlineData(typeof(fuse_batch_forget_in), 8)]
    [InlineData(typeof(fuse_getattr_in), 16)]
    [InlineData(typeof(fuse_open_in), 8)]
    [InlineData(typeof(fuse_open_out), 16)]
    [InlineData(typeof(fuse_release_in), 24)]
    [InlineData(typeof(fuse_flush_in), 24)]
    [InlineData(typeof(fuse_read_in), 40)]
    [InlineData(typeof(fuse_write_in), 40)]
    [InlineData(typeof(fuse_kstatfs), 80)]
    [InlineData(typeof(fuse_getxattr_in), 8)]
    [InlineData(typeof(fuse_getxattr_out), 8)]
    [InlineData(typeof(fuse_access_in), 8)]
    [InlineData(typeof(fuse_interrupt_in), 8)]
    [InlineData(typeof(fuse_init_in), 64)]
    [InlineData(typeof(fuse_init_out), 64)]
    [InlineData(typeof(fuse_dirent), 24)]
    [InlineData(typeof(fuse_direntplus), 152)]
    [InlineData(typeof(fuse_notify_inval_inode_out), 24)]
    [InlineData(typeof(fuse_notify_inval_entry_out), 16)]
    [InlineData(typeof(fuse_mknod_in), 16)]
    [InlineData(typeof(fuse_mkdir_in), 8)]
    [InlineData(typeof(fuse_rename2_in), 16)]
    [InlineData(typeof(fuse_setattr_in), 88)]
    [InlineData(typeof(fuse_create_in), 16)]
    [InlineData(typeof(fuse_setxattr_in), 16)]
    [InlineData(typeof(fuse_fsync_in), 16)]
    [InlineData(typeof(fuse_lk_in), 48)]
    [InlineData(typeof(fuse_bmap_in), 16)]
    [InlineData(typeof(fuse_ioctl_in), 32)]
    [InlineData(typeof(fuse_poll_in), 24)]
    [InlineData(typeof(fuse_fallocate_in), 32)]
    [InlineData(typeof(fuse_lseek_in), 24)]
    [InlineData(typeof(fuse_copy_file_range_in), 56)]
    [InlineData(typeof(fuse_setupmapping_in), 40)]
    [InlineData(typeof(fuse_syncfs_in), 8)]
    [InlineData(typeof(fuse_statx_in), 24)]
    public void Struct_HasTheKernelsSize(Type type, int size) => Assert.Equal(size, Marshal.SizeOf(type));

    [Theory]
    [InlineData(typeof(fuse_in_header), nameof(fuse_in_header.unique), 8)]
    [InlineData(typeof(fuse_in_header), nameof(fuse_in_header.nodeid), 16)]
    [InlineData(typeof(fuse_in_header), nameof(fuse_in_header.pid), 32)]
    [InlineData(typeof(fuse_in_header), nameof(fuse_in_header.total_extlen), 36)]
    [InlineData(typeof(fuse_out_header), nameof(fuse_out_header.error), 4)]
    [InlineData(typeof(fuse_out_header), nameof(fuse_out_header.unique), 8)]
    [InlineData(typeof(fuse_attr), nameof(fuse_attr.atimensec), 48)]
    [InlineData(typeof(fuse_attr), nameof(fuse_attr.mode), 60)]
    [InlineData(typeof(fuse_attr), nameof(fuse_attr.blksize), 80)]
    [InlineData(typeof(fuse_attr), nameof(fuse_attr.flags), 84)]
    [InlineData(typeof(fuse_entry_out), nameof(fuse_entry_out.entry_valid_nsec), 32)]
    [InlineData(typeof(fuse_entry_out), nameof(fuse_entry_out.attr), 40)]
    [InlineData(typeof(fuse_attr_out), nameof(fuse_attr_out.attr), 16)]
    [InlineData(typeof(fuse_open_out), nameof(fuse_open_out.open_flags), 8)]
    [InlineData(typeof(fuse_open_out), nameof(fuse_open_out.backing_id), 12)]
    [InlineData(typeof(fuse_read_in), nameof(fuse_read_in.size), 16)]
    [InlineData(typeof(fuse_read_in), nameof(fuse_read_in.flags), 32)]
    [InlineData(typeof(fuse_init_in), nameof(fuse_init_in.flags), 12)]
    [InlineData(typeof(fuse_init_in), nameof(fuse_init_in.flags2), 16)]
    [InlineData(typeof(fuse_init_out), nameof(fuse_init_out.max_background), 16)]
    [InlineData(typeof(fuse_init_out), nameof(fuse_init_out.max_write), 20)]
    [InlineData(typeof(fuse_init_out), nameof(fuse_init_out.time_gran), 24)]
    [InlineData(typeof(fuse_init_out), nameof(fuse_init_out.max_pages), 28)]
    [InlineData(typeof(fuse_init_out), nameof(fuse_init_out.flags2), 32)]
    [InlineData(typeof(fuse_init_out), nameof(fuse_init_out.max_stack_depth), 36)]
    [InlineData(typeof(fuse_init_out), nameof(fuse_init_out.request_timeout), 40)]
    [InlineData(typeof(fuse_dirent), nameof(fuse_dirent.namelen), 16)]
    [InlineData(typeof(fuse_dirent), nameof(fuse_dirent.type), 20)]
    [InlineData(typeof(fuse_direntplus), nameof(fuse_direntplus.dirent), 128)]
    [InlineData(typeof(fuse_notify_inval_entry_out), nameof(fuse_notify_inval_entry_out.namelen), 8)]
    [InlineData(typeof(fuse_kstatfs), nameof(fuse_kstatfs.bsize), 40)]
    [InlineData(typeof(fuse_kstatfs), nameof(fuse_kstatfs.frsize), 48)]
    public void Field_IsAtTheKernelsOffset(Type type, string field, int offset) =>
        Assert.Equal(offset, (int)Marshal.OffsetOf(type, field));

    [Fact]
    public void Blittable_SizeMatchesMarshalledSize()
    {
        // MemoryMarshal.Read/Write use the managed layout; it must be the marshalled one.
        Assert.Equal(Marshal.SizeOf<fuse_init_out>(), Unsafe.SizeOf<fuse_init_out>());
        Assert.Equal(Marshal.SizeOf<fuse_kstatfs>(), Unsafe.SizeOf<fuse_kstatfs>());
        Assert.Equal(Marshal.SizeOf<fuse_direntplus>(), Unsafe.SizeOf<fuse_direntplus>());
    }
}
