using System.Diagnostics.CodeAnalysis;

namespace Realize.Core;

/// <summary>
/// The content hash of a blob: SHA-256 over the concatenation of the SHA-256 of each
/// 4 MiB block (an empty file hashes the empty string). Shown as 64 lowercase hex digits.
/// </summary>
public readonly record struct BlobHash
{
    /// <summary>Size of the blocks hashed separately.</summary>
    public const int BlockSize = 4 * 1024 * 1024;

    private readonly string? _hex;

    private BlobHash(string hex) => _hex = hex;

    /// <summary>The hash as 64 lowercase hex digits.</summary>
    public string Hex => _hex ?? throw new InvalidOperationException("default BlobHash");

    /// <summary>Builds a hash from its 32 bytes.</summary>
    public static BlobHash FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != 32)
        {
            throw new ArgumentException("a blob hash has 32 bytes", nameof(bytes));
        }
        return new BlobHash(Convert.ToHexStringLower(bytes));
    }

    /// <summary>Parses 64 hex digits (either case).</summary>
    public static bool TryParse(string? text, out BlobHash hash)
    {
        hash = default;
        if (text is null || text.Length != 64)
        {
            return false;
        }
        bool lower = true;
        foreach (char c in text)
        {
            if (!char.IsAsciiHexDigit(c))
            {
                return false;
            }
            lower &= !char.IsAsciiLetterUpper(c);
        }
        hash = new BlobHash(lower ? text : text.ToLowerInvariant());
        return true;
    }

    /// <summary>Parses 64 hex digits; throws <see cref="FormatException"/> otherwise.</summary>
    public static BlobHash Parse(string text) =>
        TryParse(text, out BlobHash hash) ? hash : throw new FormatException("a blob hash is 64 hex digits");

    /// <inheritdoc/>
    public override string ToString() => _hex ?? "";

    /// <summary>Tries to parse, returning null when <paramref name="text"/> is null.</summary>
    [return: NotNullIfNotNull(nameof(text))]
    public static BlobHash? ParseOrNull(string? text) => text is null ? null : Parse(text);
}
