using System.Net.Sockets;
using System.Text;
using Realize.Harness;
using Realize.Linux;
using Realize.TestSupport;

namespace Realize.Daemon.Tests;

/// <summary>
/// Readiness for a service manager (systemd's <c>Type=notify</c>): <c>READY=1</c> on
/// <c>NOTIFY_SOCKET</c> once the merged view is mounted and the catch-up scan done, and
/// <c>STOPPING=1</c> when stopped. The test is the manager: it listens on a datagram socket.
/// </summary>
public sealed class ReadinessTests : IDisposable
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(60);

    private readonly OverlayStore _overlay = new(["docs"]);
    private readonly TempDir _dir = new("notify");

    [Fact]
    public async Task NotifySocket_GetsReady_OnceMountedAndCaughtUp_AndStopping_OnSigterm()
    {
        // Made while the daemon was down: the catch-up scan finds it.
        // Enough of them that the catch-up takes a while: READY=1 must wait for all.
        for (int d = 0; d < 20; d++)
        {
            Directory.CreateDirectory(_overlay.InView($"docs/d{d}"));
            for (int f = 0; f < 100; f++)
            {
                File.WriteAllText(_overlay.InView($"docs/d{d}/f{f}.txt"), $"made before up {d} {f}\n");
            }
        }
        File.WriteAllText(_overlay.InView("docs/before.txt"), "made before up\n");
        _overlay.Unmount();
        string path = _dir.Combine("notify.sock");
        using var manager = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        manager.Bind(new UnixDomainSocketEndPoint(path));

        using var daemon = DaemonProcess.Start(RealizeCommand.Executable, _overlay.Store, [], ["env", $"NOTIFY_SOCKET={path}"]);
        string ready = await ReceiveAsync(manager, daemon);
        // Checked the moment READY=1 arrives: nothing may still be on its way.
        bool mounted = Mounts.FindMount(_overlay.View) is not null;
        var history = InProcessDaemon.History(_overlay.Store);

        Assert.Equal("READY=1", ready);
        Assert.True(mounted, "the merged view is mounted before READY=1");
        Assert.Contains(history, n => n.Path.Value == "before.txt");
        Assert.Equal(2001, history.Count);
        Assert.Equal(0, daemon.Stop(s_deadline));
        Assert.Equal("STOPPING=1", await ReceiveAsync(manager, daemon));
    }

    private static async Task<string> ReceiveAsync(Socket manager, DaemonProcess daemon)
    {
        var buffer = new byte[256];
        using var timeout = new CancellationTokenSource(s_deadline);
        try
        {
            int length = await manager.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            return Encoding.UTF8.GetString(buffer, 0, length).Trim();
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"no notification within {s_deadline.TotalSeconds} s; the daemon's log:\n{daemon.Log}");
        }
    }

    public void Dispose()
    {
        _overlay.Dispose();
        _dir.Dispose();
    }
}
