using Realize.Core;
using Realize.Linux;
using Realize.TestSupport;

namespace Realize.Storage.Tests;

public sealed class StoreTests : IDisposable
{
    private const UnixFileMode Mode0600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private readonly TempDir _dir = new("store");

    public StoreTests() => StoreDir = _dir.Combine("store");

    private string StoreDir { get; }

    public void Dispose() => _dir.Dispose();

    private static StoreConfig Config(string? mount = "/mnt/shared", string? lower = "/srv/lower") =>
        new() { Mount = mount, Lower = lower, Arenas = [new ArenaConfig(ArenaName.Parse("docs"))] };

    /// <summary>Every entry below <paramref name="root"/>: its kind, mode, size, nanosecond mtime and content.</summary>
    private static SortedDictionary<string, string> Snapshot(string root)
    {
        var entries = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (string path in Directory.EnumerateFileSystemEntries(root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }).Append(root))
        {
            var status = Stat.Lstat(path);
            string content = status.Kind == FileKind.Regular ? Convert.ToHexString(File.ReadAllBytes(path)) : "";
            entries[Path.GetRelativePath(root, path)] = $"{status.Kind} {status.Mode:x} {status.Inode} {status.Size} {status.MTime} {content}";
        }
        return entries;
    }

    [Fact]
    public void Create_MakesTheLayout()
    {
        var store = Store.Create(StoreDir, Config());

        foreach (string dir in new[] { "unreal", "real", "work", "run" })
        {
            Assert.True(Directory.Exists(Path.Combine(StoreDir, dir)), dir);
        }
        foreach (string file in new[] { "index.db", "realize.toml", "peer.key", "peer.crt" })
        {
            Assert.True(File.Exists(Path.Combine(StoreDir, file)), file);
        }
        Assert.Equal(StoreDir, store.Root);
        Assert.Equal(Path.Combine(StoreDir, "real"), store.RealDir);
        Assert.Equal(Path.Combine(StoreDir, "work"), store.WorkDir);
        Assert.Equal(Path.Combine(StoreDir, "index.db"), store.IndexPath);
    }

    [Fact]
    public void Create_MakesTheStoreDirectoryOwnerOnly()
    {
        Store.Create(StoreDir, Config());

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(StoreDir));
    }

    [Fact]
    public void Create_WritesThePrivateKey_Mode0600_AsPkcs8ThatOpensslReads()
    {
        var store = Store.Create(StoreDir, Config());

        Assert.Equal(Mode0600, File.GetUnixFileMode(store.KeyPath));
        Assert.StartsWith("-----BEGIN PRIVATE KEY-----\n", File.ReadAllText(store.KeyPath), StringComparison.Ordinal);
        Assert.Equal(0, Shell.Run("openssl", ["pkey", "-in", store.KeyPath, "-noout"]).ExitCode);
        string text = Shell.Check("openssl", "pkey", "-in", store.KeyPath, "-noout", "-text");
        Assert.Contains("prime256v1", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_WritesACertificate_WhosePublicKeyIsThePrivateKeys()
    {
        var store = Store.Create(StoreDir, Config());

        Assert.StartsWith("-----BEGIN CERTIFICATE-----\n", File.ReadAllText(store.CertificatePath), StringComparison.Ordinal);
        var fromCertificate = Shell.Run("openssl", ["x509", "-in", store.CertificatePath, "-noout", "-pubkey"]);
        Assert.Equal(0, fromCertificate.ExitCode);
        Assert.StartsWith("-----BEGIN PUBLIC KEY-----", fromCertificate.Output, StringComparison.Ordinal);
        Assert.Equal(Shell.Check("openssl", "pkey", "-in", store.KeyPath, "-pubout"), fromCertificate.Output);
        Assert.Equal(0, Shell.Run("openssl", ["verify", "-CAfile", store.CertificatePath, "-partial_chain", store.CertificatePath]).ExitCode);
    }

    [Fact]
    public void LoadPeerId_IsBase32OfSha256OfTheCertificatesPublicKey_AsOpensslComputesIt()
    {
        var store = Store.Create(StoreDir, Config());

        string base32 = Shell.Bash(
            "openssl x509 -in \"$1\" -pubkey -noout | openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary | base32 -w0",
            store.CertificatePath).Trim().TrimEnd('=');
        string expected = string.Join('-', base32.Chunk(4).Select(c => new string(c)));

        Assert.Equal(52, base32.Length);
        Assert.Equal(expected, store.LoadPeerId().ToString());
    }

    [Fact]
    public void Create_GivesEachStoreItsOwnIdentity()
    {
        var first = Store.Create(_dir.Combine("one"), Config());
        var second = Store.Create(_dir.Combine("two"), Config());

        Assert.NotEqual(first.LoadPeerId(), second.LoadPeerId());
        Assert.NotEqual(File.ReadAllText(first.KeyPath), File.ReadAllText(second.KeyPath));
    }

    [Fact]
    public void Create_WritesTheConfig_ThatOpenReadsBack()
    {
        var config = Config(mount: "/mnt/with \"quote\"", lower: "/srv/back\\slash");
        Store.Create(StoreDir, config);

        var opened = Store.Open(StoreDir);

        Assert.Equal(config.Mount, opened.Config.Mount);
        Assert.Equal(config.Lower, opened.Config.Lower);
        Assert.Equal(config.Arenas, opened.Config.Arenas);
    }

    [Fact]
    public void Create_MakesAnIndexDatabaseThatOpens()
    {
        var store = Store.Create(StoreDir, Config());

        using var index = store.OpenIndex();

        Assert.Empty(index.ReadHistory(null));
    }

    [Fact]
    public void Create_InAnExistingEmptyDirectory_Works()
    {
        Directory.CreateDirectory(StoreDir);

        Store.Create(StoreDir, Config());

        Assert.True(File.Exists(Path.Combine(StoreDir, "realize.toml")));
    }

    [Fact]
    public void Create_OverAnExistingStore_RefusesAndChangesNothing()
    {
        Store.Create(StoreDir, Config());
        var before = Snapshot(StoreDir);

        var e = Assert.Throws<RealizeException>(() => Store.Create(StoreDir, Config(mount: "/elsewhere", lower: null)));

        Assert.Contains("already exists", e.Message, StringComparison.Ordinal);
        Assert.Equal(before, Snapshot(StoreDir));
    }

    [Fact]
    public void Create_WhereOnlyTheKeyIsLeft_RefusesAndChangesNothing()
    {
        Store.Create(StoreDir, Config());
        File.Delete(Path.Combine(StoreDir, "realize.toml"));
        var before = Snapshot(StoreDir);

        Assert.Throws<RealizeException>(() => Store.Create(StoreDir, Config()));

        Assert.Equal(before, Snapshot(StoreDir));
    }

    [Fact]
    public void Create_InANonEmptyDirectoryWithoutAStore_RefusesAndChangesNothing()
    {
        Directory.CreateDirectory(StoreDir);
        File.WriteAllText(Path.Combine(StoreDir, "precious.txt"), "mine");
        var before = Snapshot(StoreDir);

        var e = Assert.Throws<RealizeException>(() => Store.Create(StoreDir, Config()));

        Assert.Contains("not empty", e.Message, StringComparison.Ordinal);
        Assert.Equal(before, Snapshot(StoreDir));
    }

    [Fact]
    public void Create_OnAFile_Refuses()
    {
        File.WriteAllText(StoreDir, "a file");

        Assert.Throws<RealizeException>(() => Store.Create(StoreDir, Config()));

        Assert.Equal("a file", File.ReadAllText(StoreDir));
    }

    [Fact]
    public void Open_WithoutAStore_SaysHowToCreateOne()
    {
        var e = Assert.Throws<RealizeException>(() => Store.Open(StoreDir));

        Assert.Contains("init", e.Message, StringComparison.Ordinal);
        Assert.Contains(StoreDir, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_WithABrokenConfig_NamesTheFile()
    {
        Store.Create(StoreDir, Config());
        File.WriteAllText(Path.Combine(StoreDir, "realize.toml"), "mount = \"relative\"\n");

        var e = Assert.Throws<RealizeException>(() => Store.Open(StoreDir));

        Assert.Contains(Path.Combine(StoreDir, "realize.toml"), e.Message, StringComparison.Ordinal);
        Assert.Contains("'mount'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SaveConfig_ReplacesTheConfig_Readably()
    {
        var store = Store.Create(StoreDir, Config());
        var changed = store.Config with { Arenas = [.. store.Config.Arenas, new ArenaConfig(ArenaName.Parse("photos"), "/srv/photos")] };

        store.SaveConfig(changed);

        Assert.Same(changed, store.Config);
        Assert.Equal(changed.Arenas, Store.Open(StoreDir).Config.Arenas);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead, File.GetUnixFileMode(store.ConfigPath));
        Assert.DoesNotContain(Directory.GetFiles(StoreDir), f => f.EndsWith(".tmp", StringComparison.Ordinal));
    }
}
