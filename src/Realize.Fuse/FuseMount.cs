using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Realize.Linux;

namespace Realize.Fuse;

/// <summary>How <see cref="FuseMount.Mount"/> mounts.</summary>
public sealed record FuseMountOptions
{
    /// <summary>The type shows as <c>fuse.&lt;Subtype&gt;</c> in the mount table.</summary>
    public string Subtype { get; init; } = "realize";

    /// <summary>The source column of the mount table; defaults to <see cref="Subtype"/>.</summary>
    public string? Source { get; init; }

    /// <summary>allow_other: users other than the mounter (root) may access it.</summary>
    public bool AllowOther { get; init; }

    /// <summary>default_permissions: the kernel checks modes itself (no ACCESS requests).</summary>
    public bool DefaultPermissions { get; init; } = true;

    /// <summary>
    /// Mount read-only (MS_RDONLY). Wanted for a read-only tree beyond refusing writes: on a
    /// writable superblock every read marks the cached atime stale, so the next stat asks
    /// GETATTR again whatever the attribute timeout.
    /// </summary>
    public bool ReadOnly { get; init; }

    /// <summary>The uid and gid owning the connection (user_id, group_id); default the process's.</summary>
    public uint? UserId { get; init; }

    public uint? GroupId { get; init; }
}

/// <summary>
/// A FUSE file system mounted at a directory: /dev/fuse opened and mounted with mount(2).
/// Serve it with a <see cref="FuseSession"/> over <see cref="Device"/>; disposing unmounts
/// (detaching when busy) and closes the device, which ends the session's readers.
/// </summary>
public sealed class FuseMount : IDisposable
{
    private readonly ILogger _logger;
    private bool _disposed;

    private FuseMount(string target, FuseDevice device, ILogger logger)
    {
        Target = target;
        Device = device;
        _logger = logger;
    }

    /// <summary>The mount point.</summary>
    public string Target { get; }

    /// <summary>The connection's device.</summary>
    public FuseDevice Device { get; }

    /// <summary>Opens /dev/fuse and mounts it at <paramref name="target"/> (needs CAP_SYS_ADMIN).</summary>
    public static FuseMount Mount(string target, FuseMountOptions options, ILogger? logger = null)
    {
        var device = FuseDevice.Open();
        try
        {
            device.Mount(target, options.Source ?? options.Subtype, options.Subtype, MountData(options), options.ReadOnly);
        }
        catch
        {
            device.Dispose();
            throw;
        }
        return new FuseMount(target, device, logger ?? NullLogger.Instance);
    }

    /// <summary>
    /// Unmounts a FUSE mount at <paramref name="target"/> whose server died (stat gives ENOTCONN);
    /// true when it did. A live mount or a plain directory is left alone.
    /// </summary>
    public static bool CleanStale(string target, ILogger? logger = null)
    {
        if (!FuseDevice.IsDisconnected(target))
        {
            return false;
        }
        Mounts.Unmount(target, detach: true);
        Log.StaleCleaned(logger ?? NullLogger.Instance, target);
        return true;
    }

    /// <summary>
    /// Sets the kernel's readahead for this mount, which caps the size of buffered READs (INIT
    /// can only lower the kernel's 128 KiB offer). Call it once the session answered INIT
    /// (<see cref="FuseSession.Initialized"/>): the stat it needs waits for the server, and INIT
    /// would set the old value again.
    /// </summary>
    public void SetReadahead(int bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        string path = $"/sys/class/bdi/{FuseDevice.BdiName(Target)}/read_ahead_kb";
        File.WriteAllText(path, (bytes / 1024).ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>The mount(2) data string after <c>fd=</c>.</summary>
    internal static string MountData(FuseMountOptions options)
    {
        var data = new StringBuilder();
        data.Append(CultureInfo.InvariantCulture, $"rootmode=40000,user_id={options.UserId ?? FuseDevice.EffectiveUserId},group_id={options.GroupId ?? FuseDevice.EffectiveGroupId}");
        if (options.AllowOther)
        {
            data.Append(",allow_other");
        }
        if (options.DefaultPermissions)
        {
            data.Append(",default_permissions");
        }
        return data.ToString();
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        try
        {
            Mounts.Unmount(Target);
        }
        catch (LinuxException e) when (e.Errno == Errno.EBUSY)
        {
            Mounts.Unmount(Target, detach: true);
            Log.DetachedBusy(_logger, Target);
        }
        catch (LinuxException e) when (e.Errno is Errno.EINVAL or Errno.ENOENT)
        {
            // Already unmounted (by someone else, or a lazy unmount finished).
        }
        finally
        {
            Device.Dispose();
        }
    }
}
