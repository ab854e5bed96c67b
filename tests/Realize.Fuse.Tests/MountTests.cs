using System.Security.Cryptography;
using Realize.Linux;
using Realize.TestSupport;

namespace Realize.Fuse.Tests;

/// <summary>Real mounts of <see cref="MemoryFileSystem"/>, used through the kernel like any file system.</summary>
[Collection("fuse mounts")]
public sealed class MountTests
{
    private static readonly FuseSessionOptions ReadOnly = new() { ReadOnly = true };

    [Fact]
    public void Mount_ListsStatsAndReadsFiles()
    {
        var fileSystem = new MemoryFileSystem();
        ulong docs = fileSystem.AddDirectory(1, "docs");
        fileSystem.AddFile(docs, "hello.txt", "hello, fuse\n"u8.ToArray());
        fileSystem.AddFile(1, "empty", []);
        using var mounted = MountedFuse.Start(fileSystem, ReadOnly);

        var top = Directory.GetFileSystemEntries(mounted.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal);
        var info = new FileInfo(mounted.Combine("docs", "hello.txt"));
        string cat = Shell.Check("cat", mounted.Combine("docs", "hello.txt"));
        string ls = Shell.Check("ls", "-l", mounted.Combine("docs"));

        Assert.Equal(["docs", "empty"], top);
        Assert.True(Directory.Exists(mounted.Combine("docs")));
        Assert.Equal(12, info.Length);
        Assert.Equal(new DateTime(2024, 5, 6, 7, 8, 9, DateTimeKind.Utc), info.LastWriteTimeUtc);
        Assert.Equal("hello, fuse\n", cat);
        Assert.Contains("hello.txt", ls, StringComparison.Ordinal);
        Assert.Equal("fuse.realize-test", Mounts.FindMount(mounted.Path));
        Assert.False(File.Exists(mounted.Combine("missing")));
        Assert.Equal(0, new FileInfo(mounted.Combine("empty")).Length);
    }

