using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;

namespace Realize.Core;

/// <summary>
/// The content hash of a blob: SHA-256 over the concatenation of the SHA-256 of each
/// 4 MiB block (an empty file hashes the empty string). Shown as 64 lowercase hex digits;
/// held as its 32 bytes, so that indexes of many files stay small.
/// </summary>
public readonly record struct BlobHash
{
    /// <summary>Size of the blocks hashed separately.</summary>
    public const int BlockSize = 4 * 1024 * 1024;

    private readonly ulong _a;
    private readonly ulong _b;
    private readonly ulong _c;
    private readonly ulong _d;

    private BlobHash(ReadOnlySpan<byte> bytes)
    {
        _a = BinaryPrimitives.ReadUInt64BigEndian(bytes);
        _b = BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]);
        _c = BinaryPrimitives.ReadUInt64BigEndian(bytes[16..]);
        _d = BinaryPrimitives.ReadUInt64BigEndian(bytes[24..]);
    }

    /// <summary>The hash as 64 lowercase hex digits.</summary>
    public string Hex
    {
        get
        {
            Span<byte> bytes = stackalloc byte[32];
            WriteBytes(bytes);
            return Convert.ToHexStringLower(bytes);
        }
    }

    /// <summary>Builds a hash from its 32 bytes.</summary>
    public static BlobHash FromBytes(ReadOnlySpan<byte> bytes) =>
        bytes.Length == 32 ? new BlobHash(bytes) : throw new ArgumentException("a blob hash has 32 bytes", nameof(bytes));

    /// <summary>Writes the 32 bytes of the hash.</summary>
    public void WriteBytes(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, _a);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], _b);
        BinaryPrimitives.WriteUInt64BigEndian(destination[16..], _c);
        BinaryPrimitives.WriteUInt64BigEndian(destination[24..], _d);
    }

    /// <summary>Parses 64 hex digits (either case).</summary>
    public static bool TryParse([NotNullWhen(true)] string? text, out BlobHash hash)
    {
        hash = default;
        if (text is null || text.Length != 64)
        {
            return false;
        }
        foreach (char c in text)
        {
            if (!char.IsAsciiHexDigit(c))
            {
                return false;
            }
        }
        Span<byte> bytes = stackalloc byte[32];
        Convert.FromHexString(text, bytes, out _, out _);
        hash = new BlobHash(bytes);
        return true;
    }

    /// <summary>Parses 64 hex digits; throws <see cref="FormatException"/> otherwise.</summary>
    public static BlobHash Parse(string text) =>
        TryParse(text, out BlobHash hash) ? hash : throw new FormatException("a blob hash is 64 hex digits");

    /// <inheritdoc/>
    public override string ToString() => Hex;
}
