using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Realize.Core;
using Realize.Linux;

namespace Realize.Storage;

/// <summary>
/// A peer's store directory (DESIGN.md "Storage layout"): configuration, identity, the
/// overlay's upper and work directories, the index and the run directory.
/// </summary>
public sealed class Store
{
    private Store(string root, StoreConfig config)
    {
        Root = root;
        Config = config;
    }

    /// <summary>The store directory, absolute.</summary>
    public string Root { get; }

    /// <summary>The configuration as loaded.</summary>
    public StoreConfig Config { get; private set; }

    public string ConfigPath => Path.Combine(Root, "realize.toml");

    public string KeyPath => Path.Combine(Root, "peer.key");

    public string CertificatePath => Path.Combine(Root, "peer.crt");

    /// <summary>The overlay upper directory: the Real.</summary>
    public string RealDir => Path.Combine(Root, "real");

    /// <summary>The overlay work directory, on the same filesystem as <see cref="RealDir"/>.</summary>
    public string WorkDir => Path.Combine(Root, "work");

    public string UnrealDir => Path.Combine(Root, "unreal");

    /// <summary>The blob cache: <c>unreal/blobs/</c>, one file per blob named by its hash.</summary>
    public string BlobsDir => Path.Combine(UnrealDir, "blobs");

    public string RunDir => Path.Combine(Root, "run");

    /// <summary>Where the daemon mounts the Unreal, the merged view's lower layer: <c>run/unreal</c>.</summary>
    public string UnrealMountDir => Path.Combine(RunDir, "unreal");

    public string IndexPath => Path.Combine(Root, "index.db");

    /// <summary>The other peers' files: <c>unreal/unreal.db</c>.</summary>
    public string UnrealDbPath => Path.Combine(UnrealDir, "unreal.db");

    /// <summary>
    /// Creates a new store at <paramref name="root"/>: the layout, a key pair and a
    /// self-signed certificate. Refuses when a store already exists there.
    /// </summary>
    public static Store Create(string root, StoreConfig config)
    {
        root = Path.GetFullPath(root);
        var store = new Store(root, config);
        if (File.Exists(store.ConfigPath) || File.Exists(store.KeyPath))
        {
            throw new RealizeException($"a store already exists in {root}; nothing was changed (use another --store, or remove that directory to start over)");
        }
        if (File.Exists(root))
        {
            throw new RealizeException($"{root} is a file, not a directory: choose another --store");
        }
        if (Directory.Exists(root) && Directory.EnumerateFileSystemEntries(root).Any())
        {
            throw new RealizeException($"{root} is not empty and holds no store: choose a new or empty directory for --store");
        }
        Directory.CreateDirectory(root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        foreach (string dir in new[] { store.UnrealDir, store.RealDir, store.WorkDir, store.RunDir })
        {
            Directory.CreateDirectory(dir);
        }
        CreateIdentity(store.KeyPath, store.CertificatePath);
        IndexDb.Open(store.IndexPath).Dispose();
        // The config is written last: its presence marks a complete store.
        store.SaveConfig(config);
        return store;
    }

    /// <summary>Opens the store at <paramref name="root"/>.</summary>
    public static Store Open(string root)
    {
        root = Path.GetFullPath(root);
        string configPath = Path.Combine(root, "realize.toml");
        if (!File.Exists(configPath))
        {
            throw new RealizeException($"no store in {root}: create one with 'realize --store {root} init'");
        }
        return new Store(root, ReadConfig(configPath));
    }

    /// <summary>Reads and validates <c>realize.toml</c> as it is now on disk, without using it.</summary>
    public StoreConfig ReadConfig() => ReadConfig(ConfigPath);

    private static StoreConfig ReadConfig(string configPath)
    {
        try
        {
            return StoreConfig.Parse(File.ReadAllText(configPath));
        }
        catch (FormatException e)
        {
            throw new RealizeException($"{configPath}: {e.Message}", e);
        }
    }

    /// <summary>Uses <paramref name="config"/> from now on, as the daemon does once <c>realize.toml</c> changed; nothing is written.</summary>
    public void UseConfig(StoreConfig config) => Config = config;

    /// <summary>Replaces the configuration, atomically.</summary>
    public void SaveConfig(StoreConfig config)
    {
        Durable.WriteAllBytes(ConfigPath, Encoding.UTF8.GetBytes(config.ToToml()), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        Config = config;
    }

    /// <summary>This peer's ID, from its certificate.</summary>
    public PeerId LoadPeerId()
    {
        using var certificate = X509Certificate2.CreateFromPem(File.ReadAllText(CertificatePath));
        return PeerId.FromSubjectPublicKeyInfo(certificate.PublicKey.ExportSubjectPublicKeyInfo());
    }

    /// <summary>Opens <c>index.db</c>.</summary>
    public IndexDb OpenIndex() => IndexDb.Open(IndexPath);

    /// <summary>Opens <c>unreal.db</c>, creating it when missing.</summary>
    public UnrealDb OpenUnreal()
    {
        Directory.CreateDirectory(UnrealDir);
        return UnrealDb.Open(UnrealDbPath);
    }

    private static void CreateIdentity(string keyPath, string certificatePath)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=realize", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        var now = DateTimeOffset.UtcNow;
        using var certificate = request.CreateSelfSigned(now.AddDays(-1), now.AddYears(100));
        Durable.WriteAllBytes(keyPath, Encoding.ASCII.GetBytes(key.ExportPkcs8PrivateKeyPem()), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Durable.WriteAllBytes(certificatePath, Encoding.ASCII.GetBytes(certificate.ExportCertificatePem()), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
    }
}
