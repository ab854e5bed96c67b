using System.Diagnostics;
using System.Text;
using Realize.Core;
using Realize.Storage;
using Realize.TestSupport;

namespace Realize.Daemon.Tests;

/// <summary>
/// What the running daemon records, with nothing but inotify to tell it: files written over
/// time, watches the kernel drops, symlinks out of an arena, renames and new directories in a
/// plain-directory arena. The store has a merged view (arena <c>docs</c>, over a lower
/// directory) and a plain-directory arena (<c>photos</c>).
/// </summary>
public sealed class LiveTests : IDisposable
{
    // Generous: others build and benchmark on the same 2 cores.
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(60);

    // Longer than the default: a stall of the loaded machine between a file's creation and its
    // write must not be taken for a quiet, empty file (which would rightly be reported twice).
    private static readonly TimeSpan s_settle = TimeSpan.FromSeconds(1);

    private static readonly ArenaName s_docs = ArenaName.Parse("docs");
    private static readonly ArenaName s_photos = ArenaName.Parse("photos");

    private readonly TempDir _dir = new("live");
    private readonly Store _store;
    private InProcessDaemon? _daemon;

    public LiveTests()
    {
        Root.Require();
        Directory.CreateDirectory(_dir.Combine("lower", "docs"));
        File.WriteAllText(_dir.Combine("lower", "docs", "remote.txt"), "remote\n");
        Directory.CreateDirectory(Photos(""));
        _store = Store.Create(_dir.Combine("store"), new StoreConfig
        {
            Mount = _dir.Combine("view"),
            Lower = _dir.Combine("lower"),
            Arenas = [new ArenaConfig(s_docs), PlainArenas.Marked(s_photos, Photos(""))],
        });
    }

    /// <summary>Where the tests of both kinds of arena make their files.</summary>
    public static TheoryData<string> Kinds() => ["view", "plain"];

    private string Photos(string relative) => Path.Combine(_dir.Combine("photos"), relative);

    private string View(string relative) => Path.Combine(_dir.Combine("view", "docs"), relative);

    private string In(string kind, string relative) => kind == "view" ? View(relative) : Photos(relative);

    private static ArenaName ArenaOf(string kind) => kind == "view" ? s_docs : s_photos;

    private async Task StartAsync() =>
        _daemon = await InProcessDaemon.StartAsync(_store, new DaemonOptions { SettleDelay = s_settle }, s_deadline);

    private List<Notification> History(ArenaName arena) => InProcessDaemon.History(_store).Where(n => n.Arena == arena).ToList();

    private static string Describe(IEnumerable<Notification> history) =>
        string.Join("; ", history.Select(n => $"#{n.Index} {n.Type} {n.Path}"));

    private Task UntilAsync(Func<bool> condition, Func<string> what) =>
        Poll.UntilAsync(condition, s_deadline, () => $"{what()}; the daemon's log:\n{_daemon?.Logs}");

    private static BlobHash Hash(string text) => ContentHasher.HashBytes(Encoding.UTF8.GetBytes(text));

    /// <summary>
    /// A file already being written when the daemon starts (in a plain arena: the merged view is
    /// mounted only by the daemon): the catch-up scan finds it changed a moment ago and leaves
    /// it to settle instead of recording it half-written.
    /// </summary>
    [Fact]
    public async Task FileBeingWrittenWhenTheDaemonStarts_IsLeftToSettleByTheCatchUpScan_AndReportedOnce()
    {
        const string kind = "plain";
        string path = In(kind, "started-before.log");
        var content = new StringBuilder();
        using var started = new ManualResetEventSlim();
        using var done = new CancellationTokenSource();
        var writer = Task.Factory.StartNew(
            () =>
            {
                using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read, bufferSize: 1);
                for (int i = 0; !done.IsCancellationRequested; i++)
                {
                    string line = $"{i}\n";
                    stream.Write(Encoding.UTF8.GetBytes(line));
                    stream.Flush();
                    content.Append(line);
                    started.Set();
                    Thread.Sleep(10);
                }
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);
        started.Wait(s_deadline);
        // The catch-up scan finds it half-written, changed a moment ago: it must wait for it.
        await StartAsync();
        await Task.Delay(300);
        await done.CancelAsync();
        await writer;
        await UntilAsync(() => History(ArenaOf(kind)).Count > 0, () => "the closed file is in the history");
        await _daemon!.StopAsync(s_deadline);

        var history = History(ArenaOf(kind));
        Assert.True(history.Count == 1, $"expected one notification, got: {Describe(history)}");
        Assert.Equal((NotificationType.Added, "started-before.log", Hash(content.ToString())), (history[0].Type, history[0].Path.Value, history[0].Blob!.Value));
    }

