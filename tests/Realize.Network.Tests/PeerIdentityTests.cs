using System.Diagnostics;
using Realize.Core;
using Realize.Storage;
using Realize.TestSupport;

namespace Realize.Network.Tests;

public sealed class PeerIdentityTests : IDisposable
{
    private readonly TempDir _dir = new("identity");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void TheId_IsTheBase32OfTheSha256OfTheCertificatesPublicKey_AsOpensslComputesIt()
    {
        var store = Store.Create(_dir.Combine("store"), new StoreConfig());
        using var identity = PeerIdentity.Load(store);

        // openssl x509 -pubkey | openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary, then base32.
        var info = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string arg in (string[])["-c", "openssl x509 -in \"$1\" -pubkey -noout | openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary | base32 -w0", "sh", store.CertificatePath])
        {
            info.ArgumentList.Add(arg);
        }
        using var openssl = Process.Start(info)!;
        string base32 = openssl.StandardOutput.ReadToEnd().Trim().TrimEnd('=');
        openssl.WaitForExit();

        Assert.Equal(0, openssl.ExitCode);
        Assert.Equal(PeerId.Parse(base32), identity.Id);
        Assert.Equal(store.LoadPeerId(), identity.Id);
        Assert.Matches("^([A-Z2-7]{4}-){12}[A-Z2-7]{4}$", identity.Id.ToString());
    }

    [Theory]
    [InlineData(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead)]
    [InlineData(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead)]
    public void Load_RefusesAKeyOthersCanRead(UnixFileMode mode)
    {
        var store = Store.Create(_dir.Combine("store"), new StoreConfig());
        File.SetUnixFileMode(store.KeyPath, mode);

        var e = Assert.Throws<RealizeException>(() => PeerIdentity.Load(store));

        Assert.Contains($"chmod 600 {store.KeyPath}", e.Message, StringComparison.Ordinal);
    }
}
