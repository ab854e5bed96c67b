using System.Buffers;
using System.Net;
using MessagePack;
using Realize.Core;
using Realize.TestSupport;

namespace Realize.Network.Tests;

/// <summary>A live BLOB server fed by a hand-written client: pipelined requests, and input that must close the connection.</summary>
public sealed class BlobProtocolTests : IDisposable
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(30);
    private const int Block = BlobHash.BlockSize;
    private readonly TempDir _dir = new("blob-protocol");

    public void Dispose() => _dir.Dispose();

    private static async Task<RawClient> OpenAsync(BlobHousehold household)
    {
        var client = await RawClient.ConnectAsync(new IPEndPoint(IPAddress.Loopback, household.Holder.Port!.Value), household.Asker.Identity, "BLOB");
        var welcome = Assert.IsType<Welcome>(await client.ReadAsync());
        Assert.True(welcome.Accepted, welcome.Reason);
        return client;
    }

    [Fact]
    public async Task PipelinedRequests_AreAllAnswered_EachUnderItsRequestId()
    {
        await using var household = BlobHousehold.Start(_dir);
        byte[] content = BlobHousehold.Content(Block + 3, seed: 1);
        var blob = household.AddFile(BlobHousehold.Docs, "two-blocks.bin", content);
        await using var client = await OpenAsync(household);

        // All in one write: the server reads the next while it answers the last.
        await client.SendAsync(new BlockRequest(7, blob, 1), new BlockListRequest(8, blob), new BlockRequest(9, blob, 0));

        var answers = new[] { await client.ReadAsync(), await client.ReadAsync(), await client.ReadAsync() };
        var byId = answers.ToDictionary(a => a switch { BlockData d => d.Request, BlockList l => l.Request, _ => -1 });
        Assert.Equal(content.AsSpan(Block).ToArray(), Assert.IsType<BlockData>(byId[7]).Data.ToArray());
        Assert.Equal(content.Length, Assert.IsType<BlockList>(byId[8]).Size);
        Assert.Equal(content.AsSpan(0, Block).ToArray(), Assert.IsType<BlockData>(byId[9]).Data.ToArray());
    }

    [Fact]
    public async Task ABlockOutsideTheBlob_ClosesTheConnection_WithALoggedReason()
    {
        await using var household = BlobHousehold.Start(_dir);
        var blob = household.AddFile(BlobHousehold.Docs, "one-block.bin", BlobHousehold.Content(10, seed: 2));
        await using var client = await OpenAsync(household);

        await client.SendAsync(new BlockRequest(1, blob, 1));

        await client.AssertClosedAsync();
        await Poll.UntilAsync(() => household.Holder.Logs.Lines.Any(l => l.Message.Contains("protocol error: asked for block 1", StringComparison.Ordinal)),
            s_deadline, () => $"the holder logs why it closed the connection; its log:\n{household.Holder.Logs}");
    }

    /// <summary>Hostile or broken input on a BLOB connection.</summary>
    public static TheoryData<string> BadInputs => new()
    {
        "frame over the size limit",
        "undecodable bytes",
        "unknown message type",
        "negative block index",
        "negative request id",
        "blob not 64 hex digits",
        "an answer sent to the server",
        "a history message",
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public async Task BadInput_ClosesTheConnection_WithALoggedReason_AndTheNextConnectionIsServed(string input)
    {
        await using var household = BlobHousehold.Start(_dir);
        byte[] content = BlobHousehold.Content(20, seed: 3);
        var blob = household.AddFile(BlobHousehold.Docs, "a.txt", content);
        await using (var client = await OpenAsync(household))
        {
            await SendBadAsync(client, input, blob);
            await client.AssertClosedAsync();
        }

        await Poll.UntilAsync(() => household.Holder.Logs.Lines.Any(l => l.Message.Contains("protocol error", StringComparison.Ordinal)),
            s_deadline, () => $"the holder logs why it closed the connection; its log:\n{household.Holder.Logs}");
        await using var again = await OpenAsync(household);
        await again.SendAsync(new BlockRequest(1, blob, 0));
        Assert.Equal(content, Assert.IsType<BlockData>(await again.ReadAsync()).Data.ToArray());
    }

    private static async Task SendBadAsync(RawClient client, string input, BlobHash blob)
    {
        if (await client.TrySendBadFrameAsync(input))
        {
            return;
        }
        switch (input)
        {
            case "negative block index":
                await client.SendFrameAsync(RawClient.Payload((ref MessagePackWriter w) =>
                {
                    w.WriteArrayHeader(4);
                    w.Write(9);
                    w.Write(1);
                    w.Write(blob.Hex);
                    w.Write(-1);
                }));
                return;
            case "negative request id":
                await client.SendFrameAsync(RawClient.Payload((ref MessagePackWriter w) =>
                {
                    w.WriteArrayHeader(3);
                    w.Write(7);
                    w.Write(-5);
                    w.Write(blob.Hex);
                }));
                return;
            case "blob not 64 hex digits":
                await client.SendFrameAsync(RawClient.Payload((ref MessagePackWriter w) =>
                {
                    w.WriteArrayHeader(3);
                    w.Write(7);
                    w.Write(1);
                    w.Write("xyz");
                }));
                return;
            case "an answer sent to the server":
                await client.SendAsync(new BlockData(1, new byte[] { 1, 2, 3 }));
                return;
            case "a history message":
                await client.SendAsync(new ArenaList([]));
                return;
            default:
                throw new ArgumentOutOfRangeException(nameof(input), input, "no such bad input");
        }
    }

    [Fact]
    public void ABlockFrameBuiltInPlace_IsTheEncodedBlockMessage()
    {
        byte[] data = BlobHousehold.Content(70_000, seed: 4);
        byte[] buffer = new byte[Wire.BlockHeaderRoom + data.Length];
        data.CopyTo(buffer, Wire.BlockHeaderRoom);

        int start = Wire.WriteBlockHeader(buffer, 123_456_789_012, data.Length);

        var encoded = new ArrayBufferWriter<byte>();
        Wire.WriteFrame(encoded, new BlockData(123_456_789_012, data));
        Assert.Equal(encoded.WrittenSpan.ToArray(), buffer[start..]);
        var decoded = Assert.IsType<BlockData>(Wire.Decode(buffer.AsMemory(start + 4)));
        Assert.Equal(123_456_789_012L, decoded.Request);
        Assert.Equal(data, decoded.Data.ToArray());
    }
}
