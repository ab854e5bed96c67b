using Realize.Core;
using Realize.Storage;

namespace Realize.Cli.Tests;

public sealed class PeerTests : IDisposable
{
    private static readonly PeerId s_nas = PeerId.FromSubjectPublicKeyInfo([1]);
    private static readonly PeerId s_laptop = PeerId.FromSubjectPublicKeyInfo([2]);
    private readonly CliStore _store = new();
    private readonly PeerId _own;

    public PeerTests() => _own = PeerId.Parse(_store.Run("init").AssertSucceeds().Trim());

    public void Dispose() => _store.Dispose();

    private byte[] ConfigBytes() => File.ReadAllBytes(Path.Combine(_store.StoreDir, "realize.toml"));

    private StoreConfig Config() => Store.Open(_store.StoreDir).Config;

    /// <summary>The ID as someone might type it: lower case, without the dashes.</summary>
    private static string Typed(PeerId id) => id.ToString().Replace("-", "", StringComparison.Ordinal).ToLowerInvariant();

    [Fact]
    public void Init_WritesTheKeyForItsOwnerAlone_AsPemThatOpensslReads()
    {
        string key = Path.Combine(_store.StoreDir, "peer.key");

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(key));
        Assert.StartsWith("-----BEGIN PRIVATE KEY-----", File.ReadAllText(key), StringComparison.Ordinal);
        Assert.StartsWith("-----BEGIN CERTIFICATE-----", File.ReadAllText(Path.Combine(_store.StoreDir, "peer.crt")), StringComparison.Ordinal);
    }

    [Fact]
    public void Up_RefusesToStart_WhenOthersCanReadTheKey()
    {
        string key = Path.Combine(_store.StoreDir, "peer.key");
        File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        string line = _store.Run("up").AssertFailsWithOneLine();

        Assert.Contains("can be read by others", line, StringComparison.Ordinal);
        Assert.Contains($"chmod 600 {key}", line, StringComparison.Ordinal);
    }

    [Fact]
    public void PeerAdd_AddsABlindPeer_ToRealizeToml()
    {
        string output = _store.Run("peer", "add", "nas", s_nas.ToString()).AssertSucceeds();

        Assert.Equal("peer 'nas' added (blind: it connects here)\n", output);
        Assert.Equal([new PeerConfig("nas", s_nas)], Config().Peers);
    }

    [Fact]
    public void PeerAdd_WithAddress_RecordsWhereThePeerListens()
    {
        string output = _store.Run("peer", "add", "nas", s_nas.ToString(), "--address", "nas.local:7800").AssertSucceeds();

        Assert.Equal("peer 'nas' added at nas.local:7800\n", output);
        Assert.Equal([new PeerConfig("nas", s_nas, "nas.local:7800")], Config().Peers);
    }

    [Fact]
    public void PeerAdd_TakesTheIdInAnyCaseWithoutDashes_AndWritesItAsIdPrintsIt()
    {
        _store.Run("peer", "add", "nas", Typed(s_nas)).AssertSucceeds();

        Assert.Equal(s_nas, Assert.Single(Config().Peers).Id);
        Assert.Contains($"id = \"{s_nas}\"", File.ReadAllText(Path.Combine(_store.StoreDir, "realize.toml")), StringComparison.Ordinal);
    }

    [Fact]
    public void PeerAdd_TakesTheIdThatIdPrintsOnTheOtherPeer()
    {
        using var other = new CliStore();
        other.Run("init").AssertSucceeds();
        string otherId = other.Run("id").AssertSucceeds().Trim();

        _store.Run("peer", "add", "laptop", otherId).AssertSucceeds();

        Assert.Equal(Store.Open(other.StoreDir).LoadPeerId(), Assert.Single(Config().Peers).Id);
    }

    [Fact]
    public void PeerAdd_KeepsTheOrderOfAddition_AndTheRestOfTheConfig()
    {
        using var listening = new CliStore();
        listening.Run("init", "--listen", "0.0.0.0:7800", "--mount", listening.View).AssertSucceeds();
        listening.Run("arena", "add", "docs").AssertSucceeds();

        listening.Run("peer", "add", "nas", s_nas.ToString(), "--address", "nas.local:7800").AssertSucceeds();
        listening.Run("peer", "add", "laptop", s_laptop.ToString()).AssertSucceeds();

        var config = Store.Open(listening.StoreDir).Config;
        Assert.Equal([new PeerConfig("nas", s_nas, "nas.local:7800"), new PeerConfig("laptop", s_laptop)], config.Peers);
        Assert.Equal("0.0.0.0:7800", config.Listen);
        Assert.Equal(listening.View, config.Mount);
        Assert.Equal(["docs"], config.Arenas.Select(a => a.Name.Value));
    }

    [Theory]
    [InlineData("a/b")]
    [InlineData("..")]
    [InlineData("")]
    [InlineData("with space")]
    [InlineData("données")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    public void PeerAdd_RejectsAnInvalidName_WithOneLine_AndChangesNothing(string name)
    {
        byte[] before = ConfigBytes();

        string line = _store.Run("peer", "add", name, s_nas.ToString()).AssertFailsWithOneLine();

        Assert.Contains("not a valid peer name", line, StringComparison.Ordinal);
        Assert.Equal(before, ConfigBytes());
    }

    [Theory]
    [InlineData("")]
    [InlineData("nas")]
    [InlineData("AAAA-AAAA-AAAA")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA1")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    public void PeerAdd_RejectsAnInvalidId_WithOneLine_AndChangesNothing(string id)
    {
        byte[] before = ConfigBytes();

        string line = _store.Run("peer", "add", "nas", id).AssertFailsWithOneLine();

        Assert.Contains($"'{id}' is not a peer ID", line, StringComparison.Ordinal);
        Assert.Equal(before, ConfigBytes());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void PeerAdd_RefusesItsOwnId_WithOneLine_AndChangesNothing(bool typed)
    {
        byte[] before = ConfigBytes();

        string line = _store.Run("peer", "add", "me", typed ? Typed(_own) : _own.ToString()).AssertFailsWithOneLine();

        Assert.Contains("this peer's own ID", line, StringComparison.Ordinal);
        Assert.Equal(before, ConfigBytes());
    }

    [Fact]
    public void PeerAdd_RefusesADuplicateName_WithOneLine_AndChangesNothing()
    {
        _store.Run("peer", "add", "nas", s_nas.ToString()).AssertSucceeds();
        byte[] before = ConfigBytes();

        string line = _store.Run("peer", "add", "nas", s_laptop.ToString()).AssertFailsWithOneLine();

        Assert.Contains("a peer 'nas' is already in", line, StringComparison.Ordinal);
        Assert.Equal(before, ConfigBytes());
    }

    [Fact]
    public void PeerAdd_RefusesADuplicateId_WithOneLine_NamingThePeerThatHasIt()
    {
        _store.Run("peer", "add", "nas", s_nas.ToString()).AssertSucceeds();
        byte[] before = ConfigBytes();

        string line = _store.Run("peer", "add", "nas2", Typed(s_nas)).AssertFailsWithOneLine();

        Assert.Contains("already in", line, StringComparison.Ordinal);
        Assert.Contains("peer 'nas'", line, StringComparison.Ordinal);
        Assert.Equal(before, ConfigBytes());
    }

    [Theory]
    [InlineData("nas.local")]
    [InlineData("nas.local:")]
    [InlineData(":7800")]
    [InlineData("nas.local:0")]
    [InlineData("nas.local:70000")]
    [InlineData("nas.local:http")]
    [InlineData("")]
    public void PeerAdd_RejectsABadAddress_WithOneLine_AndChangesNothing(string address)
    {
        byte[] before = ConfigBytes();

        string line = _store.Run("peer", "add", "nas", s_nas.ToString(), "--address", address).AssertFailsWithOneLine();

        Assert.Contains("--address", line, StringComparison.Ordinal);
        Assert.Contains("HOST:PORT", line, StringComparison.Ordinal);
        Assert.Equal(before, ConfigBytes());
    }

    [Fact]
    public void PeerAdd_WithoutAStore_FailsWithOneLine()
    {
        using var empty = new CliStore();

        empty.Run("peer", "add", "nas", s_nas.ToString()).AssertFailsWithOneLine();

        Assert.False(Directory.Exists(empty.StoreDir));
    }

    [Fact]
    public void PeerRemove_RemovesThePeer_AndKeepsTheOthersAndTheRestOfTheConfig()
    {
        _store.Run("arena", "add", "docs").AssertSucceeds();
        _store.Run("peer", "add", "nas", s_nas.ToString(), "--address", "nas.local:7800").AssertSucceeds();
        _store.Run("peer", "add", "laptop", s_laptop.ToString()).AssertSucceeds();

        string output = _store.Run("peer", "remove", "nas").AssertSucceeds();

        Assert.Equal("peer 'nas' removed: it is refused from now on\n", output);
        var config = Config();
        Assert.Equal([new PeerConfig("laptop", s_laptop)], config.Peers);
        Assert.Equal(["docs"], config.Arenas.Select(a => a.Name.Value));
        Assert.Null(config.Arenas[0].SharedWith);
    }

    [Fact]
    public void PeerRemove_TakesItOutOfTheArenasPeerLists_AndAnArenaSharedWithItAloneIsSharedWithNobody()
    {
        _store.Run("peer", "add", "nas", s_nas.ToString()).AssertSucceeds();
        _store.Run("peer", "add", "laptop", s_laptop.ToString()).AssertSucceeds();
        var store = Store.Open(_store.StoreDir);
        store.SaveConfig(store.Config with
        {
            Arenas = [new ArenaConfig(ArenaName.Parse("docs"), SharedWith: ["nas", "laptop"]), new ArenaConfig(ArenaName.Parse("photos"), SharedWith: ["nas"])],
        });

        _store.Run("peer", "remove", "nas").AssertSucceeds();

        var config = Config();
        Assert.Equal(["laptop"], config.Arenas[0].SharedWith!);
        Assert.NotNull(config.Arenas[1].SharedWith);
        Assert.Empty(config.Arenas[1].SharedWith!);
        Assert.False(config.Arenas[1].IsSharedWith("laptop"));
    }

    [Fact]
    public void PeerRemove_ThenAdd_TakesTheNameAndTheIdAgain()
    {
        _store.Run("peer", "add", "nas", s_nas.ToString()).AssertSucceeds();
        _store.Run("peer", "remove", "nas").AssertSucceeds();

        _store.Run("peer", "add", "nas", s_nas.ToString(), "--address", "nas.local:7800").AssertSucceeds();

        Assert.Equal([new PeerConfig("nas", s_nas, "nas.local:7800")], Config().Peers);
    }

    [Fact]
    public void PeerRemove_OfAnUnknownName_FailsWithOneLine_NamingThePeers_AndChangesNothing()
    {
        _store.Run("peer", "add", "nas", s_nas.ToString()).AssertSucceeds();
        _store.Run("peer", "add", "laptop", s_laptop.ToString()).AssertSucceeds();
        byte[] before = ConfigBytes();

        string line = _store.Run("peer", "remove", "NAS").AssertFailsWithOneLine();

        Assert.Contains("no peer 'NAS'", line, StringComparison.Ordinal);
        Assert.Contains("give one of its peers: nas, laptop", line, StringComparison.Ordinal);
        Assert.Equal(before, ConfigBytes());
    }

    [Fact]
    public void PeerRemove_WithoutPeers_FailsWithOneLine_SayingThereAreNone()
    {
        byte[] before = ConfigBytes();

        string line = _store.Run("peer", "remove", "nas").AssertFailsWithOneLine();

        Assert.Contains("it has no peers", line, StringComparison.Ordinal);
        Assert.Equal(before, ConfigBytes());
    }
}
