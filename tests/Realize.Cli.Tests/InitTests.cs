using Realize.Core;
using Realize.Linux;
using Realize.Storage;

namespace Realize.Cli.Tests;

public sealed class InitTests : IDisposable
{
    private readonly CliStore _store = new();

    public void Dispose() => _store.Dispose();

    /// <summary>Every entry of the store: kind, mode, inode, size, nanosecond mtime and content.</summary>
    private SortedDictionary<string, string> Snapshot()
    {
        var entries = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (string path in Directory.EnumerateFileSystemEntries(_store.StoreDir, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
        {
            var status = Stat.Lstat(path);
            string content = status.Kind == FileKind.Regular ? Convert.ToHexString(File.ReadAllBytes(path)) : "";
            entries[Path.GetRelativePath(_store.StoreDir, path)] = $"{status.Kind} {status.Mode:x} {status.Inode} {status.Size} {status.MTime} {content}";
        }
        return entries;
    }

    [Fact]
    public void Init_PrintsThePeerId_ThatIdPrintsToo()
    {
        string output = _store.Run("init").AssertSucceeds();

        Assert.Matches("^[A-Z2-7]{4}(-[A-Z2-7]{4}){12}\n$", output);
        Assert.Equal(output, _store.Run("id").AssertSucceeds());
        Assert.Equal(Store.Open(_store.StoreDir).LoadPeerId(), PeerId.Parse(output.Trim()));
    }

    [Fact]
    public void Init_CreatesTheStoreLayout()
    {
        _store.Run("init").AssertSucceeds();

        string[] expected = ["index.db", "peer.crt", "peer.key", "real", "realize.toml", "run", "unreal", "work"];
        var names = Directory.GetFileSystemEntries(_store.StoreDir).Select(Path.GetFileName).Where(n => !n!.StartsWith("index.db-", StringComparison.Ordinal));
        Assert.Equal(expected, names.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Init_RecordsLowerAndMount_InTheConfig()
    {
        Directory.CreateDirectory(_store.Lower);

        _store.Run("init", "--lower", _store.Lower, "--mount", _store.View).AssertSucceeds();

        var config = Store.Open(_store.StoreDir).Config;
        Assert.Equal(_store.View, config.Mount);
        Assert.Equal(_store.Lower, config.Lower);
        Assert.Empty(config.Arenas);
    }

    [Fact]
    public void Init_Twice_FailsWithOneLine_AndOverwritesNothing()
    {
        string id = _store.Run("init").AssertSucceeds();
        var before = Snapshot();

        string line = _store.Run("init", "--mount", _store.View).AssertFailsWithOneLine();

        Assert.Contains("already exists", line, StringComparison.Ordinal);
        Assert.Equal(before, Snapshot());
        Assert.Equal(id, _store.Run("id").AssertSucceeds());
    }

    [Fact]
    public void Init_WithAMissingLower_FailsWithOneLine_AndCreatesNothing()
    {
        string line = _store.Run("init", "--lower", _store.Lower, "--mount", _store.View).AssertFailsWithOneLine();

        Assert.Contains(_store.Lower, line, StringComparison.Ordinal);
        Assert.Contains("does not exist", line, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_store.StoreDir));
    }

    [Fact]
    public void Init_InANonEmptyDirectory_FailsWithOneLine()
    {
        Directory.CreateDirectory(_store.StoreDir);
        File.WriteAllText(Path.Combine(_store.StoreDir, "notes.txt"), "mine");

        _store.Run("init").AssertFailsWithOneLine();

        Assert.Equal(["notes.txt"], Directory.GetFileSystemEntries(_store.StoreDir).Select(Path.GetFileName));
    }

    [Fact]
    public void Id_WithoutAStore_FailsWithOneLine_NamingInit()
    {
        string line = _store.Run("id").AssertFailsWithOneLine();

        Assert.Contains("init", line, StringComparison.Ordinal);
        Assert.Contains(_store.StoreDir, line, StringComparison.Ordinal);
    }

    [Fact]
    public void Id_PrintsExactlyThePeerIdLine_ThatInitPrinted()
    {
        string init = _store.Run("init").AssertSucceeds();

        string output = _store.Run("id").AssertSucceeds();

        Assert.Equal(init, output);
        Assert.EndsWith("\n", output, StringComparison.Ordinal);
        string line = Assert.Single(output.TrimEnd('\n').Split('\n'));
        Assert.True(PeerId.TryParse(line, out PeerId id));
        Assert.Equal(id.ToString(), line);
        Assert.Equal(Store.Open(_store.StoreDir).LoadPeerId(), id);
    }

    [Fact]
    public void Init_WithListen_RecordsTheAddress_InTheConfig()
    {
        _store.Run("init", "--listen", "0.0.0.0:7800").AssertSucceeds();

        Assert.Equal("0.0.0.0:7800", Store.Open(_store.StoreDir).Config.Listen);
    }

    [Fact]
    public void Init_WithoutListen_IsBlind()
    {
        _store.Run("init").AssertSucceeds();

        Assert.Null(Store.Open(_store.StoreDir).Config.Listen);
    }

    [Theory]
    [InlineData("0.0.0.0")]
    [InlineData("0.0.0.0:")]
    [InlineData(":7800")]
    [InlineData("0.0.0.0:0")]
    [InlineData("0.0.0.0:70000")]
    [InlineData("0.0.0.0:http")]
    [InlineData("")]
    public void Init_WithABadListen_FailsWithOneLine_AndCreatesNothing(string address)
    {
        string line = _store.Run("init", "--listen", address).AssertFailsWithOneLine();

        Assert.Contains("--listen", line, StringComparison.Ordinal);
        Assert.Contains("HOST:PORT", line, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_store.StoreDir, "realize.toml")));
        Assert.False(Directory.Exists(_store.StoreDir));
    }

    [Fact]
    public void Init_WithABadListen_InAnEmptyDirectory_LeavesItEmpty()
    {
        Directory.CreateDirectory(_store.StoreDir);

        _store.Run("init", "--listen", "nas.local:0").AssertFailsWithOneLine();

        Assert.Empty(Directory.GetFileSystemEntries(_store.StoreDir));
        _store.Run("id").AssertFailsWithOneLine();
    }
}
