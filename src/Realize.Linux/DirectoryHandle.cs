using System.Runtime.InteropServices;

namespace Realize.Linux;

/// <summary>One entry of a directory listing: its name (UTF-8, NUL-terminated) and type.</summary>
public readonly record struct DirectoryEntry(byte[] NameBytes, FileKind Kind)
{
    /// <summary>The name without its terminating NUL.</summary>
    public ReadOnlySpan<byte> Name => NameBytes.AsSpan(0, NameBytes.Length - 1);
}

/// <summary>An open directory (<c>O_DIRECTORY|O_NOFOLLOW</c>), read with <c>getdents64</c>.</summary>
public sealed class DirectoryHandle : SafeHandle
{
    /// <summary>For the marshaller; use <see cref="TryOpen"/>.</summary>
    public DirectoryHandle()
        : base(-1, ownsHandle: true)
    {
    }

    /// <inheritdoc/>
    public override bool IsInvalid => handle == -1;

    /// <summary>Opens the directory at <paramref name="path"/>; null when it does not exist or is not a directory.</summary>
    public static DirectoryHandle? TryOpen(string path)
    {
        int fd = Interop.open(path, Interop.O_RDONLY | Interop.O_DIRECTORY | Interop.O_NOFOLLOW | Interop.O_CLOEXEC, 0);
        if (fd < 0)
        {
            // ELOOP: the path is a symlink, which we never follow. Expected errors build no exception.
            return Marshal.GetLastPInvokeError() is Interop.ENOENT or Interop.ENOTDIR or Interop.ELOOP ? null : throw LinuxException.FromLastError("open", path);
        }
        var handle = new DirectoryHandle();
        handle.SetHandle(fd);
        return handle;
    }

    /// <summary>Opens the directory at <paramref name="path"/>; throws when that fails.</summary>
    public static DirectoryHandle Open(string path) =>
        TryOpen(path) ?? throw new LinuxException(Interop.ENOTDIR, "open", path);

    /// <summary>
    /// Reads every entry but <c>.</c> and <c>..</c>, in the order the filesystem returns them.
    /// A directory removed since it was opened reads as empty, as it was when removed.
    /// </summary>
    public unsafe List<DirectoryEntry> ReadAll()
    {
        var entries = new List<DirectoryEntry>();
        byte[] buffer = new byte[32 * 1024];
        bool added = false;
        DangerousAddRef(ref added);
        try
        {
            int fd = (int)handle;
            while (true)
            {
                nint n;
                fixed (byte* p = buffer)
                {
                    n = Interop.getdents64(fd, p, (nuint)buffer.Length);
                }
                if (n < 0)
                {
                    // ENOENT: removed meanwhile (rmdir needs it empty). A watcher or a scan races with that all the time.
                    return Marshal.GetLastPInvokeError() == Interop.ENOENT ? entries : throw LinuxException.FromLastError("getdents64", null);
                }
                if (n == 0)
                {
                    return entries;
                }
                int offset = 0;
                while (offset < n)
                {
                    // struct linux_dirent64 { u64 d_ino; s64 d_off; u16 d_reclen; u8 d_type; char d_name[]; }
                    ushort reclen = BitConverter.ToUInt16(buffer, offset + 16);
                    byte type = buffer[offset + 18];
                    var nameSpan = buffer.AsSpan(offset + 19, reclen - 19);
                    int length = nameSpan.IndexOf((byte)0);
                    var name = nameSpan[..length];
                    offset += reclen;
                    if (name.SequenceEqual("."u8) || name.SequenceEqual(".."u8))
                    {
                        continue;
                    }
                    var kind = KindOf(type);
                    byte[] nameBytes = nameSpan[..(length + 1)].ToArray();
                    if (kind == FileKind.Unknown)
                    {
                        // DT_UNKNOWN (xfs without ftype, some FUSE filesystems): ask the inode.
                        kind = Stat.TryLstatAt(this, nameBytes)?.Kind ?? FileKind.Unknown;
                    }
                    entries.Add(new DirectoryEntry(nameBytes, kind));
                }
            }
        }
        finally
        {
            if (added)
            {
                DangerousRelease();
            }
        }
    }

    /// <inheritdoc/>
    protected override bool ReleaseHandle() => Interop.close((int)handle) == 0;

    private static FileKind KindOf(byte dtype) => dtype switch
    {
        1 => FileKind.Fifo,
        2 => FileKind.CharDevice,
        4 => FileKind.Directory,
        6 => FileKind.BlockDevice,
        8 => FileKind.Regular,
        10 => FileKind.Symlink,
        12 => FileKind.Socket,
        _ => FileKind.Unknown,
    };
}
