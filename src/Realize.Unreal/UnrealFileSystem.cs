using Microsoft.Extensions.Logging;
using Realize.Core;
using Realize.Fuse;
using Realize.Linux;
using Realize.Storage;

namespace Realize.Unreal;

/// <summary>
/// The Unreal (DESIGN.md "The Unreal"): the other peers' files as a read-only FUSE file
/// system over <c>unreal.db</c>'s view tree, whose entry ids are the inode numbers. Names and
/// attributes are cached by the kernel for long, because <see cref="Invalidate"/> tells it what
/// changed. A file whose blob is complete in the cache opens with passthrough (reads never reach
/// this process); another is served by READ, its blocks fetched on demand. It owns the
/// <see cref="UnrealDb"/> connection it is given: disposing it closes that.
/// </summary>
public sealed class UnrealFileSystem : FuseFileSystem, IDisposable
{
    // The kernel keeps names and attributes this long: the Unreal invalidates them itself.
    private static readonly TimeSpan s_timeout = TimeSpan.FromHours(24);
    private const int ListingPage = 1024;
    // Blocks fetched ahead of a sequential reader.
    private const int ReadAhead = 4;

    private readonly UnrealDb _db;
    // One thread at a time on the connection.
    private readonly Lock _dbGate = new();
    private readonly BlobCache _cache;
    private readonly BlobDownloads _downloads;
    private readonly ILogger _logger;
    private readonly uint _uid, _gid;
    // Guards _files, _directories, _inodes and _nextHandle.
    private readonly Lock _gate = new();
    private readonly Dictionary<ulong, OpenFile> _files = [];
    private readonly Dictionary<ulong, DirectoryListing> _directories = [];
    // The I/O mode of each inode with open files: the kernel refuses to mix them (notes/fuse-passthrough.md rule 4).
    private readonly Dictionary<ulong, InodeMode> _inodes = [];
    private ulong _nextHandle = 1;
    // What a directory shows as its times: the view keeps none of its own, so when it was mounted.
    private readonly long _mountedNs = (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) * 100;
    private FuseSession? _session;
    private bool _passthrough;

    public UnrealFileSystem(UnrealDb db, BlobCache cache, BlobDownloads downloads, uint uid, uint gid, ILogger logger)
    {
        _db = db;
        _cache = cache;
        _downloads = downloads;
        _uid = uid;
        _gid = gid;
        _logger = logger;
    }

    /// <summary>Opens served with passthrough so far, and with READ.</summary>
    public (long Passthrough, long Read) Opens => (Interlocked.Read(ref _passthroughOpens), Interlocked.Read(ref _readOpens));

    private long _passthroughOpens, _readOpens;

    /// <summary>The session's backing files, once mounted: passthrough needs them.</summary>
    public void Attach(FuseSession session) => _session = session;

    public override void Initialized(FuseConnectionInfo connection) => _passthrough = connection.Passthrough && _session is not null;

    public override ValueTask<FuseEntry?> LookupAsync(FuseLookupRequest request, CancellationToken cancellationToken)
    {
        ViewEntry? entry;
        lock (_dbGate)
        {
            entry = _db.Lookup((long)request.Parent, request.NameString);
        }
        return ValueTask.FromResult(entry is null ? (FuseEntry?)null : EntryOf(entry));
    }

    public override ValueTask<FuseAttrReply> GetAttrAsync(FuseGetAttrRequest request, CancellationToken cancellationToken)
    {
        ViewEntry? entry;
        lock (_dbGate)
        {
            entry = _db.Entry((long)request.NodeId);
        }
        // A file removed or renamed remotely while open: the kernel asks for its attributes
        // before reading (they were invalidated), and an ENOENT would fail the reader's read.
        // It reads on what it opened.
        entry ??= OpenedEntry(request.NodeId, request.FileHandle) ?? throw new FuseErrnoException(Errno.ENOENT);
        return ValueTask.FromResult(new FuseAttrReply(AttrOf(entry), s_timeout));
    }

    private ViewEntry? OpenedEntry(ulong nodeId, ulong? fileHandle)
    {
        lock (_gate)
        {
            if (fileHandle is { } handle && _files.GetValueOrDefault(handle) is { } file && file.Inode == nodeId)
            {
                return file.Entry;
            }
            return _files.Values.FirstOrDefault(f => f.Inode == nodeId)?.Entry;
        }
    }

