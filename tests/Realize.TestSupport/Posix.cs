using System.Runtime.InteropServices;

namespace Realize.TestSupport;

/// <summary>Calls the tests need that .NET lacks: hard links and FIFOs.</summary>
public static partial class Posix
{
    public static void Link(string existing, string created) => Check(link(existing, created), "link", created);

    public static void Mkfifo(string path) => Check(mkfifo(path, 0x1A4), "mkfifo", path);

    private static void Check(int result, string call, string path)
    {
        if (result != 0)
        {
            throw new IOException($"{call} {path}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        }
    }

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int link(string existing, string created);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int mkfifo(string path, uint mode);
}
