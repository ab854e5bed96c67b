namespace Realize.Storage;

/// <summary>
/// A young-generation collection once a thread has allocated 8 MB since the last one. The GC
/// sizes its young generation from the CPU cache, which this kind of VM does not report, and
/// then lets some 100 MB of short-lived garbage pile up before collecting: that, not the data
/// kept, set the peak memory of a scan of 100,000 files (and of receiving a long history).
/// Used on the hot paths of scans, and of sending and receiving history.
/// </summary>
public struct GarbageBound
{
    private const long Budget = 8 * 1024 * 1024;
    private long _mark;
    private int _collections;
    private bool _process;

    /// <summary>Starts counting from what this thread has allocated so far.</summary>
    public static GarbageBound Start() => new() { _mark = GC.GetAllocatedBytesForCurrentThread() };

    /// <summary>Starts counting what the whole process allocates: for async code, which moves between threads.</summary>
    public static GarbageBound StartForProcess() => new() { _mark = GC.GetTotalAllocatedBytes(), _process = true };

    private readonly long Allocated => _process ? GC.GetTotalAllocatedBytes() : GC.GetAllocatedBytesForCurrentThread();

    /// <summary>Collects when more than the budget was allocated since the last call that did.</summary>
    public void Check()
    {
        if (Allocated - _mark > Budget)
        {
            // Mostly gen0, which is cheap next to a large live set; every fourth also gen1,
            // or what survives one gen0 collection piles up there instead.
            GC.Collect(++_collections % 4 == 0 ? 1 : 0, GCCollectionMode.Forced, blocking: true, compacting: false);
            _mark = Allocated;
        }
    }
}
