using Realize.Core;
using Realize.Real;

namespace Realize.TestSupport;

/// <summary>Plain-directory arenas as <c>realize arena add NAME --path DIR</c> makes them: declared, with their marker.</summary>
public static class PlainArenas
{
    /// <summary>Creates <paramref name="directory"/> when missing, writes the arena's marker into it and returns its declaration.</summary>
    public static ArenaConfig Marked(string name, string directory, IReadOnlyList<string>? sharedWith = null)
    {
        var arena = ArenaName.Parse(name);
        Directory.CreateDirectory(directory);
        ArenaMarker.Write(directory, arena);
        return new ArenaConfig(arena, directory, sharedWith);
    }

    /// <inheritdoc cref="Marked(string, string, IReadOnlyList{string})"/>
    public static ArenaConfig Marked(ArenaName arena, string directory, IReadOnlyList<string>? sharedWith = null) =>
        Marked(arena.Value, directory, sharedWith);
}
