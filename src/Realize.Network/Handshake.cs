using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Realize.Core;

namespace Realize.Network;

/// <summary>
/// How a connection starts (DESIGN.md "HistoryService and the wire"): TLS 1.3, both sides
/// presenting their certificate and letting in only the peer IDs of their config; the
/// connector's 4-byte tag; the acceptor's welcome frame.
/// </summary>
internal static class Handshake
{
    public const string Receive = "HRCV";
    public const string Send = "HSND";

    /// <summary>Fetch content: block lists and blocks of blobs the acceptor holds (BlobServer).</summary>
    public const string Blob = "BLOB";

    /// <summary>Connects to <paramref name="peer"/> and asks for <paramref name="tag"/>; throws <see cref="RealizeException"/> with what went wrong.</summary>
    public static async Task<Link> ConnectAsync(PeerConfig peer, string tag, PeerIdentity identity, LinkOptions options, CancellationToken cancellation)
    {
        string address = peer.Address ?? throw new InvalidOperationException($"{peer.Name} has no address");
        var endpoint = HostPort.TryParse(address, out var parsed, out string? problem)
            ? parsed : throw new RealizeException($"cannot reach {peer.Name}: {problem}");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        timeout.CancelAfter(options.HandshakeTimeout);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        SslStream? ssl = null;
        PeerId? seen = null;
        bool handedOver = false;
        try
        {
            try
            {
                await socket.ConnectAsync(endpoint.Host, endpoint.Port, timeout.Token);
            }
            catch (SocketException e)
            {
                throw new RealizeException($"cannot reach {peer.Name} at {address}: {e.Message}", e);
            }
            var buffered = new BufferedDuplexStream(new NetworkStream(socket, ownsSocket: true));
            ssl = new SslStream(buffered, leaveInnerStreamOpen: false);
            try
            {
                await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
                {
                    TargetHost = "realize",
                    EnabledSslProtocols = SslProtocols.Tls13,
                    ClientCertificateContext = identity.Context,
                    CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                    RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate is not null && (seen = PeerIdentity.IdOf(certificate)) == peer.Id,
                }, timeout.Token);
            }
            catch (AuthenticationException e)
            {
                throw seen is { } other && other != peer.Id
                    ? new RealizeException($"{address} answered with peer ID {other}, not {peer.Name}'s {peer.Id}: check the address and the ID in realize.toml", e)
                    : new RealizeException($"TLS with {peer.Name} at {address} failed: {e.Message}", e);
            }
            buffered.CoalesceWrites = true;
            await ssl.WriteAsync(Encoding.ASCII.GetBytes(tag), timeout.Token);
            await ssl.FlushAsync(timeout.Token);
            var link = new Link(ssl, peer, tag, options);
            Message welcome;
            try
            {
                welcome = await link.ReadAsync(timeout.Token);
            }
            catch (Exception e) when (e is IOException or AuthenticationException)
            {
                // With TLS 1.3 the client's certificate is checked after the client is done: a
                // refusal arrives as an alert or an EOF where the welcome should be.
                throw new RealizeException($"{peer.Name} at {address} closed the connection without a welcome: it probably does not know this peer; add it there with 'realize peer add NAME {identity.Id}'", e);
            }
            switch (welcome)
            {
                case Welcome { Accepted: true, Version: Wire.Version }:
                    handedOver = true;
                    return link;
                case Welcome { Accepted: true } w:
                    throw new RealizeException($"{peer.Name} speaks protocol version {w.Version}, this realize {Wire.Version}: upgrade the older one");
                case Welcome w:
                    throw new RealizeException($"{peer.Name} refused the connection: {w.Reason}");
                default:
                    throw new ProtocolException($"{peer.Name} sent {welcome.GetType().Name} instead of a welcome");
            }
        }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
        {
            throw new RealizeException($"{peer.Name} at {address} did not complete the handshake within {options.HandshakeTimeout.TotalSeconds:0} s");
        }
        finally
        {
            if (handedOver)
            {
                // The link owns the stream now.
            }
            else if (ssl is not null)
            {
                await ssl.DisposeAsync();
            }
            else
            {
                socket.Dispose();
            }
        }
    }

    /// <summary>The outcome of an incoming connection: a link, or why it was refused (to log), and the unknown peer ID that was.</summary>
    public sealed record Accepted(Link? Link, string? Refusal, PeerId? Unknown = null);

    /// <summary>Takes an incoming connection through TLS, its tag and the welcome.</summary>
    public static async Task<Accepted> AcceptAsync(Socket socket, Func<PeerId, PeerConfig?> findPeer, PeerIdentity identity, LinkOptions options, CancellationToken cancellation)
    {
        EndPoint? from = socket.RemoteEndPoint;
        var buffered = new BufferedDuplexStream(new NetworkStream(socket, ownsSocket: true));
        var ssl = new SslStream(buffered, leaveInnerStreamOpen: false);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        timeout.CancelAfter(options.HandshakeTimeout);
        PeerId? seen = null;
        PeerConfig? peer = null;
        bool handedOver = false;
        try
        {
            try
            {
                await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
                {
                    ServerCertificateContext = identity.Context,
                    ClientCertificateRequired = true,
                    EnabledSslProtocols = SslProtocols.Tls13,
                    CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                    RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                    {
                        if (certificate is null)
                        {
                            return false;
                        }
                        seen = PeerIdentity.IdOf(certificate);
                        peer = findPeer(seen.Value);
                        return peer is not null;
                    },
                }, timeout.Token);
            }
            catch (AuthenticationException e)
            {
                return seen is { } unknown && peer is null
                    ? new Accepted(null, $"refused a connection from {from}: peer ID {unknown} is not in realize.toml (to let it in: realize peer add NAME {unknown})", unknown)
                    : new Accepted(null, $"refused a connection from {from}: TLS failed ({e.Message})");
            }
            buffered.CoalesceWrites = true;
            // From the certificate the session ended with, not from what the callback saw last.
            peer = ssl.RemoteCertificate is { } remote ? findPeer(PeerIdentity.IdOf(remote)) : null;
            if (peer is null)
            {
                return new Accepted(null, $"refused a connection from {from}: no known certificate after TLS");
            }
            byte[] tagBytes = new byte[4];
            if (await ssl.ReadAtLeastAsync(tagBytes, 4, throwOnEndOfStream: false, timeout.Token) < 4)
            {
                return new Accepted(null, $"{peer.Name} ({from}) closed the connection before its tag");
            }
            string tag = Encoding.ASCII.GetString(tagBytes);
            var link = new Link(ssl, peer, tag, options);
            if (tag is not (Receive or Send or Blob))
            {
                string printable = new(tag.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '?').ToArray());
                await link.WriteAsync(new Welcome(Wire.Version, false, $"unknown tag '{printable}' (this peer speaks {Receive}, {Send} and {Blob})"), timeout.Token);
                return new Accepted(null, $"refused a connection from {peer.Name} ({from}): unknown tag '{printable}'");
            }
            await link.WriteAsync(new Welcome(Wire.Version, true, null), timeout.Token);
            handedOver = true;
            return new Accepted(link, null);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException && !cancellation.IsCancellationRequested)
        {
            return new Accepted(null, $"dropped a connection from {peer?.Name ?? from?.ToString()} during its handshake: {(e is OperationCanceledException ? $"not done within {options.HandshakeTimeout.TotalSeconds:0} s" : e.Message)}");
        }
        finally
        {
            if (!handedOver)
            {
                await ssl.DisposeAsync();
            }
        }
    }
}
