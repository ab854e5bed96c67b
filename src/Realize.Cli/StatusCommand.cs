using System.CommandLine;
using Realize.Core;
using Realize.Daemon;

namespace Realize.Cli;

/// <summary><c>realize status</c>: what the running daemon is doing, from its control socket.</summary>
internal static class StatusCommand
{
    public static Command Create(GlobalOptions options, TextWriter output)
    {
        var json = new Option<bool>("--json") { Description = "One JSON object" };
        var command = new Command("status", "Show what the running daemon is doing") { json };
        command.SetAction(parsed =>
        {
            var store = options.OpenStore(parsed);
            var answer = ControlClient.SendAsync(store, new ControlRequest("status")).GetAwaiter().GetResult()
                ?? throw new RealizeException($"no daemon is running for {store.Root}: start it with 'realize up'");
            var status = answer.Status ?? throw new RealizeException($"the daemon could not answer: {answer.Error ?? "it is still starting"}");
            if (parsed.GetValue(json))
            {
                output.WriteLine(System.Text.Json.JsonSerializer.Serialize(status, ControlJson.Default.DaemonStatus));
                return 0;
            }
            output.WriteLine($"daemon pid {status.Pid}, up since {status.Since:u}{(status.MergedView is null ? "" : $", merged view at {status.MergedView}")}");
            output.WriteLine($"peer ID {status.PeerId}, {(status.Listening is null ? "blind (connects out)" : $"listening on {status.Listening}")}");
            foreach (var arena in status.Arenas)
            {
                output.WriteLine($"arena {arena.Name}{(arena.Path is null ? "" : $" (directory {arena.Path})")}: {arena.FilesIndexed} files indexed, history {arena.HistoryLength}");
                if (arena.Problem is { } arenaProblem)
                {
                    output.WriteLine($"  {arena.State} since {arena.ProblemSince:u}, not recorded: {arenaProblem}; tried again by itself at {arena.NextTry:u}");
                }
            }
            output.WriteLine($"waiting to settle: {status.Waiting}; skipped entries: {status.Skipped}; directories watched: {status.Watches}"
                + $"{(status.Unwatched > 0 ? $" ({status.Unwatched} not watched)" : "")}; rescans after an inotify overflow: {status.Rescans}");
            foreach (var peer in status.Peers)
            {
                string state = peer.Connected
                    ? $"connected since {peer.Since:u} ({string.Join(", ", new[] { peer.Sending ? "sending" : null, peer.Receiving ? "receiving" : null }.OfType<string>())})"
                    : $"not connected{(peer.Since is { } since ? $" since {since:u}" : "")}";
                output.WriteLine($"peer {peer.Name} ({(peer.Address ?? "blind")}): {state}");
                foreach (var arena in peer.Arenas)
                {
                    output.WriteLine($"  arena {arena.Arena}: {arena.Pending} to send, acknowledged up to {arena.Acked}"
                        + $"{(arena.AckedAt is { } at ? $" (last {at:u})" : "")}; received up to {arena.Received}");
                    if (arena.Lapsed)
                    {
                        output.WriteLine($"    behind for longer than history.keep_days: the history it lacks is no longer kept for it; it gets all of {arena.Arena} anew when it returns");
                    }
                }
                if (peer.OnlyHere.Count > 0)
                {
                    output.WriteLine($"  not exchanged, it does not share: {string.Join(", ", peer.OnlyHere)}");
                }
                if (peer.OnlyThere.Count > 0)
                {
                    output.WriteLine($"  not exchanged, shared there but not with it here: {string.Join(", ", peer.OnlyThere)}");
                }
                if (peer.Note is { } note)
                {
                    output.WriteLine($"  {note}");
                }
                if (peer.LastError is { } lastError)
                {
                    output.WriteLine($"  last error: {lastError}");
                }
            }
            foreach (var conflict in status.Conflicts)
            {
                output.WriteLine($"conflict: {conflict.Arena}/{conflict.Path}: {string.Join("; ", conflict.Versions)}");
            }
            if (status.WatchProblem is { } problem)
            {
                output.WriteLine($"warning: {problem}");
            }
            foreach (string error in status.LastErrors)
            {
                output.WriteLine($"error: {error}");
            }
            return 0;
        });
        return command;
    }
}
