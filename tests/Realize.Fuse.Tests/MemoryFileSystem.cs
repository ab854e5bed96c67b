using System.Collections.Concurrent;
using System.Text;
using Microsoft.Win32.SafeHandles;
using Realize.Linux;

namespace Realize.Fuse.Tests;

/// <summary>
/// A tiny file system in memory for the tests: directories and files by node id (1 = root),
/// changeable while mounted, counting the requests that reach it. A file may name a backing
/// file on disk, served by passthrough.
/// </summary>
internal sealed class MemoryFileSystem : FuseFileSystem
{
    private readonly ConcurrentDictionary<ulong, Node> _nodes = new();
    private readonly ConcurrentDictionary<(ulong Parent, string Name), Node> _byName = new();
    private readonly ConcurrentDictionary<ulong, List<Node>> _children = new();
    private readonly ConcurrentDictionary<ulong, (int Id, int Opens)> _backing = new();
    private long _nextId = 1;
    private int _reads;
    private int _lookups;
    private int _readDirPlus;
    private int _xattrRequests;

    public MemoryFileSystem()
    {
        _nodes[1] = new Node(1, 0, "", IsDirectory: true);
        _nextId = 2;
    }

    /// <summary>How long the kernel may trust names and attributes.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The session, for passthrough backing ids.</summary>
    public FuseSession? Session { get; set; }

    public int Reads => Volatile.Read(ref _reads);

    public int Lookups => Volatile.Read(ref _lookups);

    public int ReadDirPlusCalls => Volatile.Read(ref _readDirPlus);

    /// <summary>GETXATTR and LISTXATTR requests that reached the file system.</summary>
    public int XattrRequests => Volatile.Read(ref _xattrRequests);

    /// <summary>Answer GETXATTR and LISTXATTR with ENOSYS, after which the kernel stops asking.</summary>
    public bool WithoutXattrs { get; init; }

    /// <summary>Backing ids still registered.</summary>
    public int OpenBackings => _backing.Count;

    public ulong AddDirectory(ulong parent, string name) => Add(new Node(NextId(), parent, name, IsDirectory: true));

    public ulong AddFile(ulong parent, string name, byte[] content) => Add(new Node(NextId(), parent, name, IsDirectory: false) { Content = content });

    public ulong AddBackedFile(ulong parent, string name, string backingPath) =>
        Add(new Node(NextId(), parent, name, IsDirectory: false) { BackingPath = backingPath, Content = new byte[new FileInfo(backingPath).Length] });

    public void SetContent(ulong id, byte[] content) => _nodes[id].Content = content;

    /// <summary>Points <paramref name="name"/> in <paramref name="parent"/> at a new node with <paramref name="content"/>; returns its id.</summary>
    public ulong Replace(ulong parent, string name, byte[] content)
    {
        var old = Find(parent, name) ?? throw new InvalidOperationException(name);
        _nodes.TryRemove(old.Id, out _);
        _byName.TryRemove((parent, name), out _);
        return AddFile(parent, name, content);
    }

    /// <summary>A name whose LOOKUP waits until the request is interrupted.</summary>
    public string? HangingName { get; init; }

    /// <summary>Set when the LOOKUP of <see cref="HangingName"/> started, and when its token fired.</summary>
    public TaskCompletionSource HangStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource HangCancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Make READ go asynchronous before it fills the buffer (the session's async path).</summary>
    public bool AsyncReads { get; init; }

    public override ValueTask<FuseEntry?> LookupAsync(FuseLookupRequest request, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _lookups);
        string name = request.NameString;
        if (name == HangingName)
        {
            return HangAsync(cancellationToken);
        }
        var node = Find(request.Parent, name);
        return ValueTask.FromResult(node is null ? (FuseEntry?)null : EntryOf(node));
    }

    public override ValueTask<FuseAttrReply> GetAttrAsync(FuseGetAttrRequest request, CancellationToken cancellationToken) =>
        ValueTask.FromResult(new FuseAttrReply(AttrOf(Get(request.NodeId)), Timeout));

    public override ValueTask<FuseOpenReply> OpenAsync(FuseOpenRequest request, CancellationToken cancellationToken)
    {
        var node = Get(request.NodeId);
        if (node.IsDirectory)
        {
            throw new FuseErrnoException(Errno.EISDIR);
        }
        if (node.BackingPath is null)
        {
            return ValueTask.FromResult(new FuseOpenReply(node.Id));
        }
        // One backing id per inode, closed at its last release.
        lock (_backing)
        {
            if (!_backing.TryGetValue(node.Id, out var backing))
            {
                using SafeFileHandle file = File.OpenHandle(node.BackingPath);
                backing = (Session!.OpenBacking(file), 0);
            }
            _backing[node.Id] = (backing.Id, backing.Opens + 1);
            return ValueTask.FromResult(new FuseOpenReply(node.Id, FuseOpenFlags.Passthrough, backing.Id));
        }
    }

    public override ValueTask ReleaseAsync(FuseReleaseRequest request, CancellationToken cancellationToken)
    {
        lock (_backing)
        {
            if (_backing.TryGetValue(request.NodeId, out var backing))
            {
                if (backing.Opens == 1)
                {
                    _backing.TryRemove(request.NodeId, out _);
                    Session!.CloseBacking(backing.Id);
                }
                else
                {
                    _backing[request.NodeId] = (backing.Id, backing.Opens - 1);
                }
            }
        }
        return ValueTask.CompletedTask;
    }

