using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Realize.Network.Tests;

/// <summary>
/// A peer written by hand for the protocol tests: real TLS over loopback with a real
/// certificate, then whatever bytes a test wants to send, well-formed or not.
/// </summary>
internal sealed class RawClient : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly SslStream _ssl;

    private RawClient(Socket socket, SslStream ssl)
    {
        _socket = socket;
        _ssl = ssl;
    }

    /// <summary>Connects with <paramref name="identity"/>'s certificate and writes <paramref name="tag"/>; the welcome is left to read.</summary>
    public static async Task<RawClient> ConnectAsync(IPEndPoint endpoint, PeerIdentity identity, string tag, Core.PeerId? expected = null)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(endpoint);
        var ssl = new SslStream(new NetworkStream(socket, ownsSocket: true));
        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "realize",
            EnabledSslProtocols = SslProtocols.Tls13,
            ClientCertificateContext = SslStreamCertificateContext.Create(identity.Certificate, null, offline: true),
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate is not null && (expected is null || PeerIdentity.IdOf(certificate) == expected),
        });
        var client = new RawClient(socket, ssl);
        await client.SendRawAsync(Encoding.ASCII.GetBytes(tag));
        return client;
    }

    /// <summary>The history id the hand-written senders claim.</summary>
    public const long History = 7;

    /// <summary>Connects, reads an accepting welcome and exchanges arena lists (positions of history <see cref="History"/>); returns the listener's list.</summary>
    public static Task<(RawClient Client, ArenaList Theirs)> OpenAsync(IPEndPoint endpoint, PeerIdentity identity, string tag, params (Core.ArenaName, long)[] ours) =>
        OpenAsync(endpoint, identity, tag, ours.Select(a => new ArenaPosition(a.Item1, a.Item2, History)).ToArray());

    /// <summary>Connects, reads an accepting welcome and exchanges arena lists; returns the listener's list.</summary>
    public static async Task<(RawClient Client, ArenaList Theirs)> OpenAsync(IPEndPoint endpoint, PeerIdentity identity, string tag, params ArenaPosition[] ours)
    {
        var client = await ConnectAsync(endpoint, identity, tag);
        var welcome = Assert.IsType<Welcome>(await client.ReadAsync());
        Assert.True(welcome.Accepted, welcome.Reason);
        await client.SendAsync(new ArenaList(ours));
        return (client, Assert.IsType<ArenaList>(await client.ReadAsync()));
    }

    public async Task SendAsync(params Message[] messages)
    {
        var buffer = new ArrayBufferWriter<byte>();
        foreach (var message in messages)
        {
            Wire.WriteFrame(buffer, message);
        }
        await SendRawAsync(buffer.WrittenMemory);
    }

    /// <summary>A frame with this payload, whatever it holds.</summary>
    public Task SendFrameAsync(byte[] payload)
    {
        byte[] frame = new byte[4 + payload.Length];
        BinaryPrimitives.WriteInt32BigEndian(frame, payload.Length);
        payload.CopyTo(frame, 4);
        return SendRawAsync(frame);
    }

    /// <summary>Writes a MessagePack payload by hand, for frames no <see cref="Message"/> encodes.</summary>
    public delegate void PayloadWriter(ref MessagePack.MessagePackWriter writer);

    /// <summary>The bytes <paramref name="write"/> writes.</summary>
    public static byte[] Payload(PayloadWriter write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePack.MessagePackWriter(buffer);
        write(ref writer);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Sends one of the bad frames every connection must refuse, whatever its tag: "frame over the
    /// size limit", "undecodable bytes", "unknown message type"; false for any other input.
    /// </summary>
    public async Task<bool> TrySendBadFrameAsync(string input)
    {
        switch (input)
        {
            case "frame over the size limit":
                // Only the length: the listener must refuse it before reading (or allocating) 100 MB.
                await SendRawAsync(new byte[] { 0x06, 0x40, 0x00, 0x00 });
                return true;
            case "undecodable bytes":
                await SendFrameAsync([0xc1, 0xff, 0x00, 0x13]);
                return true;
            case "unknown message type":
                await SendFrameAsync(Payload((ref MessagePack.MessagePackWriter w) =>
                {
                    w.WriteArrayHeader(2);
                    w.Write(99);
                    w.Write("?");
                }));
                return true;
            default:
                return false;
        }
    }

    public async Task SendRawAsync(ReadOnlyMemory<byte> bytes)
    {
        await _ssl.WriteAsync(bytes);
        await _ssl.FlushAsync();
    }

    /// <summary>The next message but pings; null when the other side closed the connection.</summary>
    public async Task<Message?> ReadAsync(TimeSpan? deadline = null)
    {
        using var timeout = new CancellationTokenSource(deadline ?? TimeSpan.FromSeconds(30));
        byte[] header = new byte[4];
        while (true)
        {
            try
            {
                if (await _ssl.ReadAtLeastAsync(header, 4, throwOnEndOfStream: false, timeout.Token) < 4)
                {
                    return null;
                }
                byte[] payload = new byte[BinaryPrimitives.ReadInt32BigEndian(header)];
                if (await _ssl.ReadAtLeastAsync(payload, payload.Length, throwOnEndOfStream: false, timeout.Token) < payload.Length)
                {
                    return null;
                }
                var message = Wire.Decode(payload);
                if (message is not Ping)
                {
                    return message;
                }
            }
            catch (IOException)
            {
                // Reset, or a TLS alert: closed all the same.
                return null;
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested)
            {
                throw new TimeoutException($"nothing from the listener within {(deadline ?? TimeSpan.FromSeconds(30)).TotalSeconds:0} s");
            }
        }
    }

    /// <summary>Reads until the other side closes; fails when it sends anything but pings first.</summary>
    public async Task AssertClosedAsync(TimeSpan? deadline = null)
    {
        var message = await ReadAsync(deadline);
        Assert.True(message is null, $"the listener sent {message} instead of closing the connection");
    }

    public async ValueTask DisposeAsync()
    {
        await _ssl.DisposeAsync();
        _socket.Dispose();
    }
}
