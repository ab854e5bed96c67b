using Microsoft.Extensions.Logging;
using Realize.Fuse;

namespace Realize.Unreal;

/// <summary>
/// The Unreal mounted at a directory and served: a FUSE mount (read-only, passthrough offered)
/// with a session of <see cref="UnrealFileSystem"/>. Disposing unmounts it and waits for the
/// session to end. A mount left by a killed daemon is cleaned up before mounting again.
/// </summary>
public sealed class UnrealMount : IAsyncDisposable
{
    private static readonly TimeSpan s_initTimeout = TimeSpan.FromSeconds(30);

    private readonly FuseMount _mount;
    private readonly Task _serving;
    private readonly CancellationTokenSource _stop = new();

    private UnrealMount(FuseMount mount, UnrealFileSystem fileSystem, FuseSession session, CancellationTokenSource stop)
    {
        _mount = mount;
        FileSystem = fileSystem;
        Session = session;
        _stop = stop;
        _serving = session.RunAsync(stop.Token);
    }

    /// <summary>The mount point.</summary>
    public string Target => _mount.Target;

    public UnrealFileSystem FileSystem { get; }

    public FuseSession Session { get; }

    /// <summary>Mounts <paramref name="fileSystem"/> at <paramref name="target"/> and returns once the kernel's INIT was answered.</summary>
    public static async Task<UnrealMount> StartAsync(string target, UnrealFileSystem fileSystem, ILogger logger)
    {
        Directory.CreateDirectory(target);
        FuseMount.CleanStale(target, logger);
        var mount = FuseMount.Mount(target, new FuseMountOptions { Subtype = "realize", Source = "realize-unreal", AllowOther = true, ReadOnly = true }, logger);
        var session = new FuseSession(mount.Device, fileSystem, new FuseSessionOptions { ReadOnly = true, Passthrough = true }, logger);
        fileSystem.Attach(session);
        var unreal = new UnrealMount(mount, fileSystem, session, new CancellationTokenSource());
        try
        {
            // The kernel sends INIT as it mounts.
            await session.Initialized.WaitAsync(s_initTimeout);
            // Without it the kernel's readahead (128 KiB) caps every READ, whatever max_pages says.
            mount.SetReadahead(1 << 20);
        }
        catch
        {
            await unreal.DisposeAsync();
            throw;
        }
        return unreal;
    }

    public async ValueTask DisposeAsync()
    {
        _mount.Dispose();
        await _stop.CancelAsync();
        await _serving;
        _stop.Dispose();
        FileSystem.Dispose();
    }
}
