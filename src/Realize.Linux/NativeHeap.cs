namespace Realize.Linux;

/// <summary>The C heap of this process (SQLite's pages, OpenSSL's buffers): glibc keeps what was freed.</summary>
public static class NativeHeap
{
    /// <summary>
    /// malloc_trim(3): returns the free memory at the top of the C heap and in every arena to the
    /// kernel. True when some was returned.
    /// </summary>
    public static bool Trim() => Interop.malloc_trim(0) != 0;
}
