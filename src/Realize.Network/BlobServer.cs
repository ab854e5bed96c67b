using System.Security.Cryptography;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Realize.Core;
using Realize.Storage;

namespace Realize.Network;

/// <summary>Settings of the BLOB server.</summary>
public sealed record BlobServerOptions
{
    /// <summary>Test hook: flips a byte of every block served, so that a client's verification is seen to work.</summary>
    public bool CorruptBlocks { get; init; }

    /// <summary>Blobs one connection keeps open at once (a reader of several files in turn); the least recently read is closed first.</summary>
    public int OpenPerConnection { get; init; } = 4;
}

/// <summary>
/// Serves BLOB connections (docs/wire.md "BLOB"): block lists and blocks of blobs held in an
/// arena shared with the asker, from this peer's files (their index.db rows say where; a file
/// that no longer matches its row is hashed again and served only if it still has the blob) or from the daemon's <see cref="IBlobSource"/>. Requests are
/// answered in order, the next one read from disk while the last is written out. A request for a
/// blob only arenas not shared with the asker hold, a block outside the blob, or a malformed frame
/// closes the connection.
/// </summary>
internal sealed class BlobServer
{
    private readonly Store _store;
    private readonly Func<StoreConfig> _config;
    private readonly BlobServerOptions _options;
    private readonly ILogger _logger;
    private readonly BlockListCache _lists = new(16 << 20);

    public BlobServer(Store store, Func<StoreConfig> config, BlobServerOptions options, ILogger logger)
    {
        _store = store;
        _config = config;
        _options = options;
        _logger = logger;
    }

    // Set by the daemon from any thread, read by each request.
    private volatile IBlobSource? _source;

    /// <summary>Where blobs other than this peer's own files come from (the cache); null: own files only.</summary>
    public IBlobSource? Source
    {
        get => _source;
        set => _source = value;
    }

    /// <summary>An answer waiting to be written: a block in its buffer, frame header included, or a message.</summary>
    private readonly record struct Answer(byte[]? Buffer, int Start, int Length, Message? Message);

    /// <summary>Serves one accepted BLOB link until it closes, fails or <paramref name="stop"/>; never throws but for <paramref name="stop"/>.</summary>
    public async Task ServeAsync(Link link, CancellationToken stop)
    {
        await using (link)
        {
            using var session = new Session(this, link.Peer);
            using var done = CancellationTokenSource.CreateLinkedTokenSource(stop);
            // Two answers ahead at most: memory stays at a few blocks however many requests wait.
            var answers = Channel.CreateBounded<Answer>(new BoundedChannelOptions(2) { SingleReader = true, SingleWriter = true });
            var writing = WriteAnswersAsync(link, answers.Reader, done);
            string? reason = null;
            try
            {
                link.StartKeepAlive();
                while (true)
                {
                    var message = await link.ReadAsync(done.Token);
                    var answer = message switch
                    {
                        BlockListRequest r => session.List(r),
                        BlockRequest r => session.Block(r),
                        _ => throw new ProtocolException($"{message.GetType().Name} on a BLOB connection, which carries requests only"),
                    };
                    try
                    {
                        await answers.Writer.WriteAsync(answer, done.Token);
                    }
                    catch
                    {
                        Return(answer);
                        throw;
                    }
                }
            }
            catch (OperationCanceledException) when (done.IsCancellationRequested)
            {
                // Stopping, or the writer failed.
                reason = stop.IsCancellationRequested ? null : link.Failure?.Message ?? "writing to it failed";
            }
            catch (ProtocolException e)
            {
                Log.ProtocolError(_logger, link.Peer.Name, e.Message);
            }
            catch (Exception e) when (e is IOException or TimeoutException or StorageException or InvalidDataException or System.Net.Sockets.SocketException)
            {
                reason = e.Message;
            }
            finally
            {
                answers.Writer.TryComplete();
                await done.CancelAsync();
                await writing;
                while (answers.Reader.TryRead(out var left))
                {
                    Return(left);
                }
            }
            if (reason is not null)
            {
                Log.BlobLinkEnded(_logger, link.Peer.Name, reason);
            }
        }
    }

