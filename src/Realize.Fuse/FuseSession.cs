using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Realize.Fuse.Abi;
using Realize.Linux;

namespace Realize.Fuse;

/// <summary>
/// Serves a <see cref="FuseFileSystem"/> on one FUSE connection: reader threads take requests
/// from /dev/fuse, handlers run concurrently, and every request that expects a reply gets exactly
/// one, written with a single write(2) (an exception becomes EIO, logged; an unknown opcode
/// ENOSYS). The same dispatch serves bytes handed to <see cref="ProcessAsync"/>, so the protocol
/// is testable without a mount.
/// </summary>
public sealed partial class FuseSession
{
    private readonly FuseDevice? _device;
    private readonly ILogger _logger;
    private readonly TaskCompletionSource<FuseConnectionInfo> _initialized = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Idle requests with their buffers; locked. Bounded by Options.IdleBuffers.
    private readonly Stack<FuseRequest> _idle = new();

    // Requests being handled, by unique, for FUSE_INTERRUPT; locked.
    private readonly Dictionary<ulong, FuseRequest> _inFlight = [];

    // Set by INIT; read by every dispatch.
    private volatile FuseConnectionInfo? _connection;

    // Set when RunAsync is asked to stop; readers check it between requests.
    private volatile bool _stopping;

    // 1 once RunAsync started: a session serves its device once.
    private int _running;

    // Handlers not finished plus one while readers run; RunAsync completes when it drops to 0.
    private int _pending;
    private TaskCompletionSource? _drained;

    /// <summary>A session over a mounted connection, served by <see cref="RunAsync"/>.</summary>
    public FuseSession(FuseDevice device, FuseFileSystem fileSystem, FuseSessionOptions? options = null, ILogger? logger = null)
        : this(fileSystem, options, logger)
    {
        _device = device;
    }

    /// <summary>A session without a device, driven by <see cref="ProcessAsync"/> (for tests of the protocol).</summary>
    public FuseSession(FuseFileSystem fileSystem, FuseSessionOptions? options = null, ILogger? logger = null)
    {
        FileSystem = fileSystem;
        Options = options ?? new FuseSessionOptions();
        if (Options.MaxPages is < 1 or > 65535 || Options.Readers < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "MaxPages must be 1..65535 and Readers at least 1");
        }
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>The file system served.</summary>
    public FuseFileSystem FileSystem { get; }

    /// <summary>The options negotiated with.</summary>
    public FuseSessionOptions Options { get; }

    /// <summary>What INIT negotiated; null before.</summary>
    public FuseConnectionInfo? Connection => _connection;

    /// <summary>Completes when INIT was answered.</summary>
    public Task<FuseConnectionInfo> Initialized => _initialized.Task;

    /// <summary>
    /// Serves requests until the connection ends (unmounted or aborted: ENODEV) or
    /// <paramref name="cancellationToken"/> fires, then waits for the handlers still running
    /// (their tokens are cancelled). Stopping by the token leaves the mount in place: requests
    /// then wait in the kernel until it is unmounted.
    /// </summary>
    public Task RunAsync(CancellationToken cancellationToken)
    {
        var device = _device ?? throw new InvalidOperationException("this session has no device; use ProcessAsync");
        if (Interlocked.Exchange(ref _running, 1) != 0)
        {
            throw new InvalidOperationException("RunAsync was already called on this session");
        }
        _drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending = 1;
        var registration = cancellationToken.Register(() =>
        {
            _stopping = true;
            device.WakeAll();
        });
        int running = Options.Readers;
        for (int i = 0; i < Options.Readers; i++)
        {
            var thread = new Thread(() =>
            {
                ReadLoop(device);
                if (Interlocked.Decrement(ref running) == 0)
                {
                    registration.Dispose();
                    CancelInFlight();
                    Release();
                }
            })
            {
                IsBackground = true,
                Name = $"fuse-reader-{i}",
            };
            thread.Start();
        }
        return _drained.Task;
    }

    /// <summary>
    /// Handles one request given as bytes (a whole <c>fuse_in_header</c> and its input) and
    /// writes each reply to <paramref name="sink"/>; completes when the handler is done.
    /// </summary>
    public async Task ProcessAsync(ReadOnlyMemory<byte> request, FuseReplySink sink)
    {
        var owned = Rent();
        int length = Math.Min(request.Length, owned.Buffer.Length);
        request.Span[..length].CopyTo(owned.Buffer);
        owned.Length = length;
        owned.Sink = sink;
        Interlocked.Increment(ref _pending);
        await DispatchAsync(owned);
    }

    /// <summary>
    /// Registers <paramref name="file"/> as a passthrough backing file and returns its id for
    /// <see cref="FuseOpenReply.BackingId"/>. Needs CAP_SYS_ADMIN. Keep one id per inode and close
    /// it at the inode's last RELEASE (not after the OPEN reply: the kernel looks it up later).
    /// </summary>
    public int OpenBacking(SafeHandle file) => RequireDevice().OpenBacking(file);

