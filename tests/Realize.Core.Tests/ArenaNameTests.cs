namespace Realize.Core.Tests;

public sealed class ArenaNameTests
{
    [Theory]
    [InlineData("docs")]
    [InlineData("a")]
    [InlineData("Photos-2026_v1.0")]
    [InlineData("...")]
    [InlineData(".hidden")]
    [InlineData("-")]
    [InlineData("0123456789")]
    public void Parse_AcceptsValidName(string text)
    {
        var name = ArenaName.Parse(text);

        Assert.Equal(text, name.Value);
        Assert.Equal(text, name.ToString());
    }

    [Fact]
    public void Parse_AcceptsEveryAllowedCharacter()
    {
        string all = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-";
        foreach (char c in all)
        {
            Assert.True(ArenaName.TryParse("x" + c, out _, out string? error), $"'{c}': {error}");
        }
    }

    [Fact]
    public void Parse_Accepts64Characters() => Assert.Equal(64, ArenaName.Parse(new string('a', 64)).Value.Length);

    [Fact]
    public void TryParse_Rejects65Characters()
    {
        Assert.False(ArenaName.TryParse(new string('a', 65), out _, out string? error));
        Assert.Contains("64", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void TryParse_RejectsEmpty(string? text) => Assert.False(ArenaName.TryParse(text, out _, out _));

    [Theory]
    [InlineData(".")]
    [InlineData("..")]
    public void TryParse_RejectsDotAndDotDot(string text)
    {
        Assert.False(ArenaName.TryParse(text, out _, out string? error));
        Assert.Contains("'.' or '..'", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a/b")]
    [InlineData("a b")]
    [InlineData("a\\b")]
    [InlineData("docs\n")]
    [InlineData("a:b")]
    [InlineData("a*")]
    [InlineData("a\0")]
    [InlineData("é")]
    [InlineData("ü-docs")]
    [InlineData("١٢")] // Arabic-Indic digits: digits, but not ASCII
    [InlineData("ｄｏｃｓ")] // fullwidth letters
    public void TryParse_RejectsCharacterOutsideTheAllowedSet(string text)
    {
        Assert.False(ArenaName.TryParse(text, out var name, out string? error));
        Assert.False(string.IsNullOrEmpty(error));
        Assert.Equal(default, name);
    }

    [Fact]
    public void Parse_ThrowsFormatException_QuotingTheName()
    {
        var e = Assert.Throws<FormatException>(() => ArenaName.Parse("bad name"));

        Assert.Contains("'bad name'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Equality_IsCaseSensitive()
    {
        Assert.Equal(ArenaName.Parse("docs"), ArenaName.Parse("docs"));
        Assert.NotEqual(ArenaName.Parse("Docs"), ArenaName.Parse("docs"));
    }
}