    /// <summary>Writes the answers in order until they end or writing fails; then cancels <paramref name="done"/>, so that the reader stops too.</summary>
    private static async Task WriteAnswersAsync(Link link, ChannelReader<Answer> answers, CancellationTokenSource done)
    {
        var stop = done.Token;
        try
        {
            await foreach (var answer in answers.ReadAllAsync(stop))
            {
                try
                {
                    if (answer.Buffer is { } buffer)
                    {
                        await link.WriteFrameAsync(buffer.AsMemory(answer.Start, answer.Length), stop);
                    }
                    else
                    {
                        await link.WriteAsync(answer.Message!, stop);
                    }
                }
                finally
                {
                    Return(answer);
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException)
        {
            // The link is closed or failed: the reader stops below.
        }
        finally
        {
            await done.CancelAsync();
        }
    }

    private static void Return(Answer answer)
    {
        if (answer.Buffer is { } buffer)
        {
            BlockBuffers.Return(buffer);
        }
    }

    /// <summary>What one connection has open: its index.db connection and the blobs it reads.</summary>
    private sealed class Session(BlobServer server, PeerConfig peer) : IDisposable
    {
        private IndexDb? _index;
        // Most recently read last; at most OpenPerConnection.
        private readonly List<(BlobHash Blob, BlobReader Reader)> _open = [];

        public Answer List(BlockListRequest request)
        {
            var reader = Open(request.Blob, out string? refusal);
            if (reader is null)
            {
                return Refuse(request.Request, request.Blob, refusal!);
            }
            byte[]? hashes = server._lists.Find(request.Blob) ?? reader.BlockHashes ?? _index!.FindBlockList(request.Blob);
            if (hashes is null)
            {
                try
                {
                    hashes = reader.ComputeBlockHashes();
                }
                catch (IOException e)
                {
                    Close(request.Blob);
                    return Refuse(request.Request, request.Blob, $"it could not be read: {e.Message}");
                }
                if (!BlobHash.FromBytes(SHA256.HashData(hashes)).Equals(request.Blob))
                {
                    Close(request.Blob);
                    return Refuse(request.Request, request.Blob, "its file changed since it was indexed (it no longer hashes to the blob)");
                }
                server._lists.Add(request.Blob, hashes);
                if (hashes.Length > SHA256.HashSizeInBytes)
                {
                    // Kept across restarts: a large file is hashed once. One block's list costs a read of one block.
                    _index!.SaveBlockList(request.Blob, hashes);
                }
            }
            return new Answer(null, 0, 0, new BlockList(request.Request, reader.Size, hashes));
        }

        public Answer Block(BlockRequest request)
        {
            var reader = Open(request.Blob, out string? refusal);
            if (reader is null)
            {
                return Refuse(request.Request, request.Blob, refusal!);
            }
            int blocks = BlobBlocks.Count(reader.Size);
            if (request.Index >= blocks)
            {
                throw new ProtocolException($"asked for block {request.Index} of blob {request.Blob}, which has {blocks}");
            }
            if (!reader.HasBlock(request.Index))
            {
                return Refuse(request.Request, request.Blob, $"block {request.Index} is not here");
            }
            int length = BlobBlocks.Length(reader.Size, request.Index);
            byte[] buffer = BlockBuffers.Rent();
            try
            {
                var data = buffer.AsSpan(Wire.BlockHeaderRoom, length);
                reader.ReadBlock(request.Index, data);
                if (server._options.CorruptBlocks)
                {
                    data[length / 2] ^= 0x5A;
                }
                int start = Wire.WriteBlockHeader(buffer, request.Request, length);
                return new Answer(buffer, start, Wire.BlockHeaderRoom + length - start, null);
            }
            catch (IOException e)
            {
                BlockBuffers.Return(buffer);
                Close(request.Blob);
                return Refuse(request.Request, request.Blob, $"its file changed since it was indexed, or could not be read ({e.Message})");
            }
            catch
            {
                BlockBuffers.Return(buffer);
                throw;
            }
        }

        private Answer Refuse(long request, BlobHash blob, string reason)
        {
            Log.BlobRefused(server._logger, blob.Hex, peer.Name, reason);
            return new Answer(null, 0, 0, new BlobRefusal(request, reason.Length <= Wire.MaxReason ? reason : reason[..Wire.MaxReason]));
        }

        /// <summary>The reader of <paramref name="blob"/>, open already or opened now; null with why when it cannot be served.</summary>
        private BlobReader? Open(BlobHash blob, out string? refusal)
        {
            refusal = null;
            int at = _open.FindIndex(o => o.Blob.Equals(blob));
            if (at >= 0)
            {
                var open = _open[at];
                _open.RemoveAt(at);
                if (open.Reader.IsUnchanged())
                {
                    _open.Add(open);
                    return open.Reader;
                }
                open.Reader.Dispose();
            }
            var config = server._config();
            var shared = config.ArenasSharedWith(peer.Name).ToHashSet();
            _index ??= server._store.OpenIndex();
            var files = _index.FindByBlob(blob, shared);
            foreach (var file in files)
            {
                if (PathOf(config, file) is { } path && FileBlobReader.TryOpen(path, file, blob) is { } reader)
                {
                    return Keep(blob, reader);
                }
            }
            if (server.Source?.Open(blob, shared) is { } cached)
            {
                return Keep(blob, cached);
            }
            if (files.Count > 0)
            {
                refusal = "its file changed since it was indexed";
                return null;
            }
            var others = config.Arenas.Select(a => a.Name).Where(a => !shared.Contains(a)).ToArray();
            if (others.Length > 0 && _index.FindByBlob(blob, others) is [var hidden, ..])
            {
                throw new ProtocolException($"asked for blob {blob}, which is in arena {hidden.Arena}, not shared with it");
            }
            refusal = "it is not here";
            return null;
        }

        /// <summary>Where the content of <paramref name="file"/> lies: under a plain arena's directory, or real/ARENA/ of the merged view; null for an arena no longer configured.</summary>
        private string? PathOf(StoreConfig config, BlobFile file) => config.FindArena(file.Arena) switch
        {
            null => null,
            { PlainPath: { } root } => Path.Combine(root, file.Path),
            _ => Path.Combine(server._store.RealDir, file.Arena.Value, file.Path),
        };

        private BlobReader Keep(BlobHash blob, BlobReader reader)
        {
            if (_open.Count >= Math.Max(1, server._options.OpenPerConnection))
            {
                _open[0].Reader.Dispose();
                _open.RemoveAt(0);
            }
            _open.Add((blob, reader));
            return reader;
        }

        private void Close(BlobHash blob)
        {
            int at = _open.FindIndex(o => o.Blob.Equals(blob));
            if (at >= 0)
            {
                _open[at].Reader.Dispose();
                _open.RemoveAt(at);
            }
        }

        public void Dispose()
        {
            foreach (var (_, reader) in _open)
            {
                reader.Dispose();
            }
            _open.Clear();
            _index?.Dispose();
        }
    }
}
