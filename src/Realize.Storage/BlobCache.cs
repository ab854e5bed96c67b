using Microsoft.Win32.SafeHandles;
using Realize.Core;

namespace Realize.Storage;

/// <summary>A blob of the cache: its size, and how many of its blocks are there.</summary>
public sealed record CachedBlob(BlobHash Blob, long Size, bool Complete, int BlocksPresent, int Blocks);

/// <summary>The cache as <c>realize cache</c> shows it.</summary>
/// <param name="BytesUsed">Bytes of the blocks in the cache.</param>
/// <param name="Quota">The most it keeps: least recently used blobs go first beyond it.</param>
/// <param name="Complete">Blobs with every block.</param>
/// <param name="Partial">Blobs with some blocks.</param>
/// <param name="Held">Blobs open now, never evicted.</param>
/// <param name="Hits">Opens of a blob complete in the cache since it was opened.</param>
/// <param name="Misses">Opens of a blob not complete.</param>
/// <param name="Evicted">Blobs evicted to stay under the quota since it was opened.</param>
public sealed record CacheStats(long BytesUsed, long Quota, int Complete, int Partial, int Held, long Hits, long Misses, long Evicted);

/// <summary>
/// The blob cache (DESIGN.md "The Unreal"): <c>unreal/blobs/</c>, one file per blob named by its
/// hash, written block by block (each verified by the caller before it is written), with the
/// blocks present and the last use recorded in unreal.db so that it survives restarts. Least
/// recently used blobs are evicted to stay under the quota, never one held open. Thread-safe.
/// </summary>
public sealed class BlobCache : IDisposable
{
    // How often a blob's last use is written to unreal.db, at most (eviction needs no finer order).
    private static readonly long s_touchPersistNs = TimeSpan.FromMinutes(1).Ticks * 100;

    private readonly string _directory;
    private readonly UnrealDb _db;
    // Guards every field below and the use of _db.
    private readonly Lock _gate = new();
    private readonly Dictionary<BlobHash, Entry> _entries = [];
    // Open holds by blob: also for blobs not yet in the cache (an open file whose fetch has not begun).
    private readonly Dictionary<BlobHash, int> _holds = [];
    private long _bytes;
    private long _hits, _misses, _evicted;
    private bool _disposed;

    private BlobCache(string directory, UnrealDb db, long quota)
    {
        _directory = directory;
        _db = db;
        Quota = quota;
    }

    /// <summary>The most bytes kept.</summary>
    public long Quota { get; set; }

    /// <summary>Opens the cache of <paramref name="store"/>, with what an earlier run left in it.</summary>
    public static BlobCache Open(Store store, long quota)
    {
        string directory = Path.Combine(store.UnrealDir, "blobs");
        Directory.CreateDirectory(directory);
        var db = store.OpenUnreal();
        db.RelaxDurability();
        var cache = new BlobCache(directory, db, quota);
        cache.Load();
        return cache;
    }

