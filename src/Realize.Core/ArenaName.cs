using System.Diagnostics.CodeAnalysis;

namespace Realize.Core;

/// <summary>The name of an arena: <c>[A-Za-z0-9._-]{1,64}</c>, not <c>.</c> or <c>..</c>.</summary>
public readonly record struct ArenaName
{
    private ArenaName(string value) => Value = value;

    /// <summary>The validated name.</summary>
    public string Value { get; }

    /// <summary>Parses <paramref name="text"/>, or explains why it is not an arena name.</summary>
    public static bool TryParse(string? text, out ArenaName name, [NotNullWhen(false)] out string? error)
    {
        name = default;
        if (string.IsNullOrEmpty(text) || text.Length > 64)
        {
            error = "an arena name has 1 to 64 characters";
            return false;
        }
        if (text is "." or "..")
        {
            error = "an arena name cannot be '.' or '..'";
            return false;
        }
        foreach (char c in text)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
            {
                error = $"an arena name uses only letters, digits, '.', '_' and '-' (found '{c}')";
                return false;
            }
        }
        name = new ArenaName(text);
        error = null;
        return true;
    }

    /// <summary>Parses <paramref name="text"/>; throws <see cref="FormatException"/> when it is invalid.</summary>
    public static ArenaName Parse(string text) =>
        TryParse(text, out ArenaName name, out string? error) ? name : throw new FormatException($"invalid arena name '{text}': {error}");

    /// <inheritdoc/>
    public override string ToString() => Value ?? "";
}
