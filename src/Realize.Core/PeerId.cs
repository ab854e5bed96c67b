using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;

namespace Realize.Core;

/// <summary>
/// A peer's identity: the SHA-256 of its certificate's SubjectPublicKeyInfo, shown as 52
/// characters of unpadded RFC 4648 base32 in 13 dash-separated groups of 4. Parsing ignores
/// dashes, spaces and case.
/// </summary>
public readonly record struct PeerId
{
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    private readonly string? _text;

    private PeerId(string text) => _text = text;

    /// <summary>The peer ID of a public key given as DER SubjectPublicKeyInfo.</summary>
    public static PeerId FromSubjectPublicKeyInfo(ReadOnlySpan<byte> spki) => FromDigest(SHA256.HashData(spki));

    /// <summary>Parses a peer ID typed by a user.</summary>
    public static bool TryParse(string? text, out PeerId id)
    {
        id = default;
        if (text is null)
        {
            return false;
        }
        var compact = new StringBuilder(52);
        foreach (char c in text)
        {
            if (c is '-' or ' ')
            {
                continue;
            }
            char upper = char.ToUpperInvariant(c);
            if (!Alphabet.Contains(upper, StringComparison.Ordinal))
            {
                return false;
            }
            compact.Append(upper);
        }
        if (compact.Length != 52)
        {
            return false;
        }
        // 52 characters carry 260 bits; the last 4 must be zero padding.
        if ((Alphabet.IndexOf(compact[51], StringComparison.Ordinal) & 0x0F) != 0)
        {
            return false;
        }
        id = new PeerId(Group(compact.ToString()));
        return true;
    }

    /// <summary>Parses a peer ID; throws <see cref="FormatException"/> otherwise.</summary>
    public static PeerId Parse(string text) =>
        TryParse(text, out PeerId id) ? id : throw new FormatException("a peer ID is 52 base32 characters (A-Z, 2-7), dashes optional");

    /// <inheritdoc/>
    public override string ToString() => _text ?? "";

    [SuppressMessage("Style", "IDE0057", Justification = "explicit bit twiddling reads better")]
    private static PeerId FromDigest(ReadOnlySpan<byte> digest)
    {
        var text = new StringBuilder(52);
        int buffer = 0;
        int bits = 0;
        foreach (byte b in digest)
        {
            buffer = (buffer << 8) | b;
            bits += 8;
            while (bits >= 5)
            {
                text.Append(Alphabet[(buffer >> (bits - 5)) & 31]);
                bits -= 5;
            }
        }
        if (bits > 0)
        {
            text.Append(Alphabet[(buffer << (5 - bits)) & 31]);
        }
        return new PeerId(Group(text.ToString()));
    }

    private static string Group(string compact) => string.Join('-', compact.Chunk(4).Select(chunk => new string(chunk)));
}
