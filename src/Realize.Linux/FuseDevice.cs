using System.Globalization;
using System.Runtime.InteropServices;

namespace Realize.Linux;

/// <summary>What <see cref="FuseDevice.TryRead"/> found.</summary>
public enum FuseReadStatus
{
    /// <summary>A request was read.</summary>
    Request,

    /// <summary>No request is waiting (or one was withdrawn by the kernel): wait, then read again.</summary>
    Empty,

    /// <summary>The connection is gone (<c>ENODEV</c>): the file system was unmounted or aborted.</summary>
    Ended,
}

/// <summary>
/// An open <c>/dev/fuse</c>: the channel of one FUSE connection. Opened non-blocking so that
/// readers wait in <c>poll</c> beside an eventfd that <see cref="WakeAll"/> sets, which lets a
/// server stop its readers without unmounting. Reads, writes and ioctls are thread safe: the
/// kernel hands each request to one reader and takes each <c>write</c> as one whole reply.
/// </summary>
public sealed class FuseDevice : IDisposable
{
    private readonly SafeFd _fd;
    private readonly SafeFd _wake;

    private FuseDevice(SafeFd fd, SafeFd wake)
    {
        _fd = fd;
        _wake = wake;
    }

    /// <summary>The descriptor, for the <c>fd=</c> option of the mount.</summary>
    public int Fd => _fd.Fd;

    /// <summary>The descriptor as a handle.</summary>
    public SafeHandle Handle => _fd;

    /// <summary>The effective uid of this process: the default owner (user_id) of a FUSE connection.</summary>
    public static uint EffectiveUserId => Interop.geteuid();

    /// <summary>The effective gid of this process (group_id).</summary>
    public static uint EffectiveGroupId => Interop.getegid();

    /// <summary>Opens <c>/dev/fuse</c> (needs the FUSE module and, to mount it, CAP_SYS_ADMIN).</summary>
    public static FuseDevice Open()
    {
        int fd = Interop.open("/dev/fuse", Interop.O_RDWR | Interop.O_CLOEXEC | Interop.O_NONBLOCK, 0);
        if (fd < 0)
        {
            throw LinuxException.FromLastError("open", "/dev/fuse");
        }
        var device = new SafeFd(fd);
        int wake = Interop.eventfd(0, Interop.EFD_CLOEXEC | Interop.EFD_NONBLOCK);
        if (wake < 0)
        {
            var error = LinuxException.FromLastError("eventfd", null);
            device.Dispose();
            throw error;
        }
        return new FuseDevice(device, new SafeFd(wake));
    }

    /// <summary>
    /// Mounts this connection at <paramref name="target"/> with mount(2): type
    /// <c>fuse.<paramref name="subtype"/></c>, <paramref name="options"/> after the <c>fd=</c>
    /// this device supplies (such as <c>rootmode=40000,user_id=0,group_id=0,allow_other</c>).
    /// </summary>
    public void Mount(string target, string source, string subtype, string options, bool readOnly)
    {
        string data = string.Create(CultureInfo.InvariantCulture, $"fd={Fd},{options}");
        ulong flags = Interop.MS_NOSUID | Interop.MS_NODEV | (readOnly ? Interop.MS_RDONLY : 0);
        if (Interop.mount(source, target, "fuse." + subtype, flags, data) != 0)
        {
            throw LinuxException.FromLastError("mount fuse", target);
        }
    }

    /// <summary>
    /// Reads one request into <paramref name="buffer"/> without blocking. The buffer must hold
    /// the largest request (max_write plus a page of headers), else the kernel answers EINVAL.
    /// </summary>
    public unsafe FuseReadStatus TryRead(Span<byte> buffer, out int length)
    {
        fixed (byte* p = buffer)
        {
            nint n = Interop.read(_fd, p, (nuint)buffer.Length);
            if (n >= 0)
            {
                length = (int)n;
                return FuseReadStatus.Request;
            }
        }
        length = 0;
        int errno = Marshal.GetLastPInvokeError();
        return errno switch
        {
            // ENOENT: the request was interrupted before it was read; EINTR: a signal.
            Interop.EAGAIN or Interop.EINTR or Interop.ENOENT => FuseReadStatus.Empty,
            Interop.ENODEV => FuseReadStatus.Ended,
            _ => throw new LinuxException(errno, "read", "/dev/fuse"),
        };
    }

