using Realize.Core;
using Realize.Linux;
using Realize.Storage;
using Realize.TestSupport;

namespace Realize.Network.Tests;

/// <summary>
/// Two members on loopback for the BLOB tests: <see cref="Holder"/> listens and holds files in
/// arena docs (of its merged view: real/docs/), in a plain arena and in an arena it shares with
/// nobody; <see cref="Asker"/> is blind and fetches with its <see cref="HistoryService.Blobs"/>.
/// </summary>
internal sealed class BlobHousehold : IAsyncDisposable
{
    public static ArenaName Docs => Member.Docs;

    public static ArenaName Plain { get; } = ArenaName.Parse("plain");

    public static ArenaName Private { get; } = ArenaName.Parse("private");

    private BlobHousehold(TempDir dir, HistoryOptions holderOptions, HistoryOptions askerOptions)
    {
        Holder = Member.Listening(dir, "holder");
        Asker = Member.Blind(dir, "asker");
        PlainDir = dir.Combine("plain-dir");
        Directory.CreateDirectory(PlainDir);
        Holder.Store.SaveConfig(Holder.Store.Config with
        {
            Arenas = [new ArenaConfig(Docs), new ArenaConfig(Plain, PlainDir), new ArenaConfig(Private, SharedWith: [])],
            Peers = [Asker.AsPeer()],
        });
        Asker.Configure(Holder);
        Holder.Start(holderOptions);
        Asker.Start(askerOptions);
    }

    public static BlobHousehold Start(TempDir dir, HistoryOptions? holderOptions = null, HistoryOptions? askerOptions = null) =>
        new(dir, holderOptions ?? Member.Fast, askerOptions ?? Member.Fast);

    public Member Holder { get; }

    public Member Asker { get; }

    public string PlainDir { get; }

    public BlobClient Client => Asker.Service.Blobs;

    /// <summary>Where the holder keeps the file of <paramref name="path"/> in <paramref name="arena"/>.</summary>
    public string FileOf(ArenaName arena, string path) =>
        arena == Plain ? Path.Combine(PlainDir, path) : Path.Combine(Holder.Store.RealDir, arena.Value, path);

    /// <summary>Writes a file of the holder and indexes it as its scan would (size, mtime, ctime, inode); returns its blob.</summary>
    public BlobHash AddFile(ArenaName arena, string path, byte[] content)
    {
        string file = FileOf(arena, path);
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        File.WriteAllBytes(file, content);
        var status = Stat.Lstat(file);
        var blob = ContentHasher.HashFile(file);
        using var index = Holder.Store.OpenIndex();
        index.Commit(arena, [], [new RowChange(path, new IndexedFile(blob, status.Size, status.MTime, status.Inode, FileSource.Real, status.CTime))]);
        return blob;
    }

    /// <summary><paramref name="length"/> bytes that differ from seed to seed.</summary>
    public static byte[] Content(int length, int seed)
    {
        byte[] bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    public async ValueTask DisposeAsync()
    {
        await Asker.DisposeAsync();
        await Holder.DisposeAsync();
    }
}
