using Realize.Core;

namespace Realize.Linux;

/// <summary>The type of a directory entry, from its mode bits.</summary>
public enum FileKind
{
    Unknown,
    Regular,
    Directory,
    Symlink,
    CharDevice,
    BlockDevice,
    Fifo,
    Socket,
}

/// <summary>What <c>statx</c> says of a file that Realize needs, with nanosecond times.</summary>
public readonly record struct FileStatus(
    FileKind Kind,
    uint Mode,
    ulong Inode,
    long Size,
    FileTime MTime,
    FileTime CTime,
    uint RdevMajor,
    uint RdevMinor,
    uint LinkCount)
{
    /// <summary>The owner's user ID.</summary>
    public uint Uid { get; init; }

    /// <summary>The owner's group ID.</summary>
    public uint Gid { get; init; }

    /// <summary>The permission bits (the low 12 bits of the mode).</summary>
    public uint Permissions => Mode & 0xFFF;

    /// <summary>True for a character device 0/0, what overlayfs uses as a whiteout.</summary>
    public bool IsWhiteoutDevice => Kind == FileKind.CharDevice && RdevMajor == 0 && RdevMinor == 0;

    internal static FileStatus From(in Interop.statx_buf buf) => new(
        KindOf(buf.stx_mode),
        buf.stx_mode,
        buf.stx_ino,
        (long)buf.stx_size,
        new FileTime(buf.stx_mtime.tv_sec, buf.stx_mtime.tv_nsec),
        new FileTime(buf.stx_ctime.tv_sec, buf.stx_ctime.tv_nsec),
        buf.stx_rdev_major,
        buf.stx_rdev_minor,
        buf.stx_nlink)
    {
        Uid = buf.stx_uid,
        Gid = buf.stx_gid,
    };

    private static FileKind KindOf(uint mode) => (mode & 0xF000) switch
    {
        0x8000 => FileKind.Regular,
        0x4000 => FileKind.Directory,
        0xA000 => FileKind.Symlink,
        0x2000 => FileKind.CharDevice,
        0x6000 => FileKind.BlockDevice,
        0x1000 => FileKind.Fifo,
        0xC000 => FileKind.Socket,
        _ => FileKind.Unknown,
    };
}
