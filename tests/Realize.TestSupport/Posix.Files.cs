using System.Runtime.InteropServices;
using Realize.Linux;

namespace Realize.TestSupport;

/// <summary>
/// The plain system calls, without .NET's emulation on top (<c>File.Move</c> may link and
/// unlink, <c>Directory.CreateDirectory</c> creates parents): a failure is a
/// <see cref="LinuxException"/> carrying the errno, so a test can tell EXDEV from ENOENT.
/// </summary>
public static partial class Posix
{
    /// <summary>rename(2): replaces an existing file, or an empty directory, at <paramref name="created"/>.</summary>
    public static void Rename(string existing, string created) => Checked(rename(existing, created), "rename", existing + " -> " + created);

    /// <summary>link(2), like <see cref="Link"/> but failing with the errno (overlay may answer EXDEV).</summary>
    public static void HardLink(string existing, string created) => Checked(link(existing, created), "link", existing + " -> " + created);

    /// <summary>mkdir(2) with mode 0755; the parent must exist.</summary>
    public static void Mkdir(string path) => Checked(mkdir(path, 0x1ED), "mkdir", path);

    /// <summary>rmdir(2): the directory must be empty.</summary>
    public static void Rmdir(string path) => Checked(rmdir(path), "rmdir", path);

    /// <summary>unlink(2).</summary>
    public static void Unlink(string path) => Checked(unlink(path), "unlink", path);

    /// <summary>chmod(2).</summary>
    public static void Chmod(string path, uint mode) => Checked(chmod(path, mode), "chmod", path);

    /// <summary>Sets the modification time to the nanosecond (utimensat(2)), leaving the access time.</summary>
    public static unsafe void SetMTime(string path, long seconds, long nanoseconds)
    {
        const long UtimeOmit = (1L << 30) - 2;
        long* times = stackalloc long[4];
        times[0] = 0;
        times[1] = UtimeOmit;
        times[2] = seconds;
        times[3] = nanoseconds;
        Checked(utimensat(AtFdCwd, path, times, 0), "utimensat", path);
    }

    private const int AtFdCwd = -100;

    private static void Checked(int result, string call, string path)
    {
        if (result != 0)
        {
            throw new LinuxException(Marshal.GetLastPInvokeError(), call, path);
        }
    }

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int rename(string existing, string created);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int mkdir(string path, uint mode);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int rmdir(string path);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int unlink(string path);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int chmod(string path, uint mode);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int utimensat(int dirfd, string path, long* times, int flags);
}
