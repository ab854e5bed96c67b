using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Realize.Core;
using Realize.Daemon;
using Realize.Linux;
using Realize.Real;
using Realize.Storage;

namespace Realize.Cli;

/// <summary>The subcommands of <c>realize</c>.</summary>
internal static class Commands
{
    public static IEnumerable<Command> All(GlobalOptions options, TextWriter output, TextWriter error)
    {
        yield return Init(options, output);
        yield return Id(options, output);
        yield return Arena(options, output);
        yield return Peer(options, output);
        yield return Mount(options, output);
        yield return Unmount(options, output);
        yield return Scan(options, output, error);
        yield return Up(options, error);
        yield return StatusCommand.Create(options, output);
        yield return History(options, output);
        yield return Files(options, output);
        yield return CacheCommand.Create(options, output);
        yield return Hash(output);
        yield return Demo.Command(output, error);
    }

    private static Command Init(GlobalOptions options, TextWriter output)
    {
        var mount = new Option<string?>("--mount") { Description = "Where the merged view appears", HelpName = "MNT" };
        var lower = new Option<string?>("--lower") { Description = "A directory to use as the overlay's lower layer instead of the Unreal", HelpName = "LOWER" };
        var listen = new Option<string?>("--listen") { Description = "Listen for the household on HOST:PORT (a listening peer); without it the peer is blind and connects out", HelpName = "HOST:PORT" };
        var command = new Command("init", "Create a store: its layout, a key pair and certificate; prints the peer ID") { mount, lower, listen };
        command.SetAction(parsed =>
        {
            string? listenAddress = parsed.GetValue(listen);
            if (listenAddress is not null && !StoreConfig.IsValidAddress(listenAddress, out string? listenProblem))
            {
                throw new RealizeException($"--listen: {listenProblem}");
            }
            string? lowerDir = parsed.GetValue(lower) is { } l ? Path.GetFullPath(l) : null;
            if (lowerDir is not null && !Directory.Exists(lowerDir))
            {
                throw new RealizeException($"the lower directory {lowerDir} does not exist: create it first");
            }
            var config = new StoreConfig
            {
                Mount = parsed.GetValue(mount) is { } m ? Path.GetFullPath(m) : null,
                Lower = lowerDir,
                Listen = listenAddress,
            };
            var store = Store.Create(options.StoreDir(parsed), config);
            output.WriteLine(store.LoadPeerId());
            return 0;
        });
        return command;
    }

    private static Command Id(GlobalOptions options, TextWriter output)
    {
        var command = new Command("id", "Print this peer's ID");
        command.SetAction(parsed =>
        {
            output.WriteLine(options.OpenStore(parsed).LoadPeerId());
            return 0;
        });
        return command;
    }

