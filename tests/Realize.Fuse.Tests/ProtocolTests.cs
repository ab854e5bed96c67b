using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using Realize.Fuse.Abi;
using Realize.Linux;
using Realize.TestSupport;

namespace Realize.Fuse.Tests;

/// <summary>The protocol from bytes, without a mount: what each request is answered.</summary>
public sealed class ProtocolTests
{
    public static TheoryData<FuseOpcode> AllOpcodes => [.. FuseOpcodeTable.All.Values.Select(e => e.Opcode).Order()];

    [Theory]
    [MemberData(nameof(AllOpcodes))]
    public void EveryOpcode_GetsOneReply_OrNoneWhenTheKernelExpectsNone(FuseOpcode opcode)
    {
        var info = FuseOpcodeTable.Find((uint)opcode)!;
        var session = new ByteSession(new NothingFileSystem());
        ulong unique = Requests.NextUnique();
        var body = WithName(opcode == FuseOpcode.FUSE_INIT ? Unsafe.SizeOf<fuse_init_in>() : info.InputSize);
        if (opcode == FuseOpcode.FUSE_INIT)
        {
            MemoryMarshal.Write(body, Requests.Init(Requests.KernelFlags));
        }

        var replies = session.Send(Requests.Make((uint)opcode, 1, unique, body));

        // INTERRUPT of a request not in flight is the one no-reply opcode answered: EAGAIN, so the kernel may send it again.
        int expected = info.HasReply || opcode == FuseOpcode.FUSE_INTERRUPT ? 1 : 0;
        Assert.Equal(expected, replies.Count);
        Assert.All(replies, r => Assert.Equal(unique, r.Header.unique));
    }

    [Theory]
    [MemberData(nameof(AllOpcodes))]
    public void OpcodeNotImplemented_IsAnsweredEnosys(FuseOpcode opcode)
    {
        var info = FuseOpcodeTable.Find((uint)opcode)!;
        if (!info.HasReply || opcode is FuseOpcode.FUSE_INIT or FuseOpcode.FUSE_DESTROY)
        {
            return;
        }
        var session = new ByteSession(new NothingFileSystem());

        var reply = session.One(Requests.Make((uint)opcode, 1, Requests.NextUnique(), WithName(info.InputSize)));

        Assert.Equal(Errno.ENOSYS, reply.Errno);
    }

    [Theory]
    [MemberData(nameof(AllOpcodes))]
    public void WriteOpcode_IsAnsweredErofs_WhenReadOnly(FuseOpcode opcode)
    {
        var info = FuseOpcodeTable.Find((uint)opcode)!;
        var fileSystem = new MemoryFileSystem();
        var session = new ByteSession(fileSystem, new FuseSessionOptions { ReadOnly = true, MaxPages = 32 });
        if (!info.IsWrite)
        {
            return;
        }

        var reply = session.One(Requests.Make((uint)opcode, 1, Requests.NextUnique(), WithName(info.InputSize)));

        Assert.Equal(Errno.EROFS, reply.Errno);
    }

    [Theory]
    [MemberData(nameof(AllOpcodes))]
    public void ShortRequest_IsAnsweredEinval_Once(FuseOpcode opcode)
    {
        var info = FuseOpcodeTable.Find((uint)opcode)!;
        if (info.InputSize == 0)
        {
            return;
        }
        var session = new ByteSession(new MemoryFileSystem());

        var replies = session.Send(Requests.Make((uint)opcode, 1, Requests.NextUnique(), new byte[info.InputSize - 1]));

        if (info.HasReply)
        {
            Assert.Equal(Errno.EINVAL, Assert.Single(replies).Errno);
        }
        else
        {
            Assert.Empty(replies);
        }
    }

    [Fact]
    public void UnknownOpcode_IsAnsweredEnosys()
    {
        var session = new ByteSession(new MemoryFileSystem());

        Assert.Equal(Errno.ENOSYS, session.One(Requests.Make(9999, 1, Requests.NextUnique(), [])).Errno);
    }

    [Fact]
    public void HeaderShorterThanFuseInHeader_IsAnsweredEio_ToItsUnique()
    {
        var session = new ByteSession(new MemoryFileSystem());
        ulong unique = Requests.NextUnique();
        var bytes = Requests.Make((uint)FuseOpcode.FUSE_GETATTR, 1, unique, new byte[16]).AsSpan(0, 24).ToArray();

        var reply = session.One(bytes);

        Assert.Equal(Errno.EIO, reply.Errno);
        Assert.Equal(unique, reply.Header.unique);
    }

