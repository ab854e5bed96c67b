using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;
using Realize.Core;

namespace Realize.Storage;

/// <summary>What the cache has of one blob.</summary>
/// <param name="Blob">The blob.</param>
/// <param name="Size">Its size in bytes.</param>
/// <param name="BlockCount">How many 4 MiB blocks it has (0 for an empty blob).</param>
/// <param name="BlocksPresent">How many of them are in the cache.</param>
/// <param name="IsComplete">Every block is there and synced: the file can be opened for passthrough.</param>
/// <param name="HasBlockList">Its block hashes are known (<see cref="BlobCache.BlockList"/>).</param>
/// <param name="Path">The blob's file in <c>unreal/blobs/</c>.</param>
public sealed record CachedBlob(BlobHash Blob, long Size, int BlockCount, int BlocksPresent, bool IsComplete, bool HasBlockList, string Path);

/// <summary>The blob cache's figures, for <c>realize cache</c>.</summary>
/// <param name="BytesUsed">Bytes of the blocks present.</param>
/// <param name="QuotaBytes">The quota eviction keeps it under.</param>
/// <param name="Complete">Blobs complete.</param>
/// <param name="Partial">Blobs with some blocks (or only a block list).</param>
/// <param name="Held">Blobs held (<see cref="BlobCache.Hold"/>): never evicted.</param>
/// <param name="Hits"><see cref="BlobCache.Find"/> calls that found the blob complete.</param>
/// <param name="Misses"><see cref="BlobCache.Find"/> calls that did not.</param>
public sealed record CacheStats(long BytesUsed, long QuotaBytes, int Complete, int Partial, int Held, long Hits, long Misses);

/// <summary>
/// The cache of other peers' content (DESIGN.md "The Unreal"): one file per blob in
/// <c>unreal/blobs/</c>, named by its hash in hex, written block by block (4 MiB, each verified
/// by the caller before it is written), with what is present recorded in unreal.db through a
/// connection of its own. Least recently used blobs are evicted to stay under the quota, never a
/// held one. Survives restarts, partial blobs too. Thread-safe: state and database under one
/// lock, file data read and written outside it.
/// </summary>
public sealed class BlobCache : IDisposable
{
    /// <summary>Guards every field below and the connection.</summary>
    private readonly Lock _lock = new();

    /// <summary>unreal.db, through a connection used only under <see cref="_lock"/>.</summary>
    private readonly UnrealDb _db;

    /// <summary><c>unreal/blobs/</c>.</summary>
    private readonly string _directory;

    /// <summary>The blobs in the cache (with a row in cached_blobs).</summary>
    private readonly Dictionary<BlobHash, Entry> _blobs = [];

    /// <summary>How many holds each held blob has, including the cache's own while it writes or reads; blobs not in the cache may be held too.</summary>
    private readonly Dictionary<BlobHash, int> _holds = [];

    /// <summary>The sum of <see cref="Entry.Bytes"/>.</summary>
    private long _used;

    private long _hits;
    private long _misses;

    /// <summary>The last use given: uses are ns since the epoch, made strictly increasing so that the order of uses is exact.</summary>
    private long _clock;

    private BlobCache(UnrealDb db, string directory, long quotaBytes)
    {
        _db = db;
        _directory = directory;
        QuotaBytes = quotaBytes;
    }

    /// <summary>The most bytes the cache holds before it evicts; held blobs may take it over.</summary>
    public long QuotaBytes { get; }

    /// <summary>One blob's state.</summary>
    private sealed class Entry(BlobHash blob, long size)
    {
        public BlobHash Blob { get; } = blob;

        public long Size { get; } = size;

        public int BlockCount { get; } = BlockCountOf(size);

        /// <summary>The block hashes concatenated, once known.</summary>
        public byte[]? BlockList { get; set; }

        public bool[] Present { get; } = new bool[BlockCountOf(size)];

        public int PresentCount { get; set; }

        public long Bytes { get; set; }

        public bool Complete { get; set; }

        /// <summary>A writer is syncing the file to mark it complete.</summary>
        public bool Completing { get; set; }

        public long LastUse { get; set; }
    }

