using Microsoft.Extensions.Logging;

namespace Realize.Daemon;

/// <summary>The last errors of the daemon's services, with their time, for <c>status</c>; each is also logged.</summary>
internal sealed class DaemonErrors(ILogger logger)
{
    private const int Kept = 10;

    // Guards _last; written by every service, read by the control server.
    private readonly Lock _gate = new();
    private readonly Queue<string> _last = new();

    /// <summary>Logs <paramref name="message"/> as an error and keeps it for <c>status</c>.</summary>
    public void Record(string message)
    {
        Log.Error(logger, message);
        Remember(message);
    }

    /// <summary>Keeps <paramref name="message"/> for <c>status</c>, already logged in its own words.</summary>
    public void Remember(string message)
    {
        lock (_gate)
        {
            _last.Enqueue($"{DateTimeOffset.UtcNow:u} {message}");
            while (_last.Count > Kept)
            {
                _last.Dequeue();
            }
        }
    }

    /// <summary>Oldest first.</summary>
    public string[] Last()
    {
        lock (_gate)
        {
            return [.. _last];
        }
    }
}