    [Fact]
    public void LengthInHeaderNotMatchingTheRead_IsAnsweredEio()
    {
        var session = new ByteSession(new MemoryFileSystem());
        var bytes = Requests.Make((uint)FuseOpcode.FUSE_GETATTR, 1, Requests.NextUnique(), new byte[16]);
        bytes[0] += 8;

        Assert.Equal(Errno.EIO, session.One(bytes).Errno);
    }

    [Fact]
    public void Lookup_NameWithoutNul_IsAnsweredEinval()
    {
        var session = new ByteSession(new MemoryFileSystem());

        var reply = session.One(Requests.Make((uint)FuseOpcode.FUSE_LOOKUP, 1, Requests.NextUnique(), "abc"u8));

        Assert.Equal(Errno.EINVAL, reply.Errno);
    }

    [Fact]
    public void RequestBeforeInit_IsAnsweredEio()
    {
        var session = new ByteSession(new MemoryFileSystem(), initialize: false);

        Assert.Equal(Errno.EIO, session.One(Requests.Name(FuseOpcode.FUSE_LOOKUP, 1, Requests.NextUnique(), "a")).Errno);
    }

    [Fact]
    public void HandlerException_IsAnsweredEio_AndLogged()
    {
        using var logs = new RecordingLoggerFactory();
        var session = new ByteSession(new ThrowingFileSystem(), logger: logs.CreateLogger("fuse"));

        var reply = session.One(Requests.Name(FuseOpcode.FUSE_LOOKUP, 1, Requests.NextUnique(), "boom"));

        Assert.Equal(Errno.EIO, reply.Errno);
        Assert.Contains(logs.Lines, l => l.Message.Contains("FUSE_LOOKUP", StringComparison.Ordinal) && l.Message.Contains("boom", StringComparison.Ordinal));
    }

    [Fact]
    public void Lookup_AnswersTheEntryWithItsTimeouts()
    {
        var fileSystem = new MemoryFileSystem { Timeout = TimeSpan.FromSeconds(2.5) };
        ulong id = fileSystem.AddFile(1, "hello.txt", "hello"u8.ToArray());
        var session = new ByteSession(fileSystem);

        var entry = session.One(Requests.Name(FuseOpcode.FUSE_LOOKUP, 1, Requests.NextUnique(), "hello.txt")).Read<fuse_entry_out>();

        Assert.Equal(id, entry.nodeid);
        Assert.Equal(5UL, entry.attr.size);
        Assert.Equal(FuseFileTypes.S_IFREG, entry.attr.mode & FuseFileTypes.S_IFMT);
        Assert.Equal(2UL, entry.entry_valid);
        Assert.Equal(500_000_000U, entry.entry_valid_nsec);
        Assert.Equal(2UL, entry.attr_valid);
        Assert.Equal((ulong)new DateTimeOffset(2024, 5, 6, 7, 8, 9, TimeSpan.Zero).ToUnixTimeSeconds(), entry.attr.mtime);
    }

    [Fact]
    public void Lookup_AnswersEnoent_ForMissingName()
    {
        var session = new ByteSession(new MemoryFileSystem());

        Assert.Equal(Errno.ENOENT, session.One(Requests.Name(FuseOpcode.FUSE_LOOKUP, 1, Requests.NextUnique(), "missing")).Errno);
    }

    [Fact]
    public void Read_AnswersTheBytesAtTheOffset_ShortAtTheEnd()
    {
        var fileSystem = new MemoryFileSystem();
        byte[] content = Encoding.ASCII.GetBytes("0123456789");
        ulong id = fileSystem.AddFile(1, "f", content);
        var session = new ByteSession(fileSystem);

        var reply = session.One(Requests.Make(FuseOpcode.FUSE_READ, id, Requests.NextUnique(), new fuse_read_in { offset = 6, size = 100 }));

        Assert.Equal(0, reply.Errno);
        Assert.Equal("6789", Encoding.ASCII.GetString(reply.Payload));
    }