    private static Command Arena(GlobalOptions options, TextWriter output)
    {
        var name = new Argument<string>("NAME") { Description = "The arena's name: letters, digits, '.', '_' and '-'" };
        var plainPath = new Option<string?>("--path") { Description = "Share this directory as it is (a plain-directory arena, no overlay)", HelpName = "DIR" };
        var add = new Command("add", "Declare an arena: a top-level directory of the merged view, or with --path a plain directory") { name, plainPath };
        add.SetAction(parsed =>
        {
            var store = options.OpenStore(parsed);
            var arena = ParseArena(parsed.GetValue(name)!);
            if (store.Config.FindArena(arena) is not null)
            {
                throw new RealizeException($"the arena '{arena}' is already declared in {store.ConfigPath}");
            }
            string? directory = parsed.GetValue(plainPath) is { } given ? Path.GetFullPath(given) : null;
            if (directory is not null && !Directory.Exists(directory))
            {
                throw new RealizeException($"{directory} is not a directory: create it, or give the directory to share");
            }
            if (directory is not null)
            {
                // Shared by its real name: the daemon never follows a symlink.
                directory = Directory.ResolveLinkTarget(directory, returnFinalTarget: true)?.FullName ?? directory;
                string? other = Overlapping(directory, store.Root) ?? Overlapping(directory, store.Config.Mount)
                    ?? store.Config.Arenas.Select(a => Overlapping(directory, a.PlainPath)).FirstOrDefault(o => o is not null);
                if (other is not null)
                {
                    throw new RealizeException($"{directory} overlaps {other}, which Realize already uses: give a directory outside it");
                }
            }
            if (directory is not null)
            {
                // Without it the directory is never scanned: a disk not mounted there is no arena.
                try
                {
                    ArenaMarker.Write(directory, arena);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw new RealizeException($"cannot write the arena's marker into {directory} ({e.Message}): make the directory writable, then add the arena again", e);
                }
            }
            store.SaveConfig(store.Config with { Arenas = [.. store.Config.Arenas, new ArenaConfig(arena, directory)] });
            if (directory is null && store.Config.Mount is { } mount && Mounts.IsMountPoint(mount))
            {
                // Through the merged view, so overlay records it properly.
                Directory.CreateDirectory(Path.Combine(mount, arena.Value));
            }
            output.WriteLine($"arena '{arena}' added");
            if (ControlClient.SendAsync(store, new ControlRequest("status")).GetAwaiter().GetResult() is not null)
            {
                output.WriteLine("realize up is running: it scans and watches the new arena within a second ('realize status' shows it)");
            }
            return 0;
        });
        var removeName = new Argument<string>("NAME") { Description = "The arena to stop sharing" };
        var remove = new Command("remove", "Stop sharing an arena. No file is deleted: its files stay in real/ (or in its directory), "
            + "and its rows stay in index.db, so that adding it again continues where it stood (the next scan records what changed meanwhile)") { removeName };
        remove.SetAction(parsed =>
        {
            var store = options.OpenStore(parsed);
            var arena = ParseArena(parsed.GetValue(removeName)!);
            if (store.Config.FindArena(arena) is null)
            {
                throw new RealizeException($"no arena '{arena}' in {store.ConfigPath}: {OneOf("arenas", store.Config.Arenas.Select(a => a.Name.Value))}");
            }
            store.SaveConfig(store.Config with { Arenas = [.. store.Config.Arenas.Where(a => a.Name != arena)] });
            output.WriteLine($"arena '{arena}' removed: it is no longer shared; no file was deleted");
            return 0;
        });
        return new Command("arena", "Manage arenas") { add, remove };
    }

    private static ArenaName ParseArena(string text) =>
        ArenaName.TryParse(text, out ArenaName arena, out string? problem) ? arena : throw new RealizeException($"'{text}' is not a valid arena name: {problem}");

