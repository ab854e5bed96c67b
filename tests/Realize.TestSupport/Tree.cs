using Realize.Core;
using Realize.Linux;
using Realize.Real;
using Realize.Storage;
using Xunit;

namespace Realize.TestSupport;

/// <summary>The regular files of a directory tree, as path -> blob; and history replay, lenient or strict.</summary>
public static class Tree
{
    /// <summary>Every regular file under <paramref name="root"/> (symlinks and others ignored, and a plain arena's marker), relative with '/'.</summary>
    public static SortedDictionary<string, BlobHash> Files(string root)
    {
        var files = new SortedDictionary<string, BlobHash>(StringComparer.Ordinal);
        if (!Directory.Exists(root))
        {
            return files;
        }
        foreach (string path in Directory.EnumerateFileSystemEntries(root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
        {
            string relative = Path.GetRelativePath(root, path).Replace('\\', '/');
            if (Stat.TryLstat(path) is { Kind: FileKind.Regular } && relative != ArenaMarker.FileName)
            {
                files[relative] = ContentHasher.HashFile(path);
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

    /// <summary>
    /// Applies <paramref name="history"/> of <paramref name="arena"/> to a copy of
    /// <paramref name="start"/>, checking each entry against the tree so far: <c>Added</c> needs
    /// the path absent, <c>Updated</c> and <c>Removed</c> need it present with their
    /// <c>old_blob</c> as its blob. A duplicate or a lost entry breaks one of these. Each
    /// violation is added to <paramref name="problems"/>, and the entry applied anyway.
    /// </summary>
    public static SortedDictionary<string, BlobHash> ReplayStrictly(IDictionary<string, BlobHash> start, IEnumerable<Notification> history, ArenaName arena, List<string> problems)
    {
        var files = new SortedDictionary<string, BlobHash>(start, StringComparer.Ordinal);
        foreach (var n in history.Where(n => n.Arena == arena))
        {
            bool present = files.TryGetValue(n.Path.Value, out var current);
            string where = $"{arena}#{n.Index} {n.Type} {n.Path}";
            switch (n.Type)
            {
                case NotificationType.Added when present:
                    problems.Add($"{where}: the path is already there (blob {Short(current)})");
                    break;
                case NotificationType.Updated or NotificationType.Removed when !present:
                    problems.Add($"{where}: the path is not there");
                    break;
                case NotificationType.Updated or NotificationType.Removed when n.OldBlob != current:
                    problems.Add($"{where}: old_blob {Short(n.OldBlob)}, but the path has {Short(current)}");
                    break;
            }
            if (n.Type == NotificationType.Removed)
            {
                files.Remove(n.Path.Value);
            }
            else
            {
                files[n.Path.Value] = n.Blob!.Value;
            }
        }
        return files;
    }

    private static string Short(BlobHash? blob) => blob is { } b ? b.Hex[..8] : "none";
}
