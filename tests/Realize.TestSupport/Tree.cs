using Realize.Core;
using Realize.Linux;
using Realize.Storage;
using Xunit;

namespace Realize.TestSupport;

/// <summary>The regular files of a directory tree, as path -> blob; and history replay.</summary>
public static class Tree
{
    /// <summary>Every regular file under <paramref name="root"/> (symlinks and others ignored), relative with '/'.</summary>
    public static SortedDictionary<string, BlobHash> Files(string root)
    {
        var files = new SortedDictionary<string, BlobHash>(StringComparer.Ordinal);
        if (!Directory.Exists(root))
        {
            return files;
        }
        foreach (string path in Directory.EnumerateFileSystemEntries(root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
        {
            if (Stat.TryLstat(path) is { Kind: FileKind.Regular })
            {
                files[Path.GetRelativePath(root, path).Replace('\\', '/')] = ContentHasher.HashFile(path);
            }
        }
        return files;
    }

    /// <summary>Applies <paramref name="history"/> of <paramref name="arena"/> to a copy of <paramref name="start"/>.</summary>
    public static SortedDictionary<string, BlobHash> Replay(IDictionary<string, BlobHash> start, IEnumerable<Notification> history, ArenaName arena)
    {
        var files = new SortedDictionary<string, BlobHash>(start, StringComparer.Ordinal);
        foreach (var n in history.Where(n => n.Arena == arena))
        {
            switch (n.Type)
            {
                case NotificationType.Added or NotificationType.Updated:
                    files[n.Path.Value] = n.Blob!.Value;
                    break;
                case NotificationType.Removed:
                    Assert.True(files.Remove(n.Path.Value), $"history removes {n.Path} which it never had");
                    break;
            }
        }
        return files;
    }
}
