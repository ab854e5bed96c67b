using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using MessagePack;
using Realize.Core;

namespace Realize.Network;

/// <summary>The other side broke the protocol: the connection is closed with this reason and nothing of the frame is applied.</summary>
public sealed class ProtocolException : Exception
{
    public ProtocolException(string message)
        : base(message)
    {
    }

    public ProtocolException()
    {
    }

    public ProtocolException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>The messages of a connection after its tag (docs/wire.md).</summary>
internal abstract record Message;

/// <summary>The acceptor's first frame: whether it takes the connection.</summary>
internal sealed record Welcome(int Version, bool Accepted, string? Reason) : Message;

/// <summary>
/// An arena and where a side stands in its history: for the receiver its last applied index and
/// the id of the history that index is of (0: none); for the sender its last index and its history id.
/// </summary>
internal sealed record ArenaPosition(ArenaName Arena, long Index, long History);

/// <summary>The arenas one side shares with the other, each with its position.</summary>
internal sealed record ArenaList(IReadOnlyList<ArenaPosition> Arenas) : Message;

/// <summary>Notifications of one arena, in index order.</summary>
internal sealed record Notify(ArenaName Arena, IReadOnlyList<Notification> Batch) : Message;

/// <summary>The receiver has durably applied the arena's history up to the index.</summary>
internal sealed record Ack(ArenaName Arena, long Index) : Message;

/// <summary>The files of the arena follow as <c>Added</c>, replacing the receiver's table, which will then stand at the index.</summary>
internal sealed record ResetStart(ArenaName Arena, long Index) : Message;

/// <summary>The end of a reset.</summary>
internal sealed record ResetEnd(ArenaName Arena, long Index) : Message;

/// <summary>Nothing to say: the connection is alive.</summary>
internal sealed record Ping : Message
{
    public static Ping Instance { get; } = new();
}

/// <summary>BLOB: asks for the block list of a blob (answered by <see cref="BlockList"/> or <see cref="BlobRefusal"/> with the same request id).</summary>
internal sealed record BlockListRequest(long Request, BlobHash Blob) : Message;

/// <summary>BLOB: a blob's size and the SHA-256 of each of its 4 MiB blocks, concatenated (32 bytes each, as many as the size has blocks).</summary>
internal sealed record BlockList(long Request, long Size, byte[] Hashes) : Message;

/// <summary>BLOB: asks for one whole 4 MiB block of a blob (the last one may be shorter).</summary>
internal sealed record BlockRequest(long Request, BlobHash Blob, int Index) : Message;

/// <summary>
/// BLOB: the bytes of the block a request asked for. <see cref="Data"/> lies in the frame's
/// buffer: whoever read the frame owns it until the block is consumed.
/// </summary>
internal sealed record BlockData(long Request, ReadOnlyMemory<byte> Data) : Message;

/// <summary>BLOB: the request cannot be served (the blob is not here, or its file changed since it was indexed); the connection goes on.</summary>
internal sealed record BlobRefusal(long Request, string Reason) : Message;

/// <summary>
/// Encoding of <see cref="Message"/>s as MessagePack arrays whose first element is the type,
/// and their framing: a 4-byte big-endian length, then the message. Decoding validates every
/// field (arena names, paths, blobs, sizes), so what it returns can go to a database as it is.
/// </summary>
internal static class Wire
{
    public const int Version = 1;

    /// <summary>The largest frame accepted by default: a batch of notifications stays far below it.</summary>
    public const int DefaultMaxFrame = 16 << 20;

    /// <summary>The most notifications in one <see cref="Notify"/>.</summary>
    public const int MaxBatch = 65536;

    private const int TypeWelcome = 0, TypeArenas = 1, TypeNotify = 2, TypeAck = 3, TypeResetStart = 4, TypeResetEnd = 5, TypePing = 6,
        TypeBlockListRequest = 7, TypeBlockList = 8, TypeBlockRequest = 9, TypeBlock = 10, TypeBlobRefusal = 11;

    /// <summary>Room kept before a block's bytes in its buffer for the frame's length and message header (<see cref="WriteBlockHeader(byte[], long, int)"/>).</summary>
    public const int BlockHeaderRoom = 32;

    /// <summary>The longest reason a refusal carries.</summary>
    public const int MaxReason = 1024;

    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Appends <paramref name="message"/> as one frame to <paramref name="output"/>.</summary>
    public static void WriteFrame(ArrayBufferWriter<byte> output, Message message)
    {
        int start = output.WrittenCount;
        output.GetSpan(4);
        output.Advance(4);
        var writer = new MessagePackWriter(output);
        Encode(ref writer, message);
        writer.Flush();
        int length = output.WrittenCount - start - 4;
        // The length goes in front once known; the buffer's memory is contiguous.
        BinaryPrimitives.WriteInt32BigEndian(System.Runtime.InteropServices.MemoryMarshal.AsMemory(output.WrittenMemory).Span[start..], length);
    }