    public override ValueTask<int> ReadAsync(FuseReadRequest request, Memory<byte> buffer, CancellationToken cancellationToken) =>
        AsyncReads ? ReadLaterAsync(request, buffer) : ValueTask.FromResult(Read(request, buffer));

    private async ValueTask<int> ReadLaterAsync(FuseReadRequest request, Memory<byte> buffer)
    {
        await Task.Yield();
        return Read(request, buffer);
    }

    private async ValueTask<FuseEntry?> HangAsync(CancellationToken cancellationToken)
    {
        HangStarted.TrySetResult();
        try
        {
            await Task.Delay(System.Threading.Timeout.Infinite, cancellationToken);
        }
        finally
        {
            HangCancelled.TrySetResult();
        }
        return null;
    }

    private int Read(FuseReadRequest request, Memory<byte> buffer)
    {
        Interlocked.Increment(ref _reads);
        var content = Get(request.NodeId).Content;
        if (request.Offset >= content.Length)
        {
            return 0;
        }
        int length = (int)Math.Min(buffer.Length, content.Length - request.Offset);
        content.AsSpan((int)request.Offset, length).CopyTo(buffer.Span);
        return length;
    }

    public override ValueTask FlushAsync(FuseFlushRequest request, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public override ValueTask<FuseOpenReply> OpenDirAsync(FuseOpenRequest request, CancellationToken cancellationToken) =>
        Get(request.NodeId).IsDirectory ? ValueTask.FromResult(new FuseOpenReply(request.NodeId)) : throw new FuseErrnoException(Errno.ENOTDIR);

    public override ValueTask ReleaseDirAsync(FuseReleaseRequest request, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public override ValueTask ReadDirPlusAsync(FuseReadDirRequest request, FuseDirPlusWriter writer, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _readDirPlus);
        // The cookie of an entry is its position + 1 in the name order.
        var children = Children(request.NodeId);
        for (long i = request.Offset; i < children.Count; i++)
        {
            if (!writer.TryAdd(children[(int)i].Name, EntryOf(children[(int)i]), i + 1))
            {
                break;
            }
        }
        return ValueTask.CompletedTask;
    }

    public override ValueTask ReadDirAsync(FuseReadDirRequest request, FuseDirWriter writer, CancellationToken cancellationToken)
    {
        var children = Children(request.NodeId);
        for (long i = request.Offset; i < children.Count; i++)
        {
            var child = children[(int)i];
            if (!writer.TryAdd(child.Name, child.Id, FuseFileTypes.DirentType(AttrOf(child).Mode), i + 1))
            {
                break;
            }
        }
        return ValueTask.CompletedTask;
    }

    public override ValueTask<FuseStatFs> StatFsAsync(FuseRequestHeader request, CancellationToken cancellationToken) =>
        ValueTask.FromResult(new FuseStatFs { Blocks = 1000, BlocksFree = 10, BlocksAvailable = 10, Files = (ulong)_nodes.Count, BlockSize = 4096, NameLength = 255, FragmentSize = 4096 });

    public override ValueTask<ReadOnlyMemory<byte>?> GetXattrAsync(FuseGetXattrRequest request, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _xattrRequests);
        return WithoutXattrs
            ? throw new FuseErrnoException(Errno.ENOSYS)
            : ValueTask.FromResult(request.NameString == "user.test" ? (ReadOnlyMemory<byte>?)Encoding.UTF8.GetBytes("value") : null);
    }

    public override ValueTask<ReadOnlyMemory<byte>> ListXattrAsync(FuseRequestHeader request, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _xattrRequests);
        return WithoutXattrs
            ? throw new FuseErrnoException(Errno.ENOSYS)
            : ValueTask.FromResult<ReadOnlyMemory<byte>>(Encoding.UTF8.GetBytes("user.test\0"));
    }

    public FuseEntry EntryOf(Node node) => new(node.Id, AttrOf(node), Timeout, Timeout);

    private static FuseAttr AttrOf(Node node) =>
        (node.IsDirectory ? FuseAttr.Directory(node.Id) : FuseAttr.File(node.Id, node.Content.Length)) with
        {
            MTime = new DateTime(2024, 5, 6, 7, 8, 9, DateTimeKind.Utc),
        };

    private Node Get(ulong id) => _nodes.TryGetValue(id, out var node) ? node : throw new FuseErrnoException(Errno.ENOENT);

    private Node? Find(ulong parent, string name) => _byName.GetValueOrDefault((parent, name));

    private List<Node> Children(ulong parent) =>
        _children.GetOrAdd(parent, p => [.. _byName.Values.Where(n => n.Parent == p).OrderBy(n => n.Name, StringComparer.Ordinal)]);

    private ulong NextId() => (ulong)Interlocked.Increment(ref _nextId) - 1;

    private ulong Add(Node node)
    {
        _nodes[node.Id] = node;
        _byName[(node.Parent, node.Name)] = node;
        _children.TryRemove(node.Parent, out _);
        return node.Id;
    }

    internal sealed record Node(ulong Id, ulong Parent, string Name, bool IsDirectory)
    {
        public byte[] Content { get; set; } = [];

        public string? BackingPath { get; init; }
    }
}
