namespace Realize.Core.Tests;

public sealed class StoreConfigTests
{
    private static ArenaConfig Arena(string name, string? path = null) => new(ArenaName.Parse(name), path);

    private static void AssertSame(StoreConfig expected, StoreConfig actual)
    {
        Assert.Equal(expected.Mount, actual.Mount);
        Assert.Equal(expected.Lower, actual.Lower);
        Assert.Equal(expected.Arenas, actual.Arenas);
    }

    [Fact]
    public void ToToml_ThenParse_RoundTripsMountLowerAndArenas()
    {
        var config = new StoreConfig
        {
            Mount = "/mnt/shared",
            Lower = "/srv/others",
            Arenas = [Arena("docs"), Arena("photos", "/srv/photos"), Arena("a.b-c_d")],
        };

        var parsed = StoreConfig.Parse(config.ToToml());

        AssertSame(config, parsed);
    }

    [Fact]
    public void ToToml_ThenParse_RoundTripsAnEmptyConfig()
    {
        var parsed = StoreConfig.Parse(new StoreConfig().ToToml());

        Assert.Null(parsed.Mount);
        Assert.Null(parsed.Lower);
        Assert.Empty(parsed.Arenas);
    }

    [Theory]
    [InlineData("/srv/with \"quotes\"/x")]
    [InlineData("/srv/back\\slash\\")]
    [InlineData("/srv/\\\"mixed\"\\")]
    [InlineData("/srv/tab\there")]
    [InlineData("/srv/new\nline")]
    [InlineData("/srv/cr\rx")]
    [InlineData("/srv/bell\u0007del\u007f")]
    [InlineData("/srv/données/日本語/😀")]
    [InlineData("/srv/'single' #hash [bracket] = equals")]
    [InlineData("/srv/${HOME}/%s")]
    public void ToToml_ThenParse_RoundTripsOddCharactersInPaths(string path)
    {
        var config = new StoreConfig
        {
            Mount = path + "/mnt",
            Lower = path,
            Arenas = [Arena("plain", path + "/arena")],
        };

        string toml = config.ToToml();
        var parsed = StoreConfig.Parse(toml);

        AssertSame(config, parsed);
    }

    [Fact]
    public void ToToml_ThenParse_KeepsArenaOrder()
    {
        var config = new StoreConfig { Arenas = [Arena("zeta"), Arena("alpha"), Arena("mid", "/m"), Arena("0")] };

        var parsed = StoreConfig.Parse(config.ToToml());

        Assert.Equal(["zeta", "alpha", "mid", "0"], parsed.Arenas.Select(a => a.Name.Value));
    }

    [Fact]
    public void Parse_ReadsHandWrittenToml()
    {
        const string toml = """
            # comment
            mount = "/mnt/shared"
            lower = '/srv/literal\no-escape'

            [arenas.docs]

            [arenas.photos]
            path = "/srv/photos"
            """;

        var config = StoreConfig.Parse(toml);

        Assert.Equal("/mnt/shared", config.Mount);
        Assert.Equal("/srv/literal\\no-escape", config.Lower);
        Assert.Equal([Arena("docs"), Arena("photos", "/srv/photos")], config.Arenas);
    }

    [Theory]
    [InlineData("mount = ")]
    [InlineData("mount = \"/unterminated")]
    [InlineData("[arenas.docs")]
    [InlineData("= 1")]
    public void Parse_RejectsInvalidToml_WithOneLineFormatException(string toml)
    {
        var e = Assert.Throws<FormatException>(() => StoreConfig.Parse(toml));

        Assert.StartsWith("realize.toml is not valid TOML", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Theory]
    [InlineData("bad name")]
    [InlineData("..")]
    [InlineData("a/b")]
    [InlineData("é")]
    public void Parse_RejectsBadArenaName_NamingIt(string name)
    {
        string toml = $"[arenas.\"{name}\"]\n";

        var e = Assert.Throws<FormatException>(() => StoreConfig.Parse(toml));

        Assert.Contains($"'{name}'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_RejectsArenaNameLongerThan64()
    {
        var e = Assert.Throws<FormatException>(() => StoreConfig.Parse($"[arenas.{new string('a', 65)}]\n"));

        Assert.Contains("64", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("mount = \"relative/dir\"", "'mount'")]
    [InlineData("lower = \"lower\"", "'lower'")]
    [InlineData("mount = \"\"", "'mount'")]
    [InlineData("lower = \"~/x\"", "'lower'")]
    [InlineData("mount = 5", "'mount'")]
    [InlineData("mount = [\"/a\"]", "'mount'")]
    [InlineData("[arenas.docs]\npath = \"docs\"", "'arenas.docs.path'")]
    [InlineData("[arenas.docs]\npath = true", "'arenas.docs.path'")]
    public void Parse_RejectsRelativeOrNonStringPath_NamingTheKey(string toml, string key)
    {
        var e = Assert.Throws<FormatException>(() => StoreConfig.Parse(toml));

        Assert.Contains(key, e.Message, StringComparison.Ordinal);
        Assert.Contains("absolute path", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("arenas = 5")]
    [InlineData("arenas = \"docs\"")]
    [InlineData("arenas = { docs = 1 }")]
    public void Parse_RejectsArenasThatAreNotTables(string toml) =>
        Assert.Throws<FormatException>(() => StoreConfig.Parse(toml));

    [Fact]
    public void FindArena_FindsByExactName()
    {
        var config = new StoreConfig { Arenas = [Arena("docs"), Arena("photos", "/p")] };

        Assert.Equal(Arena("photos", "/p"), config.FindArena(ArenaName.Parse("photos")));
        Assert.Null(config.FindArena(ArenaName.Parse("Docs")));
        Assert.Null(config.FindArena(ArenaName.Parse("music")));
    }
}