    /// <summary>Unregisters a backing id from <see cref="OpenBacking"/>.</summary>
    public void CloseBacking(int backingId) => RequireDevice().CloseBacking(backingId);

    internal static void SplitTimeout(TimeSpan timeout, out ulong seconds, out uint nanoseconds)
    {
        if (timeout <= TimeSpan.Zero)
        {
            seconds = 0;
            nanoseconds = 0;
            return;
        }
        long ticks = timeout.Ticks;
        seconds = (ulong)(ticks / TimeSpan.TicksPerSecond);
        nanoseconds = (uint)(ticks % TimeSpan.TicksPerSecond * 100);
    }

    internal static fuse_entry_out ToEntryOut(in FuseEntry entry)
    {
        SplitTimeout(entry.EntryTimeout, out ulong entrySeconds, out uint entryNanoseconds);
        SplitTimeout(entry.AttrTimeout, out ulong attrSeconds, out uint attrNanoseconds);
        return new fuse_entry_out
        {
            nodeid = entry.NodeId,
            generation = entry.Generation,
            entry_valid = entrySeconds,
            entry_valid_nsec = entryNanoseconds,
            attr_valid = attrSeconds,
            attr_valid_nsec = attrNanoseconds,
            attr = entry.Attr.ToAbi(),
        };
    }

    internal bool TryInterrupt(ulong unique)
    {
        // Under the lock: once out of the table a request object may already serve another unique.
        lock (_inFlight)
        {
            if (!_inFlight.TryGetValue(unique, out var target))
            {
                return false;
            }
            target.Cancel();
            return true;
        }
    }

    internal void Reply<T>(FuseRequest request, in T payload)
        where T : unmanaged
    {
        MemoryMarshal.Write(request.Buffer.AsSpan(FuseRequest.OutHeaderSize), in payload);
        Send(request, Unsafe.SizeOf<T>(), 0);
    }

    internal void ReplyEmpty(FuseRequest request) => Send(request, 0, 0);

    internal void ReplyError(FuseRequest request, int errno) => Send(request, 0, errno);

    /// <summary>Replies with the first <paramref name="length"/> bytes already in the reply area.</summary>
    internal void ReplyFilled(FuseRequest request, int length) => Send(request, length, 0);

    internal void ReplyBytes(FuseRequest request, ReadOnlySpan<byte> payload)
    {
        var area = request.ReplyArea(payload.Length).Span;
        if (area.Length < payload.Length)
        {
            throw new FuseErrnoException(Errno.ERANGE, "reply larger than the buffer");
        }
        payload.CopyTo(area);
        Send(request, payload.Length, 0);
    }

    private void Send(FuseRequest request, int payloadLength, int errno)
    {
        if (request.Replied)
        {
            throw new InvalidOperationException($"second reply to {request.Info?.Name} {request.Header.unique}");
        }
        request.Replied = true;
        var header = new fuse_out_header
        {
            len = (uint)(FuseRequest.OutHeaderSize + payloadLength),
            error = -errno,
            unique = request.Header.unique,
        };
        MemoryMarshal.Write(request.Buffer, in header);
        var message = request.Buffer.AsSpan(0, (int)header.len);
        if (request.Sink is { } sink)
        {
            sink(message);
            return;
        }
        int failed;
        try
        {
            failed = _device!.Write(message);
        }
        catch (ObjectDisposedException)
        {
            // The mount was disposed while this handler ran: nobody is waiting for the reply.
            failed = Errno.ENODEV;
        }
        // ENOENT: the request was interrupted and is gone; ENODEV: the connection is.
        if (failed is not 0 and not Errno.ENOENT and not Errno.ENODEV)
        {
            Log.ReplyFailed(_logger, request.Info?.Name ?? "?", errno, failed);
        }
    }

    private FuseDevice RequireDevice() => _device ?? throw new InvalidOperationException("this session has no device");

    private void ReadLoop(FuseDevice device)
    {
        var request = Rent();
        try
        {
            while (!_stopping)
            {
                var status = device.TryRead(request.Buffer, out int length);
                if (status == FuseReadStatus.Request)
                {
                    request.Length = length;
                    Interlocked.Increment(ref _pending);
                    _ = DispatchAsync(request);
                    request = Rent();
                }
                else if (status == FuseReadStatus.Ended)
                {
                    Log.Ended(_logger);
                    break;
                }
                else if (!device.WaitForRequest())
                {
                    break;
                }
            }
        }
        catch (ObjectDisposedException)
        {
            // The device was closed under us: the mount is gone.
        }
        catch (Exception e)
        {
            Log.ReaderFailed(_logger, e);
        }
        Return(request);
    }

