using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using Realize.Fuse.Abi;
using Realize.Linux;

namespace Realize.Fuse;

public sealed partial class FuseSession
{
    /// <summary>
    /// FUSE_NOTIFY_INVAL_ENTRY: the kernel forgets the cached name <paramref name="name"/> in
    /// <paramref name="parent"/>, so the next access looks it up again. False when the kernel had
    /// nothing cached (ENOENT) or the connection is gone. Takes the directory's lock in the kernel:
    /// never call it from a handler of a request on that directory (it would wait for itself).
    /// </summary>
    public bool InvalidateEntry(ulong parent, string name)
    {
        int length = Encoding.UTF8.GetByteCount(name);
        if (length > 1024)
        {
            throw new ArgumentException("a name is at most 1024 bytes", nameof(name));
        }
        Span<byte> bytes = stackalloc byte[length];
        Encoding.UTF8.GetBytes(name, bytes);
        return InvalidateEntry(parent, bytes);
    }

    /// <inheritdoc cref="InvalidateEntry(ulong, string)"/>
    public bool InvalidateEntry(ulong parent, ReadOnlySpan<byte> name)
    {
        int headerSize = Unsafe.SizeOf<fuse_out_header>() + Unsafe.SizeOf<fuse_notify_inval_entry_out>();
        Span<byte> message = stackalloc byte[headerSize + name.Length + 1];
        var header = new fuse_out_header { len = (uint)message.Length, error = (int)FuseNotifyCode.FUSE_NOTIFY_INVAL_ENTRY, unique = 0 };
        var body = new fuse_notify_inval_entry_out { parent = parent, namelen = (uint)name.Length };
        MemoryMarshal.Write(message, in header);
        MemoryMarshal.Write(message[Unsafe.SizeOf<fuse_out_header>()..], in body);
        name.CopyTo(message[headerSize..]);
        message[^1] = 0;
        return Notify(message, "FUSE_NOTIFY_INVAL_ENTRY");
    }

    /// <summary>
    /// FUSE_NOTIFY_INVAL_INODE: the kernel drops the cached attributes of <paramref name="nodeId"/>
    /// and its cached pages from <paramref name="offset"/> for <paramref name="length"/> bytes
    /// (0: to the end; a negative offset keeps the pages). False when the inode was not cached.
    /// </summary>
    public bool InvalidateInode(ulong nodeId, long offset = 0, long length = 0)
    {
        Span<byte> message = stackalloc byte[Unsafe.SizeOf<fuse_out_header>() + Unsafe.SizeOf<fuse_notify_inval_inode_out>()];
        var header = new fuse_out_header { len = (uint)message.Length, error = (int)FuseNotifyCode.FUSE_NOTIFY_INVAL_INODE, unique = 0 };
        var body = new fuse_notify_inval_inode_out { ino = nodeId, off = offset, len = length };
        MemoryMarshal.Write(message, in header);
        MemoryMarshal.Write(message[Unsafe.SizeOf<fuse_out_header>()..], in body);
        return Notify(message, "FUSE_NOTIFY_INVAL_INODE");
    }

    private bool Notify(ReadOnlySpan<byte> message, string what)
    {
        int failed = RequireDevice().Write(message);
        return failed switch
        {
            0 => true,
            Errno.ENOENT or Errno.ENODEV or Errno.ENOTCONN => false,
            _ => throw new LinuxException(failed, what, null),
        };
    }
}
