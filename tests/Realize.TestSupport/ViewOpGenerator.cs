using System.Globalization;
using Realize.Core;
using Realize.Linux;

namespace Realize.TestSupport;

/// <summary>Which kinds of operation a <see cref="ViewOpGenerator"/> may draw, beyond files and directories inside the arenas.</summary>
public sealed record ViewOpMix
{
    /// <summary>Hard links (overlay reports a write to a hard-linked file under the name it first looked it up by).</summary>
    public bool HardLinks { get; init; } = true;

    /// <summary><see cref="ViewOp.Scan"/> and <see cref="ViewOp.Remount"/>, for a runner that scans itself.</summary>
    public bool ScansAndRemounts { get; init; } = true;

    /// <summary>
    /// Arena roots deleted, moved away, made again, and things moved into or out of the arenas.
    /// Off for a plain-directory arena, whose root is the configured directory itself.
    /// </summary>
    public bool ArenaRootsChange { get; init; } = true;

    /// <summary>Same-size rewrites whose mtime is set back (as <c>cp -p</c> may do), which only the ctime reveals.</summary>
    public bool MTimeSetBack { get; init; } = true;
}

/// <summary>
/// Draws random operations whose targets come from what a tree (a merged view, or the parent
/// of plain-directory arenas) shows now, each arena a top-level directory of it. Names come
/// from a small pool shared by files and directories, so that names collide: a file replaces a
/// deleted directory, a rename lands on an existing file, and so on. Everything is drawn from
/// the <see cref="Random"/> given, so that a seed gives the same sequence again.
/// </summary>
public sealed class ViewOpGenerator
{
    // Two odd ones: a newline, and a name long enough that a moved directory's absolute
    // redirect can exceed overlay's redirect_max (256): rename then fails with EXDEV.
    private static readonly string[] s_names = ["a", "b", "c.txt", "d", "e f", "ü", "new\nline", new string('l', 100)];
    private static readonly string[] s_pool = ["", "x", "same\n", "hello\n", "remote content\n"];
    private static readonly int[] s_modes = [0x1A4, 0x180, 0x1ED, 0x100, 0x1C0, 0x16D, 0x1A0];

    private readonly Random _random;
    private readonly string[] _arenas;
    private readonly int _count;
    private readonly ViewOpMix _mix;
    private int _fresh;

    /// <param name="random">Where every choice comes from.</param>
    /// <param name="arenas">The arenas: top-level directories of the tree.</param>
    /// <param name="most">The longest sequence; its length is drawn between a third of it and it.</param>
    /// <param name="mix">What may be drawn.</param>
    public ViewOpGenerator(Random random, string[] arenas, int most, ViewOpMix mix)
    {
        _random = random;
        _arenas = arenas;
        _mix = mix;
        _count = random.Next(most / 3, most + 1);
    }

    /// <summary>How many operations the sequence has.</summary>
    public int Count => _count;

    /// <summary>Step <paramref name="step"/> of the sequence on the tree at <paramref name="root"/>; null once it is over.</summary>
    public ViewOp? Next(string root, int step)
    {
        if (step >= _count)
        {
            return null;
        }
        var view = ViewTree.Read(root, _arenas);
        for (int attempt = 0; attempt < 1000; attempt++)
        {
            if (TryDraw(root, view) is { } op && (_mix.ScansAndRemounts || op.Kind is not (ViewOpKind.Scan or ViewOpKind.Remount)))
            {
                return op;
            }
        }
        return _mix.ScansAndRemounts ? ViewOp.Scan()
            : throw new InvalidOperationException($"nothing to do on {root}: {string.Join(", ", view.All)}");
    }

    /// <summary>Mostly a word or one of a few common contents; now and then kilobytes.</summary>
    public static Content RandomContent(Random random) => random.Next(10) switch
    {
        < 3 => s_pool[random.Next(s_pool.Length)],
        < 8 => RandomWord(random),
        _ => new Content(RandomWord(random) + "\n", random.Next(100, 3000)),
    };