    private static Command Peer(GlobalOptions options, TextWriter output)
    {
        var name = new Argument<string>("NAME") { Description = "What this store calls the peer: letters, digits, '.', '_' and '-'" };
        var id = new Argument<string>("ID") { Description = "Its peer ID, as 'realize id' prints it there" };
        var address = new Option<string?>("--address") { Description = "Where it listens (a listening peer); without it the peer is blind and calls here", HelpName = "HOST:PORT" };
        var add = new Command("add", "Add a member of the household: only peers added here may connect") { name, id, address };
        add.SetAction(parsed =>
        {
            var store = options.OpenStore(parsed);
            string peerName = parsed.GetValue(name)!;
            if (!StoreConfig.IsValidPeerName(peerName, out string? problem))
            {
                throw new RealizeException($"'{peerName}' is not a valid peer name: {problem}");
            }
            if (!PeerId.TryParse(parsed.GetValue(id), out PeerId peerId))
            {
                throw new RealizeException($"'{parsed.GetValue(id)}' is not a peer ID: it is 52 characters A-Z and 2-7, as 'realize id' prints it on that peer");
            }
            string? at = parsed.GetValue(address);
            if (at is not null && !StoreConfig.IsValidAddress(at, out string? addressProblem))
            {
                throw new RealizeException($"--address: {addressProblem}");
            }
            if (peerId == store.LoadPeerId())
            {
                throw new RealizeException($"{peerId} is this peer's own ID: add the ID that 'realize id' prints on the other peer");
            }
            if (store.Config.FindPeer(peerName) is not null)
            {
                throw new RealizeException($"a peer '{peerName}' is already in {store.ConfigPath}: choose another name");
            }
            if (store.Config.FindPeer(peerId) is { } same)
            {
                throw new RealizeException($"that ID is already in {store.ConfigPath} as peer '{same.Name}'");
            }
            store.SaveConfig(store.Config with { Peers = [.. store.Config.Peers, new PeerConfig(peerName, peerId, at)] });
            output.WriteLine($"peer '{peerName}' added{(at is null ? " (blind: it connects here)" : $" at {at}")}");
            if (ControlClient.SendAsync(store, new ControlRequest("status")).GetAwaiter().GetResult() is not null)
            {
                output.WriteLine("realize up is running: it connects to or lets in the new peer within a second ('realize status' shows it)");
            }
            return 0;
        });
        var removeName = new Argument<string>("NAME") { Description = "The peer to remove, by the name this store gave it" };
        var remove = new Command("remove", "Remove a member of the household: it is refused from then on, and no longer named in the arenas' peer lists. "
            + "What it sent stays in unreal.db, so that adding it again continues where it stood") { removeName };
        remove.SetAction(parsed =>
        {
            var store = options.OpenStore(parsed);
            string peerName = parsed.GetValue(removeName)!;
            if (store.Config.FindPeer(peerName) is null)
            {
                throw new RealizeException($"no peer '{peerName}' in {store.ConfigPath}: {OneOf("peers", store.Config.Peers.Select(p => p.Name))}");
            }
            // An arena shared with it alone is then shared with nobody, not with everyone (no list).
            var arenas = store.Config.Arenas
                .Select(a => a.SharedWith?.Contains(peerName, StringComparer.Ordinal) == true ? a with { SharedWith = [.. a.SharedWith.Where(n => n != peerName)] } : a)
                .ToArray();
            store.SaveConfig(store.Config with { Peers = [.. store.Config.Peers.Where(p => p.Name != peerName)], Arenas = arenas });
            output.WriteLine($"peer '{peerName}' removed: it is refused from now on");
            return 0;
        });
        return new Command("peer", "Manage the household") { add, remove };
    }

    /// <summary>What to do when a name given is not one of <paramref name="names"/>: "give one of its arenas: a, b", or that there are none.</summary>
    private static string OneOf(string what, IEnumerable<string> names) =>
        names.ToArray() is { Length: > 0 } known ? $"give one of its {what}: {string.Join(", ", known)}" : $"it has no {what}, so there is nothing to remove";

    /// <summary><paramref name="used"/> when one of the two directories lies at or below the other, else null.</summary>
    private static string? Overlapping(string directory, string? used)
    {
        if (used is null)
        {
            return null;
        }
        static string Slashed(string path) => Path.TrimEndingDirectorySeparator(path) + "/";
        return Slashed(directory).StartsWith(Slashed(used), StringComparison.Ordinal) || Slashed(used).StartsWith(Slashed(directory), StringComparison.Ordinal) ? used : null;
    }

    private static Command Mount(GlobalOptions options, TextWriter output)
    {
        var command = new Command("mount", "Mount the merged view of a --lower store");
        command.SetAction(parsed =>
        {
            string target = MergedView.Mount(options.OpenStore(parsed));
            output.WriteLine($"merged view mounted at {target}");
            return 0;
        });
        return command;
    }

    private static Command Unmount(GlobalOptions options, TextWriter output)
    {
        var command = new Command("unmount", "Unmount the merged view");
        command.SetAction(parsed =>
        {
            string target = MergedView.Unmount(options.OpenStore(parsed));
            output.WriteLine($"merged view at {target} unmounted");
            return 0;
        });
        return command;
    }

