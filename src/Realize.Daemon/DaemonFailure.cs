using System.Runtime.ExceptionServices;
using Microsoft.Extensions.Hosting;

namespace Realize.Daemon;

/// <summary>
/// A failure no service can contain (index.db unusable, say): the first one stops the host, and
/// <c>realize up</c> then exits with it. Failures confined to an arena or a peer never come here.
/// </summary>
internal sealed class DaemonFailure(IHostApplicationLifetime lifetime)
{
    private ExceptionDispatchInfo? _first;

    public void Fail(Exception e)
    {
        Interlocked.CompareExchange(ref _first, ExceptionDispatchInfo.Capture(e), null);
        lifetime.StopApplication();
    }

    public void ThrowIfFailed() => Volatile.Read(ref _first)?.Throw();
}
