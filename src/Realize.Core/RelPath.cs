using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace Realize.Core;

/// <summary>
/// A path relative to its arena: <c>/</c>-separated UTF-8, no empty, <c>.</c> or <c>..</c>
/// segment, no NUL, each segment at most 255 bytes, the whole at most 4096 bytes.
/// </summary>
public readonly record struct RelPath
{
    /// <summary>Longest path, in UTF-8 bytes.</summary>
    public const int MaxBytes = 4096;

    /// <summary>Longest segment, in UTF-8 bytes.</summary>
    public const int MaxSegmentBytes = 255;

    private RelPath(string value) => Value = value;

    /// <summary>The validated path.</summary>
    public string Value { get; }

    /// <summary>Parses <paramref name="text"/>, or explains why it is not a valid path.</summary>
    public static bool TryParse(string? text, out RelPath path, [NotNullWhen(false)] out string? error)
    {
        path = default;
        if (string.IsNullOrEmpty(text))
        {
            error = "the path is empty";
            return false;
        }
        if (Encoding.UTF8.GetByteCount(text) > MaxBytes)
        {
            error = $"the path is longer than {MaxBytes} bytes";
            return false;
        }
        if (text.Contains('\0', StringComparison.Ordinal))
        {
            error = "the path contains NUL";
            return false;
        }
        foreach (var segment in text.Split('/'))
        {
            if (segment.Length == 0)
            {
                error = text.StartsWith('/') ? "the path is absolute" : "the path has an empty segment";
                return false;
            }
            if (segment is "." or "..")
            {
                error = $"the path has a '{segment}' segment";
                return false;
            }
            if (Encoding.UTF8.GetByteCount(segment) > MaxSegmentBytes)
            {
                error = $"a segment is longer than {MaxSegmentBytes} bytes";
                return false;
            }
        }
        path = new RelPath(text);
        error = null;
        return true;
    }

    /// <summary>Parses <paramref name="text"/>; throws <see cref="FormatException"/> when it is invalid.</summary>
    public static RelPath Parse(string text) =>
        TryParse(text, out RelPath path, out string? error) ? path : throw new FormatException($"invalid path: {error}");

    /// <summary>The last segment: the file or directory name.</summary>
    public string Name => RelPaths.Name(Value);

    /// <summary>The directory holding this path; null for a top-level name (its parent is the arena's root).</summary>
    public RelPath? Parent => Value.Contains('/', StringComparison.Ordinal) ? new RelPath(RelPaths.Parent(Value)) : null;

    /// <summary>
    /// <paramref name="child"/> (one name, or a relative path of several) inside this path; throws
    /// <see cref="FormatException"/> when it is not a valid relative path or the result is too long.
    /// </summary>
    public RelPath Join(string child)
    {
        if (!TryParse(child, out _, out string? error))
        {
            throw new FormatException($"invalid path to join below '{Value}': {error}");
        }
        return Parse(RelPaths.Join(Value, child));
    }

    /// <inheritdoc cref="Join(string)"/>
    public RelPath Join(RelPath child) => Parse(RelPaths.Join(Value, child.Value));

    /// <summary>True when this path is <paramref name="root"/> or inside it (whole segments: <c>a/b.txt</c> is not below <c>a/b</c>).</summary>
    public bool IsAtOrBelow(RelPath root) => RelPaths.IsAtOrBelow(Value, root.Value);

    /// <summary>True when this path is inside <paramref name="root"/>, not <paramref name="root"/> itself.</summary>
    public bool IsBelow(RelPath root) => RelPaths.IsBelow(Value, root.Value);

    /// <summary>True when this path is one of <paramref name="roots"/> or inside one.</summary>
    public bool IsAtOrBelowAny(IEnumerable<RelPath> roots) => roots.Any(IsAtOrBelow);

    /// <summary>True when this path is inside one of <paramref name="roots"/> (being one of them is not enough).</summary>
    public bool IsBelowAny(IEnumerable<RelPath> roots) => roots.Any(IsBelow);

    /// <inheritdoc/>
    public override string ToString() => Value ?? "";
}