    /// <summary>
    /// Written to every ~10 ms for 5 s without closing: each write puts the settle off again, so
    /// only the close (IN_CLOSE_WRITE) has it recorded.
    /// </summary>
    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task FileAppendedThroughOneOpenHandle_ForFiveSeconds_IsReportedOnce_AfterItIsClosed(string kind)
    {
        await StartAsync();
        string path = In(kind, "growing.log");
        var content = new StringBuilder();
        var longestGap = TimeSpan.Zero;
        var writer = Task.Factory.StartNew(
            () =>
            {
                using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read, bufferSize: 1);
                var clock = Stopwatch.StartNew();
                var last = TimeSpan.Zero;
                for (int i = 0; clock.Elapsed < TimeSpan.FromSeconds(5); i++)
                {
                    string line = $"{i}\n";
                    stream.Write(Encoding.UTF8.GetBytes(line));
                    stream.Flush();
                    content.Append(line);
                    longestGap = TimeSpan.FromTicks(Math.Max(longestGap.Ticks, (clock.Elapsed - last).Ticks));
                    last = clock.Elapsed;
                    Thread.Sleep(10);
                }
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);
        var whileOpen = new List<Notification>();
        while (!writer.IsCompleted && whileOpen.Count == 0)
        {
            whileOpen.AddRange(History(ArenaOf(kind)));
            await Task.Delay(50);
        }
        await writer;
        await UntilAsync(() => History(ArenaOf(kind)).Count > 0, () => "the closed file is in the history");
        await _daemon!.StopAsync(s_deadline);

        string gaps = $"the longest gap between two writes was {longestGap.TotalMilliseconds:0} ms, the settle delay {s_settle.TotalMilliseconds:0} ms";
        Assert.True(whileOpen.Count == 0, $"reported while still open: {Describe(whileOpen)}; {gaps}");
        var history = History(ArenaOf(kind));
        Assert.True(history.Count == 1, $"expected one notification, got: {Describe(history)}; {gaps}");
        Assert.Equal((NotificationType.Added, "growing.log", Hash(content.ToString())), (history[0].Type, history[0].Path.Value, history[0].Blob!.Value));
    }

    /// <summary>
    /// Re-opened to append every ~20 ms for 3 s, like <c>echo x >> f</c> in a loop: the first close
    /// is recorded at once, the later ones are put off until the writing stops.
    /// </summary>
    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task FileReopenedToAppend_EveryTwentyMsForThreeSeconds_IsReportedAtMostTwice_LastWithItsFinalContent(string kind)
    {
        await StartAsync();
        string path = In(kind, "appended.log");
        var content = new StringBuilder();
        var longestGap = TimeSpan.Zero;
        var clock = Stopwatch.StartNew();
        var last = TimeSpan.Zero;
        for (int i = 0; clock.Elapsed < TimeSpan.FromSeconds(3); i++)
        {
            string line = $"{i}\n";
            File.AppendAllText(path, line);
            content.Append(line);
            longestGap = TimeSpan.FromTicks(Math.Max(longestGap.Ticks, (clock.Elapsed - last).Ticks));
            last = clock.Elapsed;
            Thread.Sleep(20);
        }
        var final = Hash(content.ToString());
        await UntilAsync(() => History(ArenaOf(kind)) is [.., var n] && n.Blob == final, () => $"the history ends with the final content; it holds: {Describe(History(ArenaOf(kind)))}");
        await _daemon!.StopAsync(s_deadline);

        var history = History(ArenaOf(kind));
        Assert.True(history.Count <= 2,
            $"expected at most 2 notifications, got {history.Count}: {Describe(history)}; the longest gap between two appends was {longestGap.TotalMilliseconds:0} ms, the settle delay {s_settle.TotalMilliseconds:0} ms");
        Assert.Equal(final, history[^1].Blob);
    }