    /// <summary>Validates and routes one request; its completion returns the request to the pool.</summary>
    private Task DispatchAsync(FuseRequest request)
    {
        FuseHandler? handler;
        try
        {
            handler = Route(request);
        }
        catch (Exception e)
        {
            Fail(request, e);
            Finish(request);
            return Task.CompletedTask;
        }
        if (handler is null)
        {
            Finish(request);
            return Task.CompletedTask;
        }
        ValueTask running;
        try
        {
            running = handler(this, request);
        }
        catch (Exception e)
        {
            Fail(request, e);
            Finish(request);
            return Task.CompletedTask;
        }
        if (running.IsCompletedSuccessfully)
        {
            running.GetAwaiter().GetResult();
            Finish(request);
            return Task.CompletedTask;
        }
        return AwaitHandlerAsync(running, request);
    }

    private async Task AwaitHandlerAsync(ValueTask running, FuseRequest request)
    {
        try
        {
            await running;
        }
        catch (Exception e)
        {
            Fail(request, e);
        }
        Finish(request);
    }

    /// <summary>The handler to run, or null when the request was answered (or dropped) here.</summary>
    private FuseHandler? Route(FuseRequest request)
    {
        if (request.Length < FuseRequest.OutHeaderSize)
        {
            // Not even a unique to answer to.
            Log.Malformed(_logger, $"{request.Length} bytes, shorter than a header");
            return null;
        }
        if (request.Length < FuseRequest.InHeaderSize)
        {
            request.Header.unique = MemoryMarshal.Read<ulong>(request.Buffer.AsSpan(8));
            Log.Malformed(_logger, $"{request.Length} bytes, shorter than fuse_in_header");
            ReplyError(request, Errno.EIO);
            return null;
        }
        request.Header = MemoryMarshal.Read<fuse_in_header>(request.Buffer);
        var info = FuseOpcodeTable.Find(request.Header.opcode);
        request.Info = info;
        if (info is null)
        {
            ReplyError(request, Errno.ENOSYS);
            return null;
        }
        if (request.Header.len != request.Length)
        {
            Log.Malformed(_logger, $"{info.Name} says {request.Header.len} bytes but {request.Length} came");
            return Refuse(request, info, Errno.EIO);
        }
        if (request.Length - FuseRequest.InHeaderSize < info.InputSize)
        {
            Log.Malformed(_logger, $"{info.Name} of {request.Length} bytes, shorter than its input");
            return Refuse(request, info, Errno.EINVAL);
        }
        if (_connection is null && info.Opcode != FuseOpcode.FUSE_INIT)
        {
            return Refuse(request, info, Errno.EIO);
        }
        if (info.IsWrite && Options.ReadOnly)
        {
            return Refuse(request, info, Errno.EROFS);
        }
        if (info.Handler is null)
        {
            return Refuse(request, info, Errno.ENOSYS);
        }
        if (info.HasReply)
        {
            lock (_inFlight)
            {
                _inFlight[request.Header.unique] = request;
            }
        }
        return info.Handler;
    }

    private FuseHandler? Refuse(FuseRequest request, FuseOpcodeInfo info, int errno)
    {
        if (info.HasReply)
        {
            ReplyError(request, errno);
        }
        return null;
    }

    private void Fail(FuseRequest request, Exception e)
    {
        string name = request.Info?.Name ?? "?";
        int errno;
        if (e is FuseErrnoException errnoException)
        {
            errno = errnoException.Errno;
        }
        else if (e is OperationCanceledException && request.Cancellation.IsCancellationRequested)
        {
            errno = Errno.EINTR;
        }
        else
        {
            Log.HandlerFailed(_logger, name, request.Header.nodeid, e);
            errno = Errno.EIO;
        }
        if (request.Replied)
        {
            // Thrown after its reply was written (a bug in a handler): nothing more can be sent.
            Log.HandlerFailed(_logger, name, request.Header.nodeid, e);
        }
        else if (request.Info is { HasReply: true })
        {
            ReplyError(request, errno);
        }
    }

    private void Finish(FuseRequest request)
    {
        if (request.Info is { HasReply: true } info)
        {
            lock (_inFlight)
            {
                if (_inFlight.TryGetValue(request.Header.unique, out var current) && ReferenceEquals(current, request))
                {
                    _inFlight.Remove(request.Header.unique);
                }
            }
            if (!request.Replied)
            {
                Log.NoReply(_logger, info.Name);
                ReplyError(request, Errno.EIO);
            }
        }
        Return(request);
        Release();
    }

    private void Release()
    {
        if (Interlocked.Decrement(ref _pending) == 0)
        {
            _drained?.TrySetResult();
        }
    }

    private void CancelInFlight()
    {
        FuseRequest[] running;
        lock (_inFlight)
        {
            running = [.. _inFlight.Values];
        }
        foreach (var request in running)
        {
            request.Cancel();
        }
    }

    private FuseRequest Rent()
    {
        lock (_idle)
        {
            if (_idle.TryPop(out var request))
            {
                return request;
            }
        }
        return new FuseRequest(Options.BufferSize);
    }

    private void Return(FuseRequest request)
    {
        request.Reset();
        lock (_idle)
        {
            if (_idle.Count < Options.IdleBuffers)
            {
                _idle.Push(request);
                return;
            }
        }
        request.Dispose();
    }
}
