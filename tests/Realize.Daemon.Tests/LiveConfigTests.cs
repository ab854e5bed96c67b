using Realize.Core;
using Realize.Storage;
using Realize.TestSupport;

namespace Realize.Daemon.Tests;

/// <summary>Changes of realize.toml apply to the running daemon within a second, without a restart.</summary>
public sealed class LiveConfigTests : IDisposable
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(30);

    private readonly TempDir _dir = new("liveconfig");
    private readonly string _music;
    private readonly Store _store;

    public LiveConfigTests()
    {
        Root.Require();
        _music = _dir.Combine("music");
        _store = Store.Create(_dir.Combine("store"), new StoreConfig { Arenas = [PlainArenas.Marked("music", _music)] });
    }

    [Fact]
    public async Task ArenaAdd_WhileUp_IsScannedAndWatched_WithoutARestart()
    {
        string photos = _dir.Combine("photos");
        Directory.CreateDirectory(photos);
        File.WriteAllText(Path.Combine(photos, "cat.jpg"), "meow");
        using var daemon = await InProcessDaemon.StartAsync(_store, new DaemonOptions(), s_deadline);

        var cli = Shell.Run(RealizeCommand.Dotnet, [RealizeCommand.Dll, "--store", _store.Root, "arena", "add", "photos", "--path", photos]);
        Assert.True(cli.ExitCode == 0, cli.Error);
        await Poll.UntilAsync(() => Paths().Contains("photos/cat.jpg"), s_deadline, () => $"the new arena is scanned; log:\n{daemon.Logs}");
        File.WriteAllText(Path.Combine(photos, "dog.jpg"), "woof");
        await Poll.UntilAsync(() => Paths().Contains("photos/dog.jpg"), s_deadline, () => "the new arena is watched");
        Assert.Contains((await daemon.StatusAsync(s_deadline)).Arenas, a => a.Name == "photos" && a.State == "recorded");
    }

    [Fact]
    public async Task ArenaTakenOutOfTheConfig_WhileUp_IsNoLongerRecorded_AndNothingIsRemoved()
    {
        using var daemon = await InProcessDaemon.StartAsync(_store, new DaemonOptions(), s_deadline);
        File.WriteAllText(Path.Combine(_music, "song.ogg"), "la");
        await Poll.UntilAsync(() => Paths().Contains("music/song.ogg"), s_deadline, () => "song.ogg is recorded");

        _store.SaveConfig(_store.Config with { Arenas = [] });
        await Poll.UntilAsync(async () => (await daemon.StatusAsync(s_deadline)).Arenas.Count == 0, s_deadline, () => $"status drops the arena; log:\n{daemon.Logs}");
        File.WriteAllText(Path.Combine(_music, "later.ogg"), "do");
        File.Delete(Path.Combine(_music, "song.ogg"));
        // A scan asked for now covers whatever the watcher would still have seen.
        await daemon.SendAsync("scan", s_deadline);
        Assert.Equal(["Added music/song.ogg"], InProcessDaemon.History(_store).Select(n => $"{n.Type} {n.Arena}/{n.Path}"));
        Assert.True(File.Exists(Path.Combine(_music, "later.ogg")), "no user file is touched");
    }

    [Fact]
    public async Task InvalidConfig_WhileUp_IsRefusedWithItsLine_AndTheRunningOneStays()
    {
        using var daemon = await InProcessDaemon.StartAsync(_store, new DaemonOptions(), s_deadline);
        string valid = File.ReadAllText(_store.ConfigPath);
        File.WriteAllText(_store.ConfigPath, valid + "\n[arenas.\"bad name!\"]\n");

        await Poll.UntilAsync(async () => (await daemon.StatusAsync(s_deadline)).LastErrors.Any(e => e.Contains("realize.toml", StringComparison.Ordinal)), s_deadline,
            () => $"status shows the refusal; log:\n{daemon.Logs}");
        string error = (await daemon.StatusAsync(s_deadline)).LastErrors.Last(e => e.Contains("realize.toml", StringComparison.Ordinal));
        Assert.Contains("line", error, StringComparison.Ordinal);
        Assert.Contains("the running configuration stays", error, StringComparison.Ordinal);
        File.WriteAllText(Path.Combine(_music, "song.ogg"), "la");
        await Poll.UntilAsync(() => Paths().Contains("music/song.ogg"), s_deadline, () => "music is still recorded");

        // Fixed: applied at once.
        string photos = _dir.Combine("photos");
        var arena = PlainArenas.Marked("photos", photos);
        File.WriteAllText(Path.Combine(photos, "cat.jpg"), "meow");
        _store.SaveConfig(_store.Config with { Arenas = [.. _store.Config.Arenas, arena] });
        await Poll.UntilAsync(() => Paths().Contains("photos/cat.jpg"), s_deadline, () => $"the fixed file applies; log:\n{daemon.Logs}");
    }

    private List<string> Paths() => InProcessDaemon.History(_store).Select(n => $"{n.Arena}/{n.Path}").ToList();

    public void Dispose() => _dir.Dispose();
}