    private static Command Scan(GlobalOptions options, TextWriter output, TextWriter error)
    {
        var command = new Command("scan", "Examine real/ against the index and append what changed to the history");
        command.SetAction(parsed =>
        {
            var store = options.OpenStore(parsed);
            if (ControlClient.SendAsync(store, new ControlRequest("scan")).GetAwaiter().GetResult() is { } answer)
            {
                // The daemon owns the index while it runs: it scans.
                output.WriteLine(answer.Summary ?? throw new RealizeException($"the daemon could not scan: {answer.Error}"));
                return 0;
            }
            Directory.CreateDirectory(store.RunDir);
            using var indexLock = ProcessLock.TryAcquire(Daemon.Daemon.IndexLockPath(store), out int holder)
                ?? throw new RealizeException($"another realize process (pid {holder}) is writing this store's index: try again in a moment");
            using var loggers = LoggerFactory.Create(builder => builder
                .AddSimpleConsole(o => o.SingleLine = true)
                .SetMinimumLevel(parsed.GetValue(options.Verbose) ? LogLevel.Debug : LogLevel.Warning));
            using var index = store.OpenIndex();
            using var progress = Progress.ForTerminal(error, "scanning");
            using var scan = new StoreScan(store, index, loggers.CreateLogger("scan"));
            var summary = scan.ScanAll(progress);
            progress?.Done();
            output.WriteLine(summary);
            // The other arenas were scanned; each one that was not says why in a line of its own.
            foreach (var (_, why) in scan.Failed)
            {
                error.WriteLine($"realize: {why.Message}");
            }
            return scan.Failed.Count == 0 ? 0 : 1;
        });
        return command;
    }

