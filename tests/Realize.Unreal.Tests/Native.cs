using System.Runtime.InteropServices;

namespace Realize.Unreal.Tests;

/// <summary>System calls whose errno the tests check (.NET turns most into exceptions without it).</summary>
internal static unsafe partial class Native
{
    public const int O_RDONLY = 0, O_WRONLY = 1, O_CREAT = 0x40;

    /// <summary>0 when <c>open</c> succeeds (the file is closed again), else its errno.</summary>
    public static int OpenErrno(string path, int flags)
    {
        int fd = open(path, flags, 0x1A4);
        if (fd < 0)
        {
            return Marshal.GetLastPInvokeError();
        }
        close(fd);
        return 0;
    }

    /// <summary>pread on an open file: the bytes read, or the errno.</summary>
    public static (int Errno, int Read) Pread(Microsoft.Win32.SafeHandles.SafeFileHandle file, Span<byte> buffer, long offset)
    {
        nint n;
        fixed (byte* p = buffer)
        {
            n = pread(file.DangerousGetHandle().ToInt32(), p, (nuint)buffer.Length, offset);
        }
        return n < 0 ? (Marshal.GetLastPInvokeError(), 0) : (0, (int)n);
    }

    /// <summary>getxattr: the value's length, or minus the errno.</summary>
    public static long GetXattr(string path, string name)
    {
        byte* value = stackalloc byte[256];
        nint n = getxattr(path, name, value, 256);
        return n < 0 ? -Marshal.GetLastPInvokeError() : n;
    }

    /// <summary>listxattr: the list's length, or minus the errno.</summary>
    public static long ListXattr(string path)
    {
        byte* list = stackalloc byte[1024];
        nint n = listxattr(path, list, 1024);
        return n < 0 ? -Marshal.GetLastPInvokeError() : n;
    }

    /// <summary>lseek(fd, 0, SEEK_SET), as rewinddir does: 0, or the errno.</summary>
    public static int Rewind(SafeHandle file) =>
        lseek(file.DangerousGetHandle().ToInt32(), 0, 0) < 0 ? Marshal.GetLastPInvokeError() : 0;

    [LibraryImport("libc", SetLastError = true)]
    private static partial long lseek(int fd, long offset, int whence);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string path, int flags, int mode);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint pread(int fd, byte* buffer, nuint count, long offset);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint getxattr(string path, string name, byte* value, nuint size);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint listxattr(string path, byte* list, nuint size);
}