    private static void Encode(ref MessagePackWriter writer, Message message)
    {
        switch (message)
        {
            case Welcome w:
                writer.WriteArrayHeader(4);
                writer.Write(TypeWelcome);
                writer.Write(w.Version);
                writer.Write(w.Accepted);
                writer.Write(w.Reason);
                break;
            case ArenaList a:
                writer.WriteArrayHeader(2);
                writer.Write(TypeArenas);
                writer.WriteArrayHeader(a.Arenas.Count);
                foreach (var (arena, index, history) in a.Arenas)
                {
                    writer.WriteArrayHeader(3);
                    writer.Write(arena.Value);
                    writer.Write(index);
                    writer.Write(history);
                }
                break;
            case Notify n:
                writer.WriteArrayHeader(3);
                writer.Write(TypeNotify);
                writer.Write(n.Arena.Value);
                writer.WriteArrayHeader(n.Batch.Count);
                foreach (var e in n.Batch)
                {
                    writer.WriteArrayHeader(7);
                    writer.Write(e.Index);
                    writer.Write((int)e.Type);
                    writer.Write(e.Path.Value);
                    WriteBlob(ref writer, e.Blob);
                    WriteNullable(ref writer, e.Size);
                    WriteNullable(ref writer, e.MTime?.TotalNanoseconds);
                    WriteBlob(ref writer, e.OldBlob);
                }
                break;
            case Ack a:
                WriteArenaIndex(ref writer, TypeAck, a.Arena, a.Index);
                break;
            case ResetStart r:
                WriteArenaIndex(ref writer, TypeResetStart, r.Arena, r.Index);
                break;
            case ResetEnd r:
                WriteArenaIndex(ref writer, TypeResetEnd, r.Arena, r.Index);
                break;
            case Ping:
                writer.WriteArrayHeader(1);
                writer.Write(TypePing);
                break;
            case BlockListRequest r:
                writer.WriteArrayHeader(3);
                writer.Write(TypeBlockListRequest);
                writer.Write(r.Request);
                WriteBlob(ref writer, r.Blob);
                break;
            case BlockList l:
                writer.WriteArrayHeader(4);
                writer.Write(TypeBlockList);
                writer.Write(l.Request);
                writer.Write(l.Size);
                writer.Write(l.Hashes);
                break;
            case BlockRequest r:
                writer.WriteArrayHeader(4);
                writer.Write(TypeBlockRequest);
                writer.Write(r.Request);
                WriteBlob(ref writer, r.Blob);
                writer.Write(r.Index);
                break;
            case BlockData d:
                WriteBlockHeader(ref writer, d.Request, d.Data.Length);
                writer.WriteRaw(d.Data.Span);
                break;
            case BlobRefusal r:
                writer.WriteArrayHeader(3);
                writer.Write(TypeBlobRefusal);
                writer.Write(r.Request);
                writer.Write(r.Reason);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(message), message.GetType().Name, "not a wire message");
        }
    }

    private static void WriteBlockHeader(ref MessagePackWriter writer, long request, int length)
    {
        writer.WriteArrayHeader(3);
        writer.Write(TypeBlock);
        writer.Write(request);
        writer.WriteBinHeader(length);
    }

    /// <summary>
    /// Makes the <paramref name="length"/> bytes at <paramref name="buffer"/>[<see cref="BlockHeaderRoom"/>..]
    /// a <see cref="BlockData"/> frame by writing its length and header just before them, so that
    /// a block read from disk is sent without a copy; returns where the frame starts.
    /// </summary>
    public static int WriteBlockHeader(byte[] buffer, long request, int length)
    {
        var header = new ArrayBufferWriter<byte>(BlockHeaderRoom);
        var writer = new MessagePackWriter(header);
        WriteBlockHeader(ref writer, request, length);
        writer.Flush();
        int start = BlockHeaderRoom - header.WrittenCount - 4;
        BinaryPrimitives.WriteInt32BigEndian(buffer.AsSpan(start), header.WrittenCount + length);
        header.WrittenSpan.CopyTo(buffer.AsSpan(start + 4));
        return start;
    }

    private static void WriteArenaIndex(ref MessagePackWriter writer, int type, ArenaName arena, long index)
    {
        writer.WriteArrayHeader(3);
        writer.Write(type);
        writer.Write(arena.Value);
        writer.Write(index);
    }