    [Fact]
    public void Open_ForWriting_IsAnsweredErofs_WhenReadOnly_WithoutTheFileSystem()
    {
        var fileSystem = new CountingOpens();
        var session = new ByteSession(fileSystem, new FuseSessionOptions { ReadOnly = true, MaxPages = 32 });

        var reply = session.One(Requests.Make(FuseOpcode.FUSE_OPEN, 2, Requests.NextUnique(), new fuse_open_in { flags = 1 }));
        var readOnly = session.One(Requests.Make(FuseOpcode.FUSE_OPEN, 2, Requests.NextUnique(), new fuse_open_in { flags = 0 }));

        Assert.Equal(Errno.EROFS, reply.Errno);
        Assert.Equal(0, readOnly.Errno);
        Assert.Equal(1, fileSystem.Opens);
    }

    [Fact]
    public void Open_AnswersFlagsAndBackingId()
    {
        var session = new ByteSession(new CountingOpens());

        var open = session.One(Requests.Make(FuseOpcode.FUSE_OPEN, 2, Requests.NextUnique(), new fuse_open_in())).Read<fuse_open_out>();

        Assert.Equal(77UL, open.fh);
        Assert.Equal(Abi.FuseConstants.FOPEN_PASSTHROUGH | Abi.FuseConstants.FOPEN_DIRECT_IO, open.open_flags);
        Assert.Equal(9, open.backing_id);
    }

    [Fact]
    public void ReadDirPlus_ListsEveryEntryOnce_AcrossSmallReplies()
    {
        var fileSystem = new MemoryFileSystem();
        var names = Enumerable.Range(0, 1000).Select(i => $"file-{i:D4}-{new string('x', i % 40)}").ToList();
        foreach (string name in names)
        {
            fileSystem.AddFile(1, name, new byte[names.IndexOf(name)]);
        }
        var session = new ByteSession(fileSystem);
        var seen = new List<string>();
        long offset = 0;

        while (true)
        {
            var reply = session.One(Requests.Make(FuseOpcode.FUSE_READDIRPLUS, 1, Requests.NextUnique(), new fuse_read_in { offset = (ulong)offset, size = 4096 }));
            Assert.Equal(0, reply.Errno);
            Assert.True(reply.Payload.Length <= 4096);
            if (reply.Payload.Length == 0)
            {
                break;
            }
            foreach (var (entry, dirent, name) in ParsePlus(reply.Payload))
            {
                seen.Add(name);
                Assert.Equal((ulong)names.IndexOf(name), entry.attr.size);
                Assert.Equal(entry.nodeid, dirent.ino);
                Assert.Equal(FuseFileTypes.DirentType(FuseFileTypes.S_IFREG), dirent.type);
                offset = (long)dirent.off;
            }
        }

        Assert.Equal(names.Order(StringComparer.Ordinal), seen);
    }

    [Fact]
    public void ReadDir_ListsNamesWithTypes_FromTheCookie()
    {
        var fileSystem = new MemoryFileSystem();
        ulong dir = fileSystem.AddDirectory(1, "b-dir");
        ulong file = fileSystem.AddFile(1, "a-file", []);
        fileSystem.AddFile(1, "c-file", []);
        var session = new ByteSession(fileSystem);

        var all = session.One(Requests.Make(FuseOpcode.FUSE_READDIR, 1, Requests.NextUnique(), new fuse_read_in { size = 4096 }));
        var rest = session.One(Requests.Make(FuseOpcode.FUSE_READDIR, 1, Requests.NextUnique(), new fuse_read_in { offset = 2, size = 4096 }));

        var entries = ParseDirents(all.Payload);
        Assert.Equal(["a-file", "b-dir", "c-file"], entries.Select(e => e.Name));
        Assert.Equal([file, dir], entries.Take(2).Select(e => e.Dirent.ino));
        Assert.Equal([FuseFileTypes.DirentType(FuseFileTypes.S_IFREG), FuseFileTypes.DirentType(FuseFileTypes.S_IFDIR)], entries.Take(2).Select(e => e.Dirent.type));
        Assert.Equal([1UL, 2UL, 3UL], entries.Select(e => e.Dirent.off));
        Assert.Equal(["c-file"], ParseDirents(rest.Payload).Select(e => e.Name));
    }

