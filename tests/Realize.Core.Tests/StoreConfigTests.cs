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

        Assert.Matches(@"^realize\.toml: line 1, column \d+: not valid TOML: ", e.Message);
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

    [Fact]
    public void Parse_NamesTheLine_OfAnInvalidSection()
    {
        AssertRejected("listen = \"0.0.0.0:7800\"\n\n[arenas.docs]\n\n[arenas.\"bad name!\"]\n", "line 5:", "bad name!");
    }

    [Fact]
    public void Parse_NamesTheLine_OfATomlSyntaxError()
    {
        AssertRejected("[arenas.docs]\npath = \"/srv/docs\"\nthis is not toml\n", "line 3, column", "not valid TOML");
    }

    private static readonly PeerId s_nas = PeerId.FromSubjectPublicKeyInfo([1]);
    private static readonly PeerId s_laptop = PeerId.FromSubjectPublicKeyInfo([2]);

    /// <summary>Parse fails with a one-line <see cref="FormatException"/> that contains every one of <paramref name="parts"/>.</summary>
    private static string AssertRejected(string toml, params string[] parts)
    {
        var e = Assert.Throws<FormatException>(() => StoreConfig.Parse(toml));
        Assert.DoesNotContain('\n', e.Message);
        Assert.StartsWith("realize.toml: ", e.Message, StringComparison.Ordinal);
        foreach (string part in parts)
        {
            Assert.Contains(part, e.Message, StringComparison.Ordinal);
        }
        return e.Message;
    }

    /// <summary>A TOML document declaring peer 'nas', then <paramref name="rest"/>.</summary>
    private static string WithNas(string rest) => $"[peers.nas]\nid = \"{s_nas}\"\n\n{rest}";

    [Fact]
    public void ToToml_ThenParse_RoundTripsListenPeersAndArenaPeers()
    {
        var config = new StoreConfig
        {
            Mount = "/mnt/shared",
            Listen = "0.0.0.0:7800",
            Arenas =
            [
                new ArenaConfig(ArenaName.Parse("docs"), SharedWith: ["nas"]),
                new ArenaConfig(ArenaName.Parse("photos"), "/srv/photos", ["laptop", "nas"]),
                new ArenaConfig(ArenaName.Parse("music")),
                new ArenaConfig(ArenaName.Parse("private"), SharedWith: []),
            ],
            Peers = [new PeerConfig("nas", s_nas, "nas.local:7800"), new PeerConfig("laptop", s_laptop)],
        };

        var parsed = StoreConfig.Parse(config.ToToml());

        Assert.Equal("/mnt/shared", parsed.Mount);
        Assert.Equal("0.0.0.0:7800", parsed.Listen);
        Assert.Equal(config.Peers, parsed.Peers);
        Assert.Equal(config.Arenas.Select(a => (a.Name, a.PlainPath)), parsed.Arenas.Select(a => (a.Name, a.PlainPath)));
        Assert.Equal(["nas"], parsed.Arenas[0].SharedWith!);
        Assert.Equal(["laptop", "nas"], parsed.Arenas[1].SharedWith!);
        Assert.Null(parsed.Arenas[2].SharedWith);
        Assert.NotNull(parsed.Arenas[3].SharedWith);
        Assert.Empty(parsed.Arenas[3].SharedWith!);
    }

    [Fact]
    public void ToToml_ThenParse_RoundTripsABlindPeerWithoutListen()
    {
        var config = new StoreConfig { Peers = [new PeerConfig("laptop", s_laptop)] };

        string toml = config.ToToml();
        var parsed = StoreConfig.Parse(toml);

        Assert.Null(parsed.Listen);
        Assert.Equal([new PeerConfig("laptop", s_laptop)], parsed.Peers);
        Assert.DoesNotContain("address", toml, StringComparison.Ordinal);
        Assert.DoesNotContain("listen", toml, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[::1]:7800")]
    [InlineData("host.example:1")]
    [InlineData("192.168.1.10:65535")]
    [InlineData("we\"ird\\host:80")]
    public void ToToml_ThenParse_RoundTripsAddresses(string address)
    {
        var config = new StoreConfig { Listen = address, Peers = [new PeerConfig("nas", s_nas, address)] };

        var parsed = StoreConfig.Parse(config.ToToml());

        Assert.Equal(address, parsed.Listen);
        Assert.Equal(address, Assert.Single(parsed.Peers).Address);
    }

    [Fact]
    public void Parse_ReadsHandWrittenPeers_WithTheIdInAnyCaseAndWithoutDashes()
    {
        string typed = s_laptop.ToString().Replace("-", "", StringComparison.Ordinal).ToLowerInvariant();
        string toml = $"""
            listen = "[::]:7800"

            [arenas.docs]
            peers = ["laptop"]

            [peers.nas]
            id = "{s_nas}"
            address = "nas.local:7800"

            [peers.laptop]
            id = "{typed}"
            """;

        var config = StoreConfig.Parse(toml);

        Assert.Equal("[::]:7800", config.Listen);
        Assert.Equal([new PeerConfig("nas", s_nas, "nas.local:7800"), new PeerConfig("laptop", s_laptop)], config.Peers);
        Assert.Equal(s_laptop.ToString(), config.Peers[1].Id.ToString());
        Assert.Equal(["laptop"], Assert.Single(config.Arenas).SharedWith!);
    }

    [Theory]
    [InlineData("bad name")]
    [InlineData("..")]
    [InlineData(".")]
    [InlineData("a/b")]
    [InlineData("é")]
    [InlineData("")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    public void Parse_RejectsBadPeerName_NamingIt(string name)
    {
        string message = AssertRejected($"[peers.\"{name}\"]\nid = \"{s_nas}\"\n", $"peer '{name}'", "a peer name");

        Assert.DoesNotContain("arena", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[peers.nas]\n")]
    [InlineData("[peers.nas]\naddress = \"nas.local:7800\"\n")]
    [InlineData("[peers.nas]\nid = 5\n")]
    [InlineData("[peers.nas]\nid = [\"AAAA\"]\n")]
    [InlineData("peers = { nas = \"nas.local:7800\" }\n")]
    public void Parse_RejectsAPeerWithoutAStringId_NamingIt(string toml) =>
        AssertRejected(toml, "peer 'nas'", "id = ");

    [Theory]
    [InlineData("")]
    [InlineData("nas")]
    [InlineData("AAAA-AAAA")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA1")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    public void Parse_RejectsAnInvalidPeerId_NamingThePeerAndTheId(string id) =>
        AssertRejected($"[peers.nas]\nid = \"{id}\"\n", "peer 'nas'", $"'{id}' is not a peer ID");

    [Fact]
    public void Parse_RejectsTwoPeersWithTheSameId_NamingBoth()
    {
        string sameIdTypedDifferently = s_nas.ToString().Replace("-", "", StringComparison.Ordinal).ToLowerInvariant();

        AssertRejected(WithNas($"[peers.nas2]\nid = \"{sameIdTypedDifferently}\"\n"), "'nas2'", "same id", "'nas'");
    }

    [Theory]
    [InlineData("nas.local")]
    [InlineData("nas.local:")]
    [InlineData(":7800")]
    [InlineData("nas.local:0")]
    [InlineData("nas.local:70000")]
    [InlineData("nas.local:65536")]
    [InlineData("nas.local:-1")]
    [InlineData("nas.local:+80")]
    [InlineData("nas.local: 80")]
    [InlineData("nas.local:http")]
    [InlineData("")]
    public void Parse_RejectsAnAddressThatIsNotHostPort_NamingTheKey(string address)
    {
        AssertRejected($"listen = \"{address}\"\n", "'listen'", "HOST:PORT", $"'{address}'");
        AssertRejected($"[peers.nas]\nid = \"{s_nas}\"\naddress = \"{address}\"\n", "'peers.nas.address'", "HOST:PORT", $"'{address}'");
    }

    [Theory]
    [InlineData("7800")]
    [InlineData("true")]
    [InlineData("[\"nas.local:7800\"]")]
    [InlineData("{ host = \"nas.local\", port = 7800 }")]
    public void Parse_RejectsAnAddressThatIsNotAString_NamingTheKey(string value)
    {
        AssertRejected($"listen = {value}\n", "'listen'", "\"HOST:PORT\" in quotes");
        AssertRejected($"[peers.nas]\nid = \"{s_nas}\"\naddress = {value}\n", "'peers.nas.address'", "\"HOST:PORT\" in quotes");
    }

    [Theory]
    [InlineData("peers = \"nas\"")]
    [InlineData("peers = 1")]
    [InlineData("peers = [1]")]
    [InlineData("peers = [\"nas\", 2]")]
    [InlineData("peers = [[\"nas\"]]")]
    [InlineData("peers = { nas = true }")]
    public void Parse_RejectsArenaPeersThatAreNotAListOfStrings_NamingTheKey(string line) =>
        AssertRejected(WithNas($"[arenas.docs]\n{line}\n"), "'arenas.docs.peers'", "list of peer names");

    [Theory]
    [InlineData("[\"laptop\"]", "laptop")]
    [InlineData("[\"nas\", \"laptop\"]", "laptop")]
    [InlineData("[\"NAS\"]", "NAS")]
    [InlineData("[\"\"]", "")]
    public void Parse_RejectsAnArenaSharedWithAPeerNotInPeers_NamingBoth(string list, string unknown) =>
        AssertRejected(WithNas($"[arenas.docs]\npeers = {list}\n"), "arena 'docs'", $"'{unknown}'", "not in [peers]");

    [Fact]
    public void Parse_RejectsAnArenaSharedWithAPeer_WhenThereAreNoPeers() =>
        AssertRejected("[arenas.docs]\npeers = [\"nas\"]\n", "arena 'docs'", "'nas'", "not in [peers]");

    [Theory]
    [InlineData("peers = 5")]
    [InlineData("peers = \"nas\"")]
    [InlineData("peers = [\"nas\"]")]
    public void Parse_RejectsPeersThatAreNotTables(string toml) =>
        AssertRejected(toml, "'peers'", "[peers.NAME]");

    [Fact]
    public void IsSharedWith_WithoutAPeerList_IsEveryPeer()
    {
        var everyone = new ArenaConfig(ArenaName.Parse("docs"));

        Assert.Null(everyone.SharedWith);
        Assert.True(everyone.IsSharedWith("nas"));
        Assert.True(everyone.IsSharedWith("laptop"));
    }

    [Fact]
    public void IsSharedWith_WithAPeerList_IsOnlyThosePeers_ByExactName()
    {
        var some = new ArenaConfig(ArenaName.Parse("docs"), SharedWith: ["nas"]);
        var none = new ArenaConfig(ArenaName.Parse("private"), SharedWith: []);

        Assert.True(some.IsSharedWith("nas"));
        Assert.False(some.IsSharedWith("NAS"));
        Assert.False(some.IsSharedWith("laptop"));
        Assert.False(none.IsSharedWith("nas"));
    }

    [Fact]
    public void ArenasSharedWith_ListsTheArenasInOrder_ThatThePeerMaySee()
    {
        var config = StoreConfig.Parse(WithNas($"""
            [peers.laptop]
            id = "{s_laptop}"

            [arenas.music]

            [arenas.docs]
            peers = ["laptop"]

            [arenas.photos]
            peers = ["nas", "laptop"]

            [arenas.private]
            peers = []
            """));

        Assert.Equal(["music", "photos"], config.ArenasSharedWith("nas").Select(a => a.Value));
        Assert.Equal(["music", "docs", "photos"], config.ArenasSharedWith("laptop").Select(a => a.Value));
        Assert.Equal(["music"], config.ArenasSharedWith("stranger").Select(a => a.Value));
    }

    [Fact]
    public void FindPeer_FindsByExactName_AndById()
    {
        var config = new StoreConfig { Peers = [new PeerConfig("nas", s_nas, "nas.local:7800"), new PeerConfig("laptop", s_laptop)] };

        Assert.Equal(new PeerConfig("laptop", s_laptop), config.FindPeer("laptop"));
        Assert.Null(config.FindPeer("Laptop"));
        Assert.Equal("nas", config.FindPeer(s_nas)?.Name);
        Assert.Null(config.FindPeer(PeerId.FromSubjectPublicKeyInfo([3])));
    }

    [Theory]
    [InlineData("nas.local:7800")]
    [InlineData("[::1]:1")]
    [InlineData("10.0.0.1:65535")]
    [InlineData("h:80")]
    public void IsValidAddress_AcceptsHostPort(string address) =>
        Assert.True(StoreConfig.IsValidAddress(address, out _));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("nas.local")]
    [InlineData(":80")]
    [InlineData("nas.local:0")]
    [InlineData("nas.local:70000")]
    [InlineData("[::1]")]
    public void IsValidAddress_RejectsOthers_WithAReasonNamingTheAddress(string? address)
    {
        Assert.False(StoreConfig.IsValidAddress(address, out string? error));

        Assert.Contains($"'{address}'", error, StringComparison.Ordinal);
        Assert.Contains("1 to 65535", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("fe80::1")]
    [InlineData("::1:7800")]
    public void IsValidAddress_RejectsAnIPv6AddressWithoutBrackets(string address)
    {
        Assert.False(StoreConfig.IsValidAddress(address, out string? error));

        Assert.Contains("brackets", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("listen = \"a\\nb\"\n")]
    [InlineData("[peers.nas]\nid = \"AAAA\\nBBBB\"\n")]
    [InlineData("[peers.\"a\\nb\"]\nid = \"AAAA\"\n")]
    public void Parse_KeepsTheMessageOnOneLine_WhenTheBadValueHasANewline(string toml)
    {
        var e = Assert.Throws<FormatException>(() => StoreConfig.Parse(toml));

        Assert.DoesNotContain('\n', e.Message);
    }

    [Theory]
    [InlineData("nas")]
    [InlineData("a.b-c_D9")]
    public void IsValidPeerName_AcceptsArenaLikeNames(string name) =>
        Assert.True(StoreConfig.IsValidPeerName(name, out _));

    [Theory]
    [InlineData("")]
    [InlineData("..")]
    [InlineData("with space")]
    public void IsValidPeerName_RejectsOthers_SpeakingOfAPeerName(string name)
    {
        Assert.False(StoreConfig.IsValidPeerName(name, out string? error));

        Assert.Contains("a peer name", error, StringComparison.Ordinal);
        Assert.DoesNotContain("arena", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_WithoutAHistorySection_Keeps30Days()
    {
        Assert.Equal(30, StoreConfig.Parse("").HistoryKeepDays);
        Assert.Equal(30, StoreConfig.Parse("[history]\n").HistoryKeepDays);
    }

    [Theory]
    [InlineData("[history]\nkeep_days = 7\n", 7)]
    [InlineData("history.keep_days = 1\n", 1)]
    [InlineData("history = { keep_days = 36500 }\n", 36500)]
    public void Parse_ReadsHistoryKeepDays(string toml, int days) =>
        Assert.Equal(days, StoreConfig.Parse(toml).HistoryKeepDays);

    [Fact]
    public void ToToml_ThenParse_RoundTripsHistoryKeepDays_AndLeavesTheDefaultUnwritten()
    {
        var config = new StoreConfig { HistoryKeepDays = 90 };

        Assert.Equal(90, StoreConfig.Parse(config.ToToml()).HistoryKeepDays);
        Assert.DoesNotContain("history", new StoreConfig().ToToml(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0", "0")]
    [InlineData("-3", "-3")]
    [InlineData("36501", "36501")]
    [InlineData("1.5", "1.5")]
    [InlineData("\"30\"", "\"30\"")]
    [InlineData("true", "true")]
    [InlineData("[30]", "a table or a list")]
    public void Parse_RejectsABadHistoryKeepDays_NamingTheLineAndTheValue(string value, string written)
    {
        string message = AssertRejected($"# keep_days in a comment is not the line\nmount = \"/m\"\n\n[history]\nkeep_days = {value}\n");

        Assert.StartsWith($"realize.toml: line 5: 'history.keep_days = {written}'", message, StringComparison.Ordinal);
        Assert.Contains("whole number of days from 1 to 36500", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_RejectsAHistoryThatIsNotASection() =>
        AssertRejected("history = 30\n", "'history'", "[history]");
}
