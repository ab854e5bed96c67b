namespace Realize.Fuse;

/// <summary>How a <see cref="FuseSession"/> negotiates and serves.</summary>
public sealed record FuseSessionOptions
{
    /// <summary>Answer every write opcode (and opens for writing) with EROFS without calling the file system.</summary>
    public bool ReadOnly { get; init; }

    /// <summary>
    /// Ask for FUSE_PASSTHROUGH (with max_stack_depth = 1, so that an overlay can still be
    /// mounted on top; backing files must then be on a plain file system).
    /// </summary>
    public bool Passthrough { get; init; }

    /// <summary>Pages per request (max_pages): 256 gives 1 MiB READs and writes. The kernel caps it (fs.fuse.max_pages_limit).</summary>
    public int MaxPages { get; init; } = 256;

    /// <summary>The readahead to ask for; null takes the kernel's offer. Never more than the kernel offered.</summary>
    public uint? MaxReadahead { get; init; }

    /// <summary>How many background requests (async reads, readahead) the kernel keeps outstanding.</summary>
    public ushort MaxBackground { get; init; } = 64;

    /// <summary>Reader threads on /dev/fuse; handlers run on them until they first await.</summary>
    public int Readers { get; init; } = 2;

    /// <summary>Request buffers kept for reuse beyond those in use.</summary>
    public int IdleBuffers { get; init; } = 16;

    /// <summary>The size of a request buffer: the largest write plus a page for headers.</summary>
    internal int BufferSize => (MaxPages * 4096) + 4096;
}