    public override ValueTask<FuseOpenReply> OpenDirAsync(FuseOpenRequest request, CancellationToken cancellationToken)
    {
        if (Find(request.NodeId) is not { IsDirectory: true })
        {
            throw new FuseErrnoException(Errno.ENOTDIR);
        }
        lock (_gate)
        {
            ulong handle = _nextHandle++;
            _directories[handle] = new DirectoryListing((long)request.NodeId);
            // The kernel keeps the listing across opens (a second find reads no listing from
            // this server); Invalidate drops it when a name in the directory comes or goes.
            return ValueTask.FromResult(new FuseOpenReply(handle, FuseOpenFlags.CacheDir | FuseOpenFlags.KeepCache));
        }
    }

    public override ValueTask ReadDirAsync(FuseReadDirRequest request, FuseDirWriter writer, CancellationToken cancellationToken)
    {
        var listing = Listing(request.FileHandle, request.Offset);
        for (long i = request.Offset; EntryAt(listing, i) is { } entry; i++)
        {
            if (!writer.TryAdd(entry.Name, (ulong)entry.Id, entry.IsDirectory ? FuseFileTypes.DirentType(FuseFileTypes.S_IFDIR) : FuseFileTypes.DirentType(FuseFileTypes.S_IFREG), i + 1))
            {
                break;
            }
        }
        return ValueTask.CompletedTask;
    }

    public override ValueTask ReadDirPlusAsync(FuseReadDirRequest request, FuseDirPlusWriter writer, CancellationToken cancellationToken)
    {
        var listing = Listing(request.FileHandle, request.Offset);
        for (long i = request.Offset; EntryAt(listing, i) is { } entry; i++)
        {
            if (!writer.TryAdd(new FuseDirEntryPlus(entry.Name, EntryOf(entry), i + 1)))
            {
                break;
            }
        }
        return ValueTask.CompletedTask;
    }

