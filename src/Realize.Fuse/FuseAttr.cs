using Realize.Fuse.Abi;

namespace Realize.Fuse;

/// <summary>
/// The attributes of an inode as the kernel caches them (<c>struct fuse_attr</c>). Times are
/// nanoseconds since the Unix epoch.
/// </summary>
public readonly record struct FuseAttr
{
    /// <summary>The inode number <c>stat</c> shows (usually the node id).</summary>
    public ulong Ino { get; init; }

    /// <summary>Size in bytes.</summary>
    public long Size { get; init; }

    /// <summary>512-byte blocks allocated; when 0, derived from <see cref="Size"/>.</summary>
    public long Blocks { get; init; }

    public long ATimeNs { get; init; }

    public long MTimeNs { get; init; }

    public long CTimeNs { get; init; }

    /// <summary>File type and permission bits, as <c>st_mode</c> (<c>S_IFREG | 0644</c>).</summary>
    public uint Mode { get; init; }

    public uint NLink { get; init; }

    public uint Uid { get; init; }

    public uint Gid { get; init; }

    public uint Rdev { get; init; }

    /// <summary>Preferred I/O size; 0 lets the kernel choose.</summary>
    public uint BlockSize { get; init; }

    /// <summary>The modification time as a UTC <see cref="DateTime"/>.</summary>
    public DateTime MTime
    {
        get => ToDateTime(MTimeNs);
        init => MTimeNs = FromDateTime(value);
    }

    /// <summary>The access time as a UTC <see cref="DateTime"/>.</summary>
    public DateTime ATime
    {
        get => ToDateTime(ATimeNs);
        init => ATimeNs = FromDateTime(value);
    }

    /// <summary>The change time as a UTC <see cref="DateTime"/>.</summary>
    public DateTime CTime
    {
        get => ToDateTime(CTimeNs);
        init => CTimeNs = FromDateTime(value);
    }

    /// <summary>A directory of the given permission bits.</summary>
    public static FuseAttr Directory(ulong ino, uint permissions = 0b111_101_101, uint nlink = 2) =>
        new() { Ino = ino, Mode = FuseFileTypes.S_IFDIR | permissions, NLink = nlink };

    /// <summary>A regular file of the given size and permission bits.</summary>
    public static FuseAttr File(ulong ino, long size, uint permissions = 0b110_100_100) =>
        new() { Ino = ino, Size = size, Mode = FuseFileTypes.S_IFREG | permissions, NLink = 1 };

    internal static long FromDateTime(DateTime time) =>
        (time.ToUniversalTime() - DateTime.UnixEpoch).Ticks * 100;

    internal static DateTime ToDateTime(long ns) => DateTime.UnixEpoch.AddTicks(ns / 100);

    internal fuse_attr ToAbi()
    {
        return new fuse_attr
        {
            ino = Ino,
            size = (ulong)Size,
            blocks = (ulong)(Blocks != 0 ? Blocks : (Size + 511) / 512),
            atime = (ulong)FloorDiv(ATimeNs, out uint atimensec),
            atimensec = atimensec,
            mtime = (ulong)FloorDiv(MTimeNs, out uint mtimensec),
            mtimensec = mtimensec,
            ctime = (ulong)FloorDiv(CTimeNs, out uint ctimensec),
            ctimensec = ctimensec,
            mode = Mode,
            nlink = NLink,
            uid = Uid,
            gid = Gid,
            rdev = Rdev,
            blksize = BlockSize,
        };
    }

    // Seconds rounded down, so that times before 1970 keep a nanosecond part in [0, 1e9).
    private static long FloorDiv(long ns, out uint remainder)
    {
        long seconds = Math.DivRem(ns, 1_000_000_000L, out long rest);
        if (rest < 0)
        {
            seconds--;
            rest += 1_000_000_000L;
        }
        remainder = (uint)rest;
        return seconds;
    }
}

/// <summary>The file type bits of <c>st_mode</c> and the <c>d_type</c> values of directory entries.</summary>
public static class FuseFileTypes
{
    public const uint S_IFMT = 0xF000;
    public const uint S_IFDIR = 0x4000;
    public const uint S_IFREG = 0x8000;
    public const uint S_IFLNK = 0xA000;

    /// <summary>The <c>d_type</c> (DT_DIR, DT_REG, ...) of a mode: its type bits shifted down.</summary>
    public static uint DirentType(uint mode) => (mode & S_IFMT) >> 12;
}
