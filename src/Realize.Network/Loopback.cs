using System.Net;
using System.Net.Sockets;

namespace Realize.Network;

/// <summary>Ports on this machine, for households that live on one host (the demo, tests, benchmarks).</summary>
public static class Loopback
{
    /// <summary>A loopback port nobody listens on now (the kernel's pick; free until someone takes it).</summary>
    public static int FreePort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }
}
