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
