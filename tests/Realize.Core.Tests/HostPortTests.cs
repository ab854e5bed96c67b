namespace Realize.Core.Tests;

public sealed class HostPortTests
{
    [Theory]
    [InlineData("nas.local:7800", "nas.local", 7800)]
    [InlineData("10.0.0.1:65535", "10.0.0.1", 65535)]
    [InlineData("h:1", "h", 1)]
    [InlineData("*:7800", "*", 7800)]
    [InlineData("[::1]:80", "::1", 80)]
    [InlineData("[fe80::1%2]:7800", "fe80::1%2", 7800)]
    public void Parse_SplitsHostAndPort_WithoutTheBrackets(string text, string host, int port)
    {
        var address = HostPort.Parse(text);

        Assert.Equal(host, address.Host);
        Assert.Equal(port, address.Port);
    }

    [Theory]
    [InlineData("nas.local:7800")]
    [InlineData("[::1]:80")]
    [InlineData("*:1")]
    public void ToString_IsTheTextParsed(string text) => Assert.Equal(text, HostPort.Parse(text).ToString());

    [Fact]
    public void IsAnyHost_OnlyForTheStar()
    {
        Assert.True(HostPort.Parse("*:7800").IsAnyHost);
        Assert.False(HostPort.Parse("[::]:7800").IsAnyHost);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("nas.local")]
    [InlineData(":80")]
    [InlineData("nas.local:0")]
    [InlineData("nas.local:70000")]
    [InlineData("nas.local:-1")]
    [InlineData("nas.local:+80")]
    [InlineData("nas.local: 80")]
    [InlineData("[::1]")]
    public void TryParse_RejectsAMissingOrBadPort_NamingTheTextAndTheRange(string? text)
    {
        Assert.False(HostPort.TryParse(text, out _, out string? error));

        Assert.Contains($"'{text}'", error, StringComparison.Ordinal);
        Assert.Contains("1 to 65535", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("fe80::1")]
    [InlineData("::1:7800")]
    public void TryParse_RejectsAnIPv6AddressWithoutBrackets(string text)
    {
        Assert.False(HostPort.TryParse(text, out _, out string? error));

        Assert.Contains("brackets", error, StringComparison.Ordinal);
        Assert.Contains($"'{text}'", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[nas.local]:80")]
    [InlineData("[10.0.0.1]:80")]
    [InlineData("[]:80")]
    public void TryParse_RejectsBracketsAroundWhatIsNotIPv6(string text)
    {
        Assert.False(HostPort.TryParse(text, out _, out string? error));

        Assert.Contains("only an IPv6 address goes in brackets", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("nas local:80")]
    [InlineData("nas/x:80")]
    [InlineData("na]s:80")]
    [InlineData("nas\n:80")]
    public void TryParse_RejectsAHostWithSpacesSlashesOrBrackets(string text)
    {
        Assert.False(HostPort.TryParse(text, out _, out string? error));

        Assert.Contains("is not a host name or address", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ThrowsFormatException_WithTheReason()
    {
        var e = Assert.Throws<FormatException>(() => HostPort.Parse("nas.local:0"));

        Assert.Equal("'nas.local:0' is not HOST:PORT with a port from 1 to 65535", e.Message);
    }
}
