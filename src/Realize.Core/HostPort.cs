using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Realize.Core;

/// <summary>
/// A network address as realize.toml and the CLI write it, HOST:PORT: a host name, an IPv4
/// address, an IPv6 address in brackets (<c>[::1]:7800</c>), or <c>*</c> for every address
/// of this host (to listen on); a port from 1 to 65535. The host is resolved when used.
/// </summary>
public readonly record struct HostPort
{
    /// <summary>The host that stands for every address of this host, when listening.</summary>
    public const string AnyHost = "*";

    private HostPort(string host, int port)
    {
        Host = host;
        Port = port;
    }

    /// <summary>The host, without the brackets of an IPv6 address.</summary>
    public string Host { get; }

    /// <summary>The port, from 1 to 65535.</summary>
    public int Port { get; }

    /// <summary>True for <c>*:PORT</c>: every address of this host.</summary>
    public bool IsAnyHost => Host == AnyHost;

    /// <summary>Parses <paramref name="text"/>, or explains in one line, naming it, why it is not HOST:PORT.</summary>
    public static bool TryParse(string? text, out HostPort address, [NotNullWhen(false)] out string? error)
    {
        address = default;
        int colon = text?.LastIndexOf(':') ?? -1;
        if (text is null || colon <= 0
            || !int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port is < 1 or > 65535)
        {
            error = $"'{text}' is not HOST:PORT with a port from 1 to 65535";
            return false;
        }
        string host = text[..colon];
        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            host = host[1..^1];
            if (!IPAddress.TryParse(host, out var literal) || literal.AddressFamily != AddressFamily.InterNetworkV6)
            {
                error = $"'{text}': only an IPv6 address goes in brackets, as in [::1]:7800";
                return false;
            }
        }
        else if (host.Contains(':', StringComparison.Ordinal))
        {
            error = $"'{text}': an IPv6 address goes in brackets, as in [::1]:7800";
            return false;
        }
        else if (host.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c is '[' or ']' or '/'))
        {
            error = $"'{text}': '{host}' is not a host name or address";
            return false;
        }
        address = new HostPort(host, port);
        error = null;
        return true;
    }

    /// <summary>Parses <paramref name="text"/>; throws <see cref="FormatException"/> with the one-line reason when it is not HOST:PORT.</summary>
    public static HostPort Parse(string? text) =>
        TryParse(text, out var address, out string? error) ? address : throw new FormatException(error);

    /// <summary>HOST:PORT, with an IPv6 host in brackets again: what <see cref="Parse"/> reads back.</summary>
    public override string ToString() =>
        Host is null ? "" : string.Create(CultureInfo.InvariantCulture, $"{(Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]" : Host)}:{Port}");
}
