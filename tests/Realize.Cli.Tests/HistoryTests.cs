using System.Security.Cryptography;
using System.Text.Json;
using Realize.Core;
using Realize.Storage;

namespace Realize.Cli.Tests;

/// <summary>
/// <c>realize history</c> over a history written straight into the store's index.db, so
/// every field takes a chosen value. (The mount tests check it against real files.)
/// </summary>
public sealed class HistoryTests : IDisposable
{
    private static readonly ArenaName s_docs = ArenaName.Parse("docs");
    private readonly CliStore _store = new();

    public HistoryTests()
    {
        _store.Run("init").AssertSucceeds();
        _store.Run("arena", "add", "docs").AssertSucceeds();
        _store.Run("arena", "add", "photos").AssertSucceeds();
    }

    public void Dispose() => _store.Dispose();

    private static BlobHash Blob(string seed) => BlobHash.FromBytes(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(seed)));

    private void Commit(string arena, params PendingNotification[] notifications)
    {
        using var index = Store.Open(_store.StoreDir).OpenIndex();
        index.Commit(ArenaName.Parse(arena), notifications, []);
    }

    private static PendingNotification Added(string path) =>
        new(NotificationType.Added, RelPath.Parse(path), Blob(path), path.Length, new FileTime(1_700_000_000, 0), null);

    private static string[] Lines(string output)
    {
        Assert.EndsWith("\n", output, StringComparison.Ordinal);
        return output.TrimEnd('\n').Split('\n');
    }

    [Fact]
    public void HistoryJson_PrintsTheDocumentedLine_ForAnUpdate()
    {
        Commit("docs", Enumerable.Range(1, 6).Select(i => Added($"filler{i}")).ToArray());
        var blob = Blob("new");
        var old = Blob("old");
        long mtimeSeconds = new DateTimeOffset(2026, 11, 24, 5, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds();
        Commit("docs", new PendingNotification(NotificationType.Updated, RelPath.Parse("a/b.txt"), blob, 12, new FileTime(mtimeSeconds, 123_456_789), old));

        string output = _store.Run("history", "docs", "--since", "6", "--json").AssertSucceeds();

        // README.md: {"index":7,"arena":"docs","type":"updated","path":"a/b.txt","blob":"<64 hex>","size":12,"mtime":"2026-11-24T05:00:00.123456789Z","old_blob":"<64 hex>"}
        string expected = "{\"index\":7,\"arena\":\"docs\",\"type\":\"updated\",\"path\":\"a/b.txt\",\"blob\":\"" + blob.Hex +
            "\",\"size\":12,\"mtime\":\"2026-11-24T05:00:00.123456789Z\",\"old_blob\":\"" + old.Hex + "\"}\n";
        Assert.Equal(expected, output);
    }

    [Fact]
    public void HistoryJson_OfAddedAndRemoved_HasTheDocumentedKeysInOrder()
    {
        var blob = Blob("content");
        Commit(
            "docs",
            new PendingNotification(NotificationType.Added, RelPath.Parse("x.txt"), blob, 7, new FileTime(0, 1), null),
            new PendingNotification(NotificationType.Removed, RelPath.Parse("x.txt"), null, null, null, blob));

        string[] lines = Lines(_store.Run("history", "docs", "--json").AssertSucceeds());

        Assert.Equal(2, lines.Length);
        Assert.Equal(
            "{\"index\":1,\"arena\":\"docs\",\"type\":\"added\",\"path\":\"x.txt\",\"blob\":\"" + blob.Hex + "\",\"size\":7,\"mtime\":\"1970-01-01T00:00:00.000000001Z\"}",
            lines[0]);
        Assert.Equal("{\"index\":2,\"arena\":\"docs\",\"type\":\"removed\",\"path\":\"x.txt\",\"old_blob\":\"" + blob.Hex + "\"}", lines[1]);
    }

    [Fact]
    public void HistoryJson_KeepsOneLinePerNotification_ForPathsWithNewlinesQuotesAndUnicode()
    {
        string[] paths = ["line\nbreak.txt", "say \"hi\"\\.txt", "données/日本 😀.txt", "tab\there"];
        Commit("docs", paths.Select(Added).ToArray());

        string[] lines = Lines(_store.Run("history", "docs", "--json").AssertSucceeds());

        Assert.Equal(paths.Length, lines.Length);
        for (int i = 0; i < paths.Length; i++)
        {
            using var json = JsonDocument.Parse(lines[i]);
            Assert.Equal(paths[i], json.RootElement.GetProperty("path").GetString());
            Assert.Equal(i + 1, json.RootElement.GetProperty("index").GetInt64());
            Assert.Equal(Blob(paths[i]).Hex, json.RootElement.GetProperty("blob").GetString());
        }
    }

    [Fact]
    public void History_WithoutArena_ListsEveryArena()
    {
        Commit("docs", Added("d1"), Added("d2"));
        Commit("photos", Added("p1"));

        string[] lines = Lines(_store.Run("history", "--json").AssertSucceeds());

        var seen = lines.Select(l =>
        {
            using var json = JsonDocument.Parse(l);
            return $"{json.RootElement.GetProperty("arena").GetString()}#{json.RootElement.GetProperty("index").GetInt64()} {json.RootElement.GetProperty("path").GetString()}";
        });
        Assert.Equal(["docs#1 d1", "docs#2 d2", "photos#1 p1"], seen.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void History_Since_ListsOnlyLaterIndexesOfThatArena()
    {
        Commit("docs", Added("d1"), Added("d2"), Added("d3"), Added("d4"), Added("d5"));
        Commit("photos", Added("p1"), Added("p2"), Added("p3"), Added("p4"));

        string[] lines = Lines(_store.Run("history", "docs", "--since", "3", "--json").AssertSucceeds());

        Assert.Equal(["d4", "d5"], lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("path").GetString()));
    }

    [Fact]
    public void History_OfAnEmptyArena_PrintsNothing() =>
        Assert.Equal("", _store.Run("history", "docs", "--json").AssertSucceeds());

    [Fact]
    public void History_Text_ShowsArenaIndexTypeAndPath()
    {
        Commit("docs", Added("a.txt"));

        string output = _store.Run("history", "docs").AssertSucceeds();

        string line = Assert.Single(Lines(output));
        Assert.StartsWith("docs", line, StringComparison.Ordinal);
        Assert.Contains("added", line, StringComparison.Ordinal);
        Assert.Contains("a.txt", line, StringComparison.Ordinal);
        Assert.Contains(Blob("a.txt").Hex[..12], line, StringComparison.Ordinal);
    }

    [Fact]
    public void History_SinceWithoutArena_FailsWithOneLine()
    {
        Commit("docs", Added("a"));

        string line = _store.Run("history", "--since", "3").AssertFailsWithOneLine();

        Assert.Contains("--since needs an arena", line, StringComparison.Ordinal);
    }

    [Fact]
    public void History_OfAnUnknownArena_FailsWithOneLine()
    {
        string line = _store.Run("history", "music").AssertFailsWithOneLine();

        Assert.Contains("'music'", line, StringComparison.Ordinal);
        Assert.Contains("arena add", line, StringComparison.Ordinal);
    }

    [Fact]
    public void History_OfAnInvalidArenaName_FailsWithOneLine() =>
        Assert.Contains("not a valid arena name", _store.Run("history", "a/b").AssertFailsWithOneLine(), StringComparison.Ordinal);

    [Fact]
    public void History_WithACorruptIndex_FailsWithOneLine_WithoutAStackTrace()
    {
        File.WriteAllText(Path.Combine(_store.StoreDir, "index.db"), new string('x', 8192));
        foreach (string sidecar in Directory.GetFiles(_store.StoreDir, "index.db-*"))
        {
            File.Delete(sidecar);
        }

        var result = _store.Run("history");

        Assert.NotEqual(0, result.ExitCode);
        result.AssertOneErrorLine();
    }

    [Fact]
    public void DamagedIndex_IsOneLine_AndWithVerbose_AlsoATrace()
    {
        foreach (string file in Directory.GetFiles(_store.StoreDir, "index.db*"))
        {
            File.Delete(file);
        }
        File.WriteAllBytes(Path.Combine(_store.StoreDir, "index.db"), Enumerable.Repeat((byte)'x', 8192).ToArray());
        Assert.Contains("not a database", _store.Run("history").AssertFailsWithOneLine(), StringComparison.Ordinal);
        var verbose = _store.Run("--verbose", "history");
        Assert.Equal(1, verbose.ExitCode);
        Assert.StartsWith("realize: ", verbose.Error, StringComparison.Ordinal);
        Assert.Contains("   at ", verbose.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Scan_WhileAnotherProcessWritesTheIndex_RefusesWithOneLine()
    {
        var store = Storage.Store.Open(_store.StoreDir);
        using (Linux.ProcessLock.TryAcquire(Daemon.Daemon.IndexLockPath(store), out _))
        {
            Assert.Contains("try again", _store.Run("scan").AssertFailsWithOneLine(), StringComparison.Ordinal);
        }
        _store.Run("scan").AssertSucceeds();
    }
}