    [Fact]
    public void GetXattr_AnswersSizeProbeValueErangeAndEnodata()
    {
        var session = new ByteSession(new MemoryFileSystem());

        var probe = session.One(Requests.Make(FuseOpcode.FUSE_GETXATTR, 1, Requests.NextUnique(), new fuse_getxattr_in { size = 0 }, "user.test"));
        var value = session.One(Requests.Make(FuseOpcode.FUSE_GETXATTR, 1, Requests.NextUnique(), new fuse_getxattr_in { size = 64 }, "user.test"));
        var small = session.One(Requests.Make(FuseOpcode.FUSE_GETXATTR, 1, Requests.NextUnique(), new fuse_getxattr_in { size = 2 }, "user.test"));
        var missing = session.One(Requests.Make(FuseOpcode.FUSE_GETXATTR, 1, Requests.NextUnique(), new fuse_getxattr_in { size = 64 }, "trusted.overlay.opaque"));

        Assert.Equal(5U, probe.Read<fuse_getxattr_out>().size);
        Assert.Equal("value", Encoding.UTF8.GetString(value.Payload));
        Assert.Equal(Errno.ERANGE, small.Errno);
        Assert.Equal(Errno.ENODATA, missing.Errno);
    }

    [Fact]
    public void StatFs_AnswersTheFileSystemsFigures()
    {
        var session = new ByteSession(new MemoryFileSystem());

        var stat = session.One(Requests.Make((uint)FuseOpcode.FUSE_STATFS, 1, Requests.NextUnique(), [])).Read<fuse_kstatfs>();

        Assert.Equal(1000UL, stat.blocks);
        Assert.Equal(4096U, stat.bsize);
        Assert.Equal(255U, stat.namelen);
    }

    [Fact]
    public void Init_RepliesOnlyFlagsTheKernelOffered_NeverWritebackCache()
    {
        var session = new ByteSession(new MemoryFileSystem(), new FuseSessionOptions { Passthrough = true, MaxPages = 256 }, initialize: false);
        ulong offered = Requests.KernelFlags & ~FuseConstants.FUSE_DO_READDIRPLUS;

        var init = session.One(Requests.Make(FuseOpcode.FUSE_INIT, 0, Requests.NextUnique(), Requests.Init(offered))).Read<fuse_init_out>();
        ulong flags = init.flags | ((ulong)init.flags2 << 32);

        Assert.Equal(0UL, flags & ~offered);
        Assert.Equal(0UL, flags & FuseConstants.FUSE_WRITEBACK_CACHE);
        Assert.Equal(0UL, flags & FuseConstants.FUSE_DO_READDIRPLUS);
        Assert.NotEqual(0UL, flags & FuseConstants.FUSE_PASSTHROUGH);
        Assert.Equal(1U, init.max_stack_depth);
        Assert.Equal(256, init.max_pages);
        Assert.Equal(1024U * 1024, init.max_write);
        Assert.Equal(7U, init.major);
        Assert.True(session.Session.Connection!.Passthrough);
    }

    [Fact]
    public void Init_WithoutPassthroughOffered_AsksNoStackDepth()
    {
        var session = new ByteSession(new MemoryFileSystem(), new FuseSessionOptions { Passthrough = true }, initialize: false);

        var init = session.One(Requests.Make(FuseOpcode.FUSE_INIT, 0, Requests.NextUnique(), Requests.Init(Requests.KernelFlags & ~FuseConstants.FUSE_PASSTHROUGH))).Read<fuse_init_out>();

        Assert.Equal(0U, init.flags2 & (uint)(FuseConstants.FUSE_PASSTHROUGH >> 32));
        Assert.Equal(0U, init.max_stack_depth);
        Assert.False(session.Session.Connection!.Passthrough);
    }

    [Fact]
    public void BatchForget_ForgetsEveryNode_WithoutReply()
    {
        var fileSystem = new ForgetCounter();
        var session = new ByteSession(fileSystem);
        var batch = new fuse_batch_forget_in { count = 3 };
        var body = new List<byte>(MemoryMarshal.AsBytes(new ReadOnlySpan<fuse_batch_forget_in>(in batch)).ToArray());
        foreach (ulong node in new ulong[] { 5, 6, 7 })
        {
            var one = new fuse_forget_one { nodeid = node, nlookup = node * 10 };
            body.AddRange(MemoryMarshal.AsBytes(new ReadOnlySpan<fuse_forget_one>(in one)).ToArray());
        }

        var replies = session.Send(Requests.Make((uint)FuseOpcode.FUSE_BATCH_FORGET, 0, Requests.NextUnique(), [.. body]));

        Assert.Empty(replies);
        Assert.Equal([(5UL, 50UL), (6UL, 60UL), (7UL, 70UL)], fileSystem.Forgotten);
    }

