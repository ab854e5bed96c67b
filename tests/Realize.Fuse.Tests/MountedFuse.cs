using Realize.Linux;
using Realize.TestSupport;

namespace Realize.Fuse.Tests;

/// <summary>A file system mounted in a temporary directory and served until disposed, which unmounts it also when the test failed.</summary>
internal sealed class MountedFuse : IDisposable
{
    private readonly TempDir _dir;
    private readonly FuseMount _mount;
    private readonly Task _serving;

    private MountedFuse(TempDir dir, FuseMount mount, FuseSession session, Task serving)
    {
        _dir = dir;
        _mount = mount;
        Session = session;
        _serving = serving;
    }

    public FuseSession Session { get; }

    public FuseMount Mount => _mount;

    public string Path => _mount.Target;

    /// <summary>The temporary directory holding the mount point, for other files of the test.</summary>
    public TempDir Dir => _dir;

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    /// <summary>Mounts and serves <paramref name="fileSystem"/>; the mount is read-only (MS_RDONLY) when the session is, unless <paramref name="writableMount"/>.</summary>
    public static MountedFuse Start(MemoryFileSystem fileSystem, FuseSessionOptions options, RecordingLoggerFactory? logs = null, bool writableMount = false)
    {
        Root.Require();
        var dir = new TempDir("fuse");
        string target = dir.Combine("mnt");
        Directory.CreateDirectory(target);
        FuseMount? mount = null;
        try
        {
            mount = FuseMount.Mount(target, new FuseMountOptions { Subtype = "realize-test", AllowOther = true, ReadOnly = options.ReadOnly && !writableMount });
            var session = new FuseSession(mount.Device, fileSystem, options, logs?.CreateLogger("fuse"));
            fileSystem.Session = session;
            var serving = session.RunAsync(CancellationToken.None);
            return new MountedFuse(dir, mount, session, serving);
        }
        catch
        {
            mount?.Dispose();
            dir.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        try
        {
            _mount.Dispose();
            // Unmounting ends the connection: the readers see ENODEV and the session completes.
            Assert.True(_serving.Wait(TimeSpan.FromSeconds(20)), "the session did not end after the unmount");
        }
        finally
        {
            if (Mounts.FindMount(_mount.Target) is not null)
            {
                Mounts.Unmount(_mount.Target, detach: true);
            }
            _dir.Dispose();
        }
    }
}
