namespace Realize.Linux;

/// <summary>Atomic, durable file replacement: temp file, fsync, rename, fsync of the directory.</summary>
public static class Durable
{
    /// <summary>Writes <paramref name="contents"/> to <paramref name="path"/> atomically with <paramref name="mode"/>.</summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> contents, UnixFileMode mode)
    {
        string directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        string temp = Path.Combine(directory, $".{Path.GetFileName(path)}.{Path.GetRandomFileName()}.tmp");
        bool created = false;
        try
        {
            using (var stream = new FileStream(temp, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = mode,
            }))
            {
                created = true;
                stream.Write(contents);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            if (created)
            {
                File.Delete(temp);
            }
            throw;
        }
        SyncDirectory(directory);
    }

    /// <summary>fsyncs a directory, making a rename or creation in it durable.</summary>
    public static void SyncDirectory(string directory)
    {
        using var handle = DirectoryHandle.Open(directory);
        bool added = false;
        handle.DangerousAddRef(ref added);
        try
        {
            if (Interop.fsync((int)handle.DangerousGetHandle()) != 0)
            {
                throw LinuxException.FromLastError("fsync", directory);
            }
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }
}
