using System.Buffers;
using System.Buffers.Binary;
using System.Net.Security;
using Realize.Core;

namespace Realize.Network;

/// <summary>Timings and limits of connections.</summary>
public sealed record LinkOptions
{
    /// <summary>A connection that says nothing for this long is dead (the other side pings well within it).</summary>
    public TimeSpan DeadAfter { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>A side that has written nothing for this long sends a ping.</summary>
    public TimeSpan PingEvery { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long connecting, TLS and the first frames may take.</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The largest frame read; a larger one closes the connection.</summary>
    public int MaxFrame { get; init; } = Wire.DefaultMaxFrame;
}

/// <summary>
/// One authenticated connection to a known peer, after its tag: frames in and out, pings
/// while idle, and a read deadline that notices a dead connection.
/// </summary>
internal sealed class Link : IAsyncDisposable
{
    private readonly SslStream _stream;
    private readonly LinkOptions _options;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private ArrayBufferWriter<byte> _output = new(64 * 1024);
    private readonly CancellationTokenSource _closed = new();
    private readonly byte[] _header = new byte[4];
    private byte[] _input = new byte[64 * 1024];
    private long _lastWrite = Environment.TickCount64;
    private Task? _keepAlive;
    private int _disposed;
    // Taken once: the token stays readable (cancelled) after the source is disposed.
    private readonly CancellationToken _closedToken;

    public Link(SslStream stream, PeerConfig peer, string tag, LinkOptions options)
    {
        _stream = stream;
        Peer = peer;
        Tag = tag;
        _options = options;
        _closedToken = _closed.Token;
    }

    /// <summary>Who is on the other side, known from its certificate.</summary>
    public PeerConfig Peer { get; }

    /// <summary>HRCV or HSND: what the connection is for.</summary>
    public string Tag { get; }

    /// <summary>Cancelled once the link is closed, or once reading it failed: every pending write then aborts.</summary>
    public CancellationToken Closed => _closedToken;

    /// <summary>Why reading the link failed (dead, closed, or a protocol error), once it did.</summary>
    public Exception? Failure { get; private set; }

    /// <summary>Starts sending pings whenever nothing was written for a while.</summary>
    public void StartKeepAlive() => _keepAlive ??= KeepAliveAsync();

    private async Task KeepAliveAsync()
    {
        using var timer = new PeriodicTimer(_options.PingEvery / 4);
        try
        {
            while (await timer.WaitForNextTickAsync(_closedToken))
            {
                if (Environment.TickCount64 - Interlocked.Read(ref _lastWrite) >= _options.PingEvery.TotalMilliseconds)
                {
                    await WriteAsync(Ping.Instance, _closedToken);
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException)
        {
            // Closed: the reader notices.
        }
    }

    /// <summary>Writes one message.</summary>
    public Task WriteAsync(Message message, CancellationToken cancellation) => WriteAsync([message], cancellation);

    /// <summary>Writes messages in one go.</summary>
    public async Task WriteAsync(IReadOnlyList<Message> messages, CancellationToken cancellation)
    {
        // Also cancelled when reading fails: a write blocked on a dead peer's full window must
        // not wait for TCP to give up, minutes later.
        using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellation, _closedToken);
        await _writeLock.WaitAsync(either.Token);
        try
        {
            _output.ResetWrittenCount();
            foreach (var message in messages)
            {
                Wire.WriteFrame(_output, message);
            }
            await _stream.WriteAsync(_output.WrittenMemory, either.Token);
            await _stream.FlushAsync(either.Token);
            Interlocked.Exchange(ref _lastWrite, Environment.TickCount64);
            if (_output.Capacity > 4 << 20)
            {
                // A big batch: do not keep its buffer for the pings.
                _output = new ArrayBufferWriter<byte>(64 * 1024);
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>
    /// Writes one frame already encoded, length included (a block read from disk behind the header
    /// <see cref="Wire.WriteBlockHeader(byte[], long, int)"/> wrote): no copy of its bytes.
    /// </summary>
    public async Task WriteFrameAsync(ReadOnlyMemory<byte> frame, CancellationToken cancellation)
    {
        using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellation, _closedToken);
        await _writeLock.WaitAsync(either.Token);
        try
        {
            await _stream.WriteAsync(frame, either.Token);
            await _stream.FlushAsync(either.Token);
            Interlocked.Exchange(ref _lastWrite, Environment.TickCount64);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>
    /// Reads the next message other than a ping as <see cref="ReadAsync(CancellationToken)"/> does,
    /// a <see cref="BlockData"/> into a buffer of <see cref="BlockBuffers"/>, returned with it: the
    /// caller gives it back once the block is consumed.
    /// </summary>
    public async Task<(Message Message, byte[]? Rented)> ReadRentingAsync(CancellationToken cancellation)
    {
        try
        {
            while (true)
            {
                var (message, rented) = await ReadAnyAsync(rentBlocks: true, cancellation);
                if (message is not Ping)
                {
                    return (message, rented);
                }
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Failure ??= e;
            await MarkClosedAsync();
            throw;
        }
    }

    /// <summary>
    /// Reads the next message other than a ping; throws <see cref="TimeoutException"/> when the
    /// other side said nothing within the dead-connection delay, <see cref="EndOfStreamException"/>
    /// when it closed, <see cref="ProtocolException"/> for a bad frame.
    /// </summary>
    public async Task<Message> ReadAsync(CancellationToken cancellation)
    {
        try
        {
            while (true)
            {
                var (message, _) = await ReadAnyAsync(rentBlocks: false, cancellation);
                if (message is not Ping)
                {
                    return message;
                }
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Failure ??= e;
            await MarkClosedAsync();
            throw;
        }
    }

    private async Task<(Message, byte[]?)> ReadAnyAsync(bool rentBlocks, CancellationToken cancellation)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellation, _closedToken);
        deadline.CancelAfter(_options.DeadAfter);
        try
        {
            await ReadExactlyAsync(_header, deadline);
            int length = BinaryPrimitives.ReadInt32BigEndian(_header);
            if (length <= 0 || length > _options.MaxFrame)
            {
                throw new ProtocolException($"a frame of {(uint)length} bytes (the limit is {_options.MaxFrame})");
            }
            if (rentBlocks && length > 64 * 1024 && length <= BlockBuffers.Length)
            {
                // Probably a block: read into a buffer of its own, which the block then keeps.
                byte[] rented = BlockBuffers.Rent();
                try
                {
                    await ReadExactlyAsync(rented.AsMemory(0, length), deadline);
                    var decoded = Wire.Decode(rented.AsMemory(0, length));
                    if (decoded is BlockData)
                    {
                        return (decoded, rented);
                    }
                    BlockBuffers.Return(rented);
                    return (decoded, null);
                }
                catch
                {
                    BlockBuffers.Return(rented);
                    throw;
                }
            }
            if (_input.Length < length)
            {
                _input = new byte[Math.Max(length, _input.Length * 2)];
            }
            await ReadExactlyAsync(_input.AsMemory(0, length), deadline);
            var message = Wire.Decode(_input.AsMemory(0, length));
            if (_input.Length > 4 << 20 && length < 1 << 20)
            {
                _input = new byte[64 * 1024];
            }
            // A small block (a blob's last) must not stay in the input buffer, which the next frame overwrites.
            return message is BlockData d ? (d with { Data = d.Data.ToArray() }, null) : (message, null);
        }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested && !_closedToken.IsCancellationRequested)
        {
            throw new TimeoutException($"no word from {Peer.Name} for {_options.DeadAfter.TotalSeconds:0} s: the connection is dead");
        }
    }

    /// <summary>Fills <paramref name="buffer"/>; the deadline moves on with every read that brings bytes, so a slow link is not a dead one.</summary>
    private async Task ReadExactlyAsync(Memory<byte> buffer, CancellationTokenSource deadline)
    {
        int filled = 0;
        while (filled < buffer.Length)
        {
            int read = await _stream.ReadAsync(buffer[filled..], deadline.Token);
            if (read == 0)
            {
                throw new EndOfStreamException($"{Peer.Name} closed the connection");
            }
            filled += read;
            deadline.CancelAfter(_options.DeadAfter);
        }
    }

    private async Task MarkClosedAsync()
    {
        try
        {
            await _closed.CancelAsync();
        }
        catch (ObjectDisposedException)
        {
            // Disposed meanwhile: closed all the same.
        }
    }

    public async ValueTask DisposeAsync()
    {
        // Once: a BLOB client's reader and its requests may each close a failed link.
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        await _closed.CancelAsync();
        try
        {
            if (_keepAlive is not null)
            {
                await _keepAlive;
            }
        }
        finally
        {
            await _stream.DisposeAsync();
            _closed.Dispose();
            _writeLock.Dispose();
        }
    }
}