    [Fact]
    public void Session_RefusesWrites_WhenReadOnly_OnAWritableMount()
    {
        var fileSystem = new MemoryFileSystem();
        fileSystem.AddFile(1, "f", "x"u8.ToArray());
        using var mounted = MountedFuse.Start(fileSystem, ReadOnly, writableMount: true);

        var write = Assert.ThrowsAny<IOException>(() => File.WriteAllText(mounted.Combine("f"), "y"));
        var create = Assert.ThrowsAny<IOException>(() => File.WriteAllText(mounted.Combine("new"), "y"));
        var mkdir = Assert.ThrowsAny<IOException>(() => Directory.CreateDirectory(mounted.Combine("dir")));

        Assert.Contains("Read-only", write.Message + create.Message + mkdir.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("x", File.ReadAllText(mounted.Combine("f")));
    }

    [Fact]
    public void Mount_ReadsLargeFileInBigChunks_ExactBytes()
    {
        var fileSystem = new MemoryFileSystem();
        byte[] content = RandomNumberGenerator.GetBytes(8 * 1024 * 1024 + 123);
        fileSystem.AddFile(1, "big", content);
        using var mounted = MountedFuse.Start(fileSystem, ReadOnly);

        byte[] read = File.ReadAllBytes(mounted.Combine("big"));

        Assert.Equal(SHA256.HashData(content), SHA256.HashData(read));
        // Readahead-sized requests (128 KiB by default), far fewer READs than 4 KiB pages.
        Assert.InRange(fileSystem.Reads, 1, content.Length / (64 * 1024));
    }

    [Fact]
    public async Task SetReadahead_MakesBufferedReadsOneMebibyte()
    {
        var fileSystem = new MemoryFileSystem();
        byte[] content = RandomNumberGenerator.GetBytes(64 * 1024 * 1024);
        fileSystem.AddFile(1, "big", content);
        using var mounted = MountedFuse.Start(fileSystem, ReadOnly);
        await mounted.Session.Initialized.WaitAsync(TimeSpan.FromSeconds(20));

        mounted.Mount.SetReadahead(1024 * 1024);
        byte[] read = File.ReadAllBytes(mounted.Combine("big"));

        Assert.Equal(SHA256.HashData(content), SHA256.HashData(read));
        // With the 128 KiB default this file takes 512 READs; the window grows to 1 MiB.
        Assert.InRange(fileSystem.Reads, 1, 128);
    }

    [Fact]
    public async Task ConcurrentReaders_GetExactBytes_FromAsyncHandlers()
    {
        var fileSystem = new MemoryFileSystem { AsyncReads = true };
        var contents = Enumerable.Range(0, 6).Select(i => RandomNumberGenerator.GetBytes((i + 1) * 1024 * 1024 + i)).ToList();
        for (int i = 0; i < contents.Count; i++)
        {
            fileSystem.AddFile(1, $"f{i}", contents[i]);
        }
        using var mounted = MountedFuse.Start(fileSystem, ReadOnly);

        // Readers on threads of their own: pool threads blocked in the kernel would starve the handlers' continuations.
        var reads = Enumerable.Range(0, 24)
            .Select(n => Task.Factory.StartNew(() => (n % contents.Count, File.ReadAllBytes(mounted.Combine($"f{n % contents.Count}"))), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default))
            .ToList();
        var results = await Task.WhenAll(reads).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.All(results, r => Assert.Equal(SHA256.HashData(contents[r.Item1]), SHA256.HashData(r.Item2)));
    }

    [Fact]
    public async Task KilledCaller_InterruptsItsLookup_WhichSeesItsTokenFire()
    {
        var fileSystem = new MemoryFileSystem { HangingName = "slow" };
        using var mounted = MountedFuse.Start(fileSystem, ReadOnly);
        using var stat = System.Diagnostics.Process.Start("stat", mounted.Combine("slow"));
        try
        {
            await fileSystem.HangStarted.Task.WaitAsync(TimeSpan.FromSeconds(20));

            stat.Kill();
            await fileSystem.HangCancelled.Task.WaitAsync(TimeSpan.FromSeconds(20));
            await stat.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(20));
        }
        finally
        {
            if (!stat.HasExited)
            {
                stat.Kill();
            }
        }

        Assert.True(fileSystem.HangCancelled.Task.IsCompleted);
        Assert.False(File.Exists(mounted.Combine("missing")), "the session still serves after the interrupt");
    }

    [Fact]
    public async Task RunAsync_EndsWhenCancelled_LeavingTheMountToItsOwner()
    {
        Root.Require();
        using var dir = new TempDir("fuse-cancel");
        string target = dir.Combine("mnt");
        Directory.CreateDirectory(target);
        using var mount = FuseMount.Mount(target, new FuseMountOptions { Subtype = "realize-test", ReadOnly = true });
        var fileSystem = new MemoryFileSystem();
        fileSystem.AddFile(1, "f", "x"u8.ToArray());
        var session = new FuseSession(mount.Device, fileSystem, ReadOnly);
        using var stop = new CancellationTokenSource();
        var serving = session.RunAsync(stop.Token);
        Assert.Equal("x", File.ReadAllText(Path.Combine(target, "f")));

        await stop.CancelAsync();
        await serving.WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal("fuse.realize-test", Mounts.FindMount(target));
    }

