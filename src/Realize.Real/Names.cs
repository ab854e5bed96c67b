using System.Diagnostics.CodeAnalysis;
using System.Text;
using Realize.Core;

namespace Realize.Real;

/// <summary>File names as bytes from the kernel, turned into the UTF-8 strings of <c>RelPath</c>.</summary>
internal static class Names
{
    private static readonly UTF8Encoding s_strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Decodes a name; false when it is not valid UTF-8 (such a file cannot be shared).</summary>
    public static bool TryDecode(ReadOnlySpan<byte> bytes, [NotNullWhen(true)] out string? name)
    {
        try
        {
            name = s_strict.GetString(bytes);
            return true;
        }
        catch (DecoderFallbackException)
        {
            name = null;
            return false;
        }
    }

    // UpperScanner still calls these two; once it calls RelPaths, they go.

    /// <inheritdoc cref="RelPaths.Join(string, string)"/>
    public static string Join(string parent, string name) => RelPaths.Join(parent, name);

    /// <inheritdoc cref="RelPaths.Parent(string)"/>
    public static string Parent(string path) => RelPaths.Parent(path);

    /// <summary>True when <paramref name="path"/> lies below <paramref name="root"/> ("" is the arena's root), not at it.</summary>
    public static bool IsStrictlyBelow(string path, string root) => RelPaths.IsBelow(path, root);

    /// <summary>True when <paramref name="path"/> or a directory above it (not the arena's root "") is in <paramref name="paths"/>.</summary>
    public static bool IsAtOrBelowAny(string path, HashSet<string> paths)
    {
        if (paths.Count == 0)
        {
            return false;
        }
        for (string at = path; at.Length > 0; at = Parent(at))
        {
            if (paths.Contains(at))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>The paths of <paramref name="paths"/> that lie below no other of them, in order.</summary>
    public static string[] Outermost(IReadOnlyCollection<string> paths)
    {
        var all = paths.ToHashSet(StringComparer.Ordinal);
        return all.Where(path =>
        {
            for (string parent = path; parent.Length > 0;)
            {
                parent = Parent(parent);
                if (all.Contains(parent) && parent.Length > 0)
                {
                    return false;
                }
            }
            return true;
        }).Order(StringComparer.Ordinal).ToArray();
    }

    /// <summary>
    /// Compares two paths in the byte order of their UTF-8 (SQLite's BINARY collation, the order of
    /// the <c>files</c> key), which differs from UTF-16's ordinal order only where a character
    /// beyond U+FFFF meets one from U+E000 to U+FFFF.
    /// </summary>
    public static int CompareUtf8(string a, string b)
    {
        int common = Math.Min(a.Length, b.Length);
        for (int i = 0; i < common; i++)
        {
            char x = a[i], y = b[i];
            if (x != y)
            {
                return Utf8Rank(x) - Utf8Rank(y);
            }
        }
        return a.Length - b.Length;
    }

    // Surrogates (U+D800 to U+DFFF, the halves of characters beyond U+FFFF) rank above U+FFFF, as their UTF-8 does.
    private static int Utf8Rank(char c) => c < 0xD800 ? c : c < 0xE000 ? c + 0x2000 : c - 0x800;
}
