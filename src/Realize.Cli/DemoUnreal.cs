using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using Realize.Core;
using Realize.Real;
using Realize.Storage;

namespace Realize.Cli;

/// <summary>
/// The demo's last part: the Unreal. A server shares a plain directory of sample files; a desk
/// whose merged view lies over the Unreal lists them without holding any, reads them (fetched
/// on demand, verified block by block) and edits one, and the edit arrives back in the
/// server's table of the desk's files.
/// </summary>
internal static class DemoUnreal
{
    public static void Run(TextWriter output, string top)
    {
        int port = Network.Loopback.FreePort();
        string photos = Path.Combine(top, "server-photos");
        Write(Path.Combine(photos, "cat.txt"), "(a picture of a cat)\n");
        Write(Path.Combine(photos, "trip", "beach.txt"), "Sand, sea, sun.\n");
        byte[] video = new byte[9 << 20];
        new Random(2027).NextBytes(video);
        Directory.CreateDirectory(Path.Combine(photos, "trip"));
        File.WriteAllBytes(Path.Combine(photos, "trip", "video.bin"), video);
        var arena = ArenaName.Parse("photos");
        ArenaMarker.Write(photos, arena);
        var server = Store.Create(Path.Combine(top, "server"), new StoreConfig { Listen = $"127.0.0.1:{port}", Arenas = [new ArenaConfig(arena, photos)] });
        string view = Path.Combine(top, "desk-view");
        var desk = Store.Create(Path.Combine(top, "desk"), new StoreConfig { Mount = view, Arenas = [new ArenaConfig(arena)] });
        server.SaveConfig(server.Config with { Peers = [new PeerConfig("desk", desk.LoadPeerId())] });
        desk.SaveConfig(desk.Config with { Peers = [new PeerConfig("server", server.LoadPeerId(), $"127.0.0.1:{port}")] });
        output.WriteLine($"# the Unreal: 'server' shares the plain directory {photos}; 'desk' has a merged view at {view} and no file of its own");
        output.WriteLine($"$ realize --store {desk.Root} init --mount {view}; realize arena add photos; realize peer add server ... --address 127.0.0.1:{port}");
        output.WriteLine("# realize up on both: desk mounts the Unreal (FUSE) under run/unreal, and its merged view over it");
        using var stop = new CancellationTokenSource();
        var options = new Daemon.DaemonOptions();
        var daemons = new[]
        {
            Task.Run(() => Daemon.Daemon.RunAsync(server, options, NullLoggerFactory.Instance, stop.Token)),
            Task.Run(() => Daemon.Daemon.RunAsync(desk, options, NullLoggerFactory.Instance, stop.Token)),
        };
        var running = Task.WhenAny(daemons).Unwrap();
        try
        {
            string videoPath = Path.Combine(view, "photos", "trip", "video.bin");
            var clock = Stopwatch.StartNew();
            Demo.Until(running, () => File.Exists(videoPath), "the server's files to show in the desk's view");
            output.WriteLine($"# in the desk's view within {clock.Elapsed.TotalMilliseconds:0} ms; nothing fetched yet");
            output.WriteLine($"$ ls -lR {view}/photos");
            foreach (var file in Directory.EnumerateFiles(Path.Combine(view, "photos"), "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                var info = new FileInfo(file);
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {info.Length,9} {info.LastWriteTimeUtc:yyyy-MM-dd HH:mm} {Path.GetRelativePath(view, file)}"));
            }
            output.WriteLine("$ cat photos/cat.txt");
            output.Write(File.ReadAllText(Path.Combine(view, "photos", "cat.txt")));
            clock.Restart();
            byte[] read = File.ReadAllBytes(videoPath);
            output.WriteLine($"$ sha256sum photos/trip/video.bin   # 9 MiB fetched on demand in {clock.Elapsed.TotalMilliseconds:0} ms, every 4 MiB block verified");
            output.WriteLine($"{Convert.ToHexStringLower(SHA256.HashData(read))} (the server's: {Convert.ToHexStringLower(SHA256.HashData(video))})");
            clock.Restart();
            _ = File.ReadAllBytes(videoPath);
            output.WriteLine($"# read again from the cache, with FUSE passthrough: {clock.Elapsed.TotalMilliseconds:0} ms");

            output.WriteLine("$ echo 'Edited on the desk.' >> photos/trip/beach.txt   # through the desk's merged view");
            File.AppendAllText(Path.Combine(view, "photos", "trip", "beach.txt"), "Edited on the desk.\n");
            clock.Restart();
            var deskId = desk.LoadPeerId();
            RemoteFile? edited = null;
            Demo.Until(running, () =>
            {
                using var unreal = server.OpenUnreal();
                return (edited = unreal.Find(deskId, arena, RelPath.Parse("trip/beach.txt"))) is not null;
            }, "the desk's edit to reach the server");
            output.WriteLine($"# realize --store {server.Root} files: the edit is in the server's table within {clock.Elapsed.TotalMilliseconds:0} ms");
            output.WriteLine(HistoryJson.Format("desk", edited!));
            var cache = Daemon.ControlClient.SendAsync(desk, new Daemon.ControlRequest("cache")).GetAwaiter().GetResult()?.Cache;
            if (cache is not null)
            {
                output.WriteLine($"# realize --store {desk.Root} cache: {cache.BytesUsed} bytes in {cache.Complete} blobs, {cache.Hits} hits, {cache.Misses} misses, {cache.BlocksFetched} blocks fetched");
            }
        }
        finally
        {
            stop.Cancel();
            foreach (var daemon in daemons)
            {
                daemon.GetAwaiter().GetResult();
            }
        }
        output.WriteLine("# both stopped: the desk's merged view and its Unreal are unmounted");
    }

    private static void Write(string path, string text)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }
}
