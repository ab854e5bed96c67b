using System.Globalization;
using System.Text;

namespace Realize.Linux;

/// <summary>
/// An exclusive <c>flock</c> on a file that holds the owner's PID. The kernel releases it when
/// the process dies, so a crashed daemon never leaves a stale lock. Raw file descriptors:
/// .NET's FileStream takes flocks of its own, which would conflict.
/// </summary>
public sealed class ProcessLock : IDisposable
{
    private const int O_RDWR = 2;
    private const int O_CREAT = 0x40;
    private readonly SafeFd _fd;

    private ProcessLock(SafeFd fd) => _fd = fd;

    /// <summary>Takes the lock, or returns null and the PID of the process holding it (0 if unknown).</summary>
    public static unsafe ProcessLock? TryAcquire(string path, out int holder)
    {
        int fd = Interop.open(path, O_RDWR | O_CREAT | Interop.O_CLOEXEC | Interop.O_NOFOLLOW, Convert.ToInt32("600", 8));
        if (fd < 0)
        {
            throw LinuxException.FromLastError("open", path);
        }
        if (Interop.flock(fd, Interop.LOCK_EX | Interop.LOCK_NB) != 0)
        {
            var error = LinuxException.FromLastError("flock", path);
            byte[] buffer = new byte[32];
            nint n;
            fixed (byte* p = buffer)
            {
                n = Interop.read(fd, p, (nuint)buffer.Length);
            }
            _ = Interop.close(fd);
            if (error.Errno != Interop.EWOULDBLOCK)
            {
                throw error;
            }
            holder = n > 0 && int.TryParse(Encoding.ASCII.GetString(buffer, 0, (int)n).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int pid) ? pid : 0;
            return null;
        }
        byte[] text = Encoding.ASCII.GetBytes(Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n");
        fixed (byte* p = text)
        {
            if (Interop.ftruncate(fd, 0) != 0 || Interop.pwrite(fd, p, (nuint)text.Length, 0) != text.Length)
            {
                var error = LinuxException.FromLastError("write", path);
                _ = Interop.close(fd);
                throw error;
            }
        }
        holder = Environment.ProcessId;
        return new ProcessLock(new SafeFd(fd));
    }

    public void Dispose() => _fd.Dispose();
}
