using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;

namespace Realize.TestSupport;

/// <summary>
/// Runs code as root without the capabilities that bypass file permissions, so that a
/// directory with mode 000 really cannot be read: capabilities belong to a thread, and the
/// code runs on a thread of its own that drops them and then ends.
/// </summary>
public static partial class Capabilities
{
    private const uint Version3 = 0x20080522;
    private const int DacOverride = 1;
    private const int DacReadSearch = 2;

    /// <summary>Runs <paramref name="action"/> on a new thread without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH; rethrows what it threw.</summary>
    public static void WithoutFileAccessOverride(Action action)
    {
        Root.Require();
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                DropEffective((1u << DacOverride) | (1u << DacReadSearch));
                action();
            }
            catch (Exception e)
            {
                failure = ExceptionDispatchInfo.Capture(e);
            }
        });
        thread.Start();
        thread.Join();
        failure?.Throw();
    }

    private static unsafe void DropEffective(uint mask)
    {
        var header = new Header { Version = Version3, Pid = 0 };
        var data = stackalloc Data[2];
        if (capget(ref header, data) != 0)
        {
            throw new IOException($"capget: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        }
        data[0].Effective &= ~mask;
        if (capset(ref header, data) != 0)
        {
            throw new IOException($"capset: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Header
    {
        public uint Version;
        public int Pid;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Data
    {
        public uint Effective;
        public uint Permitted;
        public uint Inheritable;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial int capget(ref Header header, Data* data);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial int capset(ref Header header, Data* data);
}