    [Fact]
    public void ReadDirPlus_ListsManyEntries_WithoutLookups()
    {
        var fileSystem = new MemoryFileSystem();
        ulong dir = fileSystem.AddDirectory(1, "many");
        var names = Enumerable.Range(0, 20_000).Select(i => $"entry-{i:D5}.dat").ToList();
        foreach (string name in names)
        {
            fileSystem.AddFile(dir, name, new byte[name.Length]);
        }
        using var mounted = MountedFuse.Start(fileSystem, ReadOnly);
        _ = Directory.Exists(mounted.Combine("many"));
        int lookupsBefore = fileSystem.Lookups;

        var listed = Directory.GetFiles(mounted.Combine("many")).Select(Path.GetFileName).ToList();
        long total = listed.Sum(name => new FileInfo(mounted.Combine("many", name!)).Length);

        Assert.Equal(names, listed.Order(StringComparer.Ordinal));
        Assert.Equal(names.Sum(n => n.Length), total);
        // Each entry came with its attributes: stat needed no LOOKUP (but for the few dentries a
        // loaded machine's memory reclaim may drop between the listing and the stat).
        Assert.True(fileSystem.Lookups - lookupsBefore < names.Count / 100, $"{fileSystem.Lookups - lookupsBefore} LOOKUPs for {names.Count} entries listed");
        Assert.True(fileSystem.ReadDirPlusCalls > 1, $"{fileSystem.ReadDirPlusCalls} READDIRPLUS calls");
    }

    [Fact]
    public void InvalidateInode_MakesANewSizeVisibleAtOnce_DespiteLongTimeouts()
    {
        var fileSystem = new MemoryFileSystem { Timeout = TimeSpan.FromHours(1) };
        ulong id = fileSystem.AddFile(1, "grows", "12345"u8.ToArray());
        using var mounted = MountedFuse.Start(fileSystem, ReadOnly);
        Assert.Equal("12345", File.ReadAllText(mounted.Combine("grows")));

        fileSystem.SetContent(id, "1234567890"u8.ToArray());
        long cached = new FileInfo(mounted.Combine("grows")).Length;
        bool invalidated = mounted.Session.InvalidateInode(id);
        long after = new FileInfo(mounted.Combine("grows")).Length;

        Assert.Equal(5, cached);
        Assert.True(invalidated);
        Assert.Equal(10, after);
        Assert.Equal("1234567890", File.ReadAllText(mounted.Combine("grows")));
    }

    [Fact]
    public void InvalidateEntry_MakesANameLookedUpAgain_DespiteLongTimeouts()
    {
        var fileSystem = new MemoryFileSystem { Timeout = TimeSpan.FromHours(1) };
        fileSystem.AddFile(1, "name", "old"u8.ToArray());
        using var mounted = MountedFuse.Start(fileSystem, ReadOnly);
        Assert.Equal(3, new FileInfo(mounted.Combine("name")).Length);

        fileSystem.Replace(1, "name", "newer"u8.ToArray());
        long cached = new FileInfo(mounted.Combine("name")).Length;
        bool invalidated = mounted.Session.InvalidateEntry(1, "name");
        long after = new FileInfo(mounted.Combine("name")).Length;

        Assert.Equal(3, cached);
        Assert.True(invalidated);
        Assert.Equal(5, after);
    }

    [Fact]
    public void InvalidateInode_SaysFalse_ForAnInodeTheKernelNeverSaw()
    {
        var fileSystem = new MemoryFileSystem();
        ulong id = fileSystem.AddFile(1, "unseen", "x"u8.ToArray());
        using var mounted = MountedFuse.Start(fileSystem, ReadOnly);
        _ = Directory.Exists(mounted.Path);

        Assert.False(mounted.Session.InvalidateInode(id));
        Assert.False(mounted.Session.InvalidateInode(424242));
    }

    [Fact]
    public void Passthrough_ReadsTheBackingFile_WithoutAnyRead()
    {
        var fileSystem = new MemoryFileSystem();
        using var backing = new TempDir("fuse-backing");
        byte[] content = RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 7);
        string path = backing.Combine("blob");
        File.WriteAllBytes(path, content);
        fileSystem.AddBackedFile(1, "passed", path);
        using var mounted = MountedFuse.Start(fileSystem, new FuseSessionOptions { ReadOnly = true, Passthrough = true });

        byte[] first = File.ReadAllBytes(mounted.Combine("passed"));
        byte[] second = File.ReadAllBytes(mounted.Combine("passed"));

