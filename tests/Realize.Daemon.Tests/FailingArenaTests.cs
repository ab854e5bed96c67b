using Realize.Core;
using Realize.Harness;
using Realize.Storage;
using Realize.TestSupport;

namespace Realize.Daemon.Tests;

/// <summary>One arena whose directory fails never stops the daemon or the other arenas.</summary>
public sealed class FailingArenaTests : IDisposable
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(30);

    private readonly TempDir _dir = new("failing");
    private readonly string _photos;
    private readonly string _music;
    private readonly Store _store;

    public FailingArenaTests()
    {
        Root.Require();
        _photos = _dir.Combine("photos");
        _music = _dir.Combine("music");
        _store = Store.Create(_dir.Combine("store"), new StoreConfig
        {
            Arenas = [PlainArenas.Marked("photos", _photos), PlainArenas.Marked("music", _music)],
        });
        File.WriteAllText(Path.Combine(_photos, "cat.jpg"), "meow");
        File.WriteAllText(Path.Combine(_music, "song.ogg"), "la");
    }

    private static DaemonOptions Options => new() { ArenaRetryMin = TimeSpan.FromMilliseconds(100), ArenaRetryMax = TimeSpan.FromMilliseconds(400) };

    [Fact]
    public async Task ArenaDirectoryRemoved_UnderTheDaemon_OtherArenaKeepsRecording_AndItResumesWhenBack()
    {
        using var daemon = await InProcessDaemon.StartAsync(_store, Options, s_deadline);
        await Poll.UntilAsync(() => Paths().Count == 2, s_deadline, () => $"the catch-up scan records both files: {string.Join(", ", Paths())}");

        Directory.Move(_photos, _photos + ".away");
        await Poll.UntilAsync(async () => ArenaOf(await daemon.StatusAsync(s_deadline), "photos").Problem is not null, s_deadline, () => $"status says photos is not recorded; log:\n{daemon.Logs}");
        File.WriteAllText(Path.Combine(_music, "new.ogg"), "do re mi");
        await Poll.UntilAsync(() => Paths().Contains("music/new.ogg"), s_deadline, () => "music/new.ogg is recorded while photos fails");
        Assert.Equal("recorded", ArenaOf(await daemon.StatusAsync(s_deadline), "music").State);

        Directory.Move(_photos + ".away", _photos);
        File.WriteAllText(Path.Combine(_photos, "dog.jpg"), "woof");
        await Poll.UntilAsync(() => Paths().Contains("photos/dog.jpg"), s_deadline, () => $"photos resumes by itself once back; log:\n{daemon.Logs}");
        await Poll.UntilAsync(async () => ArenaOf(await daemon.StatusAsync(s_deadline), "photos").State == "recorded", s_deadline, () => "status shows photos recorded again");
        File.WriteAllText(Path.Combine(_photos, "bird.jpg"), "tweet");
        await Poll.UntilAsync(() => Paths().Contains("photos/bird.jpg"), s_deadline, () => "photos is watched again, not only rescanned");

        await daemon.StopAsync(s_deadline);
        Assert.DoesNotContain(InProcessDaemon.History(_store), n => n.Type == NotificationType.Removed);
    }

    [Fact]
    public async Task DaemonStartedWithAMissingArenaDirectory_RunsAndRecordsTheOthers()
    {
        Directory.Delete(_photos, recursive: true);
        using var daemon = await InProcessDaemon.StartAsync(_store, Options, s_deadline);

        var photos = ArenaOf(await daemon.StatusAsync(s_deadline), "photos");
        Assert.NotEqual("recorded", photos.State);
        Assert.Contains(_photos, photos.Problem, StringComparison.Ordinal);
        Assert.NotNull(photos.NextTry);
        File.WriteAllText(Path.Combine(_music, "new.ogg"), "do re mi");
        await Poll.UntilAsync(() => Paths().Contains("music/new.ogg"), s_deadline, () => "music is recorded");
        await daemon.StopAsync(s_deadline);
        Assert.Equal(["music/new.ogg", "music/song.ogg"], Paths().Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task UnreadableSubdirectory_FailsItsArenaAlone_UntilReadableAgain()
    {
        // Root reads everything: the daemon runs without the capabilities that bypass file modes.
        string album = Path.Combine(_photos, "album");
        Directory.CreateDirectory(album);
        File.WriteAllText(Path.Combine(album, "a.jpg"), "a");
        using var daemon = DaemonProcess.Start(RealizeCommand.Executable, _store, [], ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--inh-caps=-dac_override,-dac_read_search", "--"]);
        await daemon.WaitUntilAnsweringAsync(s_deadline);
        await Poll.UntilAsync(() => Paths().Count == 3, s_deadline, () => $"the catch-up scan records all three; log:\n{daemon.Log}");

        File.SetUnixFileMode(album, UnixFileMode.None);
        try
        {
            var answer = await daemon.SendAsync("scan", s_deadline);
            Assert.Contains("arena 'photos' is not recorded", answer.Summary ?? answer.Error, StringComparison.Ordinal);
            File.WriteAllText(Path.Combine(_music, "new.ogg"), "do re mi");
            await Poll.UntilAsync(() => Paths().Contains("music/new.ogg"), s_deadline, () => $"music is recorded while photos fails; log:\n{daemon.Log}");
        }
        finally
        {
            File.SetUnixFileMode(album, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        File.WriteAllText(Path.Combine(album, "b.jpg"), "b");
        await Poll.UntilAsync(() => Paths().Contains("photos/album/b.jpg"), s_deadline, () => $"photos resumes once readable; log:\n{daemon.Log}");
        Assert.Equal(0, daemon.Stop(s_deadline));
        Assert.DoesNotContain(InProcessDaemon.History(_store), n => n.Type == NotificationType.Removed);
    }

    [Fact]
    public async Task UnreadableSubdirectoryAtStart_LeavesNothingWaiting_AndTheDaemonStops()
    {
        string album = Path.Combine(_photos, "album");
        Directory.CreateDirectory(album);
        File.SetUnixFileMode(album, UnixFileMode.None);
        try
        {
            using var daemon = DaemonProcess.Start(RealizeCommand.Executable, _store, [], ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--inh-caps=-dac_override,-dac_read_search", "--"]);
            await daemon.WaitUntilAnsweringAsync(s_deadline);
            var status = (await daemon.SendAsync("status", s_deadline)).Status!;
            Assert.Equal("failing", ArenaOf(status, "photos").State);
            // Past the rescan of unwatched directories (every 10 s), which once queued the
            // failing arena's directory for ever: the loop spun and never stopped.
            await Poll.UntilAsync(async () => DateTimeOffset.UtcNow - (await daemon.SendAsync("status", s_deadline)).Status!.Since > TimeSpan.FromSeconds(12), s_deadline, () => "twelve seconds of the daemon");
            status = (await daemon.SendAsync("status", s_deadline)).Status!;
            Assert.Equal(0, status.Waiting);
            Assert.Equal("failing", ArenaOf(status, "photos").State);
            Assert.Equal(0, daemon.Stop(s_deadline));
        }
        finally
        {
            File.SetUnixFileMode(album, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        Assert.DoesNotContain(InProcessDaemon.History(_store), n => n.Type == NotificationType.Removed);
    }

    private static ArenaStatus ArenaOf(DaemonStatus status, string name) => status.Arenas.Single(a => a.Name == name);

    private List<string> Paths() => InProcessDaemon.History(_store).Select(n => $"{n.Arena}/{n.Path}").ToList();

    public void Dispose() => _dir.Dispose();
}
