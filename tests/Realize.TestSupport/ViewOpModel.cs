using Realize.Core;

namespace Realize.TestSupport;

/// <summary>
/// What the regular files of a tree hold after a sequence of <see cref="ViewOp"/>s, worked out
/// in memory from the operations alone: the content a test expects to read back, independent
/// of the file systems and of the history under test.
/// </summary>
public sealed class ViewOpModel
{
    private readonly SortedDictionary<string, byte[]> _files = new(StringComparer.Ordinal);

    /// <summary>Starts from the files of <paramref name="tree"/> (its directories hold nothing to read).</summary>
    public ViewOpModel(LowerSpec tree)
    {
        foreach (var entry in tree.Entries)
        {
            if (entry.Data is { } data)
            {
                _files[entry.Path] = data.Bytes();
            }
        }
    }

    /// <summary>A file made outside the operations (random bytes, say, which a <see cref="Content"/> cannot hold).</summary>
    public void Add(string path, byte[] content) => _files[path] = content;

    /// <summary>Every regular file, relative to the tree's root, with its content.</summary>
    public IReadOnlyDictionary<string, byte[]> Files => _files;

    /// <summary>The files at or below <paramref name="dir"/>, relative to it.</summary>
    public SortedDictionary<string, byte[]> Under(string dir)
    {
        var below = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var (path, bytes) in _files)
        {
            if (path.StartsWith(dir + "/", StringComparison.Ordinal))
            {
                below[path[(dir.Length + 1)..]] = bytes;
            }
        }
        return below;
    }

    /// <summary>Does <paramref name="op"/> to the model, as <see cref="ViewOp.Apply"/> did it to the tree.</summary>
    /// <exception cref="NotSupportedException">For a hard link (two names of one content) and for the runner's scans and remounts.</exception>
    public void Apply(ViewOp op)
    {
        switch (op.Kind)
        {
            case ViewOpKind.Create or ViewOpKind.Overwrite or ViewOpKind.OverwriteKeepingMTime:
                _files[op.Path] = op.Data!.Value.Bytes();
                break;
            case ViewOpKind.Append:
                _files[op.Path] = [.. _files[op.Path], .. op.Data!.Value.Bytes()];
                break;
            case ViewOpKind.Truncate:
                byte[] resized = new byte[op.Number];
                _files[op.Path].AsSpan(0, (int)Math.Min(op.Number, _files[op.Path].Length)).CopyTo(resized);
                _files[op.Path] = resized;
                break;
            case ViewOpKind.Delete:
                _files.Remove(op.Path);
                break;
            case ViewOpKind.RenameFile:
                _files[op.Target!] = _files[op.Path];
                _files.Remove(op.Path);
                break;
            case ViewOpKind.RenameDir:
                // Onto a new name or an empty directory: nothing below the target to replace.
                var moved = Under(op.Path);
                foreach (string path in moved.Keys)
                {
                    _files.Remove(RelPaths.Join(op.Path, path));
                }
                foreach (var (path, bytes) in moved)
                {
                    _files[RelPaths.Join(op.Target!, path)] = bytes;
                }
                break;
            case ViewOpKind.DeleteTree:
                foreach (string path in Under(op.Path).Keys)
                {
                    _files.Remove(RelPaths.Join(op.Path, path));
                }
                break;
            case ViewOpKind.Rewrite or ViewOpKind.Mkdir or ViewOpKind.Rmdir or ViewOpKind.Chmod or ViewOpKind.SetXattr or ViewOpKind.Symlink:
                // Same content, a directory, metadata, or not a regular file.
                break;
            default:
                throw new NotSupportedException($"the model does not follow {op}");
        }
    }
}
