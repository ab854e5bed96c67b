using Realize.Storage;

namespace Realize.Cli.Tests;

public sealed class ArenaTests : IDisposable
{
    private readonly CliStore _store = new();

    public ArenaTests() => _store.Run("init").AssertSucceeds();

    public void Dispose() => _store.Dispose();

    private byte[] ConfigBytes() => File.ReadAllBytes(Path.Combine(_store.StoreDir, "realize.toml"));

    [Fact]
    public void ArenaAdd_DeclaresTheArena()
    {
        string output = _store.Run("arena", "add", "docs").AssertSucceeds();

        Assert.Single(output.TrimEnd('\n').Split('\n'));
        Assert.Contains("'docs'", output, StringComparison.Ordinal);
        Assert.Equal(["docs"], Store.Open(_store.StoreDir).Config.Arenas.Select(a => a.Name.Value));
    }

    [Fact]
    public void ArenaAdd_KeepsTheOrderOfDeclaration()
    {
        foreach (string name in new[] { "photos", "docs", "a.b-c_D" })
        {
            _store.Run("arena", "add", name).AssertSucceeds();
        }

        Assert.Equal(["photos", "docs", "a.b-c_D"], Store.Open(_store.StoreDir).Config.Arenas.Select(a => a.Name.Value));
    }