    public override ValueTask ReleaseDirAsync(FuseReleaseRequest request, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _directories.Remove(request.FileHandle);
        }
        return ValueTask.CompletedTask;
    }

    public override ValueTask<FuseOpenReply> OpenAsync(FuseOpenRequest request, CancellationToken cancellationToken)
    {
        if (Find(request.NodeId) is not { IsDirectory: false, Blob: { } blob } file)
        {
            throw new FuseErrnoException(Errno.EISDIR);
        }
        // Held first: a blob found complete is then never evicted before its backing file is open.
        var hold = _cache.Hold(blob);
        try
        {
            bool complete = file.Size == 0 || _cache.Find(blob) is { Complete: true };
            _cache.Count(hit: complete);
            return ValueTask.FromResult(Open(request.NodeId, file, blob, complete, hold));
        }
        catch
        {
            hold.Dispose();
            throw;
        }
    }

    private FuseOpenReply Open(ulong nodeId, ViewEntry file, BlobHash blob, bool complete, IDisposable hold)
    {
        lock (_gate)
        {
            ulong handle = _nextHandle++;
            var mode = _inodes.GetValueOrDefault(nodeId);
            FuseOpenReply reply;
            bool passthrough = false, counted = true;
            int backing = 0;
            if (_passthrough && complete && file.Size > 0 && mode is null && (backing = TryOpenBacking(blob)) != 0)
            {
                mode = new InodeMode(true, blob, backing);
                reply = new FuseOpenReply(handle, FuseOpenFlags.Passthrough, backing);
                passthrough = true;
            }
            else if (complete && mode is { Passthrough: true } && mode.Blob == blob)
            {
                reply = new FuseOpenReply(handle, FuseOpenFlags.Passthrough, mode.BackingId);
                passthrough = true;
            }
            else if (mode is { Passthrough: true })
            {
                // Another content of this inode (it changed on its peer) is open with
                // passthrough: one backing file per inode, so read() comes here for this
                // content (mmap would see the other's).
                reply = new FuseOpenReply(handle, FuseOpenFlags.Passthrough | FuseOpenFlags.DirectIo, mode.BackingId);
            }
            else if (mode is { } cached && cached.Blob != blob)
            {
                // Another content of this inode is open in the page cache: this one bypasses
                // it, so neither reads the other's pages.
                reply = new FuseOpenReply(handle, FuseOpenFlags.DirectIo);
                counted = false;
            }
            else
            {
                mode ??= new InodeMode(false, blob, 0);
                reply = new FuseOpenReply(handle);
            }
            if (counted)
            {
                mode!.Handles++;
                _inodes[nodeId] = mode;
            }
            _files[handle] = new OpenFile(nodeId, file, hold, counted);
            Interlocked.Increment(ref passthrough ? ref _passthroughOpens : ref _readOpens);
            return reply;
        }
    }

    public override async ValueTask<int> ReadAsync(FuseReadRequest request, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        OpenFile file;
        lock (_gate)
        {
            file = _files.GetValueOrDefault(request.FileHandle) ?? throw new FuseErrnoException(Errno.EINVAL);
        }
        if (request.Offset >= file.Size)
        {
            return 0;
        }
        int length = (int)Math.Min(buffer.Length, file.Size - request.Offset);
        try
        {
            // Asked for first, so the block read now never waits behind those fetched ahead.
            var present = _downloads.EnsureAsync(file.Content, request.Offset, length, cancellationToken);
            if (request.Offset == file.NextOffset)
            {
                // A sequential reader: the blocks after this one will be asked for next.
                int next = (int)((request.Offset + length + BlobHash.BlockSize - 1) / BlobHash.BlockSize);
                _downloads.FetchAhead(file.Content, next, ReadAhead);
            }
            file.NextOffset = request.Offset + length;
            await present;
            try
            {
                return _cache.Read(file.Blob, request.Offset, buffer.Span[..length]);
            }
            catch (IOException e)
            {
                // The cache dropped the blob (its file was changed behind its back): fetched again, once.
                Log.ReadFailed(_logger, file.Blob.ToString(), request.Offset, e.Message + "; fetching it again");
                await _downloads.EnsureAsync(file.Content, request.Offset, length, cancellationToken);
                return _cache.Read(file.Blob, request.Offset, buffer.Span[..length]);
            }
        }
        catch (IOException e)
        {
            Log.ReadFailed(_logger, file.Blob.ToString(), request.Offset, e.Message);
            throw new FuseErrnoException(Errno.EIO);
        }
    }

    public override ValueTask FlushAsync(FuseFlushRequest request, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public override ValueTask ReleaseAsync(FuseReleaseRequest request, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (!_files.Remove(request.FileHandle, out var file))
            {
                return ValueTask.CompletedTask;
            }
            file.Hold.Dispose();
            if (file.Counted && _inodes.TryGetValue(file.Inode, out var mode) && --mode.Handles == 0)
            {
                _inodes.Remove(file.Inode);
                if (mode.BackingId != 0)
                {
                    // At the inode's last release, not earlier: the kernel looks the id up after the open reply.
                    _session!.CloseBacking(mode.BackingId);
                }
            }
        }
        return ValueTask.CompletedTask;
    }

    public override ValueTask<FuseStatFs> StatFsAsync(FuseRequestHeader request, CancellationToken cancellationToken)
    {
        var stats = _cache.Stats();
        const uint block = 4096;
        return ValueTask.FromResult(new FuseStatFs
        {
            BlockSize = block,
            FragmentSize = block,
            Blocks = (ulong)(stats.Quota / block),
            BlocksFree = (ulong)(Math.Max(0, stats.Quota - stats.BytesUsed) / block),
            BlocksAvailable = (ulong)(Math.Max(0, stats.Quota - stats.BytesUsed) / block),
            NameLength = 255,
        });
    }

    // Overlay asks for its trusted.overlay.* names at every lookup: ENODATA, never an error.
    public override ValueTask<ReadOnlyMemory<byte>?> GetXattrAsync(FuseGetXattrRequest request, CancellationToken cancellationToken) =>
        ValueTask.FromResult<ReadOnlyMemory<byte>?>(null);

    public override ValueTask<ReadOnlyMemory<byte>> ListXattrAsync(FuseRequestHeader request, CancellationToken cancellationToken) =>
        ValueTask.FromResult(ReadOnlyMemory<byte>.Empty);

    public override ValueTask AccessAsync(FuseAccessRequest request, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>Tells the kernel what changed in the view, so that its long-lived caches show it at once.</summary>
    public void Invalidate(IReadOnlyList<ViewChange> changes)
    {
        var listings = new HashSet<long>();
        foreach (var change in changes)
        {
            if (change.Kind != ViewChangeKind.Changed && listings.Add(change.Parent))
            {
                // A name came or went: the directory's cached listing (its pages) goes. The
                // entry notice below does it too, but only when the kernel holds the name.
                _session?.InvalidateInode((ulong)change.Parent, 0);
            }
            if (change.Kind != ViewChangeKind.Added)
            {
                // Attributes only (offset -1): dropping pages would wait for a READ in flight,
                // maybe for a fetch; each open of a file drops them anyway (no KEEP_CACHE).
                _session?.InvalidateInode((ulong)change.Id, -1);
            }
            // Also for an added name: the kernel may hold a negative entry for it.
            _session?.InvalidateEntry((ulong)change.Parent, change.Name);
        }
        if (listings.Count > 0)
        {
            _ = DropListingsAgainAsync(listings);
        }
    }

    /// <summary>How long after a change its directories' listings are dropped once more.</summary>
    public static readonly TimeSpan ListingRecheck = TimeSpan.FromSeconds(1);

    // A READDIR answered from the table before the change committed may reach the kernel's
    // cache after the drop above, and stay there as complete: so they are dropped once more,
    // well after any such answer.
    private async Task DropListingsAgainAsync(HashSet<long> directories)
    {
        await Task.Delay(ListingRecheck).ConfigureAwait(false);
        try
        {
            foreach (long directory in directories)
            {
                _session?.InvalidateInode((ulong)directory, 0);
            }
        }
        catch (Exception e) when (e is LinuxException or ObjectDisposedException or InvalidOperationException)
        {
            // Unmounted meanwhile: nothing is cached any more.
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var file in _files.Values)
            {
                file.Hold.Dispose();
            }
            _files.Clear();
        }
        // Its connection is its own (UnrealService opens one for it and keeps no other reference).
        lock (_dbGate)
        {
            _db.Dispose();
        }
    }

    /// <summary>The backing id of the blob's cache file; 0 when the kernel refuses it (served by READ then).</summary>
    private int TryOpenBacking(BlobHash blob)
    {
        try
        {
            using var handle = _cache.OpenRead(blob);
            return _session!.OpenBacking(handle);
        }
        catch (Exception e) when (e is IOException or LinuxException or UnauthorizedAccessException)
        {
            // EPERM without CAP_SYS_ADMIN, ELOOP with the cache on overlayfs, or the file gone.
            Log.PassthroughRefused(_logger, blob.ToString(), e.Message);
            return 0;
        }
    }

    private ViewEntry Find(ulong nodeId)
    {
        lock (_dbGate)
        {
            return _db.Entry((long)nodeId) ?? throw new FuseErrnoException(Errno.ENOENT);
        }
    }

    // A read from offset 0 lists the directory anew: the kernel caches what it gets for every
    // later open, so an old handle (a rewinddir, an overlay instance swapped out) must not
    // answer from what it read before a change.
    private DirectoryListing Listing(ulong handle, long offset)
    {
        DirectoryListing listing;
        lock (_gate)
        {
            listing = _directories.GetValueOrDefault(handle) ?? throw new FuseErrnoException(Errno.EINVAL);
        }
        if (offset == 0)
        {
            lock (listing)
            {
                listing.Entries.Clear();
                listing.Complete = false;
            }
        }
        return listing;
    }

    /// <summary>The <paramref name="index"/>th entry of a listing, reading the next page when needed; null at the end.</summary>
    private ViewEntry? EntryAt(DirectoryListing listing, long index)
    {
        lock (listing)
        {
            while (index >= listing.Entries.Count && !listing.Complete)
            {
                var page = new List<ViewEntry>(ListingPage);
                lock (_dbGate)
                {
                    _db.ListChildren(listing.Directory, listing.Entries.Count == 0 ? "" : listing.Entries[^1].Name, ListingPage, page);
                }
                listing.Entries.AddRange(page);
                listing.Complete = page.Count < ListingPage;
            }
            return index < listing.Entries.Count ? listing.Entries[(int)index] : null;
        }
    }

    private FuseEntry EntryOf(ViewEntry entry) => new((ulong)entry.Id, AttrOf(entry), s_timeout, s_timeout);

    private FuseAttr AttrOf(ViewEntry entry)
    {
        long mtime = entry.IsDirectory ? _mountedNs : entry.MTime.TotalNanoseconds;
        return (entry.IsDirectory ? FuseAttr.Directory((ulong)entry.Id) : FuseAttr.File((ulong)entry.Id, entry.Size)) with
        {
            Uid = _uid,
            Gid = _gid,
            MTimeNs = mtime,
            CTimeNs = mtime,
            ATimeNs = mtime,
        };
    }

    private sealed class OpenFile(ulong inode, ViewEntry entry, IDisposable hold, bool counted)
    {
        public RemoteContent Content { get; } = new(entry.Blob!.Value, entry.Size, entry.Arena!.Value, entry.Path);

        // Whether it counts in its inode's I/O mode (a direct-I/O open takes none).
        public bool Counted { get; } = counted;

        public ulong Inode { get; } = inode;

        /// <summary>The file as opened: what it reads, also once the view no longer has it.</summary>
        public ViewEntry Entry { get; } = entry;

        public BlobHash Blob => Content.Blob;

        public long Size => Content.Size;

        public IDisposable Hold { get; } = hold;

        // Where the last read ended: a read starting there is sequential.
        public long NextOffset { get; set; }
    }

    private sealed record InodeMode(bool Passthrough, BlobHash Blob, int BackingId)
    {
        public int Handles { get; set; }
    }

    private sealed class DirectoryListing(long directory)
    {
        public long Directory { get; } = directory;

        public List<ViewEntry> Entries { get; } = [];

        public bool Complete { get; set; }
    }
}
