using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using Realize.Fuse.Abi;

namespace Realize.Fuse.Tests;

/// <summary>Builds requests as the kernel lays them out and collects the replies a session writes.</summary>
internal static class Requests
{
    private static long s_unique = 100;

    public static ulong NextUnique() => (ulong)Interlocked.Add(ref s_unique, 2);

    /// <summary>A whole request: header (len counted here) and <paramref name="body"/>.</summary>
    public static byte[] Make(uint opcode, ulong nodeId, ulong unique, ReadOnlySpan<byte> body)
    {
        var bytes = new byte[Unsafe.SizeOf<fuse_in_header>() + body.Length];
        var header = new fuse_in_header { len = (uint)bytes.Length, opcode = opcode, unique = unique, nodeid = nodeId, uid = 0, gid = 0, pid = 42 };
        MemoryMarshal.Write(bytes, in header);
        body.CopyTo(bytes.AsSpan(Unsafe.SizeOf<fuse_in_header>()));
        return bytes;
    }

    public static byte[] Make<T>(FuseOpcode opcode, ulong nodeId, ulong unique, in T argument, string? name = null)
        where T : unmanaged
    {
        var body = new List<byte>(MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in argument)).ToArray());
        if (name is not null)
        {
            body.AddRange(Encoding.UTF8.GetBytes(name + "\0"));
        }
        return Make((uint)opcode, nodeId, unique, [.. body]);
    }

    public static byte[] Name(FuseOpcode opcode, ulong nodeId, ulong unique, string name) =>
        Make((uint)opcode, nodeId, unique, Encoding.UTF8.GetBytes(name + "\0"));

    public static fuse_init_in Init(ulong offered) => new()
    {
        major = 7,
        minor = 45,
        max_readahead = 128 * 1024,
        flags = (uint)offered | (uint)FuseConstants.FUSE_INIT_EXT,
        flags2 = (uint)(offered >> 32),
    };

    /// <summary>Every flag this library may ask for, as a 7.45 kernel offers them.</summary>
    public static ulong KernelFlags =>
        FuseConstants.FUSE_ASYNC_READ | FuseConstants.FUSE_BIG_WRITES | FuseConstants.FUSE_DO_READDIRPLUS
        | FuseConstants.FUSE_READDIRPLUS_AUTO | FuseConstants.FUSE_MAX_PAGES | FuseConstants.FUSE_PARALLEL_DIROPS
        | FuseConstants.FUSE_WRITEBACK_CACHE | FuseConstants.FUSE_INIT_EXT | FuseConstants.FUSE_PASSTHROUGH;
}

/// <summary>One reply as written: its header and payload.</summary>
internal sealed record Reply(fuse_out_header Header, byte[] Payload)
{
    public int Errno => -Header.error;

    public T Read<T>()
        where T : unmanaged
    {
        Assert.True(Payload.Length >= Unsafe.SizeOf<T>(), $"payload of {Payload.Length} bytes, {typeof(T).Name} needs {Unsafe.SizeOf<T>()}");
        return MemoryMarshal.Read<T>(Payload);
    }
}

/// <summary>A session without a mount and the replies it wrote.</summary>
internal sealed class ByteSession
{
    private readonly List<Reply> _replies = [];

    public ByteSession(FuseFileSystem fileSystem, FuseSessionOptions? options = null, Microsoft.Extensions.Logging.ILogger? logger = null, bool initialize = true)
    {
        Session = new FuseSession(fileSystem, options ?? new FuseSessionOptions { MaxPages = 32 }, logger);
        if (initialize)
        {
            var init = Send(Requests.Make(FuseOpcode.FUSE_INIT, 0, Requests.NextUnique(), Requests.Init(Requests.KernelFlags)));
            Assert.Equal(0, Assert.Single(init).Errno);
            Clear();
        }
    }

    public FuseSession Session { get; }

    public IReadOnlyList<Reply> Replies
    {
        get
        {
            lock (_replies)
            {
                return [.. _replies];
            }
        }
    }

    public void Clear()
    {
        lock (_replies)
        {
            _replies.Clear();
        }
    }

    /// <summary>Sends one request, waits for its handler, and returns the replies it caused.</summary>
    public IReadOnlyList<Reply> Send(byte[] request)
    {
        Clear();
        Session.ProcessAsync(request, Collect).GetAwaiter().GetResult();
        return Replies;
    }

    /// <summary>Sends a request expected to get exactly one reply, and returns it.</summary>
    public Reply One(byte[] request) => Assert.Single(Send(request));

    public void Collect(ReadOnlySpan<byte> message)
    {
        var header = MemoryMarshal.Read<fuse_out_header>(message);
        Assert.Equal((uint)message.Length, header.len);
        lock (_replies)
        {
            _replies.Add(new Reply(header, message[Unsafe.SizeOf<fuse_out_header>()..].ToArray()));
        }
    }
}
