using System.Runtime.InteropServices;

namespace Realize.Linux.Tests;

/// <summary>
/// <c>struct statx</c> must match the kernel's ABI byte for byte. The expected offsets are
/// those of <c>/usr/include/linux/stat.h</c> (its <c>/* 0x.. */</c> markers), not of the C# code.
/// </summary>
public sealed class StatxLayoutTests
{
    [Fact]
    public void StatxBuf_Is256Bytes() => Assert.Equal(0x100, Marshal.SizeOf<Interop.statx_buf>());

    [Fact]
    public void StatxTimestamp_Is16Bytes_WithNanosecondsAt8()
    {
        Assert.Equal(16, Marshal.SizeOf<Interop.statx_timestamp>());
        Assert.Equal(0, Offset<Interop.statx_timestamp>(nameof(Interop.statx_timestamp.tv_sec)));
        Assert.Equal(8, Offset<Interop.statx_timestamp>(nameof(Interop.statx_timestamp.tv_nsec)));
    }

    [Theory]
    [InlineData("stx_mask", 0x00)]
    [InlineData("stx_blksize", 0x04)]
    [InlineData("stx_attributes", 0x08)]
    [InlineData("stx_nlink", 0x10)]
    [InlineData("stx_uid", 0x14)]
    [InlineData("stx_gid", 0x18)]
    [InlineData("stx_mode", 0x1c)]
    [InlineData("stx_ino", 0x20)]
    [InlineData("stx_size", 0x28)]
    [InlineData("stx_blocks", 0x30)]
    [InlineData("stx_attributes_mask", 0x38)]
    [InlineData("stx_atime", 0x40)]
    [InlineData("stx_btime", 0x50)]
    [InlineData("stx_ctime", 0x60)]
    [InlineData("stx_mtime", 0x70)]
    [InlineData("stx_rdev_major", 0x80)]
    [InlineData("stx_rdev_minor", 0x84)]
    [InlineData("stx_dev_major", 0x88)]
    [InlineData("stx_dev_minor", 0x8c)]
    public void StatxBuf_FieldOffset_MatchesLinuxStatH(string field, int offset) =>
        Assert.Equal(offset, Offset<Interop.statx_buf>(field));

    [Fact]
    public void StatxBasicStats_IsTheKernelMask() => Assert.Equal(0x7ffu, Interop.STATX_BASIC_STATS);

    private static int Offset<T>(string field) => (int)Marshal.OffsetOf<T>(field);
}
