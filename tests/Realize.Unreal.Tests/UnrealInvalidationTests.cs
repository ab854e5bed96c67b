using Realize.Core;
using Realize.Linux;

namespace Realize.Unreal.Tests;

/// <summary>
/// What a later batch of history changes shows through the mount at once, although the kernel
/// keeps names and attributes for 24 h: the view's changes invalidate them, as UnrealService wires it.
/// </summary>
public sealed class UnrealInvalidationTests
{
    [Fact]
    public async Task AChangedFile_ShowsItsNewSizeMTimeAndContent_AtOnce()
    {
        await using var unreal = await MountedUnreal.StartAsync();
        unreal.Fetcher.AddPeer("nas");
        unreal.Add("dir/f.txt", "first version"u8.ToArray(), new FileTime(1_700_000_000, 0));
        Assert.Equal("first version", File.ReadAllText(unreal.PathOf("dir/f.txt")));
        ulong inode = Stat.Lstat(unreal.PathOf("dir/f.txt")).Inode;
        await unreal.WaitReleasedAsync();

        unreal.Update("dir/f.txt", "the second, longer version"u8.ToArray(), new FileTime(1_700_000_100, 5));
        var status = Stat.Lstat(unreal.PathOf("dir/f.txt"));

        Assert.Equal((inode, 26L, new FileTime(1_700_000_100, 5)), (status.Inode, status.Size, status.MTime));
        Assert.Equal("the second, longer version", File.ReadAllText(unreal.PathOf("dir/f.txt")));
    }

    [Fact]
    public async Task AnAddedFile_Shows_AlsoWhenItsNameWasLookedUpBefore()
    {
        await using var unreal = await MountedUnreal.StartAsync();
        unreal.Fetcher.AddPeer("nas");
        unreal.Add("dir/old.txt", "old"u8.ToArray());
        Assert.Null(Stat.TryLstat(unreal.PathOf("dir/new.txt")));
        Assert.Null(Stat.TryLstat(unreal.PathOf("later/deep/x.txt")));
        Assert.Null(Stat.TryLstat(unreal.PathOf("later")));
        Assert.Equal(["old.txt"], Directory.GetFileSystemEntries(unreal.PathOf("dir")).Select(Path.GetFileName));

        unreal.Add("dir/new.txt", "new"u8.ToArray());
        unreal.Add("later/deep/x.txt", "deep"u8.ToArray());

        Assert.Equal("new", File.ReadAllText(unreal.PathOf("dir/new.txt")));
        Assert.Equal("deep", File.ReadAllText(unreal.PathOf("later/deep/x.txt")));
        Assert.Equal(["new.txt", "old.txt"], Directory.GetFileSystemEntries(unreal.PathOf("dir")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task ANameNeverLookedUp_ShowsInTheListing_OfADirectoryListedBefore()
    {
        await using var unreal = await MountedUnreal.StartAsync();
        unreal.Fetcher.AddPeer("nas");
        unreal.Add("dir/old.txt", "old"u8.ToArray());
        // The kernel keeps this listing (FOPEN_CACHE_DIR); no lookup of the new name comes before.
        Assert.Equal(["old.txt"], Directory.GetFileSystemEntries(unreal.PathOf("dir")).Select(Path.GetFileName));
        Assert.Equal(["old.txt"], Directory.GetFileSystemEntries(unreal.PathOf("dir")).Select(Path.GetFileName));

        unreal.Add("dir/new.txt", "new"u8.ToArray());

        Assert.Equal(["new.txt", "old.txt"], Directory.GetFileSystemEntries(unreal.PathOf("dir")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task AHandleOpenedBeforeAChange_ListsItAfterARewind_AndLeavesNoStaleListingToOthers()
    {
        await using var unreal = await MountedUnreal.StartAsync();
        unreal.Fetcher.AddPeer("nas");
        unreal.Add("dir/old.txt", "old"u8.ToArray());
        using var directory = DirectoryHandle.Open(unreal.PathOf("dir"));
        Assert.Equal(["old.txt"], directory.ReadAll().Select(e => System.Text.Encoding.UTF8.GetString(e.Name)));

        unreal.Add("dir/new.txt", "new"u8.ToArray());
        // As rewinddir: the old handle reads from offset 0 again, and the kernel caches the answer.
        Assert.Equal(0, Native.Rewind(directory));

        Assert.Equal(["new.txt", "old.txt"], directory.ReadAll().Select(e => System.Text.Encoding.UTF8.GetString(e.Name)).Order(StringComparer.Ordinal));
        Assert.Equal(["new.txt", "old.txt"], Directory.GetFileSystemEntries(unreal.PathOf("dir")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task ARemovedFile_AnswersEnoent_AtOnce_AndItsEmptyDirectoryGoesWithIt()
    {
        await using var unreal = await MountedUnreal.StartAsync();
        unreal.Fetcher.AddPeer("nas");
        unreal.Add("dir/stays.txt", "stays"u8.ToArray());
        unreal.Add("dir/goes.txt", "goes"u8.ToArray());
        unreal.Add("alone/only.txt", "only"u8.ToArray());
        Assert.Equal("goes", File.ReadAllText(unreal.PathOf("dir/goes.txt")));
        Assert.Equal("only", File.ReadAllText(unreal.PathOf("alone/only.txt")));
        // Listed before: the kernel keeps listings (FOPEN_CACHE_DIR), which must not outlive the names.
        Assert.Equal(["goes.txt", "stays.txt"], Directory.GetFileSystemEntries(unreal.PathOf("dir")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(["alone", "dir"], Directory.GetFileSystemEntries(unreal.PathOf("")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        await unreal.WaitReleasedAsync();

        unreal.Remove("dir/goes.txt");
        unreal.Remove("alone/only.txt");

        Assert.Equal(Errno.ENOENT, Native.OpenErrno(unreal.PathOf("dir/goes.txt"), Native.O_RDONLY));
        Assert.Null(Stat.TryLstat(unreal.PathOf("alone/only.txt")));
        Assert.Null(Stat.TryLstat(unreal.PathOf("alone")));
        Assert.Equal(["stays.txt"], Directory.GetFileSystemEntries(unreal.PathOf("dir")).Select(Path.GetFileName));
        Assert.Equal(["dir"], Directory.GetFileSystemEntries(unreal.PathOf("")).Select(Path.GetFileName));
    }
}
