using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Realize.Fuse.Abi;
using Realize.Linux;

namespace Realize.Fuse;

/// <summary>
/// The handler of each opcode: parse the input (a malformed one throws EINVAL), call the file
/// system, write the typed reply. Async methods that finish synchronously allocate nothing.
/// </summary>
internal static class FuseHandlers
{
    private const int O_ACCMODE = 3;
    private const int O_TRUNC = 0x200;

    public static ValueTask Init(FuseSession session, FuseRequest request)
    {
        session.Negotiate(request);
        return default;
    }

    public static ValueTask Destroy(FuseSession session, FuseRequest request)
    {
        session.FileSystem.Destroy();
        session.ReplyEmpty(request);
        return default;
    }

    public static async ValueTask Lookup(FuseSession session, FuseRequest request)
    {
        var name = request.Name(0);
        var entry = await session.FileSystem.LookupAsync(new FuseLookupRequest(request.PublicHeader, name), request.Cancellation);
        if (entry is { } found)
        {
            session.Reply(request, FuseSession.ToEntryOut(in found));
        }
        else
        {
            session.ReplyError(request, Errno.ENOENT);
        }
    }

    public static ValueTask Forget(FuseSession session, FuseRequest request)
    {
        var forget = request.Argument<fuse_forget_in>();
        session.FileSystem.Forget(request.Header.nodeid, forget.nlookup);
        return default;
    }

    public static ValueTask BatchForget(FuseSession session, FuseRequest request)
    {
        var batch = request.Argument<fuse_batch_forget_in>();
        var items = request.Body[Unsafe.SizeOf<fuse_batch_forget_in>()..];
        var ones = MemoryMarshal.Cast<byte, fuse_forget_one>(items);
        if ((uint)ones.Length < batch.count)
        {
            throw new FuseErrnoException(Errno.EINVAL, $"BATCH_FORGET of {batch.count} carries {ones.Length}");
        }
        foreach (var one in ones[..(int)batch.count])
        {
            session.FileSystem.Forget(one.nodeid, one.nlookup);
        }
        return default;
    }

    public static ValueTask Interrupt(FuseSession session, FuseRequest request)
    {
        var interrupt = request.Argument<fuse_interrupt_in>();
        if (!session.TryInterrupt(interrupt.unique))
        {
            // Not read yet, or already answered: EAGAIN makes the kernel send it again while the request is pending.
            session.ReplyError(request, Errno.EAGAIN);
        }
        return default;
    }

    public static async ValueTask GetAttr(FuseSession session, FuseRequest request)
    {
        var input = request.Argument<fuse_getattr_in>();
        ulong? handle = (input.getattr_flags & FuseConstants.FUSE_GETATTR_FH) != 0 ? input.fh : null;
        var reply = await session.FileSystem.GetAttrAsync(new FuseGetAttrRequest(request.PublicHeader, handle), request.Cancellation);
        FuseSession.SplitTimeout(reply.Timeout, out ulong seconds, out uint nanoseconds);
        session.Reply(request, new fuse_attr_out { attr_valid = seconds, attr_valid_nsec = nanoseconds, attr = reply.Attr.ToAbi() });
    }

    public static async ValueTask ReadLink(FuseSession session, FuseRequest request)
    {
        var target = await session.FileSystem.ReadLinkAsync(request.PublicHeader, request.Cancellation);
        session.ReplyBytes(request, target.Span);
    }

    public static async ValueTask Open(FuseSession session, FuseRequest request)
    {
        var input = request.Argument<fuse_open_in>();
        if (session.Options.ReadOnly && ((input.flags & O_ACCMODE) != 0 || (input.flags & O_TRUNC) != 0))
        {
            session.ReplyError(request, Errno.EROFS);
            return;
        }
        var reply = await session.FileSystem.OpenAsync(new FuseOpenRequest(request.PublicHeader, (int)input.flags), request.Cancellation);
        session.Reply(request, new fuse_open_out { fh = reply.FileHandle, open_flags = (uint)reply.Flags, backing_id = reply.BackingId });
    }

    public static async ValueTask OpenDir(FuseSession session, FuseRequest request)
    {
        var input = request.Argument<fuse_open_in>();
        var reply = await session.FileSystem.OpenDirAsync(new FuseOpenRequest(request.PublicHeader, (int)input.flags), request.Cancellation);
        session.Reply(request, new fuse_open_out { fh = reply.FileHandle, open_flags = (uint)reply.Flags, backing_id = reply.BackingId });
    }

