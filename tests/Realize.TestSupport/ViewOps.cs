using System.Globalization;
using System.Text;
using Realize.Linux;

namespace Realize.TestSupport;

/// <summary>File content: <see cref="Unit"/> repeated <see cref="Repeat"/> times, so that a log line stays short.</summary>
public readonly record struct Content(string Unit, int Repeat = 1)
{
    public static implicit operator Content(string text) => new(text);

    public int Length => Encoding.UTF8.GetByteCount(Unit) * Repeat;

    public byte[] Bytes()
    {
        byte[] unit = Encoding.UTF8.GetBytes(Unit);
        byte[] bytes = new byte[unit.Length * Repeat];
        for (int i = 0; i < Repeat; i++)
        {
            unit.CopyTo(bytes, i * unit.Length);
        }
        return bytes;
    }

    public override string ToString() => Repeat == 1 ? Literal(Unit) : $"{Literal(Unit)}x{Repeat}";

    /// <summary>A C# expression that builds this content.</summary>
    public string ToCode() => Repeat == 1 ? Literal(Unit) : $"new Content({Literal(Unit)}, {Repeat})";

    /// <summary>A C# string literal.</summary>
    public static string Literal(string text)
    {
        var builder = new StringBuilder("\"");
        foreach (char c in text)
        {
            builder.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\t' => "\\t",
                _ when c < ' ' => $"\\u{(int)c:x4}",
                _ => c.ToString(),
            });
        }
        return builder.Append('"').ToString();
    }
}

/// <summary>An entry of a lower tree: a file with <see cref="Data"/>, or a directory when it is null.</summary>
public sealed record LowerEntry(string Path, Content? Data)
{
    public override string ToString() => Data is { } data ? $"{Path} = {data}" : Path + "/";

    public string ToCode() => Data is { } data ? $"({Content.Literal(Path)}, {data.ToCode()})" : $"({Content.Literal(Path)}, null)";
}

/// <summary>A lower directory tree, described so that it can be printed, rebuilt and shrunk.</summary>
public sealed record LowerSpec(IReadOnlyList<LowerEntry> Entries)
{
    public static LowerSpec Of(params (string Path, Content? Data)[] entries) => new(entries.Select(e => new LowerEntry(e.Path, e.Data)).ToArray());

    /// <summary>Creates the tree under <paramref name="root"/> (missing parents included).</summary>
    public void Build(string root)
    {
        foreach (var entry in Entries)
        {
            string full = System.IO.Path.Combine(root, entry.Path);
            if (entry.Data is { } data)
            {
                Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
                File.WriteAllBytes(full, data.Bytes());
            }
            else
            {
                Directory.CreateDirectory(full);
            }
        }
    }

    public override string ToString() => string.Join(", ", Entries);

    public string ToCode() => $"LowerSpec.Of({string.Join(", ", Entries.Select(e => e.ToCode()))})";
}

/// <summary>What a <see cref="ViewOp"/> does.</summary>
public enum ViewOpKind
{
    Create,
    Overwrite,
    OverwriteKeepingMTime,
    Append,
    Truncate,
    Rewrite,
    Delete,
    RenameFile,
    RenameDir,
    Mkdir,
    Rmdir,
    DeleteTree,
    Chmod,
    SetXattr,
    Link,
    Symlink,
    Scan,
    Remount,
}

/// <summary>
/// One operation on a merged view, with concrete paths relative to the view's root
/// (<c>docs/a/b</c>), so that a sequence can be printed, replayed and shrunk.
/// <see cref="Scan"/> and <see cref="Remount"/> are for the runner; <see cref="Apply"/> does the others.
/// </summary>
public sealed record ViewOp(ViewOpKind Kind, string Path, string? Target = null, Content? Data = null, long Number = 0)
{
    public static ViewOp Create(string path, Content data) => new(ViewOpKind.Create, path, Data: data);

    public static ViewOp Overwrite(string path, Content data) => new(ViewOpKind.Overwrite, path, Data: data);

    /// <summary>Overwrites the file, then sets its mtime back to the nanosecond (as <c>cp -p</c> or <c>rsync -t --inplace</c> may).</summary>
    public static ViewOp OverwriteKeepingMTime(string path, Content data) => new(ViewOpKind.OverwriteKeepingMTime, path, Data: data);

    public static ViewOp Append(string path, Content data) => new(ViewOpKind.Append, path, Data: data);

    public static ViewOp Truncate(string path, long size) => new(ViewOpKind.Truncate, path, Number: size);

    /// <summary>Writes the file's current content again (open with O_TRUNC, write).</summary>
    public static ViewOp Rewrite(string path) => new(ViewOpKind.Rewrite, path);

    public static ViewOp Delete(string path) => new(ViewOpKind.Delete, path);

    public static ViewOp RenameFile(string path, string target) => new(ViewOpKind.RenameFile, path, target);

    public static ViewOp RenameDir(string path, string target) => new(ViewOpKind.RenameDir, path, target);

    public static ViewOp Mkdir(string path) => new(ViewOpKind.Mkdir, path);

    public static ViewOp Rmdir(string path) => new(ViewOpKind.Rmdir, path);

    public static ViewOp DeleteTree(string path) => new(ViewOpKind.DeleteTree, path);

    public static ViewOp Chmod(string path, int mode) => new(ViewOpKind.Chmod, path, Number: mode);

    public static ViewOp SetXattr(string path, string name, string value) => new(ViewOpKind.SetXattr, path, name, value);

    public static ViewOp Link(string path, string target) => new(ViewOpKind.Link, path, target);

    /// <summary>A symbolic link at <paramref name="path"/> whose content is <paramref name="target"/>.</summary>
    public static ViewOp Symlink(string path, string target) => new(ViewOpKind.Symlink, path, target);

