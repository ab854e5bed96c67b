namespace Realize.Fuse;

/// <summary>
/// The answer to a LOOKUP (and each READDIRPLUS entry): a node and how long the kernel may
/// trust the name (<see cref="EntryTimeout"/>) and the attributes (<see cref="AttrTimeout"/>).
/// Each entry the kernel receives counts one lookup of the node, given back by FORGET. A LOOKUP
/// answered with node id 0 is a negative entry: the kernel remembers for EntryTimeout that the
/// name does not exist (until <see cref="FuseSession.InvalidateEntry(ulong, string)"/>).
/// </summary>
public readonly record struct FuseEntry(ulong NodeId, FuseAttr Attr, TimeSpan EntryTimeout, TimeSpan AttrTimeout)
{
    /// <summary>Bumped when a node id is reused for another file; nodeid:generation is unique for the mount's life.</summary>
    public ulong Generation { get; init; }
}

/// <summary>The answer to a GETATTR: the attributes and how long the kernel may cache them.</summary>
public readonly record struct FuseAttrReply(FuseAttr Attr, TimeSpan Timeout);

/// <summary>FOPEN_* flags of an open reply (<c>fuse_open_out.open_flags</c>).</summary>
[Flags]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1711", Justification = "The kernel calls them open flags (FOPEN_*).")]
public enum FuseOpenFlags : uint
{
    None = 0,

    /// <summary>FOPEN_DIRECT_IO: bypass the page cache for this open.</summary>
    DirectIo = Abi.FuseConstants.FOPEN_DIRECT_IO,

    /// <summary>FOPEN_KEEP_CACHE: keep the cached pages of the inode (never with <see cref="Passthrough"/>: open fails with EIO).</summary>
    KeepCache = Abi.FuseConstants.FOPEN_KEEP_CACHE,

    /// <summary>FOPEN_NONSEEKABLE.</summary>
    NonSeekable = Abi.FuseConstants.FOPEN_NONSEEKABLE,

    /// <summary>FOPEN_CACHE_DIR: the kernel may cache this directory's listing.</summary>
    CacheDir = Abi.FuseConstants.FOPEN_CACHE_DIR,

    /// <summary>FOPEN_NOFLUSH: no FLUSH on close.</summary>
    NoFlush = Abi.FuseConstants.FOPEN_NOFLUSH,

    /// <summary>FOPEN_PARALLEL_DIRECT_WRITES.</summary>
    ParallelDirectWrites = Abi.FuseConstants.FOPEN_PARALLEL_DIRECT_WRITES,

    /// <summary>FOPEN_PASSTHROUGH (7.40): reads go to the backing file of <see cref="FuseOpenReply.BackingId"/>, no READ reaches the server.</summary>
    Passthrough = Abi.FuseConstants.FOPEN_PASSTHROUGH,
}

/// <summary>The answer to an OPEN or OPENDIR: the handle later requests carry, flags, and a backing id for passthrough.</summary>
public readonly record struct FuseOpenReply(ulong FileHandle, FuseOpenFlags Flags = FuseOpenFlags.None, int BackingId = 0);

/// <summary>The answer to STATFS (<c>struct fuse_kstatfs</c>).</summary>
public readonly record struct FuseStatFs
{
    public ulong Blocks { get; init; }

    public ulong BlocksFree { get; init; }

    public ulong BlocksAvailable { get; init; }

    public ulong Files { get; init; }

    public ulong FilesFree { get; init; }

    public uint BlockSize { get; init; }

    public uint NameLength { get; init; }

    public uint FragmentSize { get; init; }
}
