namespace Realize.Network;

/// <summary>
/// Buffers both directions of a socket's stream under TLS, each with its own buffer (SslStream
/// reads and writes at once): SslStream reads and writes one TLS record (16 KiB) at a time, so
/// a 4 MiB block would cost 256 system calls each way; with these buffers, a few. Writes are
/// coalesced only once <see cref="CoalesceWrites"/> is set (after the handshake) and go out at
/// each flush, which every write of a <see cref="Link"/> ends with.
/// </summary>
internal sealed class BufferedDuplexStream(Stream inner, int bufferSize = 128 * 1024) : Stream
{
    // The reader's side: bytes received and not yet handed out are _read[_readStart.._readEnd).
    private readonly byte[] _read = new byte[bufferSize];
    private int _readStart;
    private int _readEnd;
    // The writer's side: bytes written and not yet sent are _write[0.._written).
    private readonly byte[] _write = new byte[bufferSize];
    private int _written;

    /// <summary>Whether writes wait in the buffer for the next flush; until then each goes straight through (the handshake flushes nothing).</summary>
    public bool CoalesceWrites { get; set; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_readStart == _readEnd)
        {
            if (buffer.Length >= _read.Length)
            {
                return await inner.ReadAsync(buffer, cancellationToken);
            }
            _readStart = 0;
            _readEnd = await inner.ReadAsync(_read, cancellationToken);
        }
        int count = Math.Min(buffer.Length, _readEnd - _readStart);
        _read.AsSpan(_readStart, count).CopyTo(buffer.Span);
        _readStart += count;
        return count;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (_readStart == _readEnd)
        {
            if (buffer.Length >= _read.Length)
            {
                return inner.Read(buffer);
            }
            _readStart = 0;
            _readEnd = inner.Read(_read);
        }
        int count = Math.Min(buffer.Length, _readEnd - _readStart);
        _read.AsSpan(_readStart, count).CopyTo(buffer);
        _readStart += count;
        return count;
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (!CoalesceWrites)
        {
            await SendAsync(cancellationToken);
            await inner.WriteAsync(buffer, cancellationToken);
            return;
        }
        if (_written + buffer.Length > _write.Length)
        {
            await SendAsync(cancellationToken);
        }
        if (buffer.Length >= _write.Length)
        {
            await inner.WriteAsync(buffer, cancellationToken);
            return;
        }
        buffer.Span.CopyTo(_write.AsSpan(_written));
        _written += buffer.Length;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        Flush();
        inner.Write(buffer);
    }

    private async ValueTask SendAsync(CancellationToken cancellationToken)
    {
        if (_written > 0)
        {
            int count = _written;
            _written = 0;
            await inner.WriteAsync(_write.AsMemory(0, count), cancellationToken);
        }
    }

    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        await SendAsync(cancellationToken);
        await inner.FlushAsync(cancellationToken);
    }

    public override void Flush()
    {
        if (_written > 0)
        {
            int count = _written;
            _written = 0;
            inner.Write(_write.AsSpan(0, count));
        }
        inner.Flush();
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await inner.DisposeAsync();
        await base.DisposeAsync();
    }
}