    /// <summary>
    /// A tmpfs mounted on a directory of a plain arena, then unmounted while the daemon runs: the
    /// kernel drops the watch (IN_UNMOUNT, IN_IGNORED), and the daemon watches and scans again
    /// what is there now, the directory the tmpfs covered.
    /// </summary>
    [Fact]
    public async Task WatchDroppedByAnUnmount_IsRenewed_AndTheTreeRescanned_WithoutBeingAsked()
    {
        Directory.CreateDirectory(Photos("sub"));
        File.WriteAllText(Photos("sub/under.txt"), "under the tmpfs");
        using var tmpfs = new ScratchMount(Photos("sub"), "tmpfs");
        File.WriteAllText(Photos("sub/tmpfs.txt"), "on the tmpfs");
        await StartAsync();
        // Written just before: the catch-up scan leaves it to settle first.
        await UntilAsync(() => History(s_photos).Count >= 1, () => "the catch-up scan records sub/tmpfs.txt");
        Assert.Equal(["Added sub/tmpfs.txt"], History(s_photos).Select(n => $"{n.Type} {n.Path}"));

        tmpfs.Unmount();
        await UntilAsync(() => History(s_photos).Count >= 3, () => $"the history holds 3 notifications; it holds: {Describe(History(s_photos))}");
        await _daemon!.StopAsync(s_deadline);

        var history = History(s_photos);
        Assert.Equal(3, history.Count);
        Assert.Equal(
            ["Added sub/under.txt", "Removed sub/tmpfs.txt"],
            history.Skip(1).Select(n => $"{n.Type} {n.Path}").Order(StringComparer.Ordinal));
        Assert.Contains(_daemon.Logs.Lines, l => l.Message.Contains("dropped the inotify watch", StringComparison.Ordinal));
    }

    /// <summary>
    /// Symlinks out of a plain arena, to a directory and to a file: changes made outside, through
    /// their targets, never reach the history; a sentinel made in the arena afterwards does.
    /// </summary>
    [Fact]
    public async Task ChangesBehindSymlinksOutOfAPlainArena_NeverAppear_AndStatusCountsTheSymlinksSkipped()
    {
        string outside = _dir.Combine("outside");
        Directory.CreateDirectory(Path.Combine(outside, "dir"));
        File.WriteAllText(Path.Combine(outside, "dir", "there.txt"), "there");
        File.WriteAllText(Path.Combine(outside, "file.txt"), "outside");
        File.CreateSymbolicLink(Photos("to-dir"), Path.Combine(outside, "dir"));
        File.CreateSymbolicLink(Photos("to-file"), Path.Combine(outside, "file.txt"));
        await StartAsync();

        File.WriteAllText(Path.Combine(outside, "dir", "new.txt"), "new");
        File.AppendAllText(Path.Combine(outside, "dir", "there.txt"), " and more");
        Directory.CreateDirectory(Path.Combine(outside, "dir", "sub"));
        File.WriteAllText(Path.Combine(outside, "dir", "sub", "deeper.txt"), "deeper");
        File.AppendAllText(Path.Combine(outside, "file.txt"), " written through");
        File.WriteAllText(Photos("sentinel.txt"), "inside");
        await UntilAsync(() => History(s_photos).Count > 0, () => "the sentinel is in the history");
        var scan = await _daemon!.SendAsync("scan", s_deadline);
        Assert.NotNull(scan.Summary);
        var status = await _daemon.StatusAsync(s_deadline);
        // Stopping examines whatever still waits: nothing of the outside may be among it.
        await _daemon.StopAsync(s_deadline);

        Assert.Equal(["Added sentinel.txt"], History(s_photos).Select(n => $"{n.Type} {n.Path}"));
        Assert.Equal(2, status.Skipped);
    }

