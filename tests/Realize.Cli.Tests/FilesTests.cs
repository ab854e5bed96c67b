using System.Text.Json;
using Realize.Core;
using Realize.Storage;

namespace Realize.Cli.Tests;

/// <summary>
/// <c>realize files</c> over rows put straight into the store's unreal/unreal.db with
/// <see cref="UnrealDb.Apply"/>, as the history receiver puts them.
/// </summary>
public sealed class FilesTests : IDisposable
{
    private static readonly PeerId s_nas = PeerId.FromSubjectPublicKeyInfo([1]);
    private static readonly PeerId s_laptop = PeerId.FromSubjectPublicKeyInfo([2]);
    private static readonly FileTime s_mtime = new(new DateTimeOffset(2026, 11, 24, 5, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds(), 123_456_789);
    private readonly CliStore _store = new();

    public FilesTests()
    {
        _store.Run("init").AssertSucceeds();
        _store.Run("arena", "add", "docs").AssertSucceeds();
        _store.Run("arena", "add", "photos").AssertSucceeds();
        _store.Run("peer", "add", "nas", s_nas.ToString()).AssertSucceeds();
        _store.Run("peer", "add", "laptop", s_laptop.ToString()).AssertSucceeds();
    }

    public void Dispose() => _store.Dispose();

    private static BlobHash Blob(string content) => ContentHasher.HashBytes(System.Text.Encoding.UTF8.GetBytes(content));

    private void Apply(PeerId peer, string arena, params Notification[] batch)
    {
        using var unreal = Store.Open(_store.StoreDir).OpenUnreal();
        unreal.Apply(peer, ArenaName.Parse(arena), 1, batch);
    }

    private static Notification Added(long index, string arena, string path, string content = "hello world!") =>
        new(index, ArenaName.Parse(arena), NotificationType.Added, RelPath.Parse(path), Blob(content), content.Length, s_mtime, null);

    private static Notification Updated(long index, string arena, string path, string content, string old) =>
        new(index, ArenaName.Parse(arena), NotificationType.Updated, RelPath.Parse(path), Blob(content), content.Length, s_mtime, Blob(old));

    private static Notification Removed(long index, string arena, string path, string old) =>
        new(index, ArenaName.Parse(arena), NotificationType.Removed, RelPath.Parse(path), null, null, null, Blob(old));

    private static string[] Lines(string output)
    {
        Assert.EndsWith("\n", output, StringComparison.Ordinal);
        return output.TrimEnd('\n').Split('\n');
    }

    /// <summary>"peer arena path" of each JSON line.</summary>
    private static string[] Listed(string output) => Lines(output).Select(line =>
    {
        using var json = JsonDocument.Parse(line);
        var root = json.RootElement;
        return $"{root.GetProperty("peer").GetString()} {root.GetProperty("arena").GetString()} {root.GetProperty("path").GetString()}";
    }).ToArray();

    /// <summary>Files of both peers in both arenas.</summary>
    private void ApplyBothPeers()
    {
        Apply(s_nas, "docs", Added(1, "docs", "n1.txt"), Added(2, "docs", "n2.txt"));
        Apply(s_nas, "photos", Added(1, "photos", "n.jpg"));
        Apply(s_laptop, "docs", Added(1, "docs", "l.txt"));
        Apply(s_laptop, "photos", Added(1, "photos", "l.jpg"));
    }

    [Fact]
    public void FilesJson_PrintsTheDocumentedLine()
    {
        Apply(s_nas, "docs", Added(1, "docs", "a/b.txt", "hello world!"));

        string output = _store.Run("files", "--json").AssertSucceeds();

        string expected = "{\"peer\":\"nas\",\"arena\":\"docs\",\"path\":\"a/b.txt\",\"blob\":\"" + Blob("hello world!").Hex +
            "\",\"size\":12,\"mtime\":\"2026-11-24T05:00:00.123456789Z\"}\n";
        Assert.Equal(expected, output);
        Assert.Matches("\"blob\":\"[0-9a-f]{64}\"", output);
    }

    [Fact]
    public void FilesJson_ListsEveryPeerAndArena_ByPeerArenaAndPath()
    {
        ApplyBothPeers();

        string[] listed = Listed(_store.Run("files", "--json").AssertSucceeds());

        string[] nas = ["nas docs n1.txt", "nas docs n2.txt", "nas photos n.jpg"];
        string[] laptop = ["laptop docs l.txt", "laptop photos l.jpg"];
        Assert.Equal(string.CompareOrdinal(s_nas.ToString(), s_laptop.ToString()) < 0 ? [.. nas, .. laptop] : [.. laptop, .. nas], listed);
    }

    [Fact]
    public void Files_OfAnArena_ListsOnlyThatArena()
    {
        ApplyBothPeers();

        string[] listed = Listed(_store.Run("files", "photos", "--json").AssertSucceeds());

        Assert.Equal(["laptop photos l.jpg", "nas photos n.jpg"], listed.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Files_WithPeer_ListsOnlyThatPeersFiles()
    {
        ApplyBothPeers();

        string[] listed = Listed(_store.Run("files", "--peer", "nas", "--json").AssertSucceeds());

        Assert.Equal(["nas docs n1.txt", "nas docs n2.txt", "nas photos n.jpg"], listed);
    }

    [Fact]
    public void Files_OfAnArena_WithPeer_ListsOnlyThatPeersFilesInIt()
    {
        ApplyBothPeers();

        string[] listed = Listed(_store.Run("files", "docs", "--peer", "laptop", "--json").AssertSucceeds());

        Assert.Equal(["laptop docs l.txt"], listed);
    }

    [Fact]
    public void Files_OfAPeerNoLongerInTheConfig_ShowsItsId()
    {
        Apply(s_nas, "docs", Added(1, "docs", "n.txt"));
        Apply(s_laptop, "docs", Added(1, "docs", "l.txt"));
        var store = Store.Open(_store.StoreDir);
        store.SaveConfig(store.Config with { Peers = store.Config.Peers.Where(p => p.Name != "nas").ToList() });

        string[] listed = Listed(_store.Run("files", "--json").AssertSucceeds());

        Assert.Equal(new[] { $"{s_nas} docs n.txt", "laptop docs l.txt" }.Order(StringComparer.Ordinal), listed.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Files_WithAnUnknownPeer_FailsWithOneLine()
    {
        ApplyBothPeers();

        string line = _store.Run("files", "--peer", "phone").AssertFailsWithOneLine();

        Assert.Contains("no peer 'phone'", line, StringComparison.Ordinal);
        Assert.Contains("peer add", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Files_OfAnUndeclaredArena_FailsWithOneLine()
    {
        string line = _store.Run("files", "music").AssertFailsWithOneLine();

        Assert.Contains("no arena 'music'", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Files_WithAnInvalidArenaName_FailsWithOneLine() =>
        Assert.Contains("not a valid arena name", _store.Run("files", "a/b").AssertFailsWithOneLine(), StringComparison.Ordinal);

    [Fact]
    public void Files_DoesNotListRemovedFiles_AndShowsTheLatestContentOfUpdatedOnes()
    {
        Apply(s_nas, "docs", Added(1, "docs", "gone.txt", "one"), Added(2, "docs", "kept.txt", "two"), Added(3, "docs", "changed.txt", "old"));
        Apply(s_nas, "docs", Removed(4, "docs", "gone.txt", "one"), Updated(5, "docs", "changed.txt", "new content", "old"));

        string output = _store.Run("files", "--json").AssertSucceeds();

        Assert.Equal(["nas docs changed.txt", "nas docs kept.txt"], Listed(output));
        using var changed = JsonDocument.Parse(Lines(output)[0]);
        Assert.Equal(Blob("new content").Hex, changed.RootElement.GetProperty("blob").GetString());
        Assert.Equal(11, changed.RootElement.GetProperty("size").GetInt64());
    }

    [Fact]
    public void Files_WhenEveryFileWasRemoved_PrintsNothing()
    {
        Apply(s_nas, "docs", Added(1, "docs", "a.txt", "one"), Removed(2, "docs", "a.txt", "one"));

        Assert.Equal("", _store.Run("files", "--json").AssertSucceeds());
    }

    [Fact]
    public void Files_WithNothingReceived_PrintsNothing()
    {
        Assert.Equal("", _store.Run("files", "--json").AssertSucceeds());
        Assert.Equal("", _store.Run("files").AssertSucceeds());
    }

    [Fact]
    public void FilesJson_KeepsOneLinePerFile_ForPathsWithNewlinesQuotesAndUnicode()
    {
        string[] paths = ["line\nbreak.txt", "say \"hi\"\\.txt", "données/日本 😀.txt", "tab\there"];
        Apply(s_nas, "docs", paths.Select((p, i) => Added(i + 1, "docs", p, p)).ToArray());

        string[] lines = Lines(_store.Run("files", "--json").AssertSucceeds());

        Assert.Equal(paths.Length, lines.Length);
        var seen = lines.Select(line =>
        {
            using var json = JsonDocument.Parse(line);
            return (Path: json.RootElement.GetProperty("path").GetString()!, Blob: json.RootElement.GetProperty("blob").GetString()!);
        });
        Assert.Equal(paths.Select(p => (Path: p, Blob: Blob(p).Hex)).OrderBy(x => x.Path, StringComparer.Ordinal), seen.OrderBy(x => x.Path, StringComparer.Ordinal));
    }

    [Fact]
    public void Files_Text_ShowsOneLinePerFile_WithPeerArenaPathSizeAndBlob()
    {
        Apply(s_nas, "docs", Added(1, "docs", "line\nbreak.txt", "hello world!"));

        string line = Assert.Single(Lines(_store.Run("files").AssertSucceeds()));

        Assert.Equal($"nas\tdocs\tline\\nbreak.txt\t12 bytes\t{Blob("hello world!").Hex[..12]}", line);
    }
}
