using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Realize.Fuse.Abi;
using Realize.Linux;

namespace Realize.Fuse;

/// <summary>Where the bytes of replies go when a session is driven without /dev/fuse (tests).</summary>
public delegate void FuseReplySink(ReadOnlySpan<byte> message);

/// <summary>
/// One request in flight with its buffer, reused from a pool: the request is read into
/// <see cref="Buffer"/>, and its reply is built in the same buffer once the input is parsed
/// (a READ handler fills the data right behind the reply header, so the reply is one write).
/// </summary>
internal sealed class FuseRequest : IDisposable
{
    public static readonly int InHeaderSize = Unsafe.SizeOf<fuse_in_header>();
    public static readonly int OutHeaderSize = Unsafe.SizeOf<fuse_out_header>();

    // Replaced after an interrupt cancelled it; otherwise reset and reused.
    private CancellationTokenSource _cancellation = new();

    public FuseRequest(int bufferSize)
    {
        Buffer = GC.AllocateUninitializedArray<byte>(bufferSize);
    }

    public byte[] Buffer { get; }

    /// <summary>How many bytes of <see cref="Buffer"/> the request holds.</summary>
    public int Length { get; set; }

    public fuse_in_header Header;

    /// <summary>Null for /dev/fuse.</summary>
    public FuseReplySink? Sink { get; set; }

    /// <summary>Set once a reply was written: every request with a reply gets exactly one.</summary>
    public bool Replied { get; set; }

    public FuseOpcodeInfo? Info { get; set; }

    public FuseDirWriter DirWriter { get; } = new();

    public FuseDirPlusWriter DirPlusWriter { get; } = new();

    public CancellationToken Cancellation => _cancellation.Token;

    public FuseRequestHeader PublicHeader => new(Header.unique, Header.nodeid, Header.uid, Header.gid, Header.pid);

    /// <summary>The bytes after the fixed header.</summary>
    public ReadOnlySpan<byte> Body => Buffer.AsSpan(InHeaderSize, Length - InHeaderSize);

    /// <summary>The reply payload area, right after the reply header.</summary>
    public Memory<byte> ReplyArea(int size) => Buffer.AsMemory(OutHeaderSize, Math.Min(size, Buffer.Length - OutHeaderSize));

    /// <summary>The fixed input struct at the start of the body (its size was checked against the opcode table).</summary>
    public T Argument<T>()
        where T : unmanaged
    {
        var body = Body;
        return body.Length >= Unsafe.SizeOf<T>() ? MemoryMarshal.Read<T>(body) : throw new FuseErrnoException(Errno.EINVAL, $"request too short for {typeof(T).Name}");
    }

    /// <summary>A NUL-terminated name at <paramref name="offset"/> into the body, without its NUL.</summary>
    public ReadOnlyMemory<byte> Name(int offset)
    {
        int start = InHeaderSize + offset;
        int end = start <= Length ? Array.IndexOf(Buffer, (byte)0, start, Length - start) : -1;
        return end >= 0 ? Buffer.AsMemory(start, end - start) : throw new FuseErrnoException(Errno.EINVAL, "name without NUL");
    }

    public void Cancel()
    {
        try
        {
            _cancellation.Cancel();
        }
        catch (AggregateException)
        {
            // A handler's callback threw; the handler itself reports through its reply.
        }
    }

    public void Dispose() => _cancellation.Dispose();

    /// <summary>Makes this request ready for the next use.</summary>
    public void Reset()
    {
        if (!_cancellation.TryReset())
        {
            _cancellation.Dispose();
            _cancellation = new CancellationTokenSource();
        }
        Sink = null;
        Replied = false;
        Info = null;
        Length = 0;
        Header = default;
    }
}
