using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Realize.Linux;
using Realize.TestSupport;

namespace Realize.Real.Tests;

/// <summary>
/// The merged view over a lower directory that changes while mounted (DESIGN.md "Remote changes
/// under a mounted overlay"): what overlay shows before a swap, measured, and after it.
/// </summary>
public sealed class MergedViewSwapTests
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(10);

    [Fact]
    public void NameLookedUpBeforeItExistedBelow_StaysMissing_UntilSwap()
    {
        using var store = new SwapStore();
        var view = store.Mount();
        Assert.Null(Stat.TryLstat(store.InView("docs/new")));

        File.WriteAllText(store.InLower("docs/new"), "arrived");

        // Measured: overlay keeps its negative dentry although the name is now below (readdir lists it).
        Assert.Null(Stat.TryLstat(store.InView("docs/new")));
        Assert.Contains("new", Directory.EnumerateFiles(store.InView("docs")).Select(Path.GetFileName));
        Assert.True(view.IsStale(["docs/new"]));

        view.Swap();

        Assert.Equal("arrived", File.ReadAllText(store.InView("docs/new")));
        Assert.False(view.IsStale(["docs/new"]));
    }

    [Fact]
    public void NameRemovedBelow_KeepsShowingItsOldFile_UntilSwap_ThenIsMissing()
    {
        using var store = new SwapStore();
        File.WriteAllText(store.InLower("docs/old"), "old content");
        var view = store.Mount();
        Assert.Equal("old content", File.ReadAllText(store.InView("docs/old")));

        File.Delete(store.InLower("docs/old"));

        // Measured with a plain lower directory: the cached name keeps the removed file (over
        // FUSE, whose lookups revalidate, overlay answers ESTALE instead: DESIGN.md).
        Assert.Equal("old content", File.ReadAllText(store.InView("docs/old")));
        Assert.True(view.IsStale(["docs/old"]));

        view.Swap();

        Assert.Null(Stat.TryLstat(store.InView("docs/old")));
        Assert.False(view.IsStale(["docs/old"]));
    }

    [Fact]
    public void FileReplacedBelow_IsStale_UntilSwap_ThenShowsTheNewContent()
    {
        using var store = new SwapStore();
        File.WriteAllText(store.InLower("docs/a"), "first");
        var view = store.Mount();
        Assert.Equal("first", File.ReadAllText(store.InView("docs/a")));

        // A new file under the old name: what a remote update does to the Unreal's inode.
        File.WriteAllText(store.InLower("docs/a.new"), "second version");
        File.Move(store.InLower("docs/a.new"), store.InLower("docs/a"), overwrite: true);

        Assert.Equal("first", File.ReadAllText(store.InView("docs/a")));
        Assert.True(view.IsStale(["docs/a"]));

        view.Swap();

        Assert.Equal("second version", File.ReadAllText(store.InView("docs/a")));
        Assert.False(view.IsStale(["docs/a"]));
    }

    [Fact]
    public void IsStale_IsFalse_ForNamesTheUpperLayerDecides()
    {
        using var store = new SwapStore();
        File.WriteAllText(store.InLower("docs/removed"), "x");
        var view = store.Mount();
        File.WriteAllText(store.InView("docs/local"), "mine");
        File.Delete(store.InView("docs/removed"));

        // Below changes under names the upper layer hides or holds itself: the view is right as it is.
        File.WriteAllText(store.InLower("docs/local"), "theirs");
        File.WriteAllText(store.InLower("docs/removed"), "back");

        Assert.False(view.IsStale(["docs/local", "docs/removed", "docs/never"]));
    }

    [Fact]
    public void IsStale_IsTrue_ForAMetacopyWhoseLowerFileChangedSize()
    {
        using var store = new SwapStore();
        File.WriteAllText(store.InLower("docs/a"), "remote");
        var view = store.Mount();
        File.SetUnixFileMode(store.InView("docs/a"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Assert.NotNull(Xattr.Get(store.InReal("docs/a"), "trusted.overlay.metacopy"));
        Assert.False(view.IsStale(["docs/a"]));

        File.WriteAllText(store.InLower("docs/a"), "remote, longer now");

        Assert.True(view.IsStale(["docs/a"]));
    }

    [Fact]
    public void Swap_Works_UnderASharedParentMount_AndReachesItsPeer()
    {
        using var store = new SwapStore();
        File.WriteAllText(store.InLower("docs/a"), "a");
        // As on a systemd host, where / is shared: the view's parent propagates to a peer mount.
        string shared = Path.GetDirectoryName(store.ViewRoot) + "/shared";
        string peer = Path.GetDirectoryName(store.ViewRoot) + "/peer";
        Directory.CreateDirectory(shared);
        Directory.CreateDirectory(peer);
        Shell.Check("mount", "-t", "tmpfs", "realize-test", shared);
        try
        {
            Shell.Check("mount", "--make-shared", shared);
            Shell.Check("mount", "--bind", shared, peer);
            store.Store.UseConfig(store.Store.Config with { Mount = Path.Combine(shared, "view") });
            using var view = MergedViewInstances.Mount(store.Store, store.Lower, NullLogger.Instance);
            try
            {
                Assert.Null(Stat.TryLstat(Path.Combine(peer, "view/docs/b")));
                File.WriteAllText(store.InLower("docs/b"), "b");
                Assert.Null(Stat.TryLstat(Path.Combine(peer, "view/docs/b")));

                view.Swap();

                Assert.Equal("b", File.ReadAllText(Path.Combine(shared, "view/docs/b")));
                Assert.Equal("b", File.ReadAllText(Path.Combine(peer, "view/docs/b")));
            }
            finally
            {
                view.Unmount(detach: true);
            }
            Assert.Null(Mounts.FindMount(Path.Combine(peer, "view")));
        }
        finally
        {
            Mounts.Unmount(peer, detach: true);
            Mounts.Unmount(shared, detach: true);
        }
    }

    [Fact]
    public async Task OpenFileAndShellInOldInstance_KeepReading_AcrossSwap_AndItsWorkDirGoesOnceTheyLeave()
    {
        using var store = new SwapStore();
        File.WriteAllText(store.InLower("docs/a"), "alpha");
        var view = store.Mount();
        int first = view.Live!.Value;
        var open = new FileStream(store.InView("docs/a"), FileMode.Open, FileAccess.Read);
        using var shell = new BashSession(store.InView("docs"));
        try
        {
            Assert.Equal("alpha", shell.Run("cat a"));
            File.WriteAllText(store.InLower("docs/b"), "beta");

            var swap = view.Swap();

            Assert.NotEqual(first, swap.Instance);
            Assert.Equal([first], view.Retiring);
            Assert.Equal("alpha", new StreamReader(open).ReadToEnd());
            Assert.Equal("alpha", shell.Run("cat a"));
            Assert.Equal("beta", shell.Run("cat b"));
            // The old instance still writes, through its own workdir (a copy-up of docs/).
            shell.Run("echo written-in-old > c");
            Assert.Equal("written-in-old\n", File.ReadAllText(store.InReal("docs/c")));
            Assert.Equal(1, view.RemoveGoneWorkDirs());
            Assert.True(Directory.Exists(store.WorkDirOf(first)));
        }
        finally
        {
            open.Dispose();
            shell.Exit();
        }

        await Poll.UntilAsync(() => view.RemoveGoneWorkDirs() == 0, s_deadline, () => $"the workdir of instance {first} is still there");
        Assert.False(Directory.Exists(store.WorkDirOf(first)));
        Assert.True(Directory.Exists(store.WorkDirOf(view.Live!.Value)));
    }

    [Fact]
    public async Task ReadersByPath_NeverMissAName_WhileSwapsFollowEachOther()
    {
        using var store = new SwapStore();
        File.WriteAllText(store.InLower("docs/a"), "alpha");
        var view = store.Mount();
        var failures = new List<string>();
        int reads = 0;
        using var stop = new CancellationTokenSource();
        var reader = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    string text = File.ReadAllText(store.InView("docs/a"));
                    if (text != "alpha")
                    {
                        failures.Add($"read '{text}'");
                    }
                }
                catch (IOException e)
                {
                    failures.Add(e.Message);
                }
                Interlocked.Increment(ref reads);
            }
        });

        for (int i = 0; i < 20; i++)
        {
            int before = Volatile.Read(ref reads);
            view.Swap();
            // Each swap overlaps with reads: wait for the reader to pass through the new instance.
            await Poll.UntilAsync(() => Volatile.Read(ref reads) > before + 1, s_deadline, () => "the reader is stuck");
        }
        await stop.CancelAsync();
        await reader;

        Assert.Empty(failures);
        await Poll.UntilAsync(() => view.RemoveGoneWorkDirs() == 0, s_deadline, () => $"workdirs still there: {string.Join(", ", view.Retiring)}");
        Assert.Equal([view.Live!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)], Directory.EnumerateDirectories(store.Store.WorkDir).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Writes_AfterSwap_LandInReal()
    {
        using var store = new SwapStore();
        File.WriteAllText(store.InLower("docs/remote"), "remote");
        var view = store.Mount();
        int first = view.Live!.Value;
        view.Swap();

        File.WriteAllText(store.InView("docs/new"), "local");
        File.AppendAllText(store.InView("docs/remote"), " edited");
        Directory.CreateDirectory(store.InView("docs/dir/sub"));
        File.Move(store.InView("docs/new"), store.InView("docs/dir/sub/moved"));

        Assert.Equal("local", File.ReadAllText(store.InReal("docs/dir/sub/moved")));
        Assert.Equal("remote edited", File.ReadAllText(store.InReal("docs/remote")));
        Assert.Equal("remote", File.ReadAllText(store.InLower("docs/remote")));
        await Poll.UntilAsync(() => view.RemoveGoneWorkDirs() == 0, s_deadline, () => $"the workdir of instance {first} is still there");
        Assert.False(Directory.Exists(store.WorkDirOf(first)));
    }

    [Fact]
    public void Swap_RunsTheEdit_BeforeTheNewInstanceIsSeen()
    {
        using var store = new SwapStore();
        File.WriteAllText(store.InLower("docs/a"), "remote");
        var view = store.Mount();
        Assert.Equal("remote", File.ReadAllText(store.InView("docs/a")));
        string? seenDuringEdit = null;

        view.Swap(() =>
        {
            // The daemon's own change to real/: here a local file the view must show at once.
            Directory.CreateDirectory(store.InReal("docs"));
            File.WriteAllText(store.InReal("docs/a"), "from the edit");
            seenDuringEdit = File.ReadAllText(store.InView("docs/a"));
        });

        Assert.Equal("remote", seenDuringEdit);
        Assert.Equal("from the edit", File.ReadAllText(store.InView("docs/a")));
    }

    [Fact]
    public async Task Swap_WhoseEditFails_KeepsTheLiveInstance_AndDropsTheNewOne()
    {
        using var store = new SwapStore();
        File.WriteAllText(store.InLower("docs/a"), "a");
        var view = store.Mount();
        int live = view.Live!.Value;

        Assert.Throws<InvalidOperationException>(() => view.Swap(() => throw new InvalidOperationException("the edit failed")));

        Assert.Equal(live, view.Live);
        Assert.Equal("a", File.ReadAllText(store.InView("docs/a")));
        await Poll.UntilAsync(() => view.RemoveGoneWorkDirs() == 0, s_deadline, () => $"workdirs still there: {string.Join(", ", view.Retiring)}");
        Assert.Equal([live.ToString(System.Globalization.CultureInfo.InvariantCulture)], Directory.EnumerateDirectories(store.Store.WorkDir).Select(Path.GetFileName));
        Assert.Equal(live + 2, view.Swap().Instance);
    }

    [Fact]
    public void Mount_Works_WithCommasAndColonsInThePaths()
    {
        using var store = new SwapStore("swap,with:odd\\chars");
        File.WriteAllText(store.InLower("docs/a"), "a");
        var view = store.Mount();

        view.Swap();

        Assert.Equal("a", File.ReadAllText(store.InView("docs/a")));
        File.WriteAllText(store.InView("docs/b"), "b");
        Assert.Equal("b", File.ReadAllText(store.InReal("docs/b")));
    }

    [Fact]
    public void CleanStale_DetachesInstancesLeftStacked_AndRemovesTheirWorkDirs()
    {
        // Odd characters: mountinfo shows the upperdir escaped twice (octal, then overlay's backslashes).
        using var store = new SwapStore("swap stale,with:odd\\chars");
        File.WriteAllText(store.InLower("docs/a"), "a");
        // What a daemon killed in the middle of a swap leaves: two instances stacked at the mount point.
        Directory.CreateDirectory(store.ViewRoot);
        foreach (var (number, beneath) in new[] { (3, false), (4, true) })
        {
            Directory.CreateDirectory(store.WorkDirOf(number));
            using var mount = MountApi.Create("overlay",
            [
                new("lowerdir+", store.Lower),
                new("upperdir", Mounts.EscapeOverlayPath(store.Store.RealDir)),
                new("workdir", Mounts.EscapeOverlayPath(store.WorkDirOf(number))),
            ]);
            MountApi.Attach(mount, store.ViewRoot, beneath);
        }
        Assert.Equal("overlay", Mounts.FindMount(store.ViewRoot));

        int detached = MergedViewInstances.CleanStale(store.Store, NullLogger.Instance);

        Assert.Equal(2, detached);
        Assert.Null(Mounts.FindMount(store.ViewRoot));
        Assert.False(Directory.Exists(store.WorkDirOf(3)));
        Assert.False(Directory.Exists(store.WorkDirOf(4)));
        var view = store.Mount();
        Assert.Equal("a", File.ReadAllText(store.InView("docs/a")));
    }

    /// <summary>A bash process with its working directory in the view, fed commands one at a time.</summary>
    private sealed class BashSession : IDisposable
    {
        private const string End = "--end-of-command--";
        private readonly Process _bash;

        public BashSession(string workingDirectory)
        {
            var start = new ProcessStartInfo("bash")
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                UseShellExecute = false,
                WorkingDirectory = workingDirectory,
            };
            _bash = Process.Start(start) ?? throw new InvalidOperationException("could not start bash");
        }

        /// <summary>Runs <paramref name="command"/> (errors go to its output too) and returns its output, trimmed.</summary>
        public string Run(string command)
        {
            _bash.StandardInput.WriteLine($"{command} 2>&1; echo; echo {End}");
            _bash.StandardInput.Flush();
            var output = new List<string>();
            while (_bash.StandardOutput.ReadLine() is { } line && line != End)
            {
                output.Add(line);
            }
            return string.Join('\n', output).Trim();
        }

        public void Exit()
        {
            if (!_bash.HasExited)
            {
                _bash.StandardInput.WriteLine("exit");
                _bash.StandardInput.Flush();
                _bash.WaitForExit();
            }
        }

        public void Dispose()
        {
            if (!_bash.HasExited)
            {
                _bash.Kill();
                _bash.WaitForExit();
            }
            _bash.Dispose();
        }
    }
}
