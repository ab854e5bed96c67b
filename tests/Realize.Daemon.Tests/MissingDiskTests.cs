using Realize.Core;
using Realize.Storage;
using Realize.TestSupport;

namespace Realize.Daemon.Tests;

/// <summary>
/// A plain arena on a real disk (ext4 on a loop device) that is not mounted when the daemon
/// starts, or an empty disk mounted in its place: never a removal, and the arena resumes by
/// itself once its disk is back.
/// </summary>
public sealed class MissingDiskTests : IDisposable
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(30);

    private readonly TempDir _dir = new("missingdisk");
    private readonly LoopDisk _disk;
    private readonly string _photos;
    private readonly Store _store;

    public MissingDiskTests()
    {
        Root.Require();
        _photos = _dir.Combine("photos");
        _disk = new LoopDisk(_dir.Combine("photos.img"));
        _disk.Mount(_photos);
        _store = Store.Create(_dir.Combine("store"), new StoreConfig { Arenas = [PlainArenas.Marked("photos", _photos)] });
        File.WriteAllText(Path.Combine(_photos, "cat.jpg"), "meow");
    }

    [Fact]
    public async Task DiskMissingAtStart_ThenAnEmptyDiskInItsPlace_ThenBack_NeverRemoves_AndResumes()
    {
        using (var first = await InProcessDaemon.StartAsync(_store, new DaemonOptions(), s_deadline))
        {
            await first.StopAsync(s_deadline);
        }
        Assert.Equal(["Added cat.jpg"], Changes());

        _disk.Unmount();
        using (var unmounted = await InProcessDaemon.StartAsync(_store, new DaemonOptions(), s_deadline))
        {
            var photos = (await unmounted.StatusAsync(s_deadline)).Arenas.Single();
            Assert.Equal("unavailable", photos.State);
            Assert.Contains("marker", photos.Problem, StringComparison.Ordinal);
            await unmounted.StopAsync(s_deadline);
        }
        Assert.Equal(["Added cat.jpg"], Changes());

        Shell.Check("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", _photos);
        bool tmpfs = true;
        try
        {
            using var daemon = await InProcessDaemon.StartAsync(_store, new DaemonOptions(), s_deadline);
            Assert.Equal("unavailable", (await daemon.StatusAsync(s_deadline)).Arenas.Single().State);

            // The right disk comes back under the running daemon.
            Shell.Check("umount", _photos);
            tmpfs = false;
            _disk.Mount(_photos);
            await Poll.UntilAsync(async () => (await daemon.StatusAsync(s_deadline)).Arenas.Single().State == "recorded", s_deadline, () => $"photos resumes by itself; log:\n{daemon.Logs}");
            File.WriteAllText(Path.Combine(_photos, "dog.jpg"), "woof");
            await Poll.UntilAsync(() => Changes().Contains("Added dog.jpg"), s_deadline, () => "a new file on the disk is recorded");
            await daemon.StopAsync(s_deadline);
        }
        finally
        {
            if (tmpfs)
            {
                Shell.Run("umount", ["-l", _photos]);
            }
        }
        Assert.Equal(["Added cat.jpg", "Added dog.jpg"], Changes());
    }

    private List<string> Changes() => InProcessDaemon.History(_store).Select(n => $"{n.Type} {n.Path}").ToList();

    public void Dispose()
    {
        _disk.Dispose();
        _dir.Dispose();
    }
}
