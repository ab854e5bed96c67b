using System.Globalization;
using System.Security.Cryptography;
using Realize.Core;
using Realize.TestSupport;

namespace Realize.Unreal.Tests;

/// <summary>Content read through the mount, fetched on demand block by block from the peers.</summary>
public sealed class UnrealContentTests
{
    // 10 blocks and a part: not block aligned.
    private const int LargeSize = (40 << 20) + 12_345;

    [Fact]
    public async Task WholeReads_ReturnTheExactContent()
    {
        await using var unreal = await MountedUnreal.StartAsync();
        unreal.Fetcher.AddPeer("nas");
        byte[] small = "hello, unreal\n"u8.ToArray();
        byte[] large = MountedUnreal.Content(LargeSize, 1);
        unreal.Add("small.txt", small);
        unreal.Add("dir/large.bin", large);

        Assert.Equal(small, File.ReadAllBytes(unreal.PathOf("small.txt")));
        Assert.Equal("hello, unreal\n", Shell.Check("cat", unreal.PathOf("small.txt")));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(large)), Shell.Check("sha256sum", unreal.PathOf("dir/large.bin")).Split(' ')[0]);
        Assert.True(SHA256.HashData(large).AsSpan().SequenceEqual(SHA256.HashData(File.ReadAllBytes(unreal.PathOf("dir/large.bin")))));
    }

    [Fact]
    public async Task RandomPreads_OfALargeBlob_MatchByteForByte_AndTheTailIsItsLastBytes()
    {
        await using var unreal = await MountedUnreal.StartAsync();
        unreal.Fetcher.AddPeer("nas");
        byte[] large = MountedUnreal.Content(LargeSize, 2);
        unreal.Add("large.bin", large);
        var random = new Random(3);
        byte[] buffer = new byte[3 << 20];

        using (var file = File.OpenHandle(unreal.PathOf("large.bin")))
        {
            for (int i = 0; i < 120; i++)
            {
                long offset = random.NextInt64(LargeSize);
                int length = random.Next(1, buffer.Length);
                var (errno, read) = Native.Pread(file, buffer.AsSpan(0, length), offset);

                Assert.Equal(0, errno);
                Assert.Equal((int)Math.Min(length, LargeSize - offset), read);
                Assert.True(large.AsSpan((int)offset, read).SequenceEqual(buffer.AsSpan(0, read)), $"pread of {length} bytes at {offset} differs");
            }
            // Across the last block boundary, and at the end.
            var (e1, lastRead) = Native.Pread(file, buffer.AsSpan(0, 100), (10L << 22) - 50);
            Assert.Equal((0, 100), (e1, lastRead));
            Assert.True(large.AsSpan((10 << 22) - 50, 100).SequenceEqual(buffer.AsSpan(0, 100)));
            Assert.Equal((0, 0), Native.Pread(file, buffer, LargeSize));
        }
        string tail = Shell.Bash("tail -c 777 \"$1\" | sha256sum", unreal.PathOf("large.bin"));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(large.AsSpan(LargeSize - 777))), tail.Split(' ')[0]);
    }

    [Fact]
    public async Task MmapReads_ReturnTheExactContent()
    {
        await using var unreal = await MountedUnreal.StartAsync();
        unreal.Fetcher.AddPeer("nas");
        byte[] content = MountedUnreal.Content((9 << 20) + 77, 4);
        unreal.Add("mapped.bin", content);

        // In another process: a fault on a mapping of this process's own FUSE mount can deadlock
        // it (tests/Realize.MapReader says why). The last pages first: faults mid-blob.
        string reader = Path.Combine(AppContext.BaseDirectory, "Realize.MapReader.dll");
        string hash = Shell.Check("dotnet", "exec", reader, unreal.PathOf("mapped.bin"), (8 << 20).ToString(CultureInfo.InvariantCulture));

        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(content)), hash.Trim());
    }

    [Fact]
    public async Task ConcurrentReadersOfOneBlob_ShareOneDownload_EachBlockAskedOnce()
    {
        await using var unreal = await MountedUnreal.StartAsync();
        unreal.Fetcher.AddPeer("nas");
        byte[] large = MountedUnreal.Content(LargeSize, 5);
        var blob = unreal.Add("large.bin", large);
        const int Chunk = 1 << 20;
        int chunks = (LargeSize + Chunk - 1) / Chunk;

        // Each reader starts at another MiB of the first block and goes round the whole file:
        // they ask for different pages of the same blocks at once.
        var readers = Enumerable.Range(0, 6).Select(r => Task.Run(() =>
        {
            byte[] read = new byte[LargeSize];
            using var file = File.OpenHandle(unreal.PathOf("large.bin"));
            for (int k = 0; k < chunks; k++)
            {
                int chunk = (r + k) % chunks;
                int offset = chunk * Chunk;
                int length = Math.Min(Chunk, LargeSize - offset);
                var (errno, n) = Native.Pread(file, read.AsSpan(offset, length), offset);
                Assert.Equal((0, length), (errno, n));
            }
            return read;
        })).ToList();
        byte[][] results = await Task.WhenAll(readers).WaitAsync(TimeSpan.FromMinutes(2));

        Assert.All(results, read => Assert.True(large.AsSpan().SequenceEqual(read)));
        int blocks = (LargeSize + BlobHash.BlockSize - 1) / BlobHash.BlockSize;
        Assert.Equal(Enumerable.Repeat(1, blocks), Enumerable.Range(0, blocks).Select(i => unreal.Fetcher.BlockRequests(blob, i)));
        Assert.Equal(1, unreal.Fetcher.ListRequests);
        Assert.Equal(blocks, unreal.Downloads.BlocksFetched);
    }

    [Fact]
    public async Task ASequentialRead_FetchesTheNextBlocksAhead()
    {
        await using var unreal = await MountedUnreal.StartAsync();
        unreal.Fetcher.AddPeer("nas");
        byte[] large = MountedUnreal.Content(LargeSize, 6);
        var blob = unreal.Add("large.bin", large);

        using var file = File.OpenHandle(unreal.PathOf("large.bin"));
        byte[] buffer = new byte[64 << 10];
        Assert.Equal((0, buffer.Length), Native.Pread(file, buffer, 0));

        // Only the first block was read; the next ones arrive without being asked for.
        await Poll.UntilAsync(() => Enumerable.Range(1, 4).All(i => unreal.Cache.HasBlock(blob, i)), TimeSpan.FromSeconds(30),
            () => $"blocks 1-4 fetched ahead; requests {string.Join(",", Enumerable.Range(0, 11).Select(i => unreal.Fetcher.BlockRequests(blob, i)))}");
        Assert.True(large.AsSpan(0, buffer.Length).SequenceEqual(buffer));
        // Ahead, not the whole file.
        Assert.Equal(0, unreal.Fetcher.BlockRequests(blob, 10));
    }
}
