using Realize.TestSupport;

namespace Realize.Cli.Tests;

/// <summary><c>realize demo</c>, the README's first command: it must run, record live, and leave nothing behind.</summary>
public sealed class DemoTests
{
    [Fact]
    public void Demo_RecordsChangesLive_InTheViewAndInAPlainDirectory_SendsThemToTheOtherPeer_AndCleansUp()
    {
        Root.Require();
        var result = CliRun.InProcess("demo");
        string output = result.AssertSucceeds();
        string top = output.Split('\n')[0]["# demo store in ".Length..];
        Assert.Equal(3, output.Split('\n').Count(l => l.StartsWith("# recorded within ", StringComparison.Ordinal)));
        Assert.Contains("\"arena\":\"docs\",\"type\":\"added\",\"path\":\"live.txt\"", output, StringComparison.Ordinal);
        Assert.Contains("\"arena\":\"docs\",\"type\":\"added\",\"path\":\"someday/2027.txt\"", output, StringComparison.Ordinal);
        Assert.Contains("\"arena\":\"music\",\"type\":\"added\",\"path\":\"song.txt\"", output, StringComparison.Ordinal);
        Assert.Contains("\"arena\":\"music\",\"type\":\"added\",\"path\":\"tune.txt\"", output, StringComparison.Ordinal);
        Assert.Contains("# realize status: music unavailable: ", output, StringComparison.Ordinal);
        Assert.Contains("removals recorded meanwhile: 0", output, StringComparison.Ordinal);
        Assert.Equal(2, output.Split('\n').Count(l => l.StartsWith("# in the other peer's table within ", StringComparison.Ordinal)));
        Assert.Contains("{\"peer\":\"nas\",\"arena\":\"docs\",\"path\":\"arrived.txt\"", output, StringComparison.Ordinal);
        Assert.Contains("{\"peer\":\"laptop\",\"arena\":\"music\",\"path\":\"laptop-song.txt\"", output, StringComparison.Ordinal);
        Assert.Contains("# realize status on nas: peer laptop connected", output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(top), $"the demo left {top} behind");
    }
}
