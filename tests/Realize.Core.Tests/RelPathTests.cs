using System.Text;

namespace Realize.Core.Tests;

public sealed class RelPathTests
{
    private static string? ErrorOf(string? text)
    {
        Assert.False(RelPath.TryParse(text, out _, out string? error), $"'{text}' was accepted");
        return error;
    }

    [Theory]
    [InlineData("a")]
    [InlineData("a.txt")]
    [InlineData("dir/sub/file.txt")]
    [InlineData(".hidden/..rc/...")]
    [InlineData("with space/and  two")]
    [InlineData("line\nbreak/tab\there")]
    [InlineData("données/日本語/😀.txt")]
    [InlineData("back\\slash:colon,comma")]
    public void Parse_AcceptsValidPath_AndKeepsItUnchanged(string text)
    {
        var path = RelPath.Parse(text);

        Assert.Equal(text, path.Value);
        Assert.Equal(text, path.ToString());
    }

    [Fact]
    public void TryParse_RejectsNull() => Assert.Contains("empty", ErrorOf(null), StringComparison.Ordinal);

    [Fact]
    public void TryParse_RejectsEmpty() => Assert.Contains("empty", ErrorOf(""), StringComparison.Ordinal);

    [Theory]
    [InlineData("/a")]
    [InlineData("/")]
    [InlineData("/etc/passwd")]
    public void TryParse_RejectsAbsolutePath(string text) => Assert.Contains("absolute", ErrorOf(text), StringComparison.Ordinal);

    [Theory]
    [InlineData("..")]
    [InlineData("../a")]
    [InlineData("a/../b")]
    [InlineData("a/..")]
    public void TryParse_RejectsDotDotSegment(string text) => Assert.Contains("'..'", ErrorOf(text), StringComparison.Ordinal);

    [Theory]
    [InlineData(".")]
    [InlineData("./a")]
    [InlineData("a/./b")]
    [InlineData("a/.")]
    public void TryParse_RejectsDotSegment(string text) => Assert.Contains("'.'", ErrorOf(text), StringComparison.Ordinal);

    [Theory]
    [InlineData("a//b")]
    [InlineData("a/")]
    [InlineData("a/b/")]
    public void TryParse_RejectsEmptySegment(string text) => Assert.Contains("empty segment", ErrorOf(text), StringComparison.Ordinal);

    [Theory]
    [InlineData("a\0b")]
    [InlineData("\0")]
    [InlineData("dir/file\0")]
    public void TryParse_RejectsNul(string text) => Assert.Contains("NUL", ErrorOf(text), StringComparison.Ordinal);

    [Fact]
    public void TryParse_AcceptsSegmentOf255Bytes()
    {
        string ascii = new('x', 255);
        string twoByte = new string('é', 127) + "x"; // 127 * 2 + 1 = 255 bytes

        Assert.True(RelPath.TryParse("dir/" + ascii, out _, out _));
        Assert.True(RelPath.TryParse(twoByte + "/file", out _, out _));
    }

    [Fact]
    public void TryParse_RejectsSegmentOver255Bytes_CountingAscii()
    {
        Assert.Contains("255 bytes", ErrorOf("dir/" + new string('x', 256)), StringComparison.Ordinal);
    }

    [Fact]
    public void TryParse_RejectsSegmentOver255Bytes_CountingUtf8BytesNotChars()
    {
        // 128 characters, but 256 bytes in UTF-8.
        string segment = new('é', 128);
        Assert.Equal(256, CountUtf8Bytes(segment));

        Assert.Contains("255 bytes", ErrorOf("dir/" + segment), StringComparison.Ordinal);
    }

    [Fact]
    public void TryParse_RejectsSegmentOver255Bytes_WithFourByteCharacters()
    {
        // 64 emoji: 128 UTF-16 chars, 256 UTF-8 bytes.
        string segment = string.Concat(Enumerable.Repeat("😀", 64));
        Assert.Equal(256, CountUtf8Bytes(segment));

        Assert.NotNull(ErrorOf(segment));
    }

    [Fact]
    public void TryParse_AcceptsWholePathOf4096Bytes()
    {
        string path = PathOfBytes(4096, 'a');

        Assert.True(RelPath.TryParse(path, out var parsed, out string? error), error);
        Assert.Equal(path, parsed.Value);
    }

    [Fact]
    public void TryParse_RejectsWholePathOver4096Bytes()
    {
        Assert.Contains("4096 bytes", ErrorOf(PathOfBytes(4097, 'a')), StringComparison.Ordinal);
    }

