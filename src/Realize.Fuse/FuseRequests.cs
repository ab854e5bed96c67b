using System.Text;

namespace Realize.Fuse;

/// <summary>What every request carries (<c>struct fuse_in_header</c>): its id, the node it is about, and who asked.</summary>
public readonly record struct FuseRequestHeader(ulong Unique, ulong NodeId, uint Uid, uint Gid, uint Pid);

/// <summary>LOOKUP: the entry <see cref="Name"/> (UTF-8, no NUL) in directory <see cref="Parent"/>.</summary>
public readonly record struct FuseLookupRequest(FuseRequestHeader Header, ReadOnlyMemory<byte> Name)
{
    public ulong Parent => Header.NodeId;

    /// <summary>The name decoded (allocates: prefer <see cref="Name"/> on hot paths).</summary>
    public string NameString => Encoding.UTF8.GetString(Name.Span);
}

/// <summary>GETATTR; <see cref="FileHandle"/> is set when the kernel asks through an open file (fstat).</summary>
public readonly record struct FuseGetAttrRequest(FuseRequestHeader Header, ulong? FileHandle)
{
    public ulong NodeId => Header.NodeId;
}

/// <summary>OPEN or OPENDIR, with the <c>open(2)</c> flags.</summary>
public readonly record struct FuseOpenRequest(FuseRequestHeader Header, int Flags)
{
    public ulong NodeId => Header.NodeId;
}

/// <summary>READ of up to <see cref="Size"/> bytes at <see cref="Offset"/>.</summary>
public readonly record struct FuseReadRequest(FuseRequestHeader Header, ulong FileHandle, long Offset, int Size, int Flags)
{
    public ulong NodeId => Header.NodeId;
}

/// <summary>RELEASE or RELEASEDIR: the last close of an open handle. Comes also for opens whose reply failed later in the kernel.</summary>
public readonly record struct FuseReleaseRequest(FuseRequestHeader Header, ulong FileHandle, int Flags, uint ReleaseFlags)
{
    public ulong NodeId => Header.NodeId;
}

/// <summary>READDIR or READDIRPLUS from <see cref="Offset"/> (0, or a cookie the handler gave an entry), at most <see cref="Size"/> bytes.</summary>
public readonly record struct FuseReadDirRequest(FuseRequestHeader Header, ulong FileHandle, long Offset, int Size)
{
    public ulong NodeId => Header.NodeId;
}

/// <summary>GETXATTR of <see cref="Name"/> (UTF-8, no NUL).</summary>
public readonly record struct FuseGetXattrRequest(FuseRequestHeader Header, ReadOnlyMemory<byte> Name)
{
    public ulong NodeId => Header.NodeId;

    public string NameString => Encoding.UTF8.GetString(Name.Span);
}

/// <summary>ACCESS with the <c>access(2)</c> mask (R_OK 4, W_OK 2, X_OK 1; 0 = existence).</summary>
public readonly record struct FuseAccessRequest(FuseRequestHeader Header, int Mask)
{
    public ulong NodeId => Header.NodeId;
}

/// <summary>FLUSH: a close of a descriptor of the open handle.</summary>
public readonly record struct FuseFlushRequest(FuseRequestHeader Header, ulong FileHandle, ulong LockOwner)
{
    public ulong NodeId => Header.NodeId;
}
