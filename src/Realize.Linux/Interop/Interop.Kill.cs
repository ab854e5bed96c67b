using System.Runtime.InteropServices;

namespace Realize.Linux;

internal static partial class Interop
{
    internal const int SIGINT = 2;
    internal const int SIGKILL = 9;
    internal const int SIGTERM = 15;
    internal const int ESRCH = 3;

    [LibraryImport(Libc, EntryPoint = "kill", SetLastError = true)]
    internal static partial int kill(int pid, int sig);
}
