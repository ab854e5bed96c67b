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
}