    public static ViewOp Scan() => new(ViewOpKind.Scan, "");

    public static ViewOp Remount() => new(ViewOpKind.Remount, "");

    public override string ToString() => Kind switch
    {
        ViewOpKind.Scan => "scan",
        ViewOpKind.Remount => "unmount, scan, mount",
        ViewOpKind.Create or ViewOpKind.Overwrite or ViewOpKind.OverwriteKeepingMTime or ViewOpKind.Append => $"{Name} {Path} {Data}",
        ViewOpKind.Truncate => $"truncate {Path} to {Number}",
        ViewOpKind.Chmod => $"chmod {Path} {Number.ToString("0", CultureInfo.InvariantCulture)} (0{Convert.ToString(Number, 8)})",
        ViewOpKind.SetXattr => $"setxattr {Path} {Target}={Data}",
        ViewOpKind.RenameFile or ViewOpKind.RenameDir or ViewOpKind.Link => $"{Name} {Path} -> {Target}",
        ViewOpKind.Symlink => $"symlink {Path} -> {Target} (as the link's text)",
        _ => $"{Name} {Path}",
    };

    /// <summary>The C# expression that builds this operation, for a regression test.</summary>
    public string ToCode() => Kind switch
    {
        ViewOpKind.Scan or ViewOpKind.Remount => $"ViewOp.{Kind}()",
        ViewOpKind.Create or ViewOpKind.Overwrite or ViewOpKind.OverwriteKeepingMTime or ViewOpKind.Append => $"ViewOp.{Kind}({Content.Literal(Path)}, {Data!.Value.ToCode()})",
        ViewOpKind.Truncate => $"ViewOp.Truncate({Content.Literal(Path)}, {Number})",
        ViewOpKind.Chmod => $"ViewOp.Chmod({Content.Literal(Path)}, 0b{Convert.ToString(Number, 2)})",
        ViewOpKind.SetXattr => $"ViewOp.SetXattr({Content.Literal(Path)}, {Content.Literal(Target!)}, {Content.Literal(Data!.Value.Unit)})",
        ViewOpKind.RenameFile or ViewOpKind.RenameDir or ViewOpKind.Link or ViewOpKind.Symlink => $"ViewOp.{Kind}({Content.Literal(Path)}, {Content.Literal(Target!)})",
        _ => $"ViewOp.{Kind}({Content.Literal(Path)})",
    };

    private string Name => Kind switch
    {
        ViewOpKind.RenameFile => "rename-file",
        ViewOpKind.RenameDir => "rename-dir",
        ViewOpKind.DeleteTree => "rm -r",
        ViewOpKind.OverwriteKeepingMTime => "overwrite-keeping-mtime",
        _ => Kind.ToString().ToLowerInvariant(),
    };

    /// <summary>Does this operation under <paramref name="root"/> with plain system calls; a failure throws an <see cref="IOException"/>.</summary>
    public void Apply(string root)
    {
        string path = System.IO.Path.Combine(root, Path);
        string? target = Target is null || Kind == ViewOpKind.Symlink ? Target : System.IO.Path.Combine(root, Target);
        switch (Kind)
        {
            case ViewOpKind.Create:
                Write(path, FileMode.CreateNew, Data!.Value.Bytes());
                break;
            case ViewOpKind.Overwrite:
                Write(path, FileMode.Truncate, Data!.Value.Bytes());
                break;
            case ViewOpKind.OverwriteKeepingMTime:
                var before = Stat.Lstat(path).MTime;
                Write(path, FileMode.Truncate, Data!.Value.Bytes());
                Posix.SetMTime(path, before.Seconds, before.Nanoseconds);
                break;
            case ViewOpKind.Append:
                Write(path, FileMode.Append, Data!.Value.Bytes());
                break;
            case ViewOpKind.Truncate:
                using (var stream = new FileStream(path, FileMode.Open, FileAccess.Write))
                {
                    stream.SetLength(Number);
                }
                break;
            case ViewOpKind.Rewrite:
                Write(path, FileMode.Truncate, Stat.TryLstat(path) is { Kind: FileKind.Regular } ? File.ReadAllBytes(path) : []);
                break;
            case ViewOpKind.Delete:
                Posix.Unlink(path);
                break;
            case ViewOpKind.RenameFile or ViewOpKind.RenameDir:
                Posix.Rename(path, target!);
                break;
            case ViewOpKind.Mkdir:
                Posix.Mkdir(path);
                break;
            case ViewOpKind.Rmdir:
                Posix.Rmdir(path);
                break;
            case ViewOpKind.DeleteTree:
                if (Stat.TryLstat(path) is not { Kind: FileKind.Directory })
                {
                    throw new DirectoryNotFoundException(path);
                }
                Directory.Delete(path, recursive: true);
                break;
            case ViewOpKind.Chmod:
                Posix.Chmod(path, (uint)Number);
                break;
            case ViewOpKind.SetXattr:
                Xattr.Set(path, Target!, Data!.Value.Bytes());
                break;
            case ViewOpKind.Link:
                Posix.HardLink(path, target!);
                break;
            case ViewOpKind.Symlink:
                File.CreateSymbolicLink(path, target!);
                break;
            default:
                throw new InvalidOperationException($"{Kind} is done by the runner, not by Apply");
        }
    }

    private static void Write(string path, FileMode mode, byte[] bytes)
    {
        if (mode != FileMode.CreateNew && Stat.TryLstat(path) is not { Kind: FileKind.Regular })
        {
            throw new FileNotFoundException("not a regular file", path);
        }
        using var stream = new FileStream(path, mode, FileAccess.Write);
        stream.Write(bytes);
    }
}
