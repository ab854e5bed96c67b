using System.IO.MemoryMappedFiles;
using System.Security.Cryptography;
using System.Text;
using Realize.Linux;
using Realize.Storage;
using Realize.TestSupport;
using Xunit.Abstractions;

namespace Realize.Scenarios;

/// <summary>
/// A blind peer's merged view over its Unreal, against a live listening peer on loopback: what
/// it lists and reads of the remote files, what its changes to them say to the other peer,
/// what it shows of the other peer's changes while in use, and how its mounts survive crashes.
/// </summary>
public sealed class RemoteViewScenarios(ITestOutputHelper output)
{
    private const int BigSize = 30 << 20;

    [Fact]
    public async Task BsView_ListsAsFilesWithTheirSizesAndMTimes_EvenAfterAStops_AndReadsTheirExactContentEveryWay()
    {
        using var pair = UnrealPair.Create("remote-read");
        pair.WriteOnA("a.txt", "hello");
        pair.WriteOnA("sub/deeper/b.txt", "deep");
        pair.WriteOnA("empty.txt", "");
        byte[] big = RandomNumberGenerator.GetBytes(BigSize);
        File.WriteAllBytes(Path.Combine(pair.ADocs, "sub/big.bin"), big);
        await pair.StartBothAsync();

        var listing = UnrealPair.Listing(pair.ADocs);
        Assert.Equal(4, listing.Count);
        Assert.Equal(listing, UnrealPair.Listing(pair.BDocs));

        string remote = Path.Combine(pair.BDocs, "sub/big.bin");
        // Random preads first, while nothing of the blob is cached: blocks fetched out of order.
        var random = new Random(Seeds.IntFromEnvironment("REALIZE_SCENARIO_SEED") ?? Environment.TickCount);
        using (var handle = File.OpenHandle(remote))
        {
            for (int i = 0; i < 40; i++)
            {
                int offset = random.Next(BigSize);
                int length = Math.Min(random.Next(1, 3 << 20), BigSize - offset);
                byte[] read = new byte[length];
                int done = 0;
                while (done < length)
                {
                    int n = RandomAccess.Read(handle, read.AsSpan(done), offset + done);
                    Assert.True(n > 0, $"pread at {offset + done} of {length} ended early");
                    done += n;
                }
                Assert.True(big.AsSpan(offset, length).SequenceEqual(read), $"pread of {length} bytes at {offset}");
            }
        }
        string sha = Convert.ToHexStringLower(SHA256.HashData(big));
        Assert.Equal(sha, Shell.Bash("cat \"$1\" | sha256sum | cut -d' ' -f1", remote).Trim());
        Assert.Equal(sha, Shell.Check("openssl", "dgst", "-sha256", "-r", remote).Split(' ')[0]);
        Assert.Equal(sha, Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(remote))));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(big.AsSpan(BigSize - 100_000))),
            Shell.Bash("tail -c 100000 \"$1\" | sha256sum | cut -d' ' -f1", remote).Trim());
        using (var mapped = MemoryMappedFile.CreateFromFile(remote, FileMode.Open, null, 0, MemoryMappedFileAccess.Read))
        using (var view = mapped.CreateViewStream(0, 0, MemoryMappedFileAccess.Read))
        {
            byte[] viaMap = new byte[BigSize];
            view.ReadExactly(viaMap);
            Assert.True(big.AsSpan().SequenceEqual(viaMap), "the file read through mmap");
        }
        Assert.Equal("hello", File.ReadAllText(Path.Combine(pair.BDocs, "a.txt")));
        Assert.Equal("deep", File.ReadAllText(Path.Combine(pair.BDocs, "sub/deeper/b.txt")));
        Assert.Empty(File.ReadAllBytes(Path.Combine(pair.BDocs, "empty.txt")));

        // A gone: what B knows of its files stays, and what B read whole is served from the cache.
        Assert.Equal(0, pair.DaemonA!.Stop(UnrealPair.Deadline));
        Assert.Equal(listing, UnrealPair.Listing(pair.BDocs));
        Assert.Equal(sha, Shell.Check("openssl", "dgst", "-sha256", "-r", remote).Split(' ')[0]);
        Assert.Equal(0, pair.DaemonB!.Stop(UnrealPair.Deadline));
    }

    [Fact]
    public async Task ASmallFileNewOnA_IsFetchedIntoBsCacheBeforeAnyRead_ALargeOneOnlyWhenRead()
    {
        using var pair = UnrealPair.Create("remote-prefetch");
        string largeContent = new('L', (int)Unreal.SmallFilePrefetch.MaxSize + 1);
        pair.WriteOnA("large.bin", largeContent);
        await pair.StartBothAsync();
        Assert.True(File.Exists(Path.Combine(pair.BDocs, "large.bin")));
        // Added while both run: the view's change is what starts the fetch.
        pair.WriteOnA("note.txt", "a small note");
        string small = Path.Combine(pair.B.UnrealDir, "blobs", ContentHasher.HashBytes(Encoding.UTF8.GetBytes("a small note")).Hex);
        string large = Path.Combine(pair.B.UnrealDir, "blobs", ContentHasher.HashBytes(Encoding.UTF8.GetBytes(largeContent)).Hex);

        await Poll.UntilAsync(() => File.Exists(small), UnrealPair.Deadline, () => $"note.txt's blob never reached B's cache; B's log:\n{pair.DaemonB!.LogTail()}");
        // A gone: the note reads from the cache alone.
        Assert.Equal(0, pair.DaemonA!.Stop(UnrealPair.Deadline));

        Assert.Equal("a small note", File.ReadAllText(Path.Combine(pair.BDocs, "note.txt")));
        Assert.Equal(0, pair.DaemonB!.Stop(UnrealPair.Deadline));
        Assert.False(File.Exists(large), "large.bin was fetched though nothing read it");
    }

    [Fact]
    public async Task UpStoppedWithSigterm_LeavesNeitherTheUnrealNorTheMergedViewMounted()
    {
        using var pair = UnrealPair.Create("remote-stop");
        pair.WriteOnA("a.txt", "hello");
        await pair.StartBothAsync();
        // Read from the mount table, not by a stat: a stat of a FUSE mount whose server died fails with ENOTCONN.
        Assert.Contains(File.ReadLines("/proc/self/mountinfo"), line => line.Split(' ')[4] == pair.B.UnrealMountDir && line.Contains(" - fuse.realize ", StringComparison.Ordinal));
        Assert.Equal("overlay", Mounts.FindMount(pair.View));
        // Busy: a file open in the view as the daemon stops.
        using var open = File.OpenRead(Path.Combine(pair.BDocs, "a.txt"));

        Assert.Equal(0, pair.DaemonB!.Stop(UnrealPair.Deadline));

        Assert.Empty(UnrealPair.MountsUnder(pair.B.Root));
        Assert.Empty(UnrealPair.MountsUnder(pair.View));
        output.WriteLine(pair.DaemonB.LogTail());
    }

    [Fact]
    public async Task EveryChangeMadeToRemoteFilesThroughBsView_ReachesAAsTheHistoryTableSays()
    {
        using var pair = UnrealPair.Create("remote-edit");
        string[] names = ["edit.txt", "append.txt", "trunc.txt", "delete.txt", "rename.txt", "sub/across.txt", "other/stays.txt",
            "movedir/m1.txt", "movedir/deep/m2.txt", "chmod.txt"];
        foreach (string name in names)
        {
            pair.WriteOnA(name, $"A's {name}");
        }
        await pair.StartBothAsync();
        var onA = names.ToDictionary(name => name, pair.BlobOnA);
        string V(string path) => Path.Combine(pair.BDocs, path);

        File.WriteAllText(V("edit.txt"), "edited on B");
        File.AppendAllText(V("append.txt"), " and B's");
        using (var truncated = new FileStream(V("trunc.txt"), FileMode.Open))
        {
            truncated.SetLength(3);
        }
        File.Delete(V("delete.txt"));
        Posix.Rename(V("rename.txt"), V("renamed.txt"));
        Posix.Rename(V("sub/across.txt"), V("other/across.txt"));
        Posix.Rename(V("movedir"), V("moved"));
        Posix.Chmod(V("chmod.txt"), 0x180);
        Directory.CreateDirectory(V("made/inner"));
        File.WriteAllText(V("made/n1.txt"), "new on B");
        File.WriteAllText(V("made/inner/n2.txt"), "newer on B");
        // Empty, a name A does not have yet.
        Directory.CreateDirectory(V("later"));

        var expected = new Dictionary<string, SeenVersion>(StringComparer.Ordinal)
        {
            ["edit.txt"] = new(Blob("edited on B"), onA["edit.txt"]),
            ["append.txt"] = new(Blob("A's append.txt and B's"), onA["append.txt"]),
            ["trunc.txt"] = new(Blob("A's"), onA["trunc.txt"]),
            ["delete.txt"] = new(null, onA["delete.txt"]),
            ["rename.txt"] = new(null, onA["rename.txt"]),
            ["renamed.txt"] = new(onA["rename.txt"], null),
            ["sub/across.txt"] = new(null, onA["sub/across.txt"]),
            ["other/across.txt"] = new(onA["sub/across.txt"], null),
            ["movedir/m1.txt"] = new(null, onA["movedir/m1.txt"]),
            ["movedir/deep/m2.txt"] = new(null, onA["movedir/deep/m2.txt"]),
            ["moved/m1.txt"] = new(onA["movedir/m1.txt"], null),
            ["moved/deep/m2.txt"] = new(onA["movedir/deep/m2.txt"], null),
            ["made/n1.txt"] = new(Blob("new on B"), null),
            ["made/inner/n2.txt"] = new(Blob("newer on B"), null),
        };
        await Poll.UntilAsync(() => Describe(pair.SeenOnAOfB()) == Describe(expected), UnrealPair.Deadline,
            () => $"A's unreal.db of B:\n{Describe(pair.SeenOnAOfB())}\nexpected:\n{Describe(expected)}\nB's log:\n{pair.DaemonB!.LogTail()}");

        // A chmod copies up metadata only: nothing to say. Checked after a later change has arrived, so that it was scanned.
        File.WriteAllText(V("made/last.txt"), "last");
        expected["made/last.txt"] = new(Blob("last"), null);
        await Poll.UntilAsync(() => pair.SeenOnAOfB().ContainsKey("made/last.txt"), UnrealPair.Deadline, () => "B's last file reaches A");
        Assert.Equal(Describe(expected), Describe(pair.SeenOnAOfB()));
        Assert.Equal("A's chmod.txt", File.ReadAllText(V("chmod.txt")));
        Assert.NotNull(Xattr.Get(Path.Combine(pair.B.RealDir, "docs", "chmod.txt"), "trusted.overlay.metacopy"));

        // B's own directory still shows what A puts under that name afterwards.
        pair.WriteOnA("later/fromA.txt", "A's later file");
        await Poll.UntilAsync(() => File.Exists(V("later/fromA.txt")), UnrealPair.Deadline,
            () => $"A's file in B's directory shows in B's view; B's log:\n{pair.DaemonB!.LogTail()}");
        Assert.Equal("A's later file", File.ReadAllText(V("later/fromA.txt")));
    }

    [Fact]
    public async Task ChangesOnA_ShowInBsViewInUse_ForNamesLookedUpBefore_OpenFiles_AndAShellsWorkingDirectory()
    {
        using var pair = UnrealPair.Create("remote-live");
        pair.WriteOnA("gone.txt", "soon removed");
        pair.WriteOnA("dir/held.txt", "held open");
        pair.WriteOnA("dir/inner/x.txt", "in the renamed directory");
        pair.WriteOnA("stay/x.txt", "where the shell is");
        await pair.StartBothAsync();
        string V(string path) => Path.Combine(pair.BDocs, path);

        // Looked up before: a name not there yet, one soon gone, a file held open, the shell's directory.
        Assert.False(File.Exists(V("later.txt")));
        Assert.Equal("soon removed", File.ReadAllText(V("gone.txt")));
        using var held = File.OpenHandle(V("dir/held.txt"));
        Assert.Equal("held open", ReadAll(held));
        using var shell = LiveShell.Start(V("stay"));
        Assert.Equal((0, "where the shell is\n"), await shell.RunAsync("cat x.txt; echo", UnrealPair.Deadline));

        pair.WriteOnA("later.txt", "arrived later");
        File.Delete(Path.Combine(pair.ADocs, "gone.txt"));
        Directory.Move(Path.Combine(pair.ADocs, "dir"), Path.Combine(pair.ADocs, "renamed"));
        pair.WriteOnA("stay/new.txt", "beside the shell");

        await Poll.UntilAsync(() => File.Exists(V("later.txt")), UnrealPair.Deadline,
            () => $"the name looked up before shows; B's log:\n{pair.DaemonB!.LogTail()}");
        Assert.Equal("arrived later", File.ReadAllText(V("later.txt")));
        // Never ESTALE: TryLstat throws on any error but ENOENT, and so fails the test.
        await Poll.UntilAsync(() => Stat.TryLstat(V("gone.txt")) is null, UnrealPair.Deadline, () => "the removed file is gone from B's view");
        Assert.Throws<FileNotFoundException>(() => File.ReadAllText(V("gone.txt")));
        await Poll.UntilAsync(() => File.Exists(V("renamed/held.txt")) && Stat.TryLstat(V("dir")) is null, UnrealPair.Deadline,
            () => $"the directory shows under its new name only: [{string.Join(", ", UnrealPair.Listing(pair.BDocs).Keys)}]");
        Assert.Equal("in the renamed directory", File.ReadAllText(V("renamed/inner/x.txt")));
        Assert.Equal("held open", ReadAll(held));
        Assert.Equal("held open", File.ReadAllText(V("renamed/held.txt")));

        await Poll.UntilAsync(() => File.Exists(V("stay/new.txt")), UnrealPair.Deadline, () => "A's new file beside the shell shows in B's view");
        var (status, said) = await shell.RunAsync("cat x.txt; echo; ls; cat new.txt; echo", UnrealPair.Deadline);
        Assert.True(status == 0, said);
        Assert.Equal("where the shell is\nnew.txt\nx.txt\nbeside the shell\n", said);
        (status, said) = await shell.RunAsync($"cat '{V("later.txt")}'", UnrealPair.Deadline);
        Assert.Equal((0, "arrived later"), (status, said));
    }

    [Fact]
    public async Task AReadFromAPeerKilledMidTransfer_FailsWithEioAfterTheFetchTimeout_AndSucceedsOnceThePeerIsBack()
    {
        var fetchTimeout = TimeSpan.FromSeconds(2);
        using var pair = UnrealPair.Create("remote-kill", fetchTimeout);
        byte[] big = RandomNumberGenerator.GetBytes(BigSize);
        File.WriteAllBytes(Path.Combine(pair.ADocs, "big.bin"), big);
        await pair.StartBothAsync();
        string remote = Path.Combine(pair.BDocs, "big.bin");
        using var handle = File.OpenHandle(remote);

        // Part of the blob arrives: its last block (fetching ahead only ever goes further).
        const int Last = (7 << 22) + 100;
        byte[] part = new byte[4096];
        Assert.Equal(part.Length, RandomAccess.Read(handle, part, Last));
        Assert.True(big.AsSpan(Last, part.Length).SequenceEqual(part));

        // Then nothing more gets through, and A dies while B waits for its first block.
        pair.Proxy.Stall();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var reading = Task.Run(() => RandomAccess.Read(handle, part, 0));
        pair.DaemonA!.Kill();
        var failure = await Assert.ThrowsAnyAsync<IOException>(() => reading.WaitAsync(UnrealPair.Deadline));
        var took = clock.Elapsed;
        output.WriteLine($"the read failed after {took.TotalSeconds:0.0} s: {failure.Message}");
        Assert.True(failure.HResult == 5, $"EIO, not {failure.HResult}: {failure.Message}");
        Assert.InRange(took, fetchTimeout * 0.9, fetchTimeout * 10);

        await pair.StartAAsync();
        pair.Proxy.Resume();
        string sha = Convert.ToHexStringLower(SHA256.HashData(big));
        Assert.Equal(sha, Shell.Check("openssl", "dgst", "-sha256", "-r", remote).Split(' ')[0]);
    }

    [Fact]
    public async Task UpAfterBWasKilled_CleansTheStaleMountsAndWorkdirs_AndServesTheViewAgain()
    {
        using var pair = UnrealPair.Create("remote-crash");
        pair.WriteOnA("a.txt", "hello");
        await pair.StartBothAsync();
        Assert.Equal("hello", File.ReadAllText(Path.Combine(pair.BDocs, "a.txt")));

        pair.DaemonB!.Kill();
        // What the crash left: the Unreal's mount (its server dead) under the merged view, and the instance's workdir.
        // Read from the mount table, not by a stat: a stat of a FUSE mount whose server died fails with ENOTCONN.
        Assert.Contains(File.ReadLines("/proc/self/mountinfo"), line => line.Split(' ')[4] == pair.B.UnrealMountDir && line.Contains(" - fuse.realize ", StringComparison.Ordinal));
        Assert.Equal("overlay", Mounts.FindMount(pair.View));
        Assert.NotEmpty(Directory.GetDirectories(pair.B.WorkDir));

        await pair.StartBAsync();
        Assert.Equal("hello", File.ReadAllText(Path.Combine(pair.BDocs, "a.txt")));
        // One mount of each, nothing of the crashed daemon's stacked under them, one workdir: the live instance's.
        Assert.Equal([(pair.B.UnrealMountDir, "fuse.realize")], UnrealPair.MountsUnder(pair.B.Root));
        Assert.Equal([(pair.View, "overlay")], UnrealPair.MountsUnder(pair.View));
        string workDir = Assert.Single(Directory.GetDirectories(pair.B.WorkDir));
        Assert.Equal(workDir, MountInfo.Top(pair.View)!.OverlayLayerPath("workdir"));

        pair.WriteOnA("b.txt", "after the crash");
        await Poll.UntilAsync(() => File.Exists(Path.Combine(pair.BDocs, "b.txt")), UnrealPair.Deadline, () => "A's new file shows in B's view");
        Assert.Equal("after the crash", File.ReadAllText(Path.Combine(pair.BDocs, "b.txt")));
        Assert.Equal(0, pair.DaemonB!.Stop(UnrealPair.Deadline));
        Assert.Empty(UnrealPair.MountsUnder(pair.B.Root));
        Assert.Empty(UnrealPair.MountsUnder(pair.View));
    }

    [Fact]
    public async Task ConcurrentReadersOfOneRemoteFile_AllGetItsExactContent_AndAfterBRestartsWithoutA_TheCacheServesIt()
    {
        using var pair = UnrealPair.Create("remote-concurrent");
        byte[] big = RandomNumberGenerator.GetBytes(BigSize);
        File.WriteAllBytes(Path.Combine(pair.ADocs, "big.bin"), big);
        await pair.StartBothAsync();
        string remote = Path.Combine(pair.BDocs, "big.bin");

        // Nothing cached yet: two sequential readers from the start, two from the middle, one backwards by blocks.
        byte[] Whole(long from, bool backwards)
        {
            byte[] read = new byte[BigSize];
            using var handle = File.OpenHandle(remote);
            const int Chunk = 1 << 20;
            var order = Enumerable.Range(0, BigSize / Chunk).Select(i => (int)((from / Chunk + i) % (BigSize / Chunk)));
            foreach (int chunk in backwards ? order.Reverse() : order)
            {
                int done = 0;
                while (done < Chunk)
                {
                    int n = RandomAccess.Read(handle, read.AsSpan((chunk * Chunk) + done, Chunk - done), ((long)chunk * Chunk) + done);
                    Assert.True(n > 0, $"the read at {(chunk * Chunk) + done} ended early");
                    done += n;
                }
            }
            return read;
        }
        var readers = new[] { (0L, false), (0L, false), (BigSize / 2, false), (BigSize / 2, false), (0L, true) }
            .Select(r => Task.Run(() => Whole(r.Item1, r.Item2))).ToArray();
        foreach (byte[] copy in await Task.WhenAll(readers).WaitAsync(UnrealPair.Deadline))
        {
            Assert.True(big.AsSpan().SequenceEqual(copy), "a concurrent reader's copy");
        }

        Assert.Equal(0, pair.DaemonA!.Stop(UnrealPair.Deadline));
        Assert.Equal(0, pair.DaemonB!.Stop(UnrealPair.Deadline));
        await pair.StartBAsync();
        string sha = Convert.ToHexStringLower(SHA256.HashData(big));
        Assert.Equal(sha, Shell.Check("openssl", "dgst", "-sha256", "-r", remote).Split(' ')[0]);
    }

    private static string Blob(string content) => ContentHasher.HashBytes(Encoding.UTF8.GetBytes(content)).Hex;

    private static string Describe(Dictionary<string, SeenVersion> seen) =>
        string.Join('\n', seen.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}: {p.Value.Blob ?? "removed"} over {p.Value.OldBlob ?? "nothing"}"));

    private static string ReadAll(Microsoft.Win32.SafeHandles.SafeFileHandle handle)
    {
        byte[] buffer = new byte[4096];
        int n = RandomAccess.Read(handle, buffer, 0);
        return Encoding.UTF8.GetString(buffer, 0, n);
    }
}
