using Realize.Core;
using Realize.Linux;
using Realize.Storage;
using Realize.TestSupport;

namespace Realize.Unreal.Tests;

/// <summary>
/// The Unreal of a real store in a temporary directory, mounted (FUSE, read-only, passthrough)
/// and served: its unreal.db filled by applying history batches as the history receiver does,
/// the kernel told of each change as UnrealService does, and content fetched from the peers of
/// a <see cref="MemoryBlockFetcher"/>. Dispose always unmounts, also when the test failed.
/// </summary>
internal sealed class MountedUnreal : IAsyncDisposable
{
    public static readonly ArenaName Arena = ArenaName.Parse("docs");

    // The peer whose history is applied; who holds the content is the fetcher's business.
    private static readonly PeerId s_author = PeerId.FromSubjectPublicKeyInfo([42]);
    private const long HistoryId = 1;

    private readonly TempDir _dir;
    private readonly long _quota;
    private readonly TimeSpan _timeout;
    private readonly Dictionary<string, BlobHash> _current = new(StringComparer.Ordinal);
    private long _index;

    private MountedUnreal(TempDir dir, Store store, long quota, TimeSpan timeout)
    {
        _dir = dir;
        Store = store;
        _quota = quota;
        _timeout = timeout;
        History = store.OpenUnreal();
        History.ViewChanged += changes => Mount?.FileSystem.Invalidate(changes);
    }

    public Store Store { get; }

    /// <summary>The connection history is applied on, as the history receiver's.</summary>
    public UnrealDb History { get; }

    public MemoryBlockFetcher Fetcher { get; } = new();

    public RecordingLoggerFactory Logs { get; } = new();

    public BlobCache Cache { get; private set; } = null!;

    public BlobDownloads Downloads { get; private set; } = null!;

    public UnrealMount? Mount { get; private set; }

    public UnrealFileSystem FileSystem => Mount!.FileSystem;

    /// <summary>The mount point.</summary>
    public string Target => _dir.Combine("mnt");

    /// <summary>Where <paramref name="path"/> of the arena shows through the mount.</summary>
    public string PathOf(string path) => Path.Combine(Target, Arena.ToString(), path);

    /// <summary>The cache's file of <paramref name="blob"/>.</summary>
    public string BlobFile(BlobHash blob) => Path.Combine(Store.UnrealDir, "blobs", blob.Hex);

    /// <summary>Mounts the Unreal of a new store; the cache has <paramref name="quota"/> bytes, fetches time out after <paramref name="timeout"/>.</summary>
    public static async Task<MountedUnreal> StartAsync(long quota = 1L << 30, TimeSpan? timeout = null)
    {
        Root.Require();
        var dir = new TempDir("unreal");
        MountedUnreal? unreal = null;
        try
        {
            var store = Store.Create(dir.Combine("store"), new StoreConfig());
            unreal = new MountedUnreal(dir, store, quota, timeout ?? TimeSpan.FromSeconds(1));
            await unreal.MountAsync();
            return unreal;
        }
        catch
        {
            if (unreal is not null)
            {
                await unreal.DisposeAsync();
            }
            else
            {
                dir.Dispose();
            }
            throw;
        }
    }

    /// <summary>As after a restart of the daemon: unmounts, closes the cache, then opens a new cache over the same store and mounts again.</summary>
    public async Task RestartAsync()
    {
        await UnmountAsync();
        await MountAsync();
    }

    /// <summary>Adds <paramref name="path"/> with <paramref name="content"/> to the history (and the blob to the peers); returns its blob.</summary>
    public BlobHash Add(string path, byte[] content, FileTime? mtime = null)
    {
        var blob = Fetcher.Add(content);
        Apply(new Notification(++_index, Arena, NotificationType.Added, RelPath.Parse(path), blob, content.Length, mtime ?? new FileTime(1_700_000_000, 0), null));
        _current[path] = blob;
        return blob;
    }

    /// <summary>Adds <paramref name="path"/>, reads it whole through the mount (so that it is complete in the cache) and waits until it was released; returns its blob.</summary>
    public async Task<BlobHash> AddAndReadAsync(string path, byte[] content)
    {
        var blob = Add(path, content);
        byte[] read = File.ReadAllBytes(PathOf(path));
        if (!read.AsSpan().SequenceEqual(content))
        {
            throw new InvalidOperationException($"{path} read {read.Length} bytes, not its {content.Length}");
        }
        await WaitReleasedAsync();
        return blob;
    }

    /// <summary>Changes the content of <paramref name="path"/> in the history; returns the new blob.</summary>
    public BlobHash Update(string path, byte[] content, FileTime mtime)
    {
        var blob = Fetcher.Add(content);
        Apply(new Notification(++_index, Arena, NotificationType.Updated, RelPath.Parse(path), blob, content.Length, mtime, _current[path]));
        _current[path] = blob;
        return blob;
    }

    /// <summary>Removes <paramref name="path"/> in the history.</summary>
    public void Remove(string path)
    {
        Apply(new Notification(++_index, Arena, NotificationType.Removed, RelPath.Parse(path), null, null, null, _current[path]));
        _current.Remove(path);
    }

    private void Apply(Notification notification) => History.Apply(s_author, Arena, HistoryId, [notification]);

    /// <summary>Returns once every file opened through the mount was released (the kernel sends RELEASE after close returns).</summary>
    public Task WaitReleasedAsync() =>
        Poll.UntilAsync(() => Cache.Stats().Held == 0, TimeSpan.FromSeconds(20), () => $"every open file released; {Cache.Stats()}");

    /// <summary>Content that differs at every offset of a block from other seeds.</summary>
    public static byte[] Content(int length, int seed)
    {
        byte[] content = new byte[length];
        new Random(seed).NextBytes(content);
        return content;
    }

    private async Task MountAsync()
    {
        Cache = BlobCache.Open(Store, _quota);
        var logger = Logs.CreateLogger("Realize.Unreal");
        Downloads = new BlobDownloads(Cache, Fetcher, _timeout, logger);
        var fileSystem = new UnrealFileSystem(Store.OpenUnreal(), Cache, Downloads, 0, 0, logger);
        Mount = await UnrealMount.StartAsync(Target, fileSystem, logger);
        if (Mount.Session.Connection is not { Passthrough: true })
        {
            throw new InvalidOperationException("the kernel did not accept FUSE_PASSTHROUGH: these tests need it (Linux 6.9 or later)");
        }
    }

    private async Task UnmountAsync()
    {
        try
        {
            if (Mount is { } mount)
            {
                Mount = null;
                await mount.DisposeAsync();
            }
        }
        finally
        {
            if (Mounts.FindMount(Target) is not null)
            {
                Mounts.Unmount(Target, detach: true);
            }
            Downloads?.Dispose();
            Cache?.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await UnmountAsync();
        }
        finally
        {
            History.Dispose();
            _dir.Dispose();
        }
    }
}