    public static async ValueTask Read(FuseSession session, FuseRequest request)
    {
        var input = request.Argument<fuse_read_in>();
        var buffer = request.ReplyArea((int)Math.Min(input.size, int.MaxValue));
        var read = new FuseReadRequest(request.PublicHeader, input.fh, (long)input.offset, buffer.Length, (int)input.flags);
        int filled = await session.FileSystem.ReadAsync(read, buffer, request.Cancellation);
        if ((uint)filled > (uint)buffer.Length)
        {
            throw new InvalidOperationException($"ReadAsync returned {filled} for a buffer of {buffer.Length}");
        }
        session.ReplyFilled(request, filled);
    }

    public static async ValueTask Flush(FuseSession session, FuseRequest request)
    {
        var input = request.Argument<fuse_flush_in>();
        await session.FileSystem.FlushAsync(new FuseFlushRequest(request.PublicHeader, input.fh, input.lock_owner), request.Cancellation);
        session.ReplyEmpty(request);
    }

    public static async ValueTask Release(FuseSession session, FuseRequest request)
    {
        var input = request.Argument<fuse_release_in>();
        await session.FileSystem.ReleaseAsync(new FuseReleaseRequest(request.PublicHeader, input.fh, (int)input.flags, input.release_flags), request.Cancellation);
        session.ReplyEmpty(request);
    }

    public static async ValueTask ReleaseDir(FuseSession session, FuseRequest request)
    {
        var input = request.Argument<fuse_release_in>();
        await session.FileSystem.ReleaseDirAsync(new FuseReleaseRequest(request.PublicHeader, input.fh, (int)input.flags, input.release_flags), request.Cancellation);
        session.ReplyEmpty(request);
    }

    public static ValueTask ReadDir(FuseSession session, FuseRequest request) =>
        ReadDirectory(session, request, request.DirWriter, (fs, read, writer, cancellation) => fs.ReadDirAsync(read, (FuseDirWriter)writer, cancellation));

    public static ValueTask ReadDirPlus(FuseSession session, FuseRequest request) =>
        ReadDirectory(session, request, request.DirPlusWriter, (fs, read, writer, cancellation) => fs.ReadDirPlusAsync(read, (FuseDirPlusWriter)writer, cancellation));

    public static async ValueTask StatFs(FuseSession session, FuseRequest request)
    {
        var stat = await session.FileSystem.StatFsAsync(request.PublicHeader, request.Cancellation);
        session.Reply(request, new fuse_kstatfs
        {
            blocks = stat.Blocks,
            bfree = stat.BlocksFree,
            bavail = stat.BlocksAvailable,
            files = stat.Files,
            ffree = stat.FilesFree,
            bsize = stat.BlockSize,
            namelen = stat.NameLength,
            frsize = stat.FragmentSize,
        });
    }

    public static async ValueTask GetXattr(FuseSession session, FuseRequest request)
    {
        var input = request.Argument<fuse_getxattr_in>();
        var name = request.Name(Unsafe.SizeOf<fuse_getxattr_in>());
        var value = await session.FileSystem.GetXattrAsync(new FuseGetXattrRequest(request.PublicHeader, name), request.Cancellation);
        if (value is not { } found)
        {
            session.ReplyError(request, Errno.ENODATA);
            return;
        }
        ReplySized(session, request, input.size, found.Span);
    }

    public static async ValueTask ListXattr(FuseSession session, FuseRequest request)
    {
        var input = request.Argument<fuse_getxattr_in>();
        var names = await session.FileSystem.ListXattrAsync(request.PublicHeader, request.Cancellation);
        ReplySized(session, request, input.size, names.Span);
    }

    public static async ValueTask Access(FuseSession session, FuseRequest request)
    {
        var input = request.Argument<fuse_access_in>();
        await session.FileSystem.AccessAsync(new FuseAccessRequest(request.PublicHeader, (int)input.mask), request.Cancellation);
        session.ReplyEmpty(request);
    }

    private static async ValueTask ReadDirectory(FuseSession session, FuseRequest request, FuseDirBuffer writer, Func<FuseFileSystem, FuseReadDirRequest, FuseDirBuffer, CancellationToken, ValueTask> fill)
    {
        var input = request.Argument<fuse_read_in>();
        int size = request.ReplyArea((int)Math.Min(input.size, int.MaxValue)).Length;
        writer.Reset(request.Buffer, FuseRequest.OutHeaderSize, size);
        await fill(session.FileSystem, new FuseReadDirRequest(request.PublicHeader, input.fh, (long)input.offset, size), writer, request.Cancellation);
        session.ReplyFilled(request, writer.Length);
    }

    // The xattr convention: size 0 asks only for the length; a value longer than size is ERANGE.
    private static void ReplySized(FuseSession session, FuseRequest request, uint size, ReadOnlySpan<byte> value)
    {
        if (size == 0)
        {
            session.Reply(request, new fuse_getxattr_out { size = (uint)value.Length });
        }
        else if ((uint)value.Length > size)
        {
            session.ReplyError(request, Errno.ERANGE);
        }
        else
        {
            session.ReplyBytes(request, value);
        }
    }
}