    [Fact]
    public void TryParse_RejectsWholePathOver4096Bytes_CountingUtf8BytesNotChars()
    {
        // 21 segments of 100 two-byte characters: 2,120 chars but 4,220 bytes.
        string path = string.Join('/', Enumerable.Repeat(new string('é', 100), 21));
        Assert.True(path.Length < 4096);
        Assert.True(CountUtf8Bytes(path) > 4096);

        Assert.Contains("4096 bytes", ErrorOf(path), StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ThrowsFormatException_NamingTheReason()
    {
        var e = Assert.Throws<FormatException>(() => RelPath.Parse("a/../b"));

        Assert.Contains("'..'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Equality_IsOrdinal()
    {
        Assert.Equal(RelPath.Parse("a/b"), RelPath.Parse("a/b"));
        Assert.NotEqual(RelPath.Parse("a/B"), RelPath.Parse("a/b"));
    }

    /// <summary>Segments of 'fill' joined by '/', exactly <paramref name="bytes"/> long (all ASCII).</summary>
    private static string PathOfBytes(int bytes, char fill)
    {
        var text = new StringBuilder();
        while (text.Length < bytes)
        {
            if (text.Length > 0)
            {
                text.Append('/');
            }
            text.Append(fill, Math.Min(200, bytes - text.Length));
        }
        string path = text.ToString();
        Assert.Equal(bytes, path.Length);
        Assert.DoesNotContain("//", path, StringComparison.Ordinal);
        Assert.False(path.EndsWith('/'));
        return path;
    }

    [Theory]
    [InlineData("a", "b", "a/b")]
    [InlineData("a/b", "c.txt", "a/b/c.txt")]
    [InlineData("a", "b/c", "a/b/c")]
    public void Join_PutsTheChildInsideThePath(string parent, string child, string joined)
    {
        Assert.Equal(RelPath.Parse(joined), RelPath.Parse(parent).Join(child));
        Assert.Equal(RelPath.Parse(joined), RelPath.Parse(parent).Join(RelPath.Parse(child)));
        Assert.Equal(joined, RelPaths.Join(parent, child));
    }

    [Theory]
    [InlineData("")]
    [InlineData("/b")]
    [InlineData("..")]
    [InlineData("b//c")]
    public void Join_RejectsAChildThatIsNotARelativePath(string child)
    {
        var e = Assert.Throws<FormatException>(() => RelPath.Parse("a").Join(child));

        Assert.Contains("below 'a'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Join_RejectsAResultOver4096Bytes()
    {
        var parent = RelPath.Parse(string.Join('/', Enumerable.Repeat(new string('p', 200), 20)));

        Assert.Throws<FormatException>(() => parent.Join(new string('c', 200)));
    }

    [Fact]
    public void Join_WithTheRootOnEitherSide_IsTheOtherSide()
    {
        Assert.Equal("b/c", RelPaths.Join(RelPaths.Root, "b/c"));
        Assert.Equal("/mnt/disk", RelPaths.Join("/mnt/disk", RelPaths.Root));
        Assert.Equal("/mnt/disk/b", RelPaths.Join("/mnt/disk", "b"));
    }

    [Theory]
    [InlineData("a/b/c.txt", "a/b", "c.txt")]
    [InlineData("a/b", "a", "b")]
    public void ParentAndName_SplitAtTheLastSlash(string path, string parent, string name)
    {
        Assert.Equal(RelPath.Parse(parent), RelPath.Parse(path).Parent);
        Assert.Equal(name, RelPath.Parse(path).Name);
        Assert.Equal(parent, RelPaths.Parent(path));
        Assert.Equal(name, RelPaths.Name(path));
    }

    [Fact]
    public void Parent_OfATopLevelName_IsTheRoot()
    {
        Assert.Null(RelPath.Parse("a.txt").Parent);
        Assert.Equal(RelPaths.Root, RelPaths.Parent("a.txt"));
        Assert.Equal("a.txt", RelPath.Parse("a.txt").Name);
    }

    [Theory]
    [InlineData("a/b", "a/b", true, false)]
    [InlineData("a/b/c", "a/b", true, true)]
    [InlineData("a/b.txt", "a/b", false, false)]
    [InlineData("a/bc", "a/b", false, false)]
    [InlineData("a", "a/b", false, false)]
    [InlineData("b/a", "a", false, false)]
    public void IsAtOrBelow_AndIsBelow_CompareWholeSegments(string path, string root, bool atOrBelow, bool below)
    {
        Assert.Equal(atOrBelow, RelPath.Parse(path).IsAtOrBelow(RelPath.Parse(root)));
        Assert.Equal(below, RelPath.Parse(path).IsBelow(RelPath.Parse(root)));
        Assert.Equal(atOrBelow, RelPaths.IsAtOrBelow(path, root));
        Assert.Equal(below, RelPaths.IsBelow(path, root));
    }

    [Fact]
    public void EveryPath_IsBelowTheRoot_AndTheRootIsAtOrBelowItselfOnly()
    {
        Assert.True(RelPaths.IsBelow("a", RelPaths.Root));
        Assert.True(RelPaths.IsAtOrBelow(RelPaths.Root, RelPaths.Root));
        Assert.False(RelPaths.IsBelow(RelPaths.Root, RelPaths.Root));
        Assert.False(RelPaths.IsAtOrBelow(RelPaths.Root, "a"));
    }

    [Fact]
    public void IsAtOrBelowAny_AndIsBelowAny_AskEveryRoot()
    {
        RelPath[] roots = [RelPath.Parse("x"), RelPath.Parse("a/b")];

        Assert.True(RelPath.Parse("a/b").IsAtOrBelowAny(roots));
        Assert.False(RelPath.Parse("a/b").IsBelowAny(roots));
        Assert.True(RelPath.Parse("x/y").IsBelowAny(roots));
        Assert.False(RelPath.Parse("a/b.txt").IsAtOrBelowAny(roots));
        Assert.False(RelPath.Parse("a").IsAtOrBelowAny([]));
    }

    /// <summary>
    /// Against a model that compares segment lists, over every pair of paths drawn from names
    /// chosen to look alike as text (<c>a</c>, <c>a.txt</c>, <c>ab</c>): at or below, below,
    /// any of a list or of a set, and join then parent and name.
    /// </summary>
    [Fact]
    public void StringOperations_AgreeWithSegmentLists_ForPathsThatLookAlike()
    {
        string[] names = ["a", "b", "a.txt", "ab", "a0"];
        var paths = new List<string> { RelPaths.Root };
        var level = new List<string> { RelPaths.Root };
        for (int depth = 0; depth < 3; depth++)
        {
            level = level.SelectMany(p => names.Select(n => RelPaths.Join(p, n))).ToList();
            paths.AddRange(level);
        }
        string[] Segments(string p) => p.Length == 0 ? [] : p.Split('/');
        bool ModelAtOrBelow(string p, string r) => Segments(r).Length <= Segments(p).Length && Segments(p).Take(Segments(r).Length).SequenceEqual(Segments(r));
        var random = new Random(9);
        foreach (string path in paths)
        {
            foreach (string root in paths)
            {
                Assert.True(ModelAtOrBelow(path, root) == RelPaths.IsAtOrBelow(path, root), $"IsAtOrBelow('{path}', '{root}')");
                Assert.True((ModelAtOrBelow(path, root) && path != root) == RelPaths.IsBelow(path, root), $"IsBelow('{path}', '{root}')");
            }
            foreach (string name in names)
            {
                Assert.Equal(path, RelPaths.Parent(RelPaths.Join(path, name)));
                Assert.Equal(name, RelPaths.Name(RelPaths.Join(path, name)));
            }
            var roots = paths.Where(_ => random.Next(8) == 0).ToList();
            bool expected = roots.Any(r => ModelAtOrBelow(path, r));
            Assert.True(expected == RelPaths.IsAtOrBelowAny(path, roots), $"IsAtOrBelowAny('{path}') over a list");
            Assert.True(expected == RelPaths.IsAtOrBelowAny(path, roots.ToHashSet(StringComparer.Ordinal)), $"IsAtOrBelowAny('{path}') over a set");
            Assert.True(roots.Any(r => ModelAtOrBelow(path, r) && path != r) == RelPaths.IsBelowAny(path, roots), $"IsBelowAny('{path}')");
        }
        Assert.True(paths.Count > 100, $"only {paths.Count} paths drawn");
    }

    /// <summary>UTF-8 length counted by hand from the code points, not with Encoding.</summary>
    private static int CountUtf8Bytes(string text)
    {
        int bytes = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            bytes += rune.Value switch
            {
                < 0x80 => 1,
                < 0x800 => 2,
                < 0x10000 => 3,
                _ => 4,
            };
        }
        return bytes;
    }
}
