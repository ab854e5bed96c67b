using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Realize.Core;
using Realize.Storage;

namespace Realize.Network;

/// <summary>This peer's certificate with its private key, as TLS presents it.</summary>
public sealed class PeerIdentity : IDisposable
{
    private PeerIdentity(X509Certificate2 certificate)
    {
        Certificate = certificate;
        Id = IdOf(certificate);
        Context = SslStreamCertificateContextFor(certificate);
    }

    /// <summary>The certificate, with its private key.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>This peer's ID.</summary>
    public PeerId Id { get; }

    internal System.Net.Security.SslStreamCertificateContext Context { get; }

    /// <summary>
    /// Loads <c>peer.key</c> and <c>peer.crt</c> of <paramref name="store"/>; refuses a key that
    /// anyone but its owner can read, as ssh does.
    /// </summary>
    public static PeerIdentity Load(Store store)
    {
        if (!File.Exists(store.KeyPath) || !File.Exists(store.CertificatePath))
        {
            throw new RealizeException($"{store.KeyPath} or {store.CertificatePath} is missing: this store has no identity (create a new store with 'realize init')");
        }
        var mode = File.GetUnixFileMode(store.KeyPath);
        const UnixFileMode Others = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
            | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;
        if ((mode & Others) != 0)
        {
            throw new RealizeException($"{store.KeyPath} can be read by others (mode {Convert.ToString((int)mode, 8)}): a private key must be for its owner alone; run 'chmod 600 {store.KeyPath}'");
        }
        try
        {
            using var pem = X509Certificate2.CreateFromPemFile(store.CertificatePath, store.KeyPath);
            // Through PKCS#12, so the key is usable by TLS on every platform rather than ephemeral.
            return new PeerIdentity(X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null));
        }
        catch (CryptographicException e)
        {
            throw new RealizeException($"{store.KeyPath} and {store.CertificatePath} are not a matching key and certificate: {e.Message}", e);
        }
    }

    /// <summary>The peer ID of a certificate: the SHA-256 of its SubjectPublicKeyInfo.</summary>
    public static PeerId IdOf(X509Certificate certificate)
    {
        if (certificate is X509Certificate2 full)
        {
            return PeerId.FromSubjectPublicKeyInfo(full.PublicKey.ExportSubjectPublicKeyInfo());
        }
        using var loaded = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return PeerId.FromSubjectPublicKeyInfo(loaded.PublicKey.ExportSubjectPublicKeyInfo());
    }

    private static System.Net.Security.SslStreamCertificateContext SslStreamCertificateContextFor(X509Certificate2 certificate) =>
        System.Net.Security.SslStreamCertificateContext.Create(certificate, additionalCertificates: null, offline: true);

    /// <inheritdoc/>
    public void Dispose() => Certificate.Dispose();
}
