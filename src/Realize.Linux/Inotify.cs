using System.Buffers.Binary;

namespace Realize.Linux;

/// <summary>inotify event bits (<c>linux/inotify.h</c>), under .NET names.</summary>
[Flags]
#pragma warning disable CA1028, CA1711 // the kernel's bit values; "Flags" is not a suffix here
public enum WatchEvents : uint
#pragma warning restore CA1028, CA1711
{
    None = 0,
    Modify = Interop.IN_MODIFY,
    Attrib = Interop.IN_ATTRIB,
    CloseWrite = Interop.IN_CLOSE_WRITE,
    MovedFrom = Interop.IN_MOVED_FROM,
    MovedTo = Interop.IN_MOVED_TO,
    Create = Interop.IN_CREATE,
    Delete = Interop.IN_DELETE,
    DeleteSelf = Interop.IN_DELETE_SELF,
    MoveSelf = Interop.IN_MOVE_SELF,
    Unmount = Interop.IN_UNMOUNT,
    Overflow = Interop.IN_Q_OVERFLOW,
    Ignored = Interop.IN_IGNORED,
    OnlyDirectory = Interop.IN_ONLYDIR,
    DontFollow = Interop.IN_DONT_FOLLOW,
    ExcludeUnlinked = Interop.IN_EXCL_UNLINK,
    IsDirectory = Interop.IN_ISDIR,
}

/// <summary>One inotify event; <see cref="Name"/> is the entry's name (UTF-8 bytes) for events on a directory's entries.</summary>
public readonly record struct InotifyEvent(int Watch, WatchEvents Events, uint Cookie, byte[]? Name);

/// <summary>
/// An inotify instance, read with <c>poll</c> so that <see cref="Wake"/> (an eventfd) can
/// interrupt a blocked <see cref="Read"/> from another thread.
/// </summary>
public sealed class Inotify : IDisposable
{
    private readonly SafeFd _inotify;
    private readonly SafeFd _wake;
    private readonly byte[] _buffer = new byte[256 * 1024];

    private Inotify(SafeFd inotify, SafeFd wake)
    {
        _inotify = inotify;
        _wake = wake;
    }

    /// <summary>Creates an inotify instance.</summary>
    public static Inotify Create()
    {
        int fd = Interop.inotify_init1(Interop.IN_CLOEXEC | Interop.IN_NONBLOCK);
        if (fd < 0)
        {
            throw LinuxException.FromLastError("inotify_init1", null);
        }
        var inotify = new SafeFd(fd);
        int wake = Interop.eventfd(0, Interop.EFD_CLOEXEC | Interop.EFD_NONBLOCK);
        if (wake < 0)
        {
            inotify.Dispose();
            throw LinuxException.FromLastError("eventfd", null);
        }
        return new Inotify(inotify, new SafeFd(wake));
    }

    /// <summary>Watches <paramref name="path"/>; returns the watch descriptor (the same one for the same inode).</summary>
    /// <exception cref="LinuxException">ENOSPC when <c>fs.inotify.max_user_watches</c> is reached; ENOENT/ENOTDIR when the path is gone.</exception>
    public int AddWatch(string path, WatchEvents events)
    {
        int wd = Interop.inotify_add_watch(_inotify.Fd, path, (uint)events);
        return wd >= 0 ? wd : throw LinuxException.FromLastError("inotify_add_watch", path);
    }

    /// <summary>Stops a watch; no error when the kernel already dropped it.</summary>
    public void RemoveWatch(int watch) => _ = Interop.inotify_rm_watch(_inotify.Fd, watch);

    /// <summary>
    /// Waits up to <paramref name="timeoutMs"/> (-1: forever) for events and returns those
    /// available; empty on timeout or when woken by <see cref="Wake"/>.
    /// </summary>
    public unsafe List<InotifyEvent> Read(int timeoutMs)
    {
        var events = new List<InotifyEvent>();
        var fds = stackalloc Interop.pollfd[2];
        fds[0] = new Interop.pollfd { fd = _inotify.Fd, events = Interop.POLLIN };
        fds[1] = new Interop.pollfd { fd = _wake.Fd, events = Interop.POLLIN };
        int ready = Interop.poll(fds, 2, timeoutMs);
        if (ready < 0)
        {
            var error = LinuxException.FromLastError("poll", null);
            return error.Errno == Interop.EINTR ? events : throw error;
        }
        if ((fds[1].revents & Interop.POLLIN) != 0)
        {
            byte* drain = stackalloc byte[8];
            _ = Interop.read(_wake.Fd, drain, 8);
        }
        if ((fds[0].revents & Interop.POLLIN) == 0)
        {
            return events;
        }
        nint n;
        fixed (byte* p = _buffer)
        {
            n = Interop.read(_inotify.Fd, p, (nuint)_buffer.Length);
        }
        if (n < 0)
        {
            var error = LinuxException.FromLastError("read inotify", null);
            return error.Errno is Interop.EAGAIN or Interop.EINTR ? events : throw error;
        }
        int offset = 0;
        while (offset < n)
        {
            // struct inotify_event { int wd; uint32_t mask; uint32_t cookie; uint32_t len; char name[]; }
            var header = _buffer.AsSpan(offset, 16);
            int wd = BinaryPrimitives.ReadInt32LittleEndian(header);
            uint mask = BinaryPrimitives.ReadUInt32LittleEndian(header[4..]);
            uint cookie = BinaryPrimitives.ReadUInt32LittleEndian(header[8..]);
            int length = (int)BinaryPrimitives.ReadUInt32LittleEndian(header[12..]);
            byte[]? name = null;
            if (length > 0)
            {
                var raw = _buffer.AsSpan(offset + 16, length);
                int end = raw.IndexOf((byte)0);
                name = (end < 0 ? raw : raw[..end]).ToArray();
            }
            events.Add(new InotifyEvent(wd, (WatchEvents)mask, cookie, name));
            offset += 16 + length;
        }
        return events;
    }

    /// <summary>Makes a blocked or the next <see cref="Read"/> return at once.</summary>
    public unsafe void Wake()
    {
        bool added = false;
        try
        {
            _wake.DangerousAddRef(ref added);
            ulong one = 1;
            _ = Interop.write(_wake.Fd, (byte*)&one, 8);
        }
        catch (ObjectDisposedException)
        {
            // Already closed: nothing is waiting.
        }
        finally
        {
            if (added)
            {
                _wake.DangerousRelease();
            }
        }
    }

    public void Dispose()
    {
        _inotify.Dispose();
        _wake.Dispose();
    }
}
