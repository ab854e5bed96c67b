using Realize.Daemon;
using Realize.Storage;

namespace Realize.Harness;

/// <summary>Requests to a daemon's control socket with a deadline, failing with what the daemon logged.</summary>
public static class ControlRequests
{
    /// <summary>
    /// Sends <paramref name="command"/> to the daemon on <paramref name="store"/>; throws, with
    /// <paramref name="log"/>, when none answers (<see cref="InvalidOperationException"/>) or it
    /// does not answer within <paramref name="deadline"/> (<see cref="TimeoutException"/>).
    /// </summary>
    /// <param name="who">The daemon, as the messages name it (such as <c>realize up (pid 42)</c>).</param>
    public static async Task<ControlResponse> SendAsync(Store store, string command, TimeSpan deadline, string who, Func<string> log)
    {
        using var timeout = new CancellationTokenSource(deadline);
        try
        {
            return await ControlClient.SendAsync(store, new ControlRequest(command), timeout.Token)
                ?? throw new InvalidOperationException($"{who} did not answer '{command}' (no daemon listens); its log:\n{log()}");
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            throw new TimeoutException($"{who} did not answer '{command}' within {deadline.TotalSeconds:0} s; its log:\n{log()}");
        }
    }
}