    [Theory]
    [InlineData("a/b")]
    [InlineData("..")]
    [InlineData(".")]
    [InlineData("")]
    [InlineData("with space")]
    [InlineData("données")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    public void ArenaAdd_RejectsAnInvalidName_WithOneLine_AndChangesNothing(string name)
    {
        byte[] before = ConfigBytes();

        string line = _store.Run("arena", "add", name).AssertFailsWithOneLine();

        Assert.Contains("not a valid arena name", line, StringComparison.Ordinal);
        Assert.Equal(before, ConfigBytes());
    }

    [Fact]
    public void ArenaAdd_RefusesADuplicate_WithOneLine_AndChangesNothing()
    {
        _store.Run("arena", "add", "docs").AssertSucceeds();
        byte[] before = ConfigBytes();

        string line = _store.Run("arena", "add", "docs").AssertFailsWithOneLine();

        Assert.Contains("already declared", line, StringComparison.Ordinal);
        Assert.Equal(before, ConfigBytes());
    }

    [Fact]
    public void ArenaAdd_WithoutAStore_FailsWithOneLine()
    {
        using var empty = new CliStore();

        empty.Run("arena", "add", "docs").AssertFailsWithOneLine();

        Assert.False(Directory.Exists(empty.StoreDir));
    }

    [Fact]
    public void AddWithPath_DeclaresAPlainArena_WhoseFilesAScanReports()
    {
        string photos = _store.Combine("photos");
        Directory.CreateDirectory(photos);
        File.WriteAllText(Path.Combine(photos, "cat.jpg"), "meow");
        _store.Run("arena", "add", "photos", "--path", photos).AssertSucceeds();
        Assert.Equal(photos, Store.Open(_store.StoreDir).Config.Arenas.Single().PlainPath);
        Assert.Contains("1 added", _store.Run("scan").AssertSucceeds(), StringComparison.Ordinal);
        string line = _store.Run("history", "photos", "--json").AssertSucceeds().Trim();
        Assert.Contains("\"path\":\"cat.jpg\"", line, StringComparison.Ordinal);
    }

    [Fact]
    public void AddWithMissingPath_FailsWithOneLine_AndChangesNothing()
    {
        byte[] before = ConfigBytes();
        Assert.Contains("not a directory", _store.Run("arena", "add", "photos", "--path", _store.Combine("missing")).AssertFailsWithOneLine(), StringComparison.Ordinal);
        Assert.Equal(before, ConfigBytes());
    }

    [Fact]
    public void AddWithPath_ThroughASymlink_SharesTheDirectoryByItsRealName()
    {
        string photos = _store.Combine("photos");
        Directory.CreateDirectory(photos);
        File.CreateSymbolicLink(_store.Combine("link"), photos);

        _store.Run("arena", "add", "photos", "--path", _store.Combine("link")).AssertSucceeds();

        Assert.Equal(photos, Store.Open(_store.StoreDir).Config.Arenas.Single().PlainPath);
    }

    [Fact]
    public void AddWithPath_InsideTheStore_OrOverAnotherArena_FailsWithOneLine_AndChangesNothing()
    {
        string photos = _store.Combine("photos");
        Directory.CreateDirectory(Path.Combine(photos, "holidays"));
        _store.Run("arena", "add", "photos", "--path", photos).AssertSucceeds();
        byte[] before = ConfigBytes();

        Assert.Contains("overlaps", _store.Run("arena", "add", "inside", "--path", Path.Combine(_store.StoreDir, "real")).AssertFailsWithOneLine(), StringComparison.Ordinal);
        Assert.Contains("overlaps", _store.Run("arena", "add", "holidays", "--path", Path.Combine(photos, "holidays")).AssertFailsWithOneLine(), StringComparison.Ordinal);
        Assert.Equal(before, ConfigBytes());
    }

    [Fact]
    public void Scan_OfAPlainArenaWhoseDirectoryIsGone_FailsWithOneLine_AndRecordsNoRemoval()
    {
        string photos = _store.Combine("photos");
        Directory.CreateDirectory(photos);
        File.WriteAllText(Path.Combine(photos, "cat.jpg"), "meow");
        _store.Run("arena", "add", "photos", "--path", photos).AssertSucceeds();
        _store.Run("scan").AssertSucceeds();
        Directory.Move(photos, photos + ".unmounted");

        var scan = _store.Run("scan");

        Assert.Equal(1, scan.ExitCode);
        Assert.Contains("is missing", scan.AssertOneErrorLineBesidesOutput(), StringComparison.Ordinal);
        Assert.Single(_store.Run("history", "photos", "--json").AssertSucceeds().Trim().Split('\n'));
    }

    [Fact]
    public void AddWithPath_WritesTheArenaMarker()
    {
        string photos = _store.Combine("photos");
        Directory.CreateDirectory(photos);

        _store.Run("arena", "add", "photos", "--path", photos).AssertSucceeds();

        Assert.StartsWith("realize arena photos\n", File.ReadAllText(Path.Combine(photos, ".realize-arena")), StringComparison.Ordinal);
    }

    [Fact]
    public void Scan_WithOneArenaWithoutItsMarker_SaysWhyOnStderr_ScansTheOthers_AndFails()
    {
        string photos = _store.Combine("photos");
        string music = _store.Combine("music");
        Directory.CreateDirectory(photos);
        Directory.CreateDirectory(music);
        File.WriteAllText(Path.Combine(photos, "cat.jpg"), "meow");
        _store.Run("arena", "add", "photos", "--path", photos).AssertSucceeds();
        _store.Run("arena", "add", "music", "--path", music).AssertSucceeds();
        File.Delete(Path.Combine(photos, ".realize-arena"));
        File.Delete(Path.Combine(photos, "cat.jpg"));
        File.WriteAllText(Path.Combine(music, "tune.mp3"), "la");

        var scan = _store.Run("scan");

        Assert.Equal(1, scan.ExitCode);
        Assert.Contains("scanned 1 arena, 1 file", scan.Output, StringComparison.Ordinal);
        string line = scan.AssertOneErrorLineBesidesOutput();
        Assert.Contains("'photos'", line, StringComparison.Ordinal);
        Assert.Contains($"touch {Path.Combine(photos, ".realize-arena")}", line, StringComparison.Ordinal);
        Assert.Contains("\"path\":\"tune.mp3\"", _store.Run("history", "music", "--json").AssertSucceeds(), StringComparison.Ordinal);
        Assert.Equal("", _store.Run("history", "photos", "--json").AssertSucceeds());
    }

    [Fact]
    public void ArenaRemove_StopsDeclaringIt_AndKeepsTheOthers()
    {
        _store.Run("arena", "add", "photos").AssertSucceeds();
        _store.Run("arena", "add", "docs").AssertSucceeds();
        _store.Run("arena", "add", "music").AssertSucceeds();

        string output = _store.Run("arena", "remove", "docs").AssertSucceeds();

        Assert.Equal("arena 'docs' removed: it is no longer shared; no file was deleted\n", output);
        Assert.Equal(["photos", "music"], Store.Open(_store.StoreDir).Config.Arenas.Select(a => a.Name.Value));
    }

    [Fact]
    public void ArenaRemove_DeletesNoFile_OfItsDirectoryOrOfReal()
    {
        string photos = _store.Combine("photos");
        Directory.CreateDirectory(Path.Combine(photos, "holidays"));
        File.WriteAllText(Path.Combine(photos, "holidays", "cat.jpg"), "meow");
        _store.Run("arena", "add", "photos", "--path", photos).AssertSucceeds();
        _store.Run("arena", "add", "docs").AssertSucceeds();
        string real = Path.Combine(_store.StoreDir, "real", "docs");
        Directory.CreateDirectory(real);
        File.WriteAllText(Path.Combine(real, "notes.txt"), "kept");
        _store.Run("scan").AssertSucceeds();

        _store.Run("arena", "remove", "photos").AssertSucceeds();
        _store.Run("arena", "remove", "docs").AssertSucceeds();

        Assert.Empty(Store.Open(_store.StoreDir).Config.Arenas);
        Assert.Equal("meow", File.ReadAllText(Path.Combine(photos, "holidays", "cat.jpg")));
        Assert.Equal("kept", File.ReadAllText(Path.Combine(real, "notes.txt")));
    }

    [Fact]
    public void ArenaRemove_ThenAddAgain_ContinuesItsHistory_RecordingOnlyWhatChanged()
    {
        string photos = _store.Combine("photos");
        Directory.CreateDirectory(photos);
        File.WriteAllText(Path.Combine(photos, "cat.jpg"), "meow");
        _store.Run("arena", "add", "photos", "--path", photos).AssertSucceeds();
        _store.Run("scan").AssertSucceeds();

        _store.Run("arena", "remove", "photos").AssertSucceeds();
        File.WriteAllText(Path.Combine(photos, "dog.jpg"), "woof");
        _store.Run("arena", "add", "photos", "--path", photos).AssertSucceeds();
        _store.Run("scan").AssertSucceeds();

        string[] lines = _store.Run("history", "photos", "--json").AssertSucceeds().Trim().Split('\n');
        Assert.Equal(2, lines.Length);
        Assert.Contains("\"index\":1,", lines[0], StringComparison.Ordinal);
        Assert.Contains("\"path\":\"cat.jpg\"", lines[0], StringComparison.Ordinal);
        Assert.Contains("\"index\":2,", lines[1], StringComparison.Ordinal);
        Assert.Contains("\"path\":\"dog.jpg\"", lines[1], StringComparison.Ordinal);
    }

    [Fact]
    public void ArenaRemove_OfAnUnknownName_FailsWithOneLine_NamingTheArenas_AndChangesNothing()
    {
        _store.Run("arena", "add", "photos").AssertSucceeds();
        _store.Run("arena", "add", "docs").AssertSucceeds();
        byte[] before = ConfigBytes();

        string line = _store.Run("arena", "remove", "music").AssertFailsWithOneLine();

        Assert.Contains("no arena 'music'", line, StringComparison.Ordinal);
        Assert.Contains("give one of its arenas: photos, docs", line, StringComparison.Ordinal);
        Assert.Equal(before, ConfigBytes());
    }

    [Theory]
    [InlineData("docs", "no arena 'docs'", "it has no arenas")]
    [InlineData("a/b", "not a valid arena name", "")]
    public void ArenaRemove_WithoutSuchAnArena_FailsWithOneLine(string name, string reason, string more)
    {
        string line = _store.Run("arena", "remove", name).AssertFailsWithOneLine();

        Assert.Contains(reason, line, StringComparison.Ordinal);
        Assert.Contains(more, line, StringComparison.Ordinal);
    }
}
