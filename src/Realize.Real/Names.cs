using System.Diagnostics.CodeAnalysis;
using System.Text;

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

    /// <summary><paramref name="parent"/>/<paramref name="name"/>, where "" is the root.</summary>
    public static string Join(string parent, string name) => parent.Length == 0 ? name : parent + "/" + name;

    /// <summary>The parent of <paramref name="path"/>; "" for a top-level name.</summary>
    public static string Parent(string path)
    {
        int slash = path.LastIndexOf('/');
        return slash < 0 ? "" : path[..slash];
    }
}
