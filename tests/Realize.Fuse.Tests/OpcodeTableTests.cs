using Realize.Fuse.Abi;

namespace Realize.Fuse.Tests;

/// <summary>The opcode table, entry by entry, against linux/fuse.h.</summary>
public sealed class OpcodeTableTests
{
    // opcode, fixed input size, has a reply, changes the file system
    public static TheoryData<FuseOpcode, int, bool, bool> Expected => new()
    {
        { FuseOpcode.FUSE_LOOKUP, 0, true, false },
        { FuseOpcode.FUSE_FORGET, 8, false, false },
        { FuseOpcode.FUSE_GETATTR, 16, true, false },
        { FuseOpcode.FUSE_SETATTR, 88, true, true },
        { FuseOpcode.FUSE_READLINK, 0, true, false },
        { FuseOpcode.FUSE_SYMLINK, 0, true, true },
        { FuseOpcode.FUSE_MKNOD, 16, true, true },
        { FuseOpcode.FUSE_MKDIR, 8, true, true },
        { FuseOpcode.FUSE_UNLINK, 0, true, true },
        { FuseOpcode.FUSE_RMDIR, 0, true, true },
        { FuseOpcode.FUSE_RENAME, 8, true, true },
        { FuseOpcode.FUSE_LINK, 8, true, true },
        { FuseOpcode.FUSE_OPEN, 8, true, false },
        { FuseOpcode.FUSE_READ, 40, true, false },
        { FuseOpcode.FUSE_WRITE, 40, true, true },
        { FuseOpcode.FUSE_STATFS, 0, true, false },
        { FuseOpcode.FUSE_RELEASE, 24, true, false },
        { FuseOpcode.FUSE_FSYNC, 16, true, false },
        { FuseOpcode.FUSE_SETXATTR, 8, true, true },
        { FuseOpcode.FUSE_GETXATTR, 8, true, false },
        { FuseOpcode.FUSE_LISTXATTR, 8, true, false },
        { FuseOpcode.FUSE_REMOVEXATTR, 0, true, true },
        { FuseOpcode.FUSE_FLUSH, 24, true, false },
        { FuseOpcode.FUSE_INIT, 16, true, false },
        { FuseOpcode.FUSE_OPENDIR, 8, true, false },
        { FuseOpcode.FUSE_READDIR, 40, true, false },
        { FuseOpcode.FUSE_RELEASEDIR, 24, true, false },
        { FuseOpcode.FUSE_FSYNCDIR, 16, true, false },
        { FuseOpcode.FUSE_GETLK, 48, true, false },
        { FuseOpcode.FUSE_SETLK, 48, true, false },
        { FuseOpcode.FUSE_SETLKW, 48, true, false },
        { FuseOpcode.FUSE_ACCESS, 8, true, false },
        { FuseOpcode.FUSE_CREATE, 16, true, true },
        { FuseOpcode.FUSE_INTERRUPT, 8, false, false },
        { FuseOpcode.FUSE_BMAP, 16, true, false },
        { FuseOpcode.FUSE_DESTROY, 0, true, false },
        { FuseOpcode.FUSE_IOCTL, 32, true, false },
        { FuseOpcode.FUSE_POLL, 24, true, false },
        { FuseOpcode.FUSE_NOTIFY_REPLY, 0, false, false },
        { FuseOpcode.FUSE_BATCH_FORGET, 8, false, false },
        { FuseOpcode.FUSE_FALLOCATE, 32, true, true },
        { FuseOpcode.FUSE_READDIRPLUS, 40, true, false },
        { FuseOpcode.FUSE_RENAME2, 16, true, true },
        { FuseOpcode.FUSE_LSEEK, 24, true, false },
        { FuseOpcode.FUSE_COPY_FILE_RANGE, 56, true, true },
        { FuseOpcode.FUSE_SETUPMAPPING, 40, true, false },
        { FuseOpcode.FUSE_REMOVEMAPPING, 4, true, false },
        { FuseOpcode.FUSE_SYNCFS, 8, true, false },
        { FuseOpcode.FUSE_TMPFILE, 16, true, true },
        { FuseOpcode.FUSE_STATX, 24, true, false },
        { FuseOpcode.FUSE_COPY_FILE_RANGE_64, 56, true, true },
    };

    [Theory]
    [MemberData(nameof(Expected))]
    public void Entry_HasTheKernelsSizeReplyAndWriteMarks(FuseOpcode opcode, int inputSize, bool hasReply, bool isWrite)
    {
        var entry = FuseOpcodeTable.Find((uint)opcode);

        Assert.NotNull(entry);
        Assert.Equal(opcode, entry.Opcode);
        Assert.Equal(opcode.ToString(), entry.Name);
        Assert.Equal(inputSize, entry.InputSize);
        Assert.Equal(hasReply, entry.HasReply);
        Assert.Equal(isWrite, entry.IsWrite);
    }

    [Fact]
    public void Table_HoldsEveryOpcodeOfTheEnumAndNoOther()
    {
        var expected = Expected.Select(row => (FuseOpcode)row[0]).Order().ToList();

        Assert.Equal(Enum.GetValues<FuseOpcode>().Order(), expected);
        Assert.Equal(expected, FuseOpcodeTable.All.Values.Select(e => e.Opcode).Order());
    }

    [Fact]
    public void Table_HasHandlers_ForTheOpcodesARealizeFileSystemServes()
    {
        FuseOpcode[] served =
        [
            FuseOpcode.FUSE_INIT, FuseOpcode.FUSE_DESTROY, FuseOpcode.FUSE_LOOKUP, FuseOpcode.FUSE_FORGET, FuseOpcode.FUSE_BATCH_FORGET,
            FuseOpcode.FUSE_GETATTR, FuseOpcode.FUSE_READLINK, FuseOpcode.FUSE_OPEN, FuseOpcode.FUSE_READ, FuseOpcode.FUSE_FLUSH,
            FuseOpcode.FUSE_RELEASE, FuseOpcode.FUSE_OPENDIR, FuseOpcode.FUSE_READDIR, FuseOpcode.FUSE_READDIRPLUS,
            FuseOpcode.FUSE_RELEASEDIR, FuseOpcode.FUSE_STATFS, FuseOpcode.FUSE_GETXATTR, FuseOpcode.FUSE_LISTXATTR,
            FuseOpcode.FUSE_ACCESS, FuseOpcode.FUSE_INTERRUPT,
        ];

        Assert.Equal(served.Order(), FuseOpcodeTable.All.Values.Where(e => e.Handler is not null).Select(e => e.Opcode).Order());
    }
}
