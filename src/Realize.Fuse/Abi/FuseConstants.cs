namespace Realize.Fuse.Abi;

/// <summary>The constants of linux/fuse.h this library uses, under the kernel's names.</summary>
internal static class FuseConstants
{
    public const uint FUSE_KERNEL_VERSION = 7;

    /// <summary>The minor version spoken: 7.45 (Linux 6.18), whose structs this library lays out.</summary>
    public const uint FUSE_KERNEL_MINOR_VERSION = 45;

    public const ulong FUSE_ROOT_ID = 1;
    public const int FUSE_MIN_READ_BUFFER = 8192;

    // INIT flags (64 bits: the upper half travels in flags2 when FUSE_INIT_EXT is set).
    public const ulong FUSE_ASYNC_READ = 1UL << 0;
    public const ulong FUSE_ATOMIC_O_TRUNC = 1UL << 3;
    public const ulong FUSE_BIG_WRITES = 1UL << 5;
    public const ulong FUSE_DO_READDIRPLUS = 1UL << 13;
    public const ulong FUSE_READDIRPLUS_AUTO = 1UL << 14;
    public const ulong FUSE_WRITEBACK_CACHE = 1UL << 16;
    public const ulong FUSE_PARALLEL_DIROPS = 1UL << 18;
    public const ulong FUSE_MAX_PAGES = 1UL << 22;
    public const ulong FUSE_CACHE_SYMLINKS = 1UL << 23;
    public const ulong FUSE_INIT_EXT = 1UL << 30;

    /// <summary>7.40.</summary>
    public const ulong FUSE_PASSTHROUGH = 1UL << 37;

    // fuse_getattr_in.getattr_flags
    public const uint FUSE_GETATTR_FH = 1 << 0;

    // fuse_open_out.open_flags
    public const uint FOPEN_DIRECT_IO = 1 << 0;
    public const uint FOPEN_KEEP_CACHE = 1 << 1;
    public const uint FOPEN_NONSEEKABLE = 1 << 2;
    public const uint FOPEN_CACHE_DIR = 1 << 3;
    public const uint FOPEN_NOFLUSH = 1 << 5;
    public const uint FOPEN_PARALLEL_DIRECT_WRITES = 1 << 6;

    /// <summary>7.40.</summary>
    public const uint FOPEN_PASSTHROUGH = 1 << 7;

    /// <summary>The interrupt request's unique is the interrupted one's with this bit set.</summary>
    public const ulong FUSE_INT_REQ_BIT = 1UL << 0;
}
