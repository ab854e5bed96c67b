using System.Globalization;
using System.Text;
using Tomlyn;
using Tomlyn.Model;

namespace Realize.Core;

/// <summary>One arena declared in <c>realize.toml</c>.</summary>
/// <param name="Name">The arena's name, a top-level directory of the merged view.</param>
/// <param name="PlainPath">For a plain-directory arena, the directory shared as it is.</param>
public sealed record ArenaConfig(ArenaName Name, string? PlainPath = null);

/// <summary>
/// The content of a store's <c>realize.toml</c>. Parsing validates every value, so code
/// holding a <see cref="StoreConfig"/> never sees a bad arena name or a relative path.
/// </summary>
public sealed record StoreConfig
{
    /// <summary>Where the merged view is mounted; null when the store has none.</summary>
    public string? Mount { get; init; }

    /// <summary>A directory used as the overlay's lower layer instead of the Unreal.</summary>
    public string? Lower { get; init; }

    /// <summary>The arenas, in the order they were declared.</summary>
    public IReadOnlyList<ArenaConfig> Arenas { get; init; } = [];

    /// <summary>Finds an arena by name.</summary>
    public ArenaConfig? FindArena(ArenaName name) => Arenas.FirstOrDefault(a => a.Name == name);

    /// <summary>Parses TOML text; throws <see cref="FormatException"/> with a one-line reason.</summary>
    public static StoreConfig Parse(string toml)
    {
        TomlTable table;
        try
        {
            table = TomlSerializer.Deserialize<TomlTable>(toml) ?? new TomlTable();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new FormatException($"realize.toml is not valid TOML: {FirstLine(e.Message)}", e);
        }

        var arenas = new List<ArenaConfig>();
        if (table.TryGetValue("arenas", out object? arenasValue))
        {
            if (arenasValue is not TomlTable arenaTables)
            {
                throw new FormatException("realize.toml: 'arenas' must be a table of [arenas.NAME] sections");
            }
            foreach (var (key, value) in arenaTables)
            {
                if (!ArenaName.TryParse(key, out ArenaName name, out string? error))
                {
                    throw new FormatException($"realize.toml: arena '{key}': {error}");
                }
                if (value is not TomlTable arena)
                {
                    throw new FormatException($"realize.toml: arena '{key}' must be a table");
                }
                arenas.Add(new ArenaConfig(name, OptionalAbsolutePath(arena, "path", $"arenas.{key}.path")));
            }
        }
        return new StoreConfig
        {
            Mount = OptionalAbsolutePath(table, "mount", "mount"),
            Lower = OptionalAbsolutePath(table, "lower", "lower"),
            Arenas = arenas,
        };
    }

    /// <summary>Writes the configuration as TOML.</summary>
    public string ToToml()
    {
        var text = new StringBuilder();
        text.Append("# Realize store configuration. See `realize --help`.\n");
        if (Mount is not null)
        {
            text.Append(CultureInfo.InvariantCulture, $"mount = {Quote(Mount)}\n");
        }
        if (Lower is not null)
        {
            text.Append(CultureInfo.InvariantCulture, $"lower = {Quote(Lower)}\n");
        }
        foreach (var arena in Arenas)
        {
            text.Append(CultureInfo.InvariantCulture, $"\n[arenas.{Quote(arena.Name.Value)}]\n");
            if (arena.PlainPath is not null)
            {
                text.Append(CultureInfo.InvariantCulture, $"path = {Quote(arena.PlainPath)}\n");
            }
        }
        return text.ToString();
    }

    private static string? OptionalAbsolutePath(TomlTable table, string key, string what)
    {
        if (!table.TryGetValue(key, out object? value))
        {
            return null;
        }
        if (value is not string path || !Path.IsPathFullyQualified(path))
        {
            throw new FormatException($"realize.toml: '{what}' must be an absolute path in quotes");
        }
        return path;
    }

    private static string Quote(string value)
    {
        var text = new StringBuilder("\"");
        foreach (char c in value)
        {
            switch (c)
            {
                case '"': text.Append("\\\""); break;
                case '\\': text.Append("\\\\"); break;
                case < ' ' or '\u007f': text.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:X4}"); break;
                default: text.Append(c); break;
            }
        }
        return text.Append('"').ToString();
    }

    private static string FirstLine(string message) => message.Split('\n')[0].Trim();
}
