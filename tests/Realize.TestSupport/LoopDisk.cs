namespace Realize.TestSupport;

/// <summary>
/// A small ext4 disk in an image file, mounted through a loop device wherever a test puts it,
/// and unmounted again: a real disk that keeps its files while not mounted. Dispose always
/// unmounts it (lazily when busy), also when the test failed.
/// </summary>
public sealed class LoopDisk : IDisposable
{
    private readonly string _image;

    /// <param name="image">The image file to create.</param>
    public LoopDisk(string image)
    {
        Root.Require();
        _image = image;
        using (var file = File.Create(image))
        {
            file.SetLength(16 << 20);
        }
        Shell.Check("mkfs.ext4", "-q", "-F", image);
    }

    /// <summary>Where it is mounted now, or null.</summary>
    public string? MountPoint { get; private set; }

    /// <summary>Mounts the disk on <paramref name="directory"/>.</summary>
    public void Mount(string directory)
    {
        Directory.CreateDirectory(directory);
        Shell.Check("mount", "-o", "loop", _image, directory);
        MountPoint = directory;
    }

    /// <summary>Unmounts the disk (its loop device goes with it).</summary>
    public void Unmount()
    {
        if (MountPoint is { } at)
        {
            Shell.Check("umount", at);
            MountPoint = null;
        }
    }

    public void Dispose()
    {
        if (MountPoint is { } at && Shell.Run("umount", [at]).ExitCode != 0)
        {
            Shell.Run("umount", ["-l", at]);
        }
        MountPoint = null;
    }
}
