using Realize.Core;
using Realize.TestSupport;

namespace Realize.Storage.Tests;

/// <summary>SQLite's failures leave the Storage layer as <see cref="StorageException"/>s, which the other layers catch.</summary>
public sealed class StorageExceptionTests : IDisposable
{
    private static readonly ArenaName s_docs = ArenaName.Parse("docs");

    private readonly TempDir _dir = new("storage-errors");

    public void Dispose() => _dir.Dispose();

    private static PendingNotification Added(string path) =>
        new(NotificationType.Added, RelPath.Parse(path), ContentHasher.HashBytes([1]), 1, new FileTime(1_700_000_000, 0), null);

    /// <summary>Writes zeros to <paramref name="path"/> until the disk refuses more.</summary>
    private static void FillUp(string path)
    {
        using var filler = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.None);
        byte[] chunk = new byte[4096];
        try
        {
            while (true)
            {
                filler.Write(chunk);
            }
        }
        catch (IOException)
        {
            // The disk is full, as wanted.
        }
    }

    [Fact]
    public void Commit_OnAFullDisk_ThrowsStorageException_SayingTheDiskIsFull()
    {
        using var disk = new ScratchMount(_dir.Combine("disk"), "tmpfs", "size=1m");
        string path = Path.Combine(disk.MountPoint, "index.db");
        using var db = IndexDb.Open(path);
        FillUp(Path.Combine(disk.MountPoint, "filler"));
        var many = Enumerable.Range(0, 2000).Select(i => Added($"{new string('d', 200)}/{i}.txt")).ToArray();

        var e = Assert.Throws<StorageException>(() => db.Commit(s_docs, many, []));

        Assert.Equal(path, e.DatabasePath);
        Assert.Equal(13, e.ErrorCode); // SQLITE_FULL
        Assert.StartsWith($"{path}: ", e.Message, StringComparison.Ordinal);
        Assert.EndsWith("its disk is full: free some space and try again", e.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<RealizeException>(e);
    }

    [Fact]
    public void AFullDisk_LeavesTheDatabaseAsItWas_AndUsableOnceThereIsRoom()
    {
        using var disk = new ScratchMount(_dir.Combine("disk"), "tmpfs", "size=1m");
        string path = Path.Combine(disk.MountPoint, "index.db");
        string filler = Path.Combine(disk.MountPoint, "filler");
        using var db = IndexDb.Open(path);
        db.Commit(s_docs, [Added("before.txt")], []);
        FillUp(filler);
        Assert.Throws<StorageException>(() => db.Commit(s_docs, Enumerable.Range(0, 2000).Select(i => Added($"{new string('d', 200)}/{i}.txt")).ToArray(), []));

        File.Delete(filler);
        db.Commit(s_docs, [Added("after.txt")], []);

        Assert.Equal(["before.txt", "after.txt"], db.ReadHistory(s_docs).Select(n => n.Path.Value));
    }
}