    private void Load()
    {
        foreach (var row in _db.ReadCachedBlobs())
        {
            string path = PathOf(row.Blob);
            var entry = new Entry(row.Size) { BlockList = row.BlockList, LastUseNs = row.LastUseNs, PersistedUseNs = row.LastUseNs, Arena = row.Arena };
            foreach (int index in row.Blocks.Where(i => i >= 0 && i < entry.Present.Length))
            {
                entry.Present[index] = true;
            }
            // A file gone or of another length than its blob is not trusted.
            if (!File.Exists(path) || new FileInfo(path).Length != row.Size)
            {
                _db.DeleteCachedBlob(row.Blob);
                File.Delete(path);
                continue;
            }
            if (!row.Complete)
            {
                // The blocks of a partial blob were recorded without a sync of their bytes: a
                // power cut may have kept a record and lost its block. Each is checked again.
                VerifyBlocks(row.Blob, path, entry);
            }
            else if (row.Size > 0 && (row.Seal is not { } seal || SealOf(path) != seal))
            {
                // Changed behind the cache's back (or complete before seals were kept): its
                // blocks are checked, the good ones kept, the others fetched again at next use.
                VerifyBlocks(row.Blob, path, entry);
                if (entry.Present.All(p => p) && SealOf(path) is { } now)
                {
                    entry.Seal = now;
                    _db.SaveCachedSeal(row.Blob, now);
                }
                else
                {
                    _db.SaveCachedBlob(row.Blob, row.Size, row.BlockList, complete: false, row.LastUseNs);
                }
            }
            else
            {
                entry.Seal = row.Seal;
            }
            entry.Count = entry.Present.Count(p => p);
            entry.Complete = entry.Count == entry.Present.Length;
            if (entry.Complete && !row.Complete)
            {
                // Every block was written but the mark was lost (a crash before it): sync, then mark.
                using (var handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite))
                {
                    RandomAccess.FlushToDisk(handle);
                    entry.Seal = SealOf(handle);
                }
                _db.SaveCachedBlob(row.Blob, row.Size, row.BlockList, complete: true, row.LastUseNs);
                _db.SaveCachedSeal(row.Blob, entry.Seal.Value);
            }
            _entries[row.Blob] = entry;
            _bytes += entry.Bytes();
        }
        // Files the table does not know (a crash between creating one and recording it) go.
        foreach (string file in Directory.EnumerateFiles(_directory))
        {
            if (!BlobHash.TryParse(Path.GetFileName(file), out var blob) || !_entries.ContainsKey(blob))
            {
                File.Delete(file);
            }
        }
    }

    /// <summary>Unmarks the blocks of a partial blob whose bytes do not match their hash (or cannot be checked: no block list yet).</summary>
    private static void VerifyBlocks(BlobHash blob, string path, Entry entry)
    {
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        byte[] buffer = new byte[BlobHash.BlockSize];
        Span<byte> digest = stackalloc byte[32];
        for (int i = 0; i < entry.Present.Length; i++)
        {
            if (!entry.Present[i])
            {
                continue;
            }
            var block = buffer.AsSpan(0, entry.BlockLength(i));
            bool good = RandomAccess.Read(handle, block, (long)i * BlobHash.BlockSize) == block.Length;
            if (good)
            {
                System.Security.Cryptography.SHA256.HashData(block, digest);
                if (entry.BlockList is { } list && list.Length == entry.Present.Length * 32)
                {
                    good = digest.SequenceEqual(list.AsSpan(i * 32, 32));
                }
                else
                {
                    // One block and no list: the blob is the hash of that block's hash.
                    good = entry.Present.Length == 1 && BlobHash.FromBytes(System.Security.Cryptography.SHA256.HashData(digest)).Equals(blob);
                }
            }
            entry.Present[i] = good;
        }
    }

    /// <summary>
    /// The blob's state in the cache, or null when it has none of it. A complete blob whose file
    /// is gone, no longer of its length, or no longer of its seal (changed behind the cache's back:
    /// any write moves the ctime) is dropped first: it would be opened with passthrough, where
    /// reads never reach the cache, so it is fetched again.
    /// </summary>
    public CachedBlob? Find(BlobHash blob)
    {
        lock (_gate)
        {
            if (!_entries.TryGetValue(blob, out var e))
            {
                return null;
            }
            if (e.Complete && e.Size > 0 && !IsIntact(blob, e))
            {
                _entries.Remove(blob);
                Remove(blob, e);
                return null;
            }
            return new CachedBlob(blob, e.Size, e.Complete, e.Count, e.Present.Length);
        }
    }

    /// <summary>Whether a complete blob's file is still there, of its length, with its seal.</summary>
    private bool IsIntact(BlobHash blob, Entry entry) =>
        Realize.Linux.Stat.TryLstat(PathOf(blob)) is { } status && status.Size == entry.Size
        && (entry.Seal is not { } seal || new CacheSeal(status.Inode, status.CTime.TotalNanoseconds) == seal);

    private static CacheSeal? SealOf(string path) =>
        Realize.Linux.Stat.TryLstat(path) is { } status ? new CacheSeal(status.Inode, status.CTime.TotalNanoseconds) : null;

    private static CacheSeal SealOf(SafeFileHandle handle)
    {
        var status = Realize.Linux.RegularFile.Status(handle);
        return new CacheSeal(status.Inode, status.CTime.TotalNanoseconds);
    }

    /// <summary>Counts an open as a hit (the blob was complete) or a miss.</summary>
    public void Count(bool hit) => Interlocked.Increment(ref hit ? ref _hits : ref _misses);

    /// <summary>Keeps the blob's block list (checked against the blob hash by the caller).</summary>
    public void SetBlockList(BlobHash blob, long size, IReadOnlyList<byte[]> blockHashes)
    {
        byte[] list = [.. blockHashes.SelectMany(h => h)];
        lock (_gate)
        {
            var entry = EntryFor(blob, size);
            entry.BlockList = list;
            _db.SaveCachedBlob(blob, size, list, entry.Complete, entry.LastUseNs);
        }
    }

    /// <summary>The blob's block list, when known.</summary>
    public IReadOnlyList<byte[]>? BlockList(BlobHash blob)
    {
        lock (_gate)
        {
            if (!_entries.TryGetValue(blob, out var e) || e.BlockList is not { } list)
            {
                return null;
            }
            return [.. Enumerable.Range(0, list.Length / 32).Select(i => list.AsSpan(i * 32, 32).ToArray())];
        }
    }

    /// <summary>Records that the blob is fetched for a file of <paramref name="arena"/> (once: the first arena stays).</summary>
    public void NoteArena(BlobHash blob, long size, ArenaName arena)
    {
        lock (_gate)
        {
            var entry = EntryFor(blob, size);
            if (entry.Arena is null)
            {
                entry.Arena = arena;
                _db.SaveCachedArena(blob, arena);
            }
        }
    }

    /// <summary>The arena of the file the blob was fetched for, when recorded: only peers sharing it are served it.</summary>
    public ArenaName? ArenaOf(BlobHash blob)
    {
        lock (_gate)
        {
            return _entries.TryGetValue(blob, out var e) ? e.Arena : null;
        }
    }

    /// <summary>Whether block <paramref name="index"/> of the blob is in the cache.</summary>
    public bool HasBlock(BlobHash blob, int index)
    {
        lock (_gate)
        {
            return _entries.TryGetValue(blob, out var e) && index >= 0 && index < e.Present.Length && e.Present[index];
        }
    }

    /// <summary>
    /// Writes block <paramref name="index"/> of the blob (verified by the caller) and records it;
    /// once every block is there the file is synced and the blob marked complete. Evicts least
    /// recently used blobs not held first, when the quota needs it.
    /// </summary>
    public void WriteBlock(BlobHash blob, long size, int index, ReadOnlySpan<byte> data)
    {
        Entry entry;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            entry = EntryFor(blob, size);
            if (index < 0 || index >= entry.Present.Length || data.Length != entry.BlockLength(index))
            {
                throw new ArgumentException($"block {index} of a blob of {size} bytes cannot have {data.Length} bytes");
            }
            if (entry.Present[index])
            {
                return;
            }
            EvictFor(data.Length, blob);
            entry.Handle ??= File.OpenHandle(PathOf(blob), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite);
            if (RandomAccess.GetLength(entry.Handle) != size)
            {
                RandomAccess.SetLength(entry.Handle, size);
            }
            entry.Readers++;
        }
        try
        {
            // Outside the lock: other blocks and blobs are written meanwhile.
            RandomAccess.Write(entry.Handle, data, (long)index * BlobHash.BlockSize);
        }
        finally
        {
            lock (_gate)
            {
                entry.Readers--;
            }
        }
        lock (_gate)
        {
            if (entry.Removed || entry.Present[index])
            {
                return;
            }
            entry.Present[index] = true;
            entry.Count++;
            _bytes += data.Length;
            entry.LastUseNs = Now();
            _db.SaveCachedBlock(blob, index);
            if (entry.Count == entry.Present.Length)
            {
                // Complete only once on disk: a crash must not leave a blob taken as whole with holes.
                RandomAccess.FlushToDisk(entry.Handle);
                entry.Complete = true;
                entry.Seal = SealOf(entry.Handle);
                _db.SaveCachedBlob(blob, size, entry.BlockList, complete: true, entry.LastUseNs);
                _db.SaveCachedSeal(blob, entry.Seal.Value);
            }
        }
    }

    /// <summary>
    /// Reads from the blob's file (the caller made sure the blocks are there, and the range is
    /// within the blob); returns the bytes read. A file shorter than its blob (changed behind the
    /// cache's back) is dropped, and the read throws <see cref="IOException"/>.
    /// </summary>
    public int Read(BlobHash blob, long offset, Span<byte> destination)
    {
        SafeFileHandle handle;
        Entry? entry;
        lock (_gate)
        {
            if (!_entries.TryGetValue(blob, out entry))
            {
                throw new IOException($"blob {blob} is not in the cache (evicted or dropped)");
            }
            entry.Handle ??= File.OpenHandle(PathOf(blob), FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
            handle = entry.Handle;
            entry.Readers++;
        }
        try
        {
            int total = 0;
            while (total < destination.Length)
            {
                int read = RandomAccess.Read(handle, destination[total..], offset + total);
                if (read == 0)
                {
                    break;
                }
                total += read;
            }
            if (total < destination.Length)
            {
                // The file is shorter than its blob: changed behind the cache's back. Its blocks
                // are fetched again at the next use.
                Drop(blob);
                throw new IOException($"the cache file of blob {blob} is shorter than the blob: dropped");
            }
            return total;
        }
        finally
        {
            lock (_gate)
            {
                entry.Readers--;
            }
        }
    }

    /// <summary>Opens the blob's file read-only: the backing file of a passthrough open.</summary>
    public SafeFileHandle OpenRead(BlobHash blob) => File.OpenHandle(PathOf(blob), FileMode.Open, FileAccess.Read, FileShare.ReadWrite);

    /// <summary>Pins the blob while the result is not disposed: it is never evicted meanwhile.</summary>
    public IDisposable Hold(BlobHash blob)
    {
        lock (_gate)
        {
            _holds[blob] = _holds.GetValueOrDefault(blob) + 1;
            if (_entries.TryGetValue(blob, out var entry))
            {
                entry.LastUseNs = Now();
            }
        }
        return new Holding(this, blob);
    }

    /// <summary>Marks the blob used now (eviction takes the least recently used first).</summary>
    public void Touch(BlobHash blob)
    {
        lock (_gate)
        {
            if (_entries.TryGetValue(blob, out var entry))
            {
                entry.LastUseNs = Now();
                if (entry.LastUseNs - entry.PersistedUseNs > s_touchPersistNs)
                {
                    entry.PersistedUseNs = entry.LastUseNs;
                    _db.SaveCachedBlob(blob, entry.Size, entry.BlockList, entry.Complete, entry.LastUseNs);
                }
            }
        }
    }

    /// <summary>Removes a blob from the cache: its file no longer matches its hash. Open passthrough files keep their backing file.</summary>
    public void Drop(BlobHash blob)
    {
        lock (_gate)
        {
            if (_entries.Remove(blob, out var entry))
            {
                Remove(blob, entry);
            }
        }
    }

    /// <summary>The cache's figures now.</summary>
    public CacheStats Stats()
    {
        lock (_gate)
        {
            int complete = _entries.Values.Count(e => e.Complete);
            return new CacheStats(_bytes, Quota, complete, _entries.Count - complete, _holds.Count,
                Interlocked.Read(ref _hits), Interlocked.Read(ref _misses), _evicted);
        }
    }

    /// <summary>Makes room for <paramref name="needed"/> more bytes: least recently used blobs that nobody holds go first.</summary>
    private void EvictFor(long needed, BlobHash writing)
    {
        if (_bytes + needed <= Quota)
        {
            return;
        }
        foreach (var (blob, entry) in _entries.Where(e => !e.Key.Equals(writing) && !_holds.ContainsKey(e.Key) && e.Value.Readers == 0)
            .OrderBy(e => e.Value.LastUseNs).ToList())
        {
            _entries.Remove(blob);
            Remove(blob, entry);
            _evicted++;
            if (_bytes + needed <= Quota)
            {
                return;
            }
        }
        // Everything left is held: the quota is exceeded until those are closed.
    }

    private void Remove(BlobHash blob, Entry entry)
    {
        entry.Removed = true;
        _bytes -= entry.Bytes();
        entry.Handle?.Dispose();
        entry.Handle = null;
        _db.DeleteCachedBlob(blob);
        File.Delete(PathOf(blob));
    }

    private Entry EntryFor(BlobHash blob, long size)
    {
        if (_entries.TryGetValue(blob, out var entry))
        {
            if (entry.Size != size)
            {
                throw new ArgumentException($"blob {blob} has {entry.Size} bytes, not {size}");
            }
            return entry;
        }
        entry = new Entry(size) { LastUseNs = Now() };
        entry.PersistedUseNs = entry.LastUseNs;
        _entries[blob] = entry;
        _db.SaveCachedBlob(blob, size, null, complete: size == 0, entry.LastUseNs);
        entry.Complete = size == 0;
        return entry;
    }

    private string PathOf(BlobHash blob) => Path.Combine(_directory, blob.Hex);

    private static long Now() => (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) * 100;

    private void Release(BlobHash blob)
    {
        lock (_gate)
        {
            int count = _holds.GetValueOrDefault(blob) - 1;
            if (count <= 0)
            {
                _holds.Remove(blob);
            }
            else
            {
                _holds[blob] = count;
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            foreach (var (blob, entry) in _entries)
            {
                entry.Handle?.Dispose();
                if (entry.LastUseNs != entry.PersistedUseNs)
                {
                    _db.SaveCachedBlob(blob, entry.Size, entry.BlockList, entry.Complete, entry.LastUseNs);
                }
            }
            _db.Dispose();
        }
    }

    private sealed class Entry(long size)
    {
        public long Size { get; } = size;

        public bool[] Present { get; } = new bool[(int)((size + BlobHash.BlockSize - 1) / BlobHash.BlockSize)];

        public int Count { get; set; }

        public bool Complete { get; set; }

        public byte[]? BlockList { get; set; }

        /// <summary>The file's inode and ctime once complete; null while partial.</summary>
        public CacheSeal? Seal { get; set; }

        public ArenaName? Arena { get; set; }

        public long LastUseNs { get; set; }

        public long PersistedUseNs { get; set; }

        // Read-write: blocks are written into it and reads served from it.
        public SafeFileHandle? Handle { get; set; }

        // Reads and writes in progress outside the lock: eviction leaves the blob alone meanwhile.
        public int Readers { get; set; }

        public bool Removed { get; set; }

        public int BlockLength(int index) => (int)Math.Min(BlobHash.BlockSize, Size - ((long)index * BlobHash.BlockSize));

        public long Bytes()
        {
            long bytes = 0;
            for (int i = 0; i < Present.Length; i++)
            {
                bytes += Present[i] ? BlockLength(i) : 0;
            }
            return bytes;
        }
    }

    private sealed class Holding(BlobCache cache, BlobHash blob) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                cache.Release(blob);
            }
        }
    }
}
