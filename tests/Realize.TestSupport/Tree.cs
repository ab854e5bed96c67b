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

    /// <summary>
    /// Where two trees of path → blob differ, a line a path, in path order
    /// (<c>"a/b": the merged view has 1a2b3c4d, the replayed history nothing</c>); none when they are equal.
    /// </summary>
    public static IEnumerable<string> Differences(IReadOnlyDictionary<string, BlobHash> left, IReadOnlyDictionary<string, BlobHash> right, string leftName, string rightName, string prefix = "")
    {
        foreach (string path in left.Keys.Union(right.Keys).Order(StringComparer.Ordinal))
        {
            bool inLeft = left.TryGetValue(path, out var l);
            bool inRight = right.TryGetValue(path, out var r);
            if (inLeft != inRight || l != r)
            {
                yield return $"{prefix}{Content.Literal(path)}: {leftName} has {(inLeft ? Short(l) : "nothing")}, {rightName} {(inRight ? Short(r) : "nothing")}";
            }
        }
    }

    /// <summary>Why the indexes of <paramref name="history"/> (one arena's) are not 1..n; null when they are.</summary>
    public static string? IndexGap(IEnumerable<Notification> history)
    {
        var indexes = history.Select(n => n.Index).ToList();
        return indexes.SequenceEqual(Enumerable.Range(1, indexes.Count).Select(i => (long)i)) ? null : $"history indexes are not 1..n: {string.Join(",", indexes)}";
    }

    private static string Short(BlobHash? blob) => blob is { } b ? b.Hex[..8] : "none";
}