    /// <summary>
    /// A few directories and files under each arena, some nested, some directories empty; now
    /// and then an arena other than <c>docs</c> is missing, and a directory outside every arena is there.
    /// </summary>
    public static LowerSpec RandomLower(Random random, string[] arenas)
    {
        var entries = new List<LowerEntry>();
        void Fill(string dir, int depth)
        {
            entries.Add(new LowerEntry(dir, null));
            var names = s_names.OrderBy(_ => random.Next()).ToList();
            int dirs = depth >= 3 ? 0 : random.Next(0, 4 - depth);
            int files = random.Next(0, 4);
            foreach (string name in names.Take(dirs))
            {
                Fill(RelPaths.Join(dir, name), depth + 1);
            }
            foreach (string name in names.Skip(dirs).Take(files))
            {
                entries.Add(new LowerEntry(RelPaths.Join(dir, name), RandomContent(random)));
            }
        }
        foreach (string arena in arenas)
        {
            // Now and then an arena has nothing below: its root exists only once made through the view.
            if (arena == "docs" || random.Next(4) != 0)
            {
                Fill(arena, 0);
            }
        }
        if (random.Next(3) == 0)
        {
            entries.Add(new LowerEntry("other/outside", "not in any arena"));
            entries.Add(new LowerEntry("other/sub/deeper", RandomContent(random)));
        }
        return new LowerSpec(entries);
    }

    private static string RandomWord(Random random)
    {
        var chars = new char[random.Next(1, 12)];
        for (int i = 0; i < chars.Length; i++)
        {
            chars[i] = (char)('a' + random.Next(26));
        }
        return new string(chars);
    }

    private T Pick<T>(IReadOnlyList<T> items) => items[_random.Next(items.Count)];

    private bool Chance(int percent) => _random.Next(100) < percent;

    private ViewOp? TryDraw(string root, ViewTree view)
    {
        var nonRoot = view.Dirs.Where(d => d.Contains('/', StringComparison.Ordinal)).ToList();
        bool roots = _mix.ArenaRootsChange;
        int roll = _random.Next(100);
        return roll switch
        {
            < 12 when view.Dirs.Count > 0 => ViewOp.Create(NewPath(root, Pick(view.Dirs)), RandomContent(_random)),
            < 19 when view.Files.Count > 0 && _mix.MTimeSetBack && Chance(30) => OverwriteKeepingMTime(root, Pick(view.Files)),
            < 19 when view.Files.Count > 0 => ViewOp.Overwrite(Pick(view.Files), RandomContent(_random)),
            < 25 when view.Files.Count > 0 => ViewOp.Append(Pick(view.Files), RandomContent(_random)),
            < 30 when view.Files.Count > 0 => Truncate(root, Pick(view.Files)),
            < 34 when view.Files.Count > 0 => ViewOp.Rewrite(Pick(view.Files)),
            < 41 when view.Files.Count > 0 => ViewOp.Delete(Pick(view.Files)),
            < 51 when view.Files.Count > 0 => RenameFile(root, view),
            < 59 when nonRoot.Count > 0 => RenameDir(root, view, nonRoot),
            < 65 => Mkdir(root, view),
            < 68 when view.EmptyDirs.Count > 0 => ViewOp.Rmdir(Pick(view.EmptyDirs)),
            < 71 when roots && view.Dirs.Count > 0 => ViewOp.DeleteTree(nonRoot.Count > 0 && !Chance(8) ? Pick(nonRoot) : Pick(view.Dirs)),
            < 71 when !roots && nonRoot.Count > 0 => ViewOp.DeleteTree(Pick(nonRoot)),
            < 75 when view.All.Count > 0 => ViewOp.Chmod(Pick(view.All), s_modes[_random.Next(s_modes.Length)]),
            < 79 when view.All.Count > 0 => ViewOp.SetXattr(Pick(view.All), Chance(50) ? "user.realize.mark" : "user.test", Chance(50) ? "keep" : "v" + _random.Next(100)),
            < 82 when _mix.HardLinks && view.Files.Count > 0 && view.Dirs.Count > 0 => ViewOp.Link(Pick(view.Files), NewPath(root, Pick(view.Dirs))),
            // Dangling on purpose: Tree.Files follows symlinks to directories.
            < 83 when view.Dirs.Count > 0 => ViewOp.Symlink(NewPath(root, Pick(view.Dirs)), "/nowhere/" + Pick(s_names)),
            < 86 when roots => AcrossArenas(root, view, nonRoot),
            < 86 => null,
            < 97 => ViewOp.Scan(),
            _ => ViewOp.Remount(),
        };
    }

    /// <summary>A same-size rewrite whose mtime is then set back: only the ctime tells.</summary>
    private static ViewOp OverwriteKeepingMTime(string root, string file) =>
        ViewOp.OverwriteKeepingMTime(file, new Content("z", (int)Stat.Lstat(Path.Combine(root, file)).Size));

    private ViewOp Truncate(string root, string file)
    {
        long size = Stat.Lstat(Path.Combine(root, file)).Size;
        return ViewOp.Truncate(file, size == 0 || Chance(40) ? 0 : _random.NextInt64(size));
    }

