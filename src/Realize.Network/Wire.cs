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

    private const int TypeWelcome = 0, TypeArenas = 1, TypeNotify = 2, TypeAck = 3, TypeResetStart = 4, TypeResetEnd = 5, TypePing = 6;

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
            default:
                throw new ArgumentOutOfRangeException(nameof(message), message.GetType().Name, "not a wire message");
        }
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
