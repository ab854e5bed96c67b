using System.Buffers;
using MessagePack;
using Realize.Core;
using Realize.Storage;
using Realize.TestSupport;

namespace Realize.Network.Tests;

/// <summary>A live listener (real TLS on loopback, real unreal.db) fed by hand-written peers, polite and hostile.</summary>
public sealed class ProtocolTests : IDisposable
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(30);
    private static readonly ArenaName s_docs = Listener.Docs;
    private readonly TempDir _dir = new("protocol");

    public void Dispose() => _dir.Dispose();

    private static BlobHash Blob(string text) => ContentHasher.HashBytes(System.Text.Encoding.UTF8.GetBytes(text));

    private static Notification Added(long index, string path, string content = "x") =>
        new(index, s_docs, NotificationType.Added, RelPath.Parse(path), Blob(content), content.Length, new FileTime(1_700_000_000, 1), null);

    private static Notification Removed(long index, string path, string old) =>
        new(index, s_docs, NotificationType.Removed, RelPath.Parse(path), null, null, null, Blob(old));

    [Fact]
    public async Task AKnownPeer_SendsItsHistory_AndEachBatchIsAcknowledgedOnceApplied()
    {
        await using var listener = Listener.Start(_dir);
        var (client, theirs) = await RawClient.OpenAsync(listener.Endpoint, listener.Client, "HSND", (s_docs, 3));
        await using var _ = client;
        // The listener says where it stands: nothing received yet; it does not offer photos to this peer.
        Assert.Equal([(s_docs, 0L)], theirs.Arenas.Select(a => (a.Arena, a.Index)));

        await client.SendAsync(new Notify(s_docs, [Added(1, "a.txt", "one"), Added(2, "b/c.txt")]));
        Assert.Equal(new Ack(s_docs, 2), await client.ReadAsync());
        await client.SendAsync(new Notify(s_docs, [Removed(3, "a.txt", "one")]));
        Assert.Equal(new Ack(s_docs, 3), await client.ReadAsync());

        Assert.Equal(new Dictionary<string, string> { ["docs/b/c.txt"] = Blob("x").Hex }, listener.FilesOf(listener.Client.Id));
        Assert.Equal(3, listener.ReceivedIndex(listener.Client.Id, s_docs));
    }

    [Fact]
    public async Task ReplayedNotifications_ChangeNothing()
    {
        await using var listener = Listener.Start(_dir);
        var (client, _) = await RawClient.OpenAsync(listener.Endpoint, listener.Client, "HSND", (s_docs, 2));
        await using var __ = client;
        await client.SendAsync(new Notify(s_docs, [Added(1, "a.txt", "one"), Added(2, "b.txt", "two")]));
        Assert.Equal(new Ack(s_docs, 2), await client.ReadAsync());
        var before = listener.FilesOf(listener.Client.Id);

        // The same indexes with other content, as a confused or replaying sender would send them.
        await client.SendAsync(new Notify(s_docs, [Added(1, "a.txt", "other"), Added(2, "zzz.txt", "other")]));

        Assert.Equal(new Ack(s_docs, 2), await client.ReadAsync());
        Assert.Equal(before, listener.FilesOf(listener.Client.Id));
    }

    [Fact]
    public async Task AnUnknownCertificate_IsRefusedDuringTheHandshake_AndLoggedWithItsPeerId()
    {
        await using var listener = Listener.Start(_dir);

        try
        {
            await using var client = await RawClient.ConnectAsync(listener.Endpoint, listener.Stranger, "HSND");
            // TLS 1.3 lets the client finish before the server has checked its certificate: the refusal comes as the connection closing.
            await client.AssertClosedAsync();
        }
        catch (Exception e) when (e is System.Security.Authentication.AuthenticationException or IOException)
        {
            // Refused within the handshake itself.
        }

        await Poll.UntilAsync(() => listener.Logs.Lines.Any(l => l.Message.Contains(listener.Stranger.Id.ToString(), StringComparison.Ordinal)),
            s_deadline, () => $"the listener logs the stranger's peer ID; its log:\n{listener.Logs}");
        Assert.Contains("realize peer add", listener.Logs.Lines.Single(l => l.Message.Contains(listener.Stranger.Id.ToString(), StringComparison.Ordinal)).Message);
        Assert.Empty(listener.FilesOf(listener.Stranger.Id));
    }

    [Fact]
    public async Task AnUnknownTag_IsRefusedWithAReason()
    {
        await using var listener = Listener.Start(_dir);
        await using var client = await RawClient.ConnectAsync(listener.Endpoint, listener.Client, "XBLB");

        var welcome = Assert.IsType<Welcome>(await client.ReadAsync());

        Assert.False(welcome.Accepted);
        Assert.Contains("unknown tag 'XBLB'", welcome.Reason);
        await client.AssertClosedAsync();
    }

    /// <summary>Hostile or broken input, each as a frame's payload (or the raw frame when <c>Raw</c>).</summary>
    public static TheoryData<string> BadInputs => new()
    {
        "frame over the size limit",
        "undecodable bytes",
        "unknown message type",
        "unknown arena",
        "arena not shared with this peer",
        "path with ..",
        "absolute path",
        "path with NUL",
        "path with an empty segment",
        "over-long path",
        "over-long segment",
        "invalid UTF-8 in a path",
        "index gap",
        "blob not 64 hex digits",
        "removed with a blob",
        "negative size",
        "an ack from the receiving side's peer",
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public async Task BadInput_ClosesTheConnection_WithALoggedReason_AppliesNothingOfTheBatch_AndOthersAreStillServed(string input)
    {
        await using var listener = Listener.Start(_dir);
        await using (var client = (await RawClient.OpenAsync(listener.Endpoint, listener.Client, "HSND", (s_docs, 9))).Client)
        {
            // A good batch first: it stays; the bad one after it must leave nothing.
            await client.SendAsync(new Notify(s_docs, [Added(1, "kept.txt")]));
            Assert.Equal(new Ack(s_docs, 1), await client.ReadAsync());

            await SendBadAsync(client, input);

            await client.AssertClosedAsync();
        }

        Assert.Equal(["docs/kept.txt"], listener.FilesOf(listener.Client.Id).Keys);
        Assert.Equal(1, listener.ReceivedIndex(listener.Client.Id, s_docs));
        await Poll.UntilAsync(() => listener.Logs.Lines.Any(l => l.Message.Contains("protocol error", StringComparison.Ordinal)), s_deadline,
            () => $"the listener logs why it closed the connection; its log:\n{listener.Logs}");
        // The log line comes first, the status a moment later.
        await Poll.UntilAsync(() => listener.Status().Any(p => p.Name == "client" && p.LastError is { } error && error.Contains("protocol error", StringComparison.Ordinal)),
            s_deadline, () => "status shows the protocol error as the client's last error");

        // The same peer again, and another: both served.
        await using var again = (await RawClient.OpenAsync(listener.Endpoint, listener.Client, "HSND", (s_docs, 2))).Client;
        await again.SendAsync(new Notify(s_docs, [Added(2, "next.txt")]));
        Assert.Equal(new Ack(s_docs, 2), await again.ReadAsync());
        await using var other = (await RawClient.OpenAsync(listener.Endpoint, listener.Other, "HSND", (s_docs, 1))).Client;
        await other.SendAsync(new Notify(s_docs, [Added(1, "theirs.txt")]));
        Assert.Equal(new Ack(s_docs, 1), await other.ReadAsync());
    }

    private static async Task SendBadAsync(RawClient client, string input)
    {
        const string Hex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        if (await client.TrySendBadFrameAsync(input))
        {
            return;
        }
        switch (input)
        {
            case "unknown arena":
                await client.SendAsync(new Notify(ArenaName.Parse("nope"), [Added(1, "a.txt")]));
                return;
            case "arena not shared with this peer":
                await client.SendAsync(new Notify(Listener.Photos, [Added(1, "a.txt")]));
                return;
            case "index gap":
                await client.SendAsync(new Notify(s_docs, [Added(3, "skipped-2.txt")]));
                return;
            case "an ack from the receiving side's peer":
                await client.SendAsync(new Ack(s_docs, 1));
                return;
        }
        // A batch whose second entry is bad, written field by field as a hostile peer would.
        string path = "ok.txt";
        string? blob = Hex;
        long? size = 1;
        int type = 1;
        byte[]? rawPath = null;
        switch (input)
        {
            case "path with ..": path = "a/../../etc/passwd"; break;
            case "absolute path": path = "/etc/passwd"; break;
            case "path with NUL": path = "a\0b"; break;
            case "path with an empty segment": path = "a//b"; break;
            case "over-long path": path = string.Join('/', Enumerable.Repeat(new string('p', 200), 25)); break;
            case "over-long segment": path = new string('s', 256); break;
            case "invalid UTF-8 in a path": rawPath = [0x61, 0xff, 0xfe]; break;
            case "blob not 64 hex digits": blob = "xyz" + Hex[3..]; break;
            case "removed with a blob": type = 3; break;
            case "negative size": size = -1; break;
            default: throw new ArgumentOutOfRangeException(nameof(input), input, "no such case");
        }
        await client.SendFrameAsync(RawClient.Payload((ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(3);
            w.Write(2);
            w.Write("docs");
            w.WriteArrayHeader(2);
            WriteEntry(ref w, 2, 1, "fine.txt"u8.ToArray(), Hex, 1);
            WriteEntry(ref w, 3, type, rawPath ?? System.Text.Encoding.UTF8.GetBytes(path), blob, size);
        }));
    }

    private static void WriteEntry(ref MessagePackWriter w, long index, int type, byte[] path, string? blob, long? size)
    {
        w.WriteArrayHeader(7);
        w.Write(index);
        w.Write(type);
        w.WriteString(path);
        w.Write(blob);
        if (size is { } s)
        {
            w.Write(s);
        }
        else
        {
            w.WriteNil();
        }
        w.Write(1_700_000_000_000_000_000L);
        w.WriteNil();
    }

    [Fact]
    public async Task ASilentConnection_IsNoticedAsDead()
    {
        await using var listener = Listener.Start(_dir, new HistoryOptions { Link = new LinkOptions { DeadAfter = TimeSpan.FromSeconds(2), PingEvery = TimeSpan.FromMilliseconds(500) } });
        // A peer that stops answering (its machine froze, a NAT forgot it): no ping, no data.
        var (client, _) = await RawClient.OpenAsync(listener.Endpoint, listener.Client, "HSND", (s_docs, 0));
        await using var _ = client;

        // The listener pings meanwhile, and gives up once nothing came back for DeadAfter.
        await client.AssertClosedAsync(TimeSpan.FromSeconds(20));
        await Poll.UntilAsync(() => listener.Logs.Lines.Any(l => l.Message.Contains("no word from client", StringComparison.Ordinal)), s_deadline,
            () => $"the listener logs the dead connection; its log:\n{listener.Logs}");
    }

    [Fact]
    public async Task AReset_LeavesTheTableExactlyAsItSays()
    {
        await using var listener = Listener.Start(_dir);
        var (client, _) = await RawClient.OpenAsync(listener.Endpoint, listener.Client, "HSND", (s_docs, 20));
        await using var __ = client;
        await client.SendAsync(new Notify(s_docs, [Added(1, "a.txt"), Added(2, "b.txt", "old"), Added(3, "c.txt")]));
        Assert.Equal(new Ack(s_docs, 3), await client.ReadAsync());

        // The sender trimmed its history: it sends what it has now instead.
        await client.SendAsync(
            new ResetStart(s_docs, 20),
            new Notify(s_docs, [Added(20, "b.txt", "new"), Added(20, "d.txt")]),
            new Notify(s_docs, [Added(20, "e/f.txt")]),
            new ResetEnd(s_docs, 20));

        Assert.Equal(new Ack(s_docs, 20), await client.ReadAsync());
        Assert.Equal(new Dictionary<string, string> { ["docs/b.txt"] = Blob("new").Hex, ["docs/d.txt"] = Blob("x").Hex, ["docs/e/f.txt"] = Blob("x").Hex },
            listener.FilesOf(listener.Client.Id));
        await client.SendAsync(new Notify(s_docs, [Removed(21, "d.txt", "x")]));
        Assert.Equal(new Ack(s_docs, 21), await client.ReadAsync());
    }

    [Fact]
    public async Task AReceiver_GetsTheHistoryFromWhereItStands_AndItsAcknowledgementIsPersisted()
    {
        await using var listener = Listener.Start(_dir, new HistoryOptions { BatchSize = 2, AckPersistInterval = TimeSpan.FromMilliseconds(50) });
        using (var index = listener.Store.OpenIndex())
        {
            index.Commit(s_docs, Enumerable.Range(1, 5).Select(i => new PendingNotification(NotificationType.Added, RelPath.Parse($"f{i}"), Blob("x"), 1, new FileTime(1, 0), null)).ToArray(), []);
        }
        long history;
        using (var index = listener.Store.OpenIndex())
        {
            history = index.HistoryId;
        }
        var (client, theirs) = await RawClient.OpenAsync(listener.Endpoint, listener.Client, "HRCV", new ArenaPosition(s_docs, 2, history));
        await using var _ = client;
        Assert.Equal([new ArenaPosition(s_docs, 5, history)], theirs.Arenas);

        var first = Assert.IsType<Notify>(await client.ReadAsync());
        Assert.Equal([3L, 4L], first.Batch.Select(n => n.Index));
        await client.SendAsync(new Ack(s_docs, 4));
        var second = Assert.IsType<Notify>(await client.ReadAsync());
        Assert.Equal([5L], second.Batch.Select(n => n.Index));
        await client.SendAsync(new Ack(s_docs, 5));

        await Poll.UntilAsync(() =>
        {
            using var index = listener.Store.OpenIndex();
            return index.AckedIndex(listener.Client.Id, s_docs) == 5;
        }, s_deadline, () => "the listener persists the acknowledged index");
        Assert.Equal(0, Assert.Single(listener.Status(), p => p.Name == "client").Arenas.Single(a => a.Arena == "docs").Pending);

        // New history goes out as it is committed.
        using (var index = listener.Store.OpenIndex())
        {
            index.Commit(s_docs, [new PendingNotification(NotificationType.Removed, RelPath.Parse("f1"), null, null, null, Blob("x"))], []);
        }
        listener.Feed.Changed();
        var live = Assert.IsType<Notify>(await client.ReadAsync());
        Assert.Equal((6L, NotificationType.Removed, "f1"), (live.Batch[0].Index, live.Batch[0].Type, live.Batch[0].Path.Value));
    }

    [Fact]
    public async Task AReceiverBehindTrimmedHistory_GetsAReset_OfTheFilesAsTheyAreNow()
    {
        await using var listener = Listener.Start(_dir);
        using (var index = listener.Store.OpenIndex())
        {
            var row = new IndexedFile(Blob("x"), 1, new FileTime(1, 0), 1, FileSource.Real);
            index.Commit(s_docs, [new PendingNotification(NotificationType.Added, RelPath.Parse("gone"), Blob("x"), 1, new FileTime(1, 0), null)], [new RowChange("gone", row)]);
            index.Commit(s_docs, [new PendingNotification(NotificationType.Added, RelPath.Parse("kept"), Blob("x"), 1, new FileTime(1, 0), null)], [new RowChange("kept", row)]);
            index.Commit(s_docs, [new PendingNotification(NotificationType.Removed, RelPath.Parse("gone"), null, null, null, Blob("x"))], [new RowChange("gone", IndexedFile.Tombstone)]);
            index.TrimHistory(s_docs, 2);
        }

        var (client, _) = await RawClient.OpenAsync(listener.Endpoint, listener.Client, "HRCV", (s_docs, 0));
        await using var __ = client;

        Assert.Equal(new ResetStart(s_docs, 3), await client.ReadAsync());
        var files = Assert.IsType<Notify>(await client.ReadAsync());
        Assert.Equal([(3L, NotificationType.Added, "kept")], files.Batch.Select(n => (n.Index, n.Type, n.Path.Value)));
        Assert.Equal(new ResetEnd(s_docs, 3), await client.ReadAsync());
    }

    [Fact]
    public async Task AnAcknowledgementOfWhatWasNeverSent_ClosesTheConnection()
    {
        await using var listener = Listener.Start(_dir);
        var (client, _) = await RawClient.OpenAsync(listener.Endpoint, listener.Client, "HRCV", (s_docs, 0));
        await using var __ = client;

        await client.SendAsync(new Ack(s_docs, 1_000));

        await client.AssertClosedAsync();
        await Poll.UntilAsync(() => listener.Logs.Lines.Any(l => l.Message.Contains("outside what was sent", StringComparison.Ordinal)), s_deadline,
            () => $"the listener logs the bad acknowledgement; its log:\n{listener.Logs}");
    }

    [Fact]
    public async Task ArenasOnlyOneSideShares_AreNotExchanged_AndStatusShowsThem()
    {
        await using var listener = Listener.Start(_dir);
        // "client" offers docs and music; the listener shares docs (photos is for "other" alone).
        var (client, theirs) = await RawClient.OpenAsync(listener.Endpoint, listener.Client, "HSND", (s_docs, 0), (ArenaName.Parse("music"), 0));
        await using var _ = client;
        // "other" offers only docs; the listener shares docs and photos with it.
        var (other, otherTheirs) = await RawClient.OpenAsync(listener.Endpoint, listener.Other, "HSND", (s_docs, 0));
        await using var __ = other;

        Assert.Equal([s_docs], theirs.Arenas.Select(a => a.Arena));
        Assert.Equal([s_docs, Listener.Photos], otherTheirs.Arenas.Select(a => a.Arena));
        await Poll.UntilAsync(() => listener.Status().All(p => p.Connected), s_deadline, () => "both peers are connected");
        var status = listener.Status();
        Assert.Empty(status.Single(p => p.Name == "client").OnlyHere);
        Assert.Equal(["music"], status.Single(p => p.Name == "client").OnlyThere);
        Assert.Equal(["photos"], status.Single(p => p.Name == "other").OnlyHere);
        Assert.Empty(status.Single(p => p.Name == "other").OnlyThere);
        // Not an error: docs still goes through.
        await client.SendAsync(new Notify(s_docs, [Added(1, "a.txt")]));
        Assert.Equal(new Ack(s_docs, 1), await client.ReadAsync());
    }

    [Fact]
    public async Task AReceiverAtAnIndexOfAnotherHistory_GetsAReset()
    {
        await using var listener = Listener.Start(_dir);
        using (var index = listener.Store.OpenIndex())
        {
            var row = new IndexedFile(Blob("x"), 1, new FileTime(1, 0), 1, FileSource.Real);
            index.Commit(s_docs, Enumerable.Range(1, 3).Select(i => new PendingNotification(NotificationType.Added, RelPath.Parse($"f{i}"), Blob("x"), 1, new FileTime(1, 0), null)).ToArray(),
                Enumerable.Range(1, 3).Select(i => new RowChange($"f{i}", row)).ToArray());
        }

        // It stands at 2, but of a history this index.db is not (the listener's index.db was made anew).
        var (client, _) = await RawClient.OpenAsync(listener.Endpoint, listener.Client, "HRCV", (s_docs, 2));
        await using var __ = client;

        Assert.Equal(new ResetStart(s_docs, 3), await client.ReadAsync());
    }

    [Fact]
    public async Task ASenderContinuingAnotherHistory_WithoutAReset_IsRefused()
    {
        await using var listener = Listener.Start(_dir);
        await using (var first = (await RawClient.OpenAsync(listener.Endpoint, listener.Client, "HSND", (s_docs, 2))).Client)
        {
            await first.SendAsync(new Notify(s_docs, [Added(1, "a.txt"), Added(2, "b.txt")]));
            Assert.Equal(new Ack(s_docs, 2), await first.ReadAsync());
        }

        var (again, theirs) = await RawClient.OpenAsync(listener.Endpoint, listener.Client, "HSND", new ArenaPosition(s_docs, 3, RawClient.History + 1));
        await using var _ = again;
        Assert.Equal([new ArenaPosition(s_docs, 2, RawClient.History)], theirs.Arenas);
        await again.SendAsync(new Notify(s_docs, [Added(3, "c.txt")]));

        await again.AssertClosedAsync();
        Assert.Equal(["docs/a.txt", "docs/b.txt"], listener.FilesOf(listener.Client.Id).Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task ASlowLink_IsNotADeadOne_WhileBytesKeepComing()
    {
        await using var listener = Listener.Start(_dir, new HistoryOptions { Link = new LinkOptions { DeadAfter = TimeSpan.FromSeconds(1), PingEvery = TimeSpan.FromMilliseconds(250) } });
        var (client, _) = await RawClient.OpenAsync(listener.Endpoint, listener.Client, "HSND", (s_docs, 0));
        await using var __ = client;
        var frame = new System.Buffers.ArrayBufferWriter<byte>();
        Wire.WriteFrame(frame, new Notify(s_docs, [Added(1, "slow.txt")]));

        // One frame over about three times the dead-connection delay, a few bytes at a time.
        var bytes = frame.WrittenMemory;
        int step = Math.Max(1, bytes.Length / 12);
        for (int at = 0; at < bytes.Length; at += step)
        {
            await client.SendRawAsync(bytes[at..Math.Min(bytes.Length, at + step)]);
            await Task.Delay(250);
        }

        Assert.Equal(new Ack(s_docs, 1), await client.ReadAsync());
    }
}