        Assert.True(mounted.Session.Connection!.Passthrough, "the kernel did not accept FUSE_PASSTHROUGH");
        Assert.Equal(SHA256.HashData(content), SHA256.HashData(first));
        Assert.Equal(SHA256.HashData(content), SHA256.HashData(second));
        Assert.Equal(0, fileSystem.Reads);
        // Each last RELEASE closed the backing id.
        Assert.Equal(0, fileSystem.OpenBackings);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Overlay_OverTheFuseMount_LooksUpAndReads(bool withoutXattrs)
    {
        // Xattrs answered ENODATA, or not at all (ENOSYS once: the kernel then answers EOPNOTSUPP itself).
        var fileSystem = new MemoryFileSystem { WithoutXattrs = withoutXattrs };
        using var backing = new TempDir("fuse-backing");
        string path = backing.Combine("blob");
        File.WriteAllText(path, "through passthrough");
        ulong dir = fileSystem.AddDirectory(1, "arena");
        fileSystem.AddFile(dir, "plain.txt", "through READ"u8.ToArray());
        fileSystem.AddBackedFile(dir, "passed.txt", path);
        using var mounted = MountedFuse.Start(fileSystem, new FuseSessionOptions { ReadOnly = true, Passthrough = true });
        string upper = mounted.Dir.Combine("upper");
        string work = mounted.Dir.Combine("work");
        string merged = mounted.Dir.Combine("merged");
        Directory.CreateDirectory(upper);
        Directory.CreateDirectory(work);
        Directory.CreateDirectory(merged);
        Mounts.MountOverlay(merged, $"lowerdir={Mounts.EscapeOverlayPath(mounted.Path)},upperdir={Mounts.EscapeOverlayPath(upper)},workdir={Mounts.EscapeOverlayPath(work)}");
        try
        {
            var names = Directory.GetFileSystemEntries(Path.Combine(merged, "arena")).Select(Path.GetFileName).Order(StringComparer.Ordinal);
            string plain = File.ReadAllText(Path.Combine(merged, "arena", "plain.txt"));
            string passed = File.ReadAllText(Path.Combine(merged, "arena", "passed.txt"));
            File.WriteAllText(Path.Combine(merged, "arena", "written.txt"), "upper");

            Assert.Equal(["passed.txt", "plain.txt", "written.txt"], names.Append("written.txt").Distinct().Order(StringComparer.Ordinal));
            Assert.Equal("through READ", plain);
            Assert.Equal("through passthrough", passed);
            Assert.Equal("upper", File.ReadAllText(Path.Combine(upper, "arena", "written.txt")));
            Assert.False(File.Exists(Path.Combine(merged, "arena", "missing")));
            Assert.True(!withoutXattrs || fileSystem.XattrRequests <= 2, $"{fileSystem.XattrRequests} xattr requests after ENOSYS");
        }
        finally
        {
            Mounts.Unmount(merged, detach: true);
        }
    }

    [Fact]
    public void CleanStale_UnmountsAMountWhoseServerIsGone_AndLeavesLiveOnes()
    {
        Root.Require();
        using var dir = new TempDir("fuse-stale");
        string target = dir.Combine("mnt");
        Directory.CreateDirectory(target);
        using var live = MountedFuse.Start(new MemoryFileSystem(), ReadOnly);

        // A server that dies: its device closes without an unmount.
        var mount = FuseMount.Mount(target, new FuseMountOptions { Subtype = "realize-test" });
        try
        {
            mount.Device.Dispose();
            bool cleaned = FuseMount.CleanStale(target);

            Assert.True(cleaned);
            Assert.Null(Mounts.FindMount(target));
            Assert.False(FuseMount.CleanStale(live.Path));
            Assert.False(FuseMount.CleanStale(dir.Path));
            Assert.NotNull(Mounts.FindMount(live.Path));
        }
        finally
        {
            if (Mounts.FindMount(target) is not null)
            {
                Mounts.Unmount(target, detach: true);
            }
            mount.Dispose();
        }
    }
}