    /// <summary>Files made, renamed (one by one, and a directory of them) and deleted in a plain directory reach the history while the daemon runs.</summary>
    [Fact]
    public async Task FilesCreatedRenamedAndDeleted_InAPlainArena_AppearInTheHistory_WhileItRuns()
    {
        await StartAsync();
        File.WriteAllText(Photos("a.jpg"), "a");
        File.WriteAllText(Photos("b.jpg"), "b");
        Directory.CreateDirectory(Photos("trip"));
        File.WriteAllText(Photos("trip/c.jpg"), "c");
        File.WriteAllText(Photos("trip/d.jpg"), "d");
        await UntilAsync(() => History(s_photos).Count >= 4, () => $"4 files are added; the history holds: {Describe(History(s_photos))}");
        Posix.Rename(Photos("a.jpg"), Photos("renamed.jpg"));
        await UntilAsync(() => History(s_photos).Count >= 6, () => $"the rename is in; the history holds: {Describe(History(s_photos))}");
        Posix.Rename(Photos("trip"), Photos("journey"));
        await UntilAsync(() => History(s_photos).Count >= 10, () => $"the moved directory is in; the history holds: {Describe(History(s_photos))}");
        File.Delete(Photos("b.jpg"));
        await UntilAsync(() => History(s_photos).Count >= 11, () => $"the deletion is in; the history holds: {Describe(History(s_photos))}");
        await _daemon!.StopAsync(s_deadline);

        var history = History(s_photos);
        string Step(int skip, int take) => string.Join(", ", history.Skip(skip).Take(take)
            .Select(n => $"{n.Type} {n.Path} {(n.Blob ?? n.OldBlob)?.Hex[..8]}").Order(StringComparer.Ordinal));
        string Blob(string text) => Hash(text).Hex[..8];
        Assert.Equal(11, history.Count);
        Assert.Equal($"Added a.jpg {Blob("a")}, Added b.jpg {Blob("b")}, Added trip/c.jpg {Blob("c")}, Added trip/d.jpg {Blob("d")}", Step(0, 4));
        Assert.Equal($"Added renamed.jpg {Blob("a")}, Removed a.jpg {Blob("a")}", Step(4, 2));
        Assert.Equal($"Added journey/c.jpg {Blob("c")}, Added journey/d.jpg {Blob("d")}, Removed trip/c.jpg {Blob("c")}, Removed trip/d.jpg {Blob("d")}", Step(6, 4));
        Assert.Equal($"Removed b.jpg {Blob("b")}", Step(10, 1));
    }

    /// <summary>
    /// Directories made and filled at once (mkdir, a subdirectory, then 50 files in each), faster
    /// than the daemon can add their watches: listing a new directory once it is watched finds
    /// what was made before.
    /// </summary>
    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task DirectoriesFilledRightAfterMkdir_HaveEveryFileReportedOnce(string kind)
    {
        await StartAsync();
        var expected = new Dictionary<string, BlobHash>(StringComparer.Ordinal);
        for (int d = 0; d < 5; d++)
        {
            string dir = $"d{d}";
            foreach (string at in (string[])[dir, dir + "/sub"])
            {
                Posix.Mkdir(In(kind, at));
                for (int f = 0; f < 50; f++)
                {
                    string path = $"{at}/f{f:d2}";
                    File.WriteAllText(In(kind, path), path);
                    expected[path] = Hash(path);
                }
            }
        }
        await UntilAsync(() => History(ArenaOf(kind)).Count >= expected.Count, () => $"{expected.Count} files are in the history; it holds {History(ArenaOf(kind)).Count}");
        await _daemon!.StopAsync(s_deadline);

        HistoryAssert.EachAddedOnce(History(ArenaOf(kind)), expected, $"the daemon's log:\n{_daemon.Logs}");
    }

    public void Dispose() => Teardown.DaemonViewAndDir(_daemon, _dir.Combine("view"), _dir);
}