    private static void WriteBlob(ref MessagePackWriter writer, BlobHash? blob)
    {
        if (blob is { } b)
        {
            writer.Write(b.Hex);
        }
        else
        {
            writer.WriteNil();
        }
    }

    private static void WriteNullable(ref MessagePackWriter writer, long? value)
    {
        if (value is { } v)
        {
            writer.Write(v);
        }
        else
        {
            writer.WriteNil();
        }
    }

    /// <summary>Decodes one frame's payload; throws <see cref="ProtocolException"/> for anything malformed.</summary>
    public static Message Decode(ReadOnlyMemory<byte> payload)
    {
        try
        {
            var reader = new MessagePackReader(payload);
            int count = reader.ReadArrayHeader();
            if (count < 1)
            {
                throw new ProtocolException("an empty message");
            }
            int type = reader.ReadInt32();
            Message message = type switch
            {
                TypeWelcome when count == 4 => new Welcome(reader.ReadInt32(), reader.ReadBoolean(), ReadString(ref reader, nullable: true, "reason")),
                TypeArenas when count == 2 => ReadArenaList(ref reader),
                TypeNotify when count == 3 => ReadNotify(ref reader),
                TypeAck when count == 3 => new Ack(ReadArena(ref reader), ReadIndex(ref reader)),
                TypeResetStart when count == 3 => new ResetStart(ReadArena(ref reader), ReadIndex(ref reader)),
                TypeResetEnd when count == 3 => new ResetEnd(ReadArena(ref reader), ReadIndex(ref reader)),
                TypePing when count == 1 => Ping.Instance,
                TypeBlockListRequest when count == 3 => new BlockListRequest(ReadRequest(ref reader), ReadBlob(ref reader, "blob") ?? throw new ProtocolException("blob is missing")),
                TypeBlockList when count == 4 => ReadBlockList(ref reader),
                TypeBlockRequest when count == 4 => ReadBlockRequest(ref reader),
                TypeBlock when count == 3 => ReadBlock(ref reader),
                TypeBlobRefusal when count == 3 => new BlobRefusal(ReadRequest(ref reader), ReadReason(ref reader)),
                _ => throw new ProtocolException($"unknown message type {type} with {count} fields"),
            };
            if (!reader.End)
            {
                throw new ProtocolException("bytes after the end of a message");
            }
            return message;
        }
        catch (Exception e) when (e is MessagePackSerializationException or EndOfStreamException or OverflowException or DecoderFallbackException or InvalidOperationException)
        {
            throw new ProtocolException($"an undecodable message ({e.Message})", e);
        }
    }

    private static long ReadRequest(ref MessagePackReader reader)
    {
        long request = reader.ReadInt64();
        return request >= 0 ? request : throw new ProtocolException($"negative request id {request}");
    }

    private static BlockList ReadBlockList(ref MessagePackReader reader)
    {
        long request = ReadRequest(ref reader);
        long size = reader.ReadInt64();
        Expect(size >= 0, $"a blob of negative size {size}");
        var hashes = reader.ReadBytes() ?? throw new ProtocolException("the block hashes are missing");
        long blocks = BlobBlocks.Count(size);
        Expect(hashes.Length == blocks * 32, $"{hashes.Length} bytes of block hashes for a blob of {size} bytes ({blocks} blocks of 32)");
        return new BlockList(request, size, hashes.ToArray());
    }

    private static BlockRequest ReadBlockRequest(ref MessagePackReader reader)
    {
        long request = ReadRequest(ref reader);
        var blob = ReadBlob(ref reader, "blob") ?? throw new ProtocolException("blob is missing");
        int index = reader.ReadInt32();
        Expect(index >= 0, $"negative block index {index}");
        return new BlockRequest(request, blob, index);
    }

    private static BlockData ReadBlock(ref MessagePackReader reader)
    {
        long request = ReadRequest(ref reader);
        // The bytes stay in the frame: a slice of the payload, no copy.
        var bytes = reader.ReadBytes() ?? throw new ProtocolException("a block without its bytes");
        Expect(bytes.Length is > 0 and <= BlobHash.BlockSize, $"a block of {bytes.Length} bytes (1 to {BlobHash.BlockSize})");
        return new BlockData(request, bytes.IsSingleSegment ? bytes.First : bytes.ToArray());
    }

    private static string ReadReason(ref MessagePackReader reader)
    {
        string reason = ReadString(ref reader, nullable: false, "reason")!;
        Expect(reason.Length <= MaxReason, $"a reason of {reason.Length} characters");
        return reason;
    }

