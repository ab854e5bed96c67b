using Realize.Linux;

namespace Realize.Fuse;

/// <summary>
/// A file system served over FUSE. Each handler gets a typed request and returns a typed reply,
/// or throws <see cref="FuseErrnoException"/> to answer with an errno; a handler not overridden
/// answers ENOSYS (after which the kernel stops sending most such requests). Handlers run
/// concurrently, on the session's reader threads until they first await, so they must be thread
/// safe and should not block long before awaiting. The cancellation token fires when the kernel
/// interrupts the request (the caller got a signal) or the session stops.
/// </summary>
public abstract class FuseFileSystem
{
    /// <summary>Called once INIT was negotiated, before any other request.</summary>
    public virtual void Initialized(FuseConnectionInfo connection)
    {
    }

    /// <summary>DESTROY: the connection is being torn down (sent for some mounts only).</summary>
    public virtual void Destroy()
    {
    }

    /// <summary>LOOKUP of a name in a directory; null answers ENOENT without an exception.</summary>
    public virtual ValueTask<FuseEntry?> LookupAsync(FuseLookupRequest request, CancellationToken cancellationToken) => throw NotImplemented();

    /// <summary>
    /// FORGET and BATCH_FORGET: the kernel dropped <paramref name="lookups"/> of its references
    /// to <paramref name="nodeId"/> (each entry reply and each READDIRPLUS entry with a node id
    /// counted one). No reply; called on a reader thread, so it must be quick.
    /// </summary>
    public virtual void Forget(ulong nodeId, ulong lookups)
    {
    }

    /// <summary>GETATTR.</summary>
    public virtual ValueTask<FuseAttrReply> GetAttrAsync(FuseGetAttrRequest request, CancellationToken cancellationToken) => throw NotImplemented();

    /// <summary>READLINK: the target of a symlink, UTF-8 without NUL.</summary>
    public virtual ValueTask<ReadOnlyMemory<byte>> ReadLinkAsync(FuseRequestHeader request, CancellationToken cancellationToken) => throw NotImplemented();

    /// <summary>OPEN of a file. In a read-only session, opens for writing or truncation are refused (EROFS) before this is called.</summary>
    public virtual ValueTask<FuseOpenReply> OpenAsync(FuseOpenRequest request, CancellationToken cancellationToken) => throw NotImplemented();

    /// <summary>
    /// READ: fill <paramref name="buffer"/> (exactly <see cref="FuseReadRequest.Size"/> bytes,
    /// a slice of the reply that is written as is) and return how many bytes were filled; fewer
    /// than asked means end of file.
    /// </summary>
    public virtual ValueTask<int> ReadAsync(FuseReadRequest request, Memory<byte> buffer, CancellationToken cancellationToken) => throw NotImplemented();

    /// <summary>FLUSH (on each close of a descriptor).</summary>
    public virtual ValueTask FlushAsync(FuseFlushRequest request, CancellationToken cancellationToken) => throw NotImplemented();

    /// <summary>RELEASE: the last close of an open handle.</summary>
    public virtual ValueTask ReleaseAsync(FuseReleaseRequest request, CancellationToken cancellationToken) => throw NotImplemented();

    /// <summary>OPENDIR.</summary>
    public virtual ValueTask<FuseOpenReply> OpenDirAsync(FuseOpenRequest request, CancellationToken cancellationToken) => throw NotImplemented();

    /// <summary>READDIR: add entries from <see cref="FuseReadDirRequest.Offset"/> until <paramref name="writer"/> is full or the directory ends.</summary>
    public virtual ValueTask ReadDirAsync(FuseReadDirRequest request, FuseDirWriter writer, CancellationToken cancellationToken) => throw NotImplemented();

    /// <summary>READDIRPLUS: like <see cref="ReadDirAsync"/>, each entry with its attributes.</summary>
    public virtual ValueTask ReadDirPlusAsync(FuseReadDirRequest request, FuseDirPlusWriter writer, CancellationToken cancellationToken) => throw NotImplemented();

    /// <summary>RELEASEDIR.</summary>
    public virtual ValueTask ReleaseDirAsync(FuseReleaseRequest request, CancellationToken cancellationToken) => throw NotImplemented();

    /// <summary>STATFS.</summary>
    public virtual ValueTask<FuseStatFs> StatFsAsync(FuseRequestHeader request, CancellationToken cancellationToken) => throw NotImplemented();

    /// <summary>
    /// GETXATTR: the value, or null for ENODATA without an exception (overlayfs on top asks for
    /// its trusted.overlay.* names at every lookup and needs ENODATA, not an error). The session
    /// answers size probes and ERANGE itself.
    /// </summary>
    public virtual ValueTask<ReadOnlyMemory<byte>?> GetXattrAsync(FuseGetXattrRequest request, CancellationToken cancellationToken) => throw NotImplemented();

    /// <summary>LISTXATTR: the names, each followed by a NUL; empty for none.</summary>
    public virtual ValueTask<ReadOnlyMemory<byte>> ListXattrAsync(FuseRequestHeader request, CancellationToken cancellationToken) => throw NotImplemented();

    /// <summary>ACCESS (only without default_permissions); complete to grant, throw EACCES to refuse.</summary>
    public virtual ValueTask AccessAsync(FuseAccessRequest request, CancellationToken cancellationToken) => throw NotImplemented();

    private static FuseErrnoException NotImplemented() => new(Errno.ENOSYS);
}

/// <summary>What INIT negotiated with the kernel.</summary>
public sealed record FuseConnectionInfo(uint Major, uint Minor, ulong KernelFlags, ulong Flags, uint MaxReadahead, uint MaxWrite, int MaxPages)
{
    /// <summary>True when FUSE_PASSTHROUGH was offered and accepted: opens may reply <see cref="FuseOpenFlags.Passthrough"/>.</summary>
    public bool Passthrough => (Flags & Abi.FuseConstants.FUSE_PASSTHROUGH) != 0;

    /// <summary>True when the kernel sends READDIRPLUS instead of READDIR.</summary>
    public bool ReadDirPlus => (Flags & Abi.FuseConstants.FUSE_DO_READDIRPLUS) != 0;
}
