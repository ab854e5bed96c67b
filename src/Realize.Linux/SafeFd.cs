using System.Runtime.InteropServices;

namespace Realize.Linux;

/// <summary>A plain file descriptor, closed when released.</summary>
internal sealed class SafeFd : SafeHandle
{
    public SafeFd()
        : base(-1, ownsHandle: true)
    {
    }

    public SafeFd(int fd)
        : base(-1, ownsHandle: true) => SetHandle(fd);

    /// <summary>The descriptor; valid while this handle is not disposed.</summary>
    public int Fd => (int)handle;

    public override bool IsInvalid => handle == -1;

    protected override bool ReleaseHandle() => Interop.close((int)handle) == 0;
}
