using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Realize.Bench;

/// <summary>
/// The few system calls the daemon benchmarks make themselves: files created as a C program
/// would (<c>File.WriteAllBytes</c> adds flock, ftruncate and lseek, and created files through
/// the merged view at half the rate), overwritten in place, a plain rename and unlink.
/// </summary>
internal static partial class Libc
{
    private const string Library = "libc";
    private const int O_WRONLY = 0x1;
    private const int O_CREAT = 0x40;
    private const int O_EXCL = 0x80;
    private const int O_TRUNC = 0x200;
    private const int O_CLOEXEC = 0x80000;
    private const int Mode0644 = 0x1a4;

    /// <summary>
    /// Creates a new file holding <paramref name="contents"/>: open, write, close. Returns the
    /// <see cref="Stopwatch"/> timestamp taken just before the close.
    /// </summary>
    public static long CreateFile(string path, ReadOnlySpan<byte> contents) => Write(path, contents, O_CREAT | O_EXCL);

    /// <summary>
    /// Writes <paramref name="contents"/> over an existing file: open with O_TRUNC, write,
    /// close, as an editor saving in place does. Returns the timestamp taken just before the close.
    /// </summary>
    public static long OverwriteFile(string path, ReadOnlySpan<byte> contents) => Write(path, contents, O_TRUNC);

    /// <summary>unlink(2). Returns the <see cref="Stopwatch"/> timestamp taken just before.</summary>
    public static long Unlink(string path)
    {
        long before = Stopwatch.GetTimestamp();
        if (unlink(path) != 0)
        {
            throw Error("unlink", path);
        }
        return before;
    }

    private static unsafe long Write(string path, ReadOnlySpan<byte> contents, int flags)
    {
        int fd = open(path, O_WRONLY | flags | O_CLOEXEC, Mode0644);
        if (fd < 0)
        {
            throw Error("open", path);
        }
        nint written;
        fixed (byte* bytes = contents)
        {
            written = write(fd, bytes, (nuint)contents.Length);
        }
        if (written != contents.Length)
        {
            // errno is read before close can change it.
            var error = written < 0 ? Error("write", path) : new IOException($"write {path}: {written} of {contents.Length} bytes written");
            close(fd);
            throw error;
        }
        long beforeClose = Stopwatch.GetTimestamp();
        if (close(fd) != 0)
        {
            throw Error("close", path);
        }
        return beforeClose;
    }

    /// <summary>
    /// rename(2): <c>File.Move</c> without overwrite links and unlinks instead, which inotify
    /// reports as a new file. Returns the <see cref="Stopwatch"/> timestamp taken just before.
    /// </summary>
    public static long Rename(string from, string to)
    {
        long before = Stopwatch.GetTimestamp();
        if (rename(from, to) != 0)
        {
            throw Error("rename", from);
        }
        return before;
    }

    private static IOException Error(string call, string path) =>
        new($"{call} {path}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");

    [LibraryImport(Library, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string path, int flags, int mode);

    [LibraryImport(Library, EntryPoint = "write", SetLastError = true)]
    private static unsafe partial nint write(int fd, byte* buffer, nuint count);

    [LibraryImport(Library, EntryPoint = "close", SetLastError = true)]
    private static partial int close(int fd);

    [LibraryImport(Library, EntryPoint = "unlink", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int unlink(string path);

    [LibraryImport(Library, EntryPoint = "rename", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int rename(string from, string to);
}