    [Fact]
    public async Task Interrupt_CancelsTheHandler_WhichIsAnsweredEintr()
    {
        var fileSystem = new WaitingFileSystem();
        var session = new ByteSession(fileSystem);
        ulong unique = Requests.NextUnique();
        var lookup = session.Session.ProcessAsync(Requests.Name(FuseOpcode.FUSE_LOOKUP, 1, unique, "slow"), session.Collect);
        await fileSystem.Started.Task.WaitAsync(TimeSpan.FromSeconds(10));

        var interruptReplies = session.Send(Requests.Make(FuseOpcode.FUSE_INTERRUPT, 0, unique | 1, new fuse_interrupt_in { unique = unique }));
        await lookup.WaitAsync(TimeSpan.FromSeconds(10));

        var reply = Assert.Single(session.Replies);
        Assert.Empty(interruptReplies);
        Assert.Equal(unique, reply.Header.unique);
        Assert.Equal(Errno.EINTR, reply.Errno);
    }

    private static byte[] WithName(int inputSize)
    {
        var body = new byte[inputSize + 2];
        body[inputSize] = (byte)'a';
        return body;
    }

    private static List<(fuse_entry_out Entry, fuse_dirent Dirent, string Name)> ParsePlus(byte[] payload)
    {
        int position = 0;
        int entrySize = Unsafe.SizeOf<fuse_entry_out>();
        int direntSize = Unsafe.SizeOf<fuse_dirent>();
        var result = new List<(fuse_entry_out Entry, fuse_dirent Dirent, string Name)>();
        while (position < payload.Length)
        {
            var entry = MemoryMarshal.Read<fuse_entry_out>(payload.AsSpan(position));
            var dirent = MemoryMarshal.Read<fuse_dirent>(payload.AsSpan(position + entrySize));
            string name = Encoding.UTF8.GetString(payload, position + entrySize + direntSize, (int)dirent.namelen);
            result.Add((entry, dirent, name));
            position += (entrySize + direntSize + (int)dirent.namelen + 7) & ~7;
        }
        Assert.Equal(payload.Length, position);
        return result;
    }

    private static List<(fuse_dirent Dirent, string Name)> ParseDirents(byte[] payload)
    {
        int position = 0;
        int direntSize = Unsafe.SizeOf<fuse_dirent>();
        var result = new List<(fuse_dirent Dirent, string Name)>();
        while (position < payload.Length)
        {
            var dirent = MemoryMarshal.Read<fuse_dirent>(payload.AsSpan(position));
            result.Add((dirent, Encoding.UTF8.GetString(payload, position + direntSize, (int)dirent.namelen)));
            position += (direntSize + (int)dirent.namelen + 7) & ~7;
        }
        Assert.Equal(payload.Length, position);
        return result;
    }

    private sealed class NothingFileSystem : FuseFileSystem
    {
    }

    private sealed class ThrowingFileSystem : FuseFileSystem
    {
        public override ValueTask<FuseEntry?> LookupAsync(FuseLookupRequest request, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("boom");
    }

    private sealed class CountingOpens : FuseFileSystem
    {
        private int _opens;

        public int Opens => _opens;

        public override ValueTask<FuseOpenReply> OpenAsync(FuseOpenRequest request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _opens);
            return ValueTask.FromResult(new FuseOpenReply(77, FuseOpenFlags.Passthrough | FuseOpenFlags.DirectIo, 9));
        }
    }

    private sealed class ForgetCounter : FuseFileSystem
    {
        public List<(ulong, ulong)> Forgotten { get; } = [];

        public override void Forget(ulong nodeId, ulong lookups) => Forgotten.Add((nodeId, lookups));
    }

    private sealed class WaitingFileSystem : FuseFileSystem
    {
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override async ValueTask<FuseEntry?> LookupAsync(FuseLookupRequest request, CancellationToken cancellationToken)
        {
            Started.TrySetResult();
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return null;
        }
    }
}
