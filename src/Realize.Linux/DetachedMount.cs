using System.Runtime.InteropServices;

namespace Realize.Linux;

/// <summary>
/// A mount made by <see cref="MountApi.Create"/>, not yet attached anywhere: closing it before
/// <see cref="MountApi.Attach"/> unmounts it. After attaching, closing it leaves the mount in place.
/// </summary>
public sealed class DetachedMount : SafeHandle
{
    /// <summary>For the marshaller; use <see cref="MountApi.Create"/>.</summary>
    public DetachedMount()
        : base(-1, ownsHandle: true)
    {
    }

    internal DetachedMount(int fd)
        : base(-1, ownsHandle: true) => SetHandle(fd);

    /// <inheritdoc/>
    public override bool IsInvalid => handle == -1;

    /// <summary>
    /// A path to the mount's root while this handle is open (<c>/proc/self/fd/N</c>), usable with
    /// path-based calls such as <c>statx</c> or <c>inotify_add_watch</c> before it is attached.
    /// </summary>
    public string RootPath => $"/proc/self/fd/{(int)handle}";

    internal int Fd => (int)handle;

    /// <inheritdoc/>
    protected override bool ReleaseHandle() => Interop.close((int)handle) == 0;
}