    private ViewOp RenameFile(string root, ViewTree view)
    {
        string source = Pick(view.Files);
        var others = view.Files.Where(f => f != source).ToList();
        if (others.Count > 0 && Chance(35))
        {
            return ViewOp.RenameFile(source, Pick(others));
        }
        string dir = Chance(60) ? RelPaths.Parent(source) : Pick(view.Dirs);
        return ViewOp.RenameFile(source, NewPath(root, dir));
    }

    private ViewOp? RenameDir(string root, ViewTree view, List<string> nonRoot)
    {
        string source = Pick(nonRoot);
        bool Outside(string d) => !RelPaths.IsAtOrBelow(d, source);
        var empty = view.EmptyDirs.Where(Outside).ToList();
        if (empty.Count > 0 && Chance(15))
        {
            return ViewOp.RenameDir(source, Pick(empty));
        }
        var parents = view.Dirs.Where(Outside).ToList();
        if (parents.Count == 0)
        {
            return null;
        }
        string parent = Chance(50) && Outside(RelPaths.Parent(source)) ? RelPaths.Parent(source) : Pick(parents);
        return ViewOp.RenameDir(source, NewPath(root, parent));
    }

    /// <summary>Moves whole arenas, or moves things into or out of the arenas.</summary>
    private ViewOp? AcrossArenas(string root, ViewTree view, List<string> nonRoot)
    {
        string outside = "t" + _fresh++.ToString(CultureInfo.InvariantCulture);
        var roots = _arenas.Where(view.Dirs.Contains).ToList();
        var missing = _arenas.Where(a => Stat.TryLstat(Path.Combine(root, a)) is null).ToList();
        switch (_random.Next(7))
        {
            case 6 when view.OutsideFiles.Count > 0:
                return ViewOp.Delete(Pick(view.OutsideFiles));
            case 5 when missing.Count > 0 && view.Files.Count > 0:
                // A file becomes a missing arena's root: the arena is then a file, which shows nothing.
                return ViewOp.RenameFile(Pick(view.Files), Pick(missing));
            case 0 when roots.Count > 0:
                // An arena's root moves away: into another arena, or outside them all.
                string arena = Pick(roots);
                var into = view.Dirs.Where(d => !RelPaths.IsAtOrBelow(d, arena)).ToList();
                return ViewOp.RenameDir(arena, into.Count > 0 && Chance(60) ? NewPath(root, Pick(into)) : outside);
            case 1 when missing.Count > 0 && nonRoot.Count + view.OutsideDirs.Count > 0:
                // A directory becomes a missing arena's root.
                return ViewOp.RenameDir(Pick([.. nonRoot, .. view.OutsideDirs]), Pick(missing));
            case 2 when view.OutsideDirs.Count + view.OutsideFiles.Count > 0 && view.Dirs.Count > 0:
                // Something from outside every arena moves in.
                bool dir = view.OutsideFiles.Count == 0 || (view.OutsideDirs.Count > 0 && Chance(50));
                string target = NewPath(root, Pick(view.Dirs));
                return dir ? ViewOp.RenameDir(Pick(view.OutsideDirs), target) : ViewOp.RenameFile(Pick(view.OutsideFiles), target);
            case 3 when nonRoot.Count > 0:
                return ViewOp.RenameDir(Pick(nonRoot), outside);
            case 4 when view.Files.Count > 0:
                return ViewOp.RenameFile(Pick(view.Files), outside);
            default:
                return null;
        }
    }

    private ViewOp? Mkdir(string root, ViewTree view)
    {
        var missing = _arenas.Where(a => Stat.TryLstat(Path.Combine(root, a)) is null).ToList();
        if (missing.Count > 0 && (view.Dirs.Count == 0 || Chance(40)))
        {
            return ViewOp.Mkdir(Pick(missing));
        }
        return view.Dirs.Count > 0 ? ViewOp.Mkdir(NewPath(root, Pick(view.Dirs))) : null;
    }

    /// <summary>A name from the pool not yet taken in <paramref name="dir"/>, or a fresh one.</summary>
    private string NewPath(string root, string dir)
    {
        for (int attempt = 0; attempt < 8; attempt++)
        {
            string path = RelPaths.Join(dir, Pick(s_names));
            if (Stat.TryLstat(Path.Combine(root, path)) is null)
            {
                return path;
            }
        }
        return RelPaths.Join(dir, "n" + _fresh++.ToString(CultureInfo.InvariantCulture));
    }
}
