namespace Realize.TestSupport;

/// <summary>A temporary directory on the disk (not tmpfs: overlay's upper dir needs trusted.* xattrs), removed on dispose.</summary>
public sealed class TempDir : IDisposable
{
    public TempDir(string label = "test")
    {
        Path = Directory.CreateTempSubdirectory($"realize-{label}-").FullName;
    }

    public string Path { get; }

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Left behind for inspection when something still holds it (a mount that failed to go).
        }
    }
}
