using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Realize.Core;
using Realize.Daemon;

namespace Realize.Cli;

/// <summary><c>realize cache</c>: the blob cache of the Unreal, from the running daemon or, without one, from unreal.db.</summary>
internal static class CacheCommand
{
    public static Command Create(GlobalOptions options, TextWriter output)
    {
        var json = new Option<bool>("--json") { Description = "One JSON object" };
        var command = new Command("cache", "Show the blob cache: bytes used and quota, blobs complete and partial, open, hits and misses, fetches in progress") { json };
        command.SetAction(parsed =>
        {
            var store = options.OpenStore(parsed);
            var answer = ControlClient.SendAsync(store, new ControlRequest("cache")).GetAwaiter().GetResult();
            if (answer is { Error: { } error })
            {
                throw new RealizeException($"the daemon could not answer: {error}");
            }
            var cache = answer?.Cache ?? CacheStatus.Stored(store);
            if (parsed.GetValue(json))
            {
                output.WriteLine(JsonSerializer.Serialize(cache, ControlJson.Default.CacheStatus));
                return 0;
            }
            double share = cache.Quota > 0 ? 100.0 * cache.BytesUsed / cache.Quota : 0;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"cache {Path.Combine(store.UnrealDir, "blobs")}: {Human(cache.BytesUsed)} of a {Human(cache.Quota)} quota ({share:0.#}%)"));
            output.WriteLine($"blobs: {cache.Complete} complete, {cache.Partial} partial, {cache.Held} open");
            if (!cache.Running)
            {
                output.WriteLine("no daemon is running: opens, hits, misses and fetches show while 'realize up' runs");
                return 0;
            }
            output.WriteLine($"since the daemon started: {cache.Hits} hits, {cache.Misses} misses, {cache.BlocksFetched} blocks fetched, "
                + $"{cache.FetchFailures} failed, {cache.Evicted} blobs evicted");
            foreach (var fetch in cache.Fetches)
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"fetching {fetch.Blob[..12]}: {100.0 * fetch.BlocksPresent / Math.Max(1, fetch.Blocks):0}% of {Human(fetch.Size)} ({fetch.BlocksPresent}/{fetch.Blocks} blocks)"));
            }
            return 0;
        });
        return command;
    }

    /// <summary>A size for people: "1.2 GiB".</summary>
    private static string Human(long bytes)
    {
        string[] units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
        double value = bytes;
        int unit = 0;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        return unit == 0 ? string.Create(CultureInfo.InvariantCulture, $"{bytes} bytes") : string.Create(CultureInfo.InvariantCulture, $"{value:0.#} {units[unit]}");
    }
}