    private static Command Up(GlobalOptions options, TextWriter error)
    {
        var settle = new Option<int>("--settle-ms") { Description = "How long a changed file must be quiet before it is recorded, unless closed after writing", DefaultValueFactory = _ => 200, HelpName = "MS" };
        var command = new Command("up", "Run the daemon in the foreground: mount, catch up, then watch (SIGINT/SIGTERM stop it)") { settle };
        command.SetAction(parsed =>
        {
            var store = options.OpenStore(parsed);
            int settleMs = parsed.GetValue(settle);
            if (settleMs < 0)
            {
                throw new RealizeException("--settle-ms cannot be negative");
            }
            // Under systemd the journal adds the time and wants the level as a <N> prefix.
            bool journal = Microsoft.Extensions.Hosting.Systemd.SystemdHelpers.IsSystemdService();
            using var loggers = LoggerFactory.Create(builder => builder
                .AddConsole(o => o.FormatterName = journal ? Microsoft.Extensions.Logging.Console.ConsoleFormatterNames.Systemd : Microsoft.Extensions.Logging.Console.ConsoleFormatterNames.Simple)
                .AddSimpleConsole(o =>
                {
                    o.SingleLine = true;
                    o.TimestampFormat = "HH:mm:ss.fff ";
                })
                .SetMinimumLevel(parsed.GetValue(options.Verbose) ? LogLevel.Debug : LogLevel.Information));
            using var stop = new CancellationTokenSource();
            using var interrupt = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, Stop);
            using var terminate = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, Stop);
            Daemon.Daemon.RunAsync(store, new DaemonOptions { SettleDelay = TimeSpan.FromMilliseconds(settleMs) }, loggers, stop.Token).GetAwaiter().GetResult();
            return 0;

            void Stop(System.Runtime.InteropServices.PosixSignalContext context)
            {
                context.Cancel = true;
                stop.Cancel();
            }
        });
        return command;
    }

    private static Command History(GlobalOptions options, TextWriter output)
    {
        var arenaArgument = new Argument<string?>("ARENA") { Description = "Only this arena (all when omitted)", Arity = ArgumentArity.ZeroOrOne };
        var since = new Option<long>("--since") { Description = "Only entries after this index (needs an arena)", HelpName = "N" };
        var json = new Option<bool>("--json") { Description = "JSON Lines, one notification per line" };
        var command = new Command("history", "Print the history of local changes") { arenaArgument, since, json };
        command.SetAction(parsed =>
        {
            var store = options.OpenStore(parsed);
            ArenaName? arena = parsed.GetValue(arenaArgument) is { } text ? ParseArena(text) : null;
            if (arena is { } name && store.Config.FindArena(name) is null)
            {
                throw new RealizeException($"no arena '{name}' in this store: 'realize arena add {name}' declares it");
            }
            long after = parsed.GetValue(since);
            if (after != 0 && arena is null)
            {
                throw new RealizeException("--since needs an arena: indexes count per arena ('realize history ARENA --since N')");
            }
            using var index = store.OpenIndex();
            bool asJson = parsed.GetValue(json);
            foreach (var notification in index.ReadHistory(arena, after))
            {
                output.WriteLine(asJson ? HistoryJson.Format(notification) : HistoryJson.FormatText(notification));
            }
            return 0;
        });
        return command;
    }

    private static Command Files(GlobalOptions options, TextWriter output)
    {
        var arenaArgument = new Argument<string?>("ARENA") { Description = "Only this arena (all when omitted)", Arity = ArgumentArity.ZeroOrOne };
        var peer = new Option<string?>("--peer") { Description = "Only this peer's files", HelpName = "NAME" };
        var json = new Option<bool>("--json") { Description = "JSON Lines, one file per line" };
        var command = new Command("files", "List what this peer knows of the other peers' files (the Unreal's table)") { arenaArgument, peer, json };
        command.SetAction(parsed =>
        {
            var store = options.OpenStore(parsed);
            ArenaName? arena = parsed.GetValue(arenaArgument) is { } text ? ParseArena(text) : null;
            if (arena is { } declared && store.Config.FindArena(declared) is null)
            {
                throw new RealizeException($"no arena '{declared}' in this store: 'realize arena add {declared}' declares it");
            }
            PeerId? peerId = null;
            if (parsed.GetValue(peer) is { } peerName)
            {
                peerId = (store.Config.FindPeer(peerName)
                    ?? throw new RealizeException($"no peer '{peerName}' in {store.ConfigPath}: 'realize peer add {peerName} ID' adds it")).Id;
            }
            var names = store.Config.Peers.ToDictionary(p => p.Id, p => p.Name);
            bool asJson = parsed.GetValue(json);
            using var unreal = store.OpenUnreal();
            foreach (var file in unreal.ListFiles(arena, peerId))
            {
                string who = names.GetValueOrDefault(file.Peer, file.Peer.ToString());
                output.WriteLine(asJson ? HistoryJson.Format(who, file)
                    : $"{who}\t{file.Arena}\t{JsonEncodedText.Encode(file.Path.Value, JavaScriptEncoder.UnsafeRelaxedJsonEscaping)}\t{file.Size} bytes\t{file.Blob.Hex[..12]}");
            }
            return 0;
        });
        return command;
    }

    private static Command Hash(TextWriter output)
    {
        var file = new Argument<string>("FILE") { Description = "The file to hash" };
        var command = new Command("hash", "Print a file's blob: its content hash") { file };
        command.SetAction(parsed =>
        {
            string path = parsed.GetValue(file)!;
            switch (Stat.TryLstat(path)?.Kind)
            {
                case null:
                    throw new RealizeException($"{path}: no such file");
                case FileKind.Directory:
                    throw new RealizeException($"{path} is a directory: 'realize hash' takes a file");
                case FileKind.Regular:
                    break;
                default:
                    throw new RealizeException($"{path} is not a regular file: only regular files have a blob");
            }
            output.WriteLine(ContentHasher.HashFile(path).Hex);
            return 0;
        });
        return command;
    }
}
