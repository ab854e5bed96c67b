using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Realize.Fuse.Abi;
using Realize.Linux;

namespace Realize.Fuse;

public sealed partial class FuseSession
{
    // What this library asks for; only what the kernel offered is replied. Never
    // FUSE_WRITEBACK_CACHE: it rules passthrough out, and the trees served are read-only.
    private const ulong WantedFlags =
        FuseConstants.FUSE_ASYNC_READ
        | FuseConstants.FUSE_BIG_WRITES
        | FuseConstants.FUSE_DO_READDIRPLUS
        | FuseConstants.FUSE_MAX_PAGES
        | FuseConstants.FUSE_PARALLEL_DIROPS
        | FuseConstants.FUSE_INIT_EXT;

    /// <summary>Answers INIT: the version, the flags both sides want, and the sizes of requests.</summary>
    internal void Negotiate(FuseRequest request)
    {
        var input = default(fuse_init_in);
        var body = request.Body;
        body[..Math.Min(body.Length, Unsafe.SizeOf<fuse_init_in>())].CopyTo(MemoryMarshal.AsBytes(new Span<fuse_init_in>(ref input)));
        if (input.major < FuseConstants.FUSE_KERNEL_VERSION)
        {
            ReplyError(request, Errno.EPROTO);
            return;
        }
        if (input.major > FuseConstants.FUSE_KERNEL_VERSION)
        {
            // The kernel then sends INIT again with our major.
            Reply(request, new fuse_init_out { major = FuseConstants.FUSE_KERNEL_VERSION, minor = FuseConstants.FUSE_KERNEL_MINOR_VERSION });
            return;
        }
        ulong offered = input.flags;
        if ((input.flags & FuseConstants.FUSE_INIT_EXT) != 0)
        {
            offered |= (ulong)input.flags2 << 32;
        }
        ulong wanted = WantedFlags | (Options.Passthrough ? FuseConstants.FUSE_PASSTHROUGH : 0);
        ulong flags = wanted & offered;
        uint readahead = Math.Min(Options.MaxReadahead ?? input.max_readahead, input.max_readahead);
        uint maxWrite = (uint)Options.MaxPages * 4096;
        bool passthrough = (flags & FuseConstants.FUSE_PASSTHROUGH) != 0;
        var output = new fuse_init_out
        {
            major = FuseConstants.FUSE_KERNEL_VERSION,
            minor = FuseConstants.FUSE_KERNEL_MINOR_VERSION,
            max_readahead = readahead,
            flags = (uint)flags,
            flags2 = (uint)(flags >> 32),
            max_background = Options.MaxBackground,
            congestion_threshold = (ushort)(Options.MaxBackground * 3 / 4),
            max_write = maxWrite,
            time_gran = 1,
            max_pages = (ushort)Options.MaxPages,

            // 1, not 2: with 2 an overlay on top fails ("maximum fs stacking depth exceeded").
            max_stack_depth = passthrough ? 1u : 0u,
        };
        var connection = new FuseConnectionInfo(input.major, Math.Min(input.minor, FuseConstants.FUSE_KERNEL_MINOR_VERSION), offered, flags, readahead, maxWrite, Options.MaxPages);
        _connection = connection;
        FileSystem.Initialized(connection);
        Log.Negotiated(_logger, input.major, input.minor, flags, maxWrite, passthrough);
        Reply(request, in output);
        _initialized.TrySetResult(connection);
    }
}
