using System.Runtime.InteropServices;
using System.Text;
using Realize.Fuse.Abi;

namespace Realize.Fuse;

/// <summary>One READDIRPLUS entry: its name, its <see cref="FuseEntry"/> (node id 0: name only, no lookup counted), and the cookie to resume after it.</summary>
public readonly record struct FuseDirEntryPlus(string Name, FuseEntry Entry, long NextOffset);

/// <summary>
/// A directory reply filled in place: entries go straight into the reply buffer until it is
/// full. <c>TryAdd</c> returns false (and adds nothing) once the next entry does not fit; the
/// handler then stops, and the kernel asks again from the last entry's <c>nextOffset</c>.
/// </summary>
public abstract class FuseDirBuffer
{
    private const int MaxName = 1024;

    private byte[] _buffer = [];
    private int _start;
    private int _position;
    private int _limit;

    private protected FuseDirBuffer()
    {
    }

    /// <summary>How many entries were added.</summary>
    public int Count { get; private set; }

    internal int Length => _position - _start;

    internal void Reset(byte[] buffer, int start, int size)
    {
        _buffer = buffer;
        _start = _position = start;
        _limit = start + size;
        Count = 0;
    }

    /// <summary>The space of the next record of <paramref name="size"/> bytes (8-aligned here), or false when it does not fit.</summary>
    private protected bool TryReserve(int size, out Span<byte> record)
    {
        size = (size + 7) & ~7;
        if (_position + size > _limit)
        {
            record = default;
            return false;
        }
        record = _buffer.AsSpan(_position, size);
        return true;
    }

    private protected void Commit(int size)
    {
        _position += (size + 7) & ~7;
        Count++;
    }

    /// <summary>Writes a <c>fuse_dirent</c> and its name, zero-padded to the end of <paramref name="target"/>.</summary>
    private protected static void WriteDirent(Span<byte> target, in fuse_dirent dirent, ReadOnlySpan<byte> name)
    {
        int header = Marshal.SizeOf<fuse_dirent>();
        MemoryMarshal.Write(target, in dirent);
        name.CopyTo(target[header..]);
        target[(header + name.Length)..].Clear();
    }

    /// <summary>Encodes a name into <paramref name="bytes"/> (at least <see cref="MaxNameBytes"/> long).</summary>
    private protected static ReadOnlySpan<byte> Encode(string name, Span<byte> bytes) =>
        name.Length <= MaxName / 3 || Encoding.UTF8.GetByteCount(name) <= MaxName
            ? bytes[..Encoding.UTF8.GetBytes(name, bytes)]
            : throw new FuseErrnoException(Linux.Errno.ENAMETOOLONG, "name too long");

    private protected const int MaxNameBytes = MaxName;
}

/// <summary>Fills a READDIR reply (names and types only).</summary>
public sealed class FuseDirWriter : FuseDirBuffer
{
    /// <summary>Adds an entry named <paramref name="name"/> (UTF-8) of type <paramref name="type"/> (<see cref="FuseFileTypes.DirentType"/>).</summary>
    public bool TryAdd(ReadOnlySpan<byte> name, ulong ino, uint type, long nextOffset)
    {
        int size = Marshal.SizeOf<fuse_dirent>() + name.Length;
        if (!TryReserve(size, out var record))
        {
            return false;
        }
        WriteDirent(record, new fuse_dirent { ino = ino, off = (ulong)nextOffset, namelen = (uint)name.Length, type = type }, name);
        Commit(size);
        return true;
    }

    /// <inheritdoc cref="TryAdd(ReadOnlySpan{byte}, ulong, uint, long)"/>
    public bool TryAdd(string name, ulong ino, uint type, long nextOffset) =>
        TryAdd(Encode(name, stackalloc byte[MaxNameBytes]), ino, type, nextOffset);
}

/// <summary>Fills a READDIRPLUS reply: each entry with its attributes, so that <c>ls -l</c> needs no LOOKUP per name.</summary>
public sealed class FuseDirPlusWriter : FuseDirBuffer
{
    /// <summary>Adds <paramref name="entry"/>; false when it does not fit.</summary>
    public bool TryAdd(in FuseDirEntryPlus entry) => TryAdd(entry.Name, entry.Entry, entry.NextOffset);

    /// <summary>Adds an entry named <paramref name="name"/>; false when it does not fit.</summary>
    public bool TryAdd(string name, in FuseEntry entry, long nextOffset) =>
        TryAdd(Encode(name, stackalloc byte[MaxNameBytes]), in entry, nextOffset);

    /// <summary>Adds an entry named <paramref name="name"/> (UTF-8); false when it does not fit.</summary>
    public bool TryAdd(ReadOnlySpan<byte> name, in FuseEntry entry, long nextOffset)
    {
        int entrySize = Marshal.SizeOf<fuse_entry_out>();
        int size = entrySize + Marshal.SizeOf<fuse_dirent>() + name.Length;
        if (!TryReserve(size, out var record))
        {
            return false;
        }
        var entryOut = FuseSession.ToEntryOut(in entry);
        MemoryMarshal.Write(record, in entryOut);
        var dirent = new fuse_dirent
        {
            ino = entry.Attr.Ino,
            off = (ulong)nextOffset,
            namelen = (uint)name.Length,
            type = FuseFileTypes.DirentType(entry.Attr.Mode),
        };
        WriteDirent(record[entrySize..], in dirent, name);
        Commit(size);
        return true;
    }
}
