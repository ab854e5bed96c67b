using System.Diagnostics;

namespace Realize.Linux.Tests;

public sealed class SignalsTests
{
    private static Process Sleeper() =>
        Process.Start(new ProcessStartInfo("sleep", "600") { UseShellExecute = false })
        ?? throw new InvalidOperationException("could not start sleep");

    [Fact]
    public void Send_Sigterm_EndsTheProcess_ByThatSignal()
    {
        using var sleeper = Sleeper();
        try
        {
            Assert.True(Signals.Send(sleeper.Id, Signals.SIGTERM));

            Assert.True(sleeper.WaitForExit(TimeSpan.FromSeconds(30)), "sleep did not end on SIGTERM");
            // The runtime reports a death by signal N as exit code 128 + N.
            Assert.Equal(128 + Signals.SIGTERM, sleeper.ExitCode);
        }
        finally
        {
            sleeper.Kill();
        }
    }

    [Fact]
    public void Send_ToAProcessThatExited_AnswersFalse()
    {
        using var sleeper = Sleeper();
        sleeper.Kill();
        sleeper.WaitForExit();

        Assert.False(Signals.Send(sleeper.Id, Signals.SIGTERM));
    }

    [Fact]
    public void Send_AnInvalidSignal_ThrowsWithEinval()
    {
        var e = Assert.Throws<LinuxException>(() => Signals.Send(Environment.ProcessId, -1));

        Assert.Equal(Errno.EINVAL, e.Errno);
        Assert.Equal("kill", e.Operation);
    }
}
