using System.Collections.Frozen;
using System.Runtime.CompilerServices;
using Realize.Fuse.Abi;

namespace Realize.Fuse;

/// <summary>Parses one request's input, calls the file system and writes the reply.</summary>
internal delegate ValueTask FuseHandler(FuseSession session, FuseRequest request);

/// <summary>
/// One opcode: its kernel name, the size of its fixed input (a request with less is answered
/// EINVAL), whether the kernel waits for a reply, whether it changes the file system (EROFS
/// when read-only), and its handler (null answers ENOSYS).
/// </summary>
internal sealed record FuseOpcodeInfo(FuseOpcode Opcode, string Name, int InputSize, bool HasReply, bool IsWrite, FuseHandler? Handler);

/// <summary>The one table of opcodes, built once.</summary>
internal static class FuseOpcodeTable
{
    /// <summary>Every opcode the kernel may send, by number.</summary>
    public static FrozenDictionary<uint, FuseOpcodeInfo> All { get; } = Build();

    /// <summary>The entry of <paramref name="opcode"/>, or null for one this library does not know (answered ENOSYS).</summary>
    public static FuseOpcodeInfo? Find(uint opcode) => All.GetValueOrDefault(opcode);

    private static FrozenDictionary<uint, FuseOpcodeInfo> Build()
    {
        var table = new List<FuseOpcodeInfo>
        {
            Reply(FuseOpcode.FUSE_LOOKUP, 0, FuseHandlers.Lookup),
            new(FuseOpcode.FUSE_FORGET, nameof(FuseOpcode.FUSE_FORGET), Size<fuse_forget_in>(), HasReply: false, IsWrite: false, FuseHandlers.Forget),
            Reply(FuseOpcode.FUSE_GETATTR, Size<fuse_getattr_in>(), FuseHandlers.GetAttr),
            Write(FuseOpcode.FUSE_SETATTR, Size<fuse_setattr_in>()),
            Reply(FuseOpcode.FUSE_READLINK, 0, FuseHandlers.ReadLink),
            Write(FuseOpcode.FUSE_SYMLINK, 0),
            Write(FuseOpcode.FUSE_MKNOD, Size<fuse_mknod_in>()),
            Write(FuseOpcode.FUSE_MKDIR, Size<fuse_mkdir_in>()),
            Write(FuseOpcode.FUSE_UNLINK, 0),
            Write(FuseOpcode.FUSE_RMDIR, 0),
            Write(FuseOpcode.FUSE_RENAME, Size<fuse_rename_in>()),
            Write(FuseOpcode.FUSE_LINK, Size<fuse_link_in>()),
            Reply(FuseOpcode.FUSE_OPEN, Size<fuse_open_in>(), FuseHandlers.Open),
            Reply(FuseOpcode.FUSE_READ, Size<fuse_read_in>(), FuseHandlers.Read),
            Write(FuseOpcode.FUSE_WRITE, Size<fuse_write_in>()),
            Reply(FuseOpcode.FUSE_STATFS, 0, FuseHandlers.StatFs),
            Reply(FuseOpcode.FUSE_RELEASE, Size<fuse_release_in>(), FuseHandlers.Release),
            Reply(FuseOpcode.FUSE_FSYNC, Size<fuse_fsync_in>(), null),

            // Without FUSE_SETXATTR_EXT the kernel sends the 8-byte compat struct.
            Write(FuseOpcode.FUSE_SETXATTR, 8),
            Reply(FuseOpcode.FUSE_GETXATTR, Size<fuse_getxattr_in>(), FuseHandlers.GetXattr),
            Reply(FuseOpcode.FUSE_LISTXATTR, Size<fuse_getxattr_in>(), FuseHandlers.ListXattr),
            Write(FuseOpcode.FUSE_REMOVEXATTR, 0),
            Reply(FuseOpcode.FUSE_FLUSH, Size<fuse_flush_in>(), FuseHandlers.Flush),

            // Kernels before 7.36 send only the first four fields.
            Reply(FuseOpcode.FUSE_INIT, 16, FuseHandlers.Init),
            Reply(FuseOpcode.FUSE_OPENDIR, Size<fuse_open_in>(), FuseHandlers.OpenDir),
            Reply(FuseOpcode.FUSE_READDIR, Size<fuse_read_in>(), FuseHandlers.ReadDir),
            Reply(FuseOpcode.FUSE_RELEASEDIR, Size<fuse_release_in>(), FuseHandlers.ReleaseDir),
            Reply(FuseOpcode.FUSE_FSYNCDIR, Size<fuse_fsync_in>(), null),
            Reply(FuseOpcode.FUSE_GETLK, Size<fuse_lk_in>(), null),
            Reply(FuseOpcode.FUSE_SETLK, Size<fuse_lk_in>(), null),
            Reply(FuseOpcode.FUSE_SETLKW, Size<fuse_lk_in>(), null),
            Reply(FuseOpcode.FUSE_ACCESS, Size<fuse_access_in>(), FuseHandlers.Access),
            Write(FuseOpcode.FUSE_CREATE, Size<fuse_create_in>()),

            // No reply, except EAGAIN when the interrupted request is not (yet) known.
            new(FuseOpcode.FUSE_INTERRUPT, nameof(FuseOpcode.FUSE_INTERRUPT), Size<fuse_interrupt_in>(), HasReply: false, IsWrite: false, FuseHandlers.Interrupt),
            Reply(FuseOpcode.FUSE_BMAP, Size<fuse_bmap_in>(), null),
            Reply(FuseOpcode.FUSE_DESTROY, 0, FuseHandlers.Destroy),
            Reply(FuseOpcode.FUSE_IOCTL, Size<fuse_ioctl_in>(), null),
            Reply(FuseOpcode.FUSE_POLL, Size<fuse_poll_in>(), null),
            new(FuseOpcode.FUSE_NOTIFY_REPLY, nameof(FuseOpcode.FUSE_NOTIFY_REPLY), 0, HasReply: false, IsWrite: false, null),
            new(FuseOpcode.FUSE_BATCH_FORGET, nameof(FuseOpcode.FUSE_BATCH_FORGET), Size<fuse_batch_forget_in>(), HasReply: false, IsWrite: false, FuseHandlers.BatchForget),
            Write(FuseOpcode.FUSE_FALLOCATE, Size<fuse_fallocate_in>()),
            Reply(FuseOpcode.FUSE_READDIRPLUS, Size<fuse_read_in>(), FuseHandlers.ReadDirPlus),
            Write(FuseOpcode.FUSE_RENAME2, Size<fuse_rename2_in>()),
            Reply(FuseOpcode.FUSE_LSEEK, Size<fuse_lseek_in>(), null),
            Write(FuseOpcode.FUSE_COPY_FILE_RANGE, Size<fuse_copy_file_range_in>()),
            Reply(FuseOpcode.FUSE_SETUPMAPPING, Size<fuse_setupmapping_in>(), null),
            Reply(FuseOpcode.FUSE_REMOVEMAPPING, Size<fuse_removemapping_in>(), null),
            Reply(FuseOpcode.FUSE_SYNCFS, Size<fuse_syncfs_in>(), null),
            Write(FuseOpcode.FUSE_TMPFILE, Size<fuse_create_in>()),
            Reply(FuseOpcode.FUSE_STATX, Size<fuse_statx_in>(), null),
            Write(FuseOpcode.FUSE_COPY_FILE_RANGE_64, Size<fuse_copy_file_range_in>()),
        };
        return table.ToFrozenDictionary(e => (uint)e.Opcode);
    }

    private static FuseOpcodeInfo Reply(FuseOpcode opcode, int inputSize, FuseHandler? handler) =>
        new(opcode, opcode.ToString(), inputSize, HasReply: true, IsWrite: false, handler);

    // Write opcodes have no handler: FuseFileSystem serves read-only trees, so they answer ENOSYS, or EROFS when read-only.
    private static FuseOpcodeInfo Write(FuseOpcode opcode, int inputSize) =>
        new(opcode, opcode.ToString(), inputSize, HasReply: true, IsWrite: true, null);

    private static int Size<T>()
        where T : unmanaged => Unsafe.SizeOf<T>();
}
