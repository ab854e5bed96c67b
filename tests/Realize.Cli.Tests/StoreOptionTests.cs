using Realize.TestSupport;

namespace Realize.Cli.Tests;

/// <summary>These tests change this process's environment, so nothing else runs beside them.</summary>
[CollectionDefinition(nameof(ProcessEnvironment), DisableParallelization = true)]
public sealed class ProcessEnvironment
{
}

/// <summary>Which store a command uses: --store, else $REALIZE_STORE, else $XDG_DATA_HOME/realize.</summary>
[Collection(nameof(ProcessEnvironment))]
public sealed class StoreOptionTests : IDisposable
{
    private readonly TempDir _dir = new("cli-env");
    private readonly string? _realizeStore = Environment.GetEnvironmentVariable("REALIZE_STORE");
    private readonly string? _xdgDataHome = Environment.GetEnvironmentVariable("XDG_DATA_HOME");

    public void Dispose()
    {
        Environment.SetEnvironmentVariable("REALIZE_STORE", _realizeStore);
        Environment.SetEnvironmentVariable("XDG_DATA_HOME", _xdgDataHome);
        _dir.Dispose();
    }

    [Fact]
    public void Store_DefaultsToRealizeStore()
    {
        string store = _dir.Combine("from-env");
        Environment.SetEnvironmentVariable("REALIZE_STORE", store);

        string id = CliRun.InProcess("init").AssertSucceeds();

        Assert.True(File.Exists(Path.Combine(store, "realize.toml")));
        Assert.Equal(id, CliRun.InProcess("id").AssertSucceeds());
        Assert.Equal(id, CliRun.InProcess("--store", store, "id").AssertSucceeds());
    }

    [Fact]
    public void StoreOption_OverridesRealizeStore()
    {
        string fromEnvironment = _dir.Combine("from-env");
        string fromOption = _dir.Combine("from-option");
        Environment.SetEnvironmentVariable("REALIZE_STORE", fromEnvironment);

        CliRun.InProcess("--store", fromOption, "init").AssertSucceeds();

        Assert.True(File.Exists(Path.Combine(fromOption, "realize.toml")));
        Assert.False(Directory.Exists(fromEnvironment));
    }

    [Fact]
    public void StoreOption_IsAcceptedAfterTheCommand()
    {
        string store = _dir.Combine("after");
        Environment.SetEnvironmentVariable("REALIZE_STORE", _dir.Combine("unused"));

        CliRun.InProcess("init", "--store", store).AssertSucceeds();

        Assert.True(File.Exists(Path.Combine(store, "realize.toml")));
    }

    [Fact]
    public void Store_WithoutRealizeStore_IsRealizeUnderXdgDataHome()
    {
        Environment.SetEnvironmentVariable("REALIZE_STORE", null);
        Environment.SetEnvironmentVariable("XDG_DATA_HOME", _dir.Combine("data"));

        CliRun.InProcess("init").AssertSucceeds();

        Assert.True(File.Exists(_dir.Combine("data", "realize", "realize.toml")));
    }

    [Fact]
    public void Store_WithAnEmptyRealizeStore_IsRealizeUnderXdgDataHome()
    {
        Environment.SetEnvironmentVariable("REALIZE_STORE", "");
        Environment.SetEnvironmentVariable("XDG_DATA_HOME", _dir.Combine("data"));

        CliRun.InProcess("init").AssertSucceeds();

        Assert.True(File.Exists(_dir.Combine("data", "realize", "realize.toml")));
    }

    [Fact]
    public void Store_DefaultsToRealizeStore_InTheBuiltBinary()
    {
        string store = _dir.Combine("child");

        var init = CliRun.Process(["init"], new Dictionary<string, string?> { ["REALIZE_STORE"] = store });
        var id = CliRun.Process(["--store", store, "id"], new Dictionary<string, string?> { ["REALIZE_STORE"] = null });

        Assert.Equal(id.AssertSucceeds(), init.AssertSucceeds());
        Assert.True(File.Exists(Path.Combine(store, "peer.key")));
    }
}