    private static ArenaList ReadArenaList(ref MessagePackReader reader)
    {
        int count = reader.ReadArrayHeader();
        if (count > 10_000)
        {
            throw new ProtocolException($"{count} arenas in one list");
        }
        var arenas = new List<ArenaPosition>(count);
        var seen = new HashSet<ArenaName>();
        for (int i = 0; i < count; i++)
        {
            Expect(reader.ReadArrayHeader() == 3, "an arena entry is [name, index, history]");
            var arena = ReadArena(ref reader);
            long index = ReadIndex(ref reader);
            long history = reader.ReadInt64();
            Expect(seen.Add(arena), $"arena {arena} listed twice");
            arenas.Add(new ArenaPosition(arena, index, history));
        }
        return new ArenaList(arenas);
    }

    private static Notify ReadNotify(ref MessagePackReader reader)
    {
        var arena = ReadArena(ref reader);
        int count = reader.ReadArrayHeader();
        Expect(count is > 0 and <= MaxBatch, $"{count} notifications in one batch (1 to {MaxBatch})");
        var batch = new List<Notification>(count);
        for (int i = 0; i < count; i++)
        {
            Expect(reader.ReadArrayHeader() == 7, "a notification is [index, type, path, blob, size, mtime, old_blob]");
            long index = ReadIndex(ref reader);
            int type = reader.ReadInt32();
            Expect(type is >= 1 and <= 3, $"unknown notification type {type}");
            string text = ReadString(ref reader, nullable: false, "path")!;
            if (!RelPath.TryParse(text, out RelPath path, out string? problem))
            {
                throw new ProtocolException($"invalid path in {arena}: {problem}");
            }
            var blob = ReadBlob(ref reader, "blob");
            long? size = ReadNullableLong(ref reader);
            long? mtime = ReadNullableLong(ref reader);
            var old = ReadBlob(ref reader, "old_blob");
            var kind = (NotificationType)type;
            if (kind == NotificationType.Removed)
            {
                Expect(blob is null && size is null && mtime is null, $"removed {path} carries a blob, size or mtime");
            }
            else
            {
                Expect(blob is not null && size is not null && mtime is not null, $"{kind} {path} lacks its blob, size or mtime");
                Expect(size >= 0, $"{path} has a negative size");
            }
            batch.Add(new Notification(index, arena, kind, path, blob, size, mtime is { } ns ? FileTime.FromTotalNanoseconds(ns) : null, old));
        }
        return new Notify(arena, batch);
    }

    private static ArenaName ReadArena(ref MessagePackReader reader)
    {
        string text = ReadString(ref reader, nullable: false, "arena")!;
        return ArenaName.TryParse(text, out ArenaName arena, out string? problem) ? arena : throw new ProtocolException($"invalid arena name: {problem}");
    }

    private static long ReadIndex(ref MessagePackReader reader)
    {
        long index = reader.ReadInt64();
        return index >= 0 ? index : throw new ProtocolException($"negative index {index}");
    }

    private static long? ReadNullableLong(ref MessagePackReader reader) => reader.TryReadNil() ? null : reader.ReadInt64();

    private static BlobHash? ReadBlob(ref MessagePackReader reader, string what)
    {
        if (reader.TryReadNil())
        {
            return null;
        }
        Span<byte> hash = stackalloc byte[32];
        if (reader.TryReadStringSpan(out ReadOnlySpan<byte> hex))
        {
            // The common case, without a string: the 64 digits straight from the frame.
            return hex.Length == 64 && Convert.FromHexString(hex, hash, out _, out int written) == OperationStatus.Done && written == 32
                ? BlobHash.FromBytes(hash)
                : throw new ProtocolException($"{what} is not 64 hex digits");
        }
        string text = ReadString(ref reader, nullable: false, what)!;
        return BlobHash.TryParse(text, out BlobHash blob) ? blob : throw new ProtocolException($"{what} is not 64 hex digits");
    }

    private static string? ReadString(ref MessagePackReader reader, bool nullable, string what)
    {
        if (reader.TryReadNil())
        {
            return nullable ? null : throw new ProtocolException($"{what} is missing");
        }
        // Strictly: a path with invalid UTF-8 is refused, never turned into U+FFFD.
        if (reader.TryReadStringSpan(out ReadOnlySpan<byte> span))
        {
            return s_strictUtf8.GetString(span);
        }
        ReadOnlySequence<byte> bytes = reader.ReadStringSequence() ?? throw new ProtocolException($"{what} is missing");
        return s_strictUtf8.GetString(bytes);
    }

    private static void Expect(bool condition, string problem)
    {
        if (!condition)
        {
            throw new ProtocolException(problem);
        }
    }
}