    /// <summary>
    /// Opens the cache of <paramref name="store"/> with a quota of <paramref name="quotaBytes"/>:
    /// loads what unreal.db records, forgets blobs whose file is gone, removes files it does not
    /// record, and completes blobs whose blocks were all written before a stop.
    /// </summary>
    public static BlobCache Open(Store store, long quotaBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(quotaBytes);
        ArgumentNullException.ThrowIfNull(store);
        string directory = store.BlobsDir;
        Directory.CreateDirectory(directory);
        var db = store.OpenUnreal();
        try
        {
            db.RelaxDurability();
            var cache = new BlobCache(db, directory, quotaBytes);
            cache.Load();
            return cache;
        }
        catch
        {
            db.Dispose();
            throw;
        }
    }

    private void Load()
    {
        foreach (var row in _db.LoadCachedBlobs())
        {
            string path = PathOf(row.Blob);
            if (!File.Exists(path) || row.Blocks.Any(b => b < 0 || b >= BlockCountOf(row.Size)))
            {
                _db.DeleteCachedBlob(row.Blob);
                File.Delete(path);
                continue;
            }
            var entry = new Entry(row.Blob, row.Size) { BlockList = row.BlockList, Complete = row.Complete, LastUse = row.LastUse };
            foreach (int block in row.Blocks)
            {
                if (!entry.Present[block])
                {
                    entry.Present[block] = true;
                    entry.PresentCount++;
                    entry.Bytes += BlockLength(row.Size, block);
                }
            }
            if (!entry.Complete && entry.PresentCount == entry.BlockCount)
            {
                // Stopped between the last block and its sync.
                using (var handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite))
                {
                    RandomAccess.FlushToDisk(handle);
                }
                entry.Complete = true;
                _db.CompleteCachedBlob(row.Blob);
            }
            _blobs[row.Blob] = entry;
            _used += entry.Bytes;
            _clock = Math.Max(_clock, entry.LastUse);
        }
        foreach (string file in Directory.EnumerateFiles(_directory))
        {
            // Written before its row was: a crash in between.
            if (!BlobHash.TryParse(Path.GetFileName(file), out var blob) || !_blobs.ContainsKey(blob))
            {
                File.Delete(file);
            }
        }
    }

    /// <summary>
    /// What the cache has of <paramref name="blob"/>; null when nothing. Counts a hit when it is
    /// complete and a miss otherwise: call it once per open of a file.
    /// </summary>
    public CachedBlob? Find(BlobHash blob)
    {
        lock (_lock)
        {
            if (!_blobs.TryGetValue(blob, out var entry))
            {
                _misses++;
                return null;
            }
            if (entry.Complete)
            {
                _hits++;
            }
            else
            {
                _misses++;
            }
            return Describe(entry);
        }
    }

    /// <summary>
    /// Records the block list of <paramref name="blob"/> (checked by the caller against its
    /// peer; checked here against the hash again, and its count against the size). An empty
    /// blob is complete at once.
    /// </summary>
    /// <exception cref="ArgumentException">The list does not fit the blob or its size.</exception>
    public void SetBlockList(BlobHash blob, long size, IReadOnlyList<byte[]> blockHashes)
    {
        ArgumentNullException.ThrowIfNull(blockHashes);
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        if (blockHashes.Count != BlockCountOf(size) || blockHashes.Any(h => h.Length != SHA256.HashSizeInBytes))
        {
            throw new ArgumentException($"a blob of {size} bytes has {BlockCountOf(size)} block hashes of 32 bytes, not {blockHashes.Count}", nameof(blockHashes));
        }
        byte[] list = blockHashes.SelectMany(h => h).ToArray();
        if (BlobHash.FromBytes(SHA256.HashData(list)) != blob)
        {
            throw new ArgumentException($"the block list does not hash to {blob.Hex}", nameof(blockHashes));
        }
        lock (_lock)
        {
            var entry = EntryFor(blob, size);
            entry.BlockList = list;
            entry.LastUse = Now();
            _db.SaveCachedBlob(blob, size, list, entry.LastUse);
            if (entry.BlockCount == 0 && !entry.Complete)
            {
                File.WriteAllBytes(PathOf(blob), []);
                entry.Complete = true;
                _db.CompleteCachedBlob(blob);
            }
        }
    }

    /// <summary>The block hashes of <paramref name="blob"/>, when known.</summary>
    public IReadOnlyList<byte[]>? BlockList(BlobHash blob)
    {
        lock (_lock)
        {
            return _blobs.TryGetValue(blob, out var entry) && entry.BlockList is { } list
                ? list.Chunk(SHA256.HashSizeInBytes).ToArray()
                : null;
        }
    }

    /// <summary>Whether block <paramref name="index"/> of <paramref name="blob"/> is in the cache.</summary>
    public bool HasBlock(BlobHash blob, int index)
    {
        lock (_lock)
        {
            return _blobs.TryGetValue(blob, out var entry) && index >= 0 && index < entry.BlockCount && entry.Present[index];
        }
    }

    /// <summary>
    /// Stores block <paramref name="index"/> of <paramref name="blob"/> (of <paramref name="size"/>
    /// bytes), already verified by the caller: evicts least recently used blobs first to make
    /// room, writes it in place and records it. The block that completes the blob syncs the file
    /// before the blob is marked complete. A block already present is not written again.
    /// </summary>
    /// <exception cref="ArgumentException">The index or the data's length does not fit the size, or the size is not the one recorded.</exception>
    public void WriteBlock(BlobHash blob, long size, int index, ReadOnlySpan<byte> data)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        if (index < 0 || index >= BlockCountOf(size))
        {
            throw new ArgumentOutOfRangeException(nameof(index), $"a blob of {size} bytes has no block {index}");
        }
        if (data.Length != BlockLength(size, index))
        {
            throw new ArgumentException($"block {index} of a blob of {size} bytes has {BlockLength(size, index)} bytes, not {data.Length}", nameof(data));
        }
        Entry entry;
        lock (_lock)
        {
            entry = EntryFor(blob, size);
            entry.LastUse = Now();
            if (entry.Present[index])
            {
                return;
            }
            Evict(data.Length, blob);
            Pin(blob);
        }
        bool completing = false;
        SafeFileHandle? handle = null;
        try
        {
            handle = File.OpenHandle(PathOf(blob), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
            RandomAccess.Write(handle, data, (long)index * BlobHash.BlockSize);
            lock (_lock)
            {
                if (!IsCurrent(entry) || entry.Present[index])
                {
                    // Dropped meanwhile, or written by another thread.
                    return;
                }
                entry.Present[index] = true;
                entry.PresentCount++;
                entry.Bytes += data.Length;
                _used += data.Length;
                _db.AddCachedBlock(blob, index, entry.LastUse);
                if (entry.PresentCount == entry.BlockCount && !entry.Complete && !entry.Completing)
                {
                    entry.Completing = completing = true;
                }
            }
            if (completing)
            {
                RandomAccess.FlushToDisk(handle);
                lock (_lock)
                {
                    entry.Completing = false;
                    if (IsCurrent(entry))
                    {
                        entry.Complete = true;
                        _db.CompleteCachedBlob(blob);
                    }
                }
            }
        }
        catch when (completing)
        {
            lock (_lock)
            {
                entry.Completing = false;
            }
            throw;
        }
        finally
        {
            handle?.Dispose();
            lock (_lock)
            {
                Unpin(blob);
            }
        }
    }

    /// <summary>
    /// Reads <paramref name="blob"/> from <paramref name="offset"/> into <paramref name="into"/>,
    /// as far as its blocks are present from there on: the count read, which is 0 at its end or
    /// when the block at <paramref name="offset"/> is missing.
    /// </summary>
    public int Read(BlobHash blob, long offset, Span<byte> into)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        int length;
        lock (_lock)
        {
            if (!_blobs.TryGetValue(blob, out var entry) || offset >= entry.Size)
            {
                return 0;
            }
            long end = Math.Min(entry.Size, offset + into.Length);
            long reach = offset;
            while (reach < end && entry.Present[(int)(reach / BlobHash.BlockSize)])
            {
                reach = Math.Min(end, ((reach / BlobHash.BlockSize) + 1) * BlobHash.BlockSize);
            }
            length = (int)(reach - offset);
            if (length == 0)
            {
                return 0;
            }
            entry.LastUse = Now();
            Pin(blob);
        }
        try
        {
            using var handle = File.OpenHandle(PathOf(blob), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            int done = 0;
            while (done < length)
            {
                int read = RandomAccess.Read(handle, into[done..length], offset + done);
                if (read == 0)
                {
                    throw new InvalidDataException($"the cached blob {blob.Hex} is shorter than its blocks recorded: drop it");
                }
                done += read;
            }
            return done;
        }
        finally
        {
            lock (_lock)
            {
                Unpin(blob);
            }
        }
    }

    /// <summary>Opens the file of a complete blob for reading (a passthrough backing file); hold the blob while it is open.</summary>
    /// <exception cref="InvalidOperationException">The blob is not complete in the cache.</exception>
    public SafeFileHandle OpenRead(BlobHash blob)
    {
        lock (_lock)
        {
            if (!_blobs.TryGetValue(blob, out var entry) || !entry.Complete)
            {
                throw new InvalidOperationException($"blob {blob.Hex} is not complete in the cache");
            }
            entry.LastUse = Now();
            return File.OpenHandle(PathOf(blob), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
    }

    /// <summary>Pins <paramref name="blob"/> (present or still to come) until the result is disposed: it is never evicted meanwhile. Counts as a use.</summary>
    public IDisposable Hold(BlobHash blob)
    {
        lock (_lock)
        {
            Pin(blob);
            TouchLocked(blob);
        }
        return new Holder(this, blob);
    }

    private sealed class Holder(BlobCache cache, BlobHash blob) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                lock (cache._lock)
                {
                    cache.Unpin(blob);
                }
            }
        }
    }

    /// <summary>Removes <paramref name="blob"/> from the cache, held or not: its file no longer matches its hash. Open handles keep what they read.</summary>
    public void Drop(BlobHash blob)
    {
        lock (_lock)
        {
            Remove(blob);
        }
    }

    /// <summary>Records a use of <paramref name="blob"/>: eviction takes it last.</summary>
    public void Touch(BlobHash blob)
    {
        lock (_lock)
        {
            TouchLocked(blob);
        }
    }

    /// <summary>The cache's figures now.</summary>
    public CacheStats Stats()
    {
        lock (_lock)
        {
            int complete = _blobs.Values.Count(e => e.Complete);
            return new CacheStats(_used, QuotaBytes, complete, _blobs.Count - complete, _holds.Count, _hits, _misses);
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        lock (_lock)
        {
            _db.Dispose();
        }
    }

    private void TouchLocked(BlobHash blob)
    {
        if (_blobs.TryGetValue(blob, out var entry))
        {
            entry.LastUse = Now();
            _db.TouchCachedBlob(blob, entry.LastUse);
        }
    }

    /// <summary>Evicts least recently used blobs, unheld and other than <paramref name="keep"/>, until <paramref name="bytes"/> more fit the quota (or none is left to evict).</summary>
    private void Evict(long bytes, BlobHash keep)
    {
        while (_used + bytes > QuotaBytes)
        {
            Entry? victim = null;
            foreach (var entry in _blobs.Values)
            {
                if (entry.Bytes > 0 && entry.Blob != keep && !_holds.ContainsKey(entry.Blob) && !entry.Completing && (victim is null || entry.LastUse < victim.LastUse))
                {
                    victim = entry;
                }
            }
            if (victim is null)
            {
                return;
            }
            Remove(victim.Blob);
        }
    }

    private void Remove(BlobHash blob)
    {
        if (_blobs.Remove(blob, out var entry))
        {
            _used -= entry.Bytes;
            _db.DeleteCachedBlob(blob);
        }
        File.Delete(PathOf(blob));
    }

    /// <summary>The blob's entry, made (and recorded) when it is new.</summary>
    private Entry EntryFor(BlobHash blob, long size)
    {
        if (_blobs.TryGetValue(blob, out var entry))
        {
            return entry.Size == size ? entry
                : throw new ArgumentException($"blob {blob.Hex} is cached with {entry.Size} bytes, not {size}", nameof(size));
        }
        entry = new Entry(blob, size) { LastUse = Now() };
        _db.SaveCachedBlob(blob, size, null, entry.LastUse);
        _blobs[blob] = entry;
        return entry;
    }

    private bool IsCurrent(Entry entry) => _blobs.TryGetValue(entry.Blob, out var now) && ReferenceEquals(now, entry);

    private void Pin(BlobHash blob) => _holds[blob] = _holds.GetValueOrDefault(blob) + 1;

    private void Unpin(BlobHash blob)
    {
        int holds = _holds[blob] - 1;
        if (holds == 0)
        {
            _holds.Remove(blob);
        }
        else
        {
            _holds[blob] = holds;
        }
    }

    private long Now() => _clock = Math.Max(_clock + 1, (DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100);

    private CachedBlob Describe(Entry entry) =>
        new(entry.Blob, entry.Size, entry.BlockCount, entry.PresentCount, entry.Complete, entry.BlockList is not null, PathOf(entry.Blob));

    private string PathOf(BlobHash blob) => Path.Combine(_directory, blob.Hex);

    private static int BlockCountOf(long size) => (int)((size + BlobHash.BlockSize - 1) / BlobHash.BlockSize);

    private static int BlockLength(long size, int index) => (int)Math.Min(BlobHash.BlockSize, size - ((long)index * BlobHash.BlockSize));
}
