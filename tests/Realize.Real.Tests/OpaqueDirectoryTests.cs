using Realize.Linux;
using Realize.TestSupport;

namespace Realize.Real.Tests;

/// <summary>
/// Directories made through the view are opaque (measured: docs/overlay-notes.md); a swap clears
/// the mark where they replaced nothing below, so files other peers add there later show.
/// </summary>
public sealed class OpaqueDirectoryTests
{
    private const string Opaque = "trusted.overlay.opaque";

    [Fact]
    public void DirectoryMadeThroughTheView_ShowsLowerFilesAddedLater_AfterSwap()
    {
        using var store = new SwapStore();
        var view = store.Mount();
        Directory.CreateDirectory(store.InView("docs/new"));
        Assert.Equal("y"u8.ToArray(), Xattr.Get(store.InReal("docs/new"), Opaque));

        var first = view.Swap();
        Directory.CreateDirectory(store.InLower("docs/new"));
        File.WriteAllText(store.InLower("docs/new/theirs"), "from a peer");
        view.Swap();

        Assert.Equal(["docs/new"], first.ClearedOpaque);
        Assert.Null(Xattr.Get(store.InReal("docs/new"), Opaque));
        Assert.Equal("from a peer", File.ReadAllText(store.InView("docs/new/theirs")));
    }

    [Fact]
    public void DirectoryWhoseLowerAppearedSinceTheLastSwap_IsCleared_WhenTheCallerSaysSo()
    {
        using var store = new SwapStore();
        var view = store.Mount();
        Directory.CreateDirectory(store.InView("docs/late"));
        // The peer's directory arrives before any swap: only the caller knows it is the newer one.
        Directory.CreateDirectory(store.InLower("docs/late"));
        File.WriteAllText(store.InLower("docs/late/theirs"), "from a peer");

        var swap = view.Swap(appearedBelow: new HashSet<string>(["docs/late"]));

        Assert.Equal(["docs/late"], swap.ClearedOpaque);
        Assert.Equal("from a peer", File.ReadAllText(store.InView("docs/late/theirs")));
    }

    [Fact]
    public void DirectoryMadeThroughTheView_IsStale_WhenItsLowerAppeared_SoThatASwapClearsIt()
    {
        using var store = new SwapStore();
        var view = store.Mount();
        Directory.CreateDirectory(store.InView("docs/late"));
        Directory.CreateDirectory(store.InLower("docs/late"));
        File.WriteAllText(store.InLower("docs/late/theirs"), "from a peer");
        var appeared = new HashSet<string>(["docs/late", "docs/late/theirs"]);

        // The opaque directory decides its names, but only until the swap that clears it.
        Assert.False(view.IsStale(appeared));
        Assert.True(view.IsStale(appeared, appeared));

        view.Swap(appearedBelow: appeared);

        Assert.False(view.IsStale(appeared, appeared));
        Assert.Equal("from a peer", File.ReadAllText(store.InView("docs/late/theirs")));
    }

    [Fact]
    public void Swap_LooksOnlyAtTheNewDirectoriesItIsGiven_AfterItsFirstWalk()
    {
        using var store = new SwapStore();
        var view = store.Mount();
        Directory.CreateDirectory(store.InView("docs/before"));
        // The first swap walks all of real/, whatever it is told.
        Assert.Equal(["docs/before"], view.Swap(newDirectories: []).ClearedOpaque);
        Directory.CreateDirectory(store.InView("docs/told"));
        Directory.CreateDirectory(store.InView("docs/untold"));
        Directory.CreateDirectory(store.InView("docs/before/inner"));

        var swap = view.Swap(newDirectories: ["docs/told", "docs/before/inner", "docs/removed/meanwhile"]);

        Assert.Equal(["docs/told"], swap.ClearedOpaque);
        Assert.Equal("y"u8.ToArray(), Xattr.Get(store.InReal("docs/untold"), Opaque));
        // Made in a directory with nothing below: overlay does not mark it.
        Assert.Null(Xattr.Get(store.InReal("docs/before/inner"), Opaque));
        Assert.Equal(["docs/untold"], view.Swap().ClearedOpaque);
    }

    [Fact]
    public void DirectoryThatReplacedALowerOne_StaysOpaque()
    {
        using var store = new SwapStore();
        Directory.CreateDirectory(store.InLower("docs/old"));
        File.WriteAllText(store.InLower("docs/old/theirs"), "removed by the user");
        var view = store.Mount();
        Directory.Delete(store.InView("docs/old"), recursive: true);
        Directory.CreateDirectory(store.InView("docs/old"));
        File.WriteAllText(store.InView("docs/old/mine"), "mine");

        var swap = view.Swap();

        Assert.Empty(swap.ClearedOpaque);
        Assert.Equal("y"u8.ToArray(), Xattr.Get(store.InReal("docs/old"), Opaque));
        Assert.Equal(["mine"], Directory.EnumerateFileSystemEntries(store.InView("docs/old")).Select(Path.GetFileName));
    }

    [Fact]
    public void OpaqueDirectoryWithAWhiteoutBelow_StaysOpaque()
    {
        using var store = new SwapStore();
        // An opaque directory that once hid something below: a whiteout (char device 0/0) in a subdirectory.
        Directory.CreateDirectory(store.InReal("docs/made/sub"));
        Xattr.Set(store.InReal("docs/made"), Opaque, "y"u8);
        Shell.Check("mknod", store.InReal("docs/made/sub/gone"), "c", "0", "0");
        Directory.CreateDirectory(store.InReal("docs/plain"));
        Xattr.Set(store.InReal("docs/plain"), Opaque, "y"u8);
        var view = store.Mount();

        var swap = view.Swap();

        Assert.Equal(["docs/plain"], swap.ClearedOpaque);
        Assert.Equal("y"u8.ToArray(), Xattr.Get(store.InReal("docs/made"), Opaque));
    }
}