    /// <summary>Blocks until a request may be waiting; false once <see cref="WakeAll"/> was called.</summary>
    public unsafe bool WaitForRequest()
    {
        bool addedFd = false, addedWake = false;
        _fd.DangerousAddRef(ref addedFd);
        _wake.DangerousAddRef(ref addedWake);
        try
        {
            var fds = stackalloc Interop.pollfd[2];
            fds[0] = new Interop.pollfd { fd = _fd.Fd, events = Interop.POLLIN };
            fds[1] = new Interop.pollfd { fd = _wake.Fd, events = Interop.POLLIN };
            while (Interop.poll(fds, 2, -1) < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno != Interop.EINTR)
                {
                    throw new LinuxException(errno, "poll", "/dev/fuse");
                }
            }
            // A dead connection polls as POLLERR; the next read says ENODEV.
            return fds[1].revents == 0;
        }
        finally
        {
            if (addedWake)
            {
                _wake.DangerousRelease();
            }
            if (addedFd)
            {
                _fd.DangerousRelease();
            }
        }
    }

    /// <summary>Makes every <see cref="WaitForRequest"/>, current and later, return false.</summary>
    public unsafe void WakeAll()
    {
        if (_wake.IsClosed)
        {
            return;
        }
        ulong one = 1;
        try
        {
            _ = Interop.write(_wake, (byte*)&one, sizeof(ulong));
        }
        catch (ObjectDisposedException)
        {
            // Disposed meanwhile: nobody waits any more.
        }
    }

    /// <summary>
    /// Writes one reply or notification; returns 0 or the errno. ENOENT is an answer, not a
    /// failure: the request was interrupted meanwhile, or a notification found nothing cached.
    /// </summary>
    public unsafe int Write(ReadOnlySpan<byte> message)
    {
        fixed (byte* p = message)
        {
            nint n = Interop.write(_fd, p, (nuint)message.Length);
            return n >= 0 ? 0 : Marshal.GetLastPInvokeError();
        }
    }

    /// <summary>
    /// Registers <paramref name="file"/> as a passthrough backing file (FUSE_DEV_IOC_BACKING_OPEN)
    /// and returns its backing id. Needs CAP_SYS_ADMIN; the file may be closed after this returns.
    /// </summary>
    public unsafe int OpenBacking(SafeHandle file)
    {
        bool added = false;
        file.DangerousAddRef(ref added);
        try
        {
            var map = new Interop.fuse_backing_map { fd = (int)file.DangerousGetHandle() };
            int id = Interop.ioctl(_fd, Interop.FUSE_DEV_IOC_BACKING_OPEN, &map);
            return id >= 0 ? id : throw LinuxException.FromLastError("ioctl FUSE_DEV_IOC_BACKING_OPEN", null);
        }
        finally
        {
            if (added)
            {
                file.DangerousRelease();
            }
        }
    }

    /// <summary>Unregisters a backing id (FUSE_DEV_IOC_BACKING_CLOSE).</summary>
    public unsafe void CloseBacking(int backingId)
    {
        uint id = (uint)backingId;
        if (Interop.ioctl(_fd, Interop.FUSE_DEV_IOC_BACKING_CLOSE, &id) != 0)
        {
            throw LinuxException.FromLastError("ioctl FUSE_DEV_IOC_BACKING_CLOSE", null);
        }
    }

    /// <summary>True when <paramref name="path"/> is a FUSE mount whose server is gone (stat says ENOTCONN).</summary>
    /// <remarks>
    /// AT_STATX_FORCE_SYNC: a mount that cached its root's attributes (the Unreal keeps them 24 h)
    /// answers a plain stat from the cache, as if alive, long after its server died.
    /// </remarks>
    public static unsafe bool IsDisconnected(string path)
    {
        byte[] bytes = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* p = bytes)
        {
            return Interop.statx(Interop.AT_FDCWD, p, Interop.AT_SYMLINK_NOFOLLOW | Interop.AT_STATX_FORCE_SYNC, Interop.STATX_BASIC_STATS, out _) != 0
                && Marshal.GetLastPInvokeError() == Interop.ENOTCONN;
        }
    }

    /// <summary>
    /// The backing device info (bdi) name of the file system at <paramref name="path"/>,
    /// <c>major:minor</c> of its st_dev, as in <c>/sys/class/bdi</c>.
    /// </summary>
    public static unsafe string BdiName(string path)
    {
        byte[] bytes = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* p = bytes)
        {
            if (Interop.statx(Interop.AT_FDCWD, p, Interop.AT_SYMLINK_NOFOLLOW, Interop.STATX_BASIC_STATS, out var buf) != 0)
            {
                throw LinuxException.FromLastError("statx", path);
            }
            return string.Create(CultureInfo.InvariantCulture, $"{buf.stx_dev_major}:{buf.stx_dev_minor}");
        }
    }

    public void Dispose()
    {
        WakeAll();
        _fd.Dispose();
        _wake.Dispose();
    }
}
