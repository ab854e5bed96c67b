using Microsoft.Extensions.Logging.Abstractions;
using Realize.Core;
using Realize.Linux;
using Realize.Storage;
using Realize.TestSupport;

namespace Realize.Real.Tests;

/// <summary>
/// The marker of a plain-directory arena: without it (its disk not mounted, an empty disk in its
/// place) the arena is not scanned and nothing is reported removed; with it back, scanning resumes.
/// </summary>
public sealed class ArenaMarkerTests : IDisposable
{
    private static readonly ArenaName s_photos = ArenaName.Parse("photos");

    private readonly TempDir _dir = new("marker");
    private readonly string _photos;
    private readonly Store _store;
    private readonly IndexDb _index;
    private readonly StoreScan _scan;

    public ArenaMarkerTests()
    {
        _photos = _dir.Combine("photos");
        Directory.CreateDirectory(_photos);
        _store = Store.Create(_dir.Combine("store"), new StoreConfig { Arenas = [new ArenaConfig(s_photos, _photos)] });
        _index = _store.OpenIndex();
        _scan = new StoreScan(_store, _index, NullLogger.Instance);
    }

    private string Photos(string relative) => Path.Combine(_photos, relative);

    private string Marker => Photos(ArenaMarker.FileName);

    private List<string> History() => _index.ReadHistory(null).Select(n => $"{n.Type} {n.Path}").ToList();

    /// <summary>Scans; returns why photos was not scanned, or null when it was.</summary>
    private string? ScanPhotos()
    {
        _scan.ScanAll();
        return _scan.Failed.TryGetValue(s_photos, out var why) ? why.Message : null;
    }

    [Fact]
    public void DiskUnmounted_ThenAnEmptyDiskInItsPlace_RecordsNoRemoval_AndTheDiskMountedBack_Resumes()
    {
        using var disk = new LoopDisk(_dir.Combine("photos.img"));
        disk.Mount(_photos);
        ArenaMarker.Write(_photos, s_photos);
        File.WriteAllText(Photos("cat.jpg"), "meow");
        File.WriteAllText(Photos("dog.jpg"), "woof");
        Assert.Null(ScanPhotos());

        disk.Unmount();
        string? why = ScanPhotos();
        Assert.NotNull(why);
        Assert.Contains("has no .realize-arena marker", why, StringComparison.Ordinal);
        Assert.Contains($"touch {Marker}", why, StringComparison.Ordinal);
        Assert.IsType<ArenaUnavailableException>(_scan.Failed[s_photos]);
        Assert.Equal(["Added cat.jpg", "Added dog.jpg"], History());

        using (var empty = new ScratchMount(_photos, "tmpfs"))
        {
            Assert.NotNull(ScanPhotos());
            Assert.False(File.Exists(Marker), "the marker was written onto an empty disk");
        }
        Assert.Equal(["Added cat.jpg", "Added dog.jpg"], History());

        // Meanwhile, elsewhere: one photo edited, one deleted.
        string elsewhere = _dir.Combine("elsewhere");
        disk.Mount(elsewhere);
        File.WriteAllText(Path.Combine(elsewhere, "cat.jpg"), "meow meow");
        File.Delete(Path.Combine(elsewhere, "dog.jpg"));
        disk.Unmount();
        disk.Mount(_photos);

        Assert.Null(ScanPhotos());
        Assert.Equal(["Added cat.jpg", "Added dog.jpg", "Updated cat.jpg", "Removed dog.jpg"], History());
    }

    [Fact]
    public void ArenaMadeBeforeMarkers_GetsItsMarker_WhenItsFilesAreThere_AndNothingIsRecorded()
    {
        ArenaMarker.Write(_photos, s_photos);
        File.WriteAllText(Photos("cat.jpg"), "meow");
        Assert.Null(ScanPhotos());
        File.Delete(Marker);

        Assert.Null(ScanPhotos());

        Assert.StartsWith("realize arena photos\n", File.ReadAllText(Marker), StringComparison.Ordinal);
        Assert.Equal(["Added cat.jpg"], History());
    }

    [Theory]
    [InlineData("empty")]
    [InlineData("other files")]
    [InlineData("same name, other size")]
    public void ArenaMadeBeforeMarkers_GetsNoMarker_WhenNoFileOfTheIndexIsThere_AndRecordsNothing(string content)
    {
        ArenaMarker.Write(_photos, s_photos);
        File.WriteAllText(Photos("cat.jpg"), "meow");
        Assert.Null(ScanPhotos());
        File.Delete(Marker);
        File.Delete(Photos("cat.jpg"));
        switch (content)
        {
            case "other files":
                File.WriteAllText(Photos("bird.jpg"), "tweet");
                break;
            case "same name, other size":
                File.WriteAllText(Photos("cat.jpg"), "a lion");
                break;
        }

        Assert.NotNull(ScanPhotos());

        Assert.False(File.Exists(Marker));
        Assert.Equal(["Added cat.jpg"], History());
    }

    [Fact]
    public void NewArenaWithoutMarker_IsNotScanned_UntilTheMarkerIsCreated_EvenEmpty()
    {
        File.WriteAllText(Photos("cat.jpg"), "meow");

        Assert.NotNull(ScanPhotos());
        Assert.Empty(History());

        File.WriteAllBytes(Marker, []);
        Assert.Null(ScanPhotos());
        Assert.Equal(["Added cat.jpg"], History());
    }

    [Fact]
    public void MarkerOfAnotherArena_MakesTheArenaUnavailable()
    {
        ArenaMarker.Write(_photos, ArenaName.Parse("music"));
        File.WriteAllText(Photos("tune.mp3"), "la");

        string? why = ScanPhotos();

        Assert.NotNull(why);
        Assert.Contains("the marker of arena 'music'", why, StringComparison.Ordinal);
        Assert.Empty(History());
    }

    [Fact]
    public void MissingDirectory_IsUnavailable()
    {
        Directory.Delete(_photos);

        string? why = ScanPhotos();

        Assert.NotNull(why);
        Assert.Contains("is missing", why, StringComparison.Ordinal);
    }

    [Fact]
    public void Marker_IsNeverInTheHistory_NorCounted_AlsoWhenScannedByName()
    {
        ArenaMarker.Write(_photos, s_photos);
        File.WriteAllText(Photos("cat.jpg"), "meow");
        var first = _scan.ScanAll();
        Assert.Equal(1, first.Files);

        ArenaMarker.Write(_photos, s_photos);
        _scan.Scan([new ScanScope(s_photos, [ArenaMarker.FileName])]);
        Assert.Empty(_scan.Failed);
        _scan.ScanAll();

        Assert.Equal(["Added cat.jpg"], History());
        Assert.Null(_index.LoadFiles(s_photos).GetValueOrDefault(ArenaMarker.FileName));
    }

    public void Dispose()
    {
        _index.Dispose();
        if (Mounts.FindMount(_photos) is not null)
        {
            Mounts.Unmount(_photos, detach: true);
        }
        _dir.Dispose();
    }
}
