namespace Realize.Core.Tests;

public sealed class StoreConfigCacheTests
{
    private static string Rejected(string toml) => Assert.Throws<FormatException>(() => StoreConfig.Parse(toml)).Message;

    [Fact]
    public void Parse_WithoutACacheSection_LeavesTheQuotaToTheCaller_AndWaits30s()
    {
        var config = StoreConfig.Parse("[cache]\n");

        Assert.Null(config.CacheQuota);
        Assert.Equal(TimeSpan.FromSeconds(30), config.FetchTimeout);
        Assert.Null(StoreConfig.Parse("").CacheQuota);
    }

    [Theory]
    [InlineData("\"20GiB\"", 20L << 30)]
    [InlineData("\"20G\"", 20L << 30)]
    [InlineData("\"20 gb\"", 20L << 30)]
    [InlineData("\"512MiB\"", 512L << 20)]
    [InlineData("\"1.5TiB\"", 3L << 39)]
    [InlineData("\"64K\"", 64L << 10)]
    [InlineData("\"4096\"", 4096L)]
    [InlineData("\"4096B\"", 4096L)]
    [InlineData("1000000", 1000000L)]
    public void Parse_ReadsTheQuota_InBytesWithIecSuffixes(string value, long bytes) =>
        Assert.Equal(bytes, StoreConfig.Parse($"[cache]\nquota = {value}\n").CacheQuota);

    [Theory]
    [InlineData("\"30s\"", 30_000)]
    [InlineData("\"500ms\"", 500)]
    [InlineData("\"2m\"", 120_000)]
    [InlineData("\"1.5s\"", 1_500)]
    [InlineData("\"1h\"", 3_600_000)]
    public void Parse_ReadsTheFetchTimeout(string value, int milliseconds) =>
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), StoreConfig.Parse($"cache.fetch_timeout = {value}\n").FetchTimeout);

    [Theory]
    [InlineData("\"lots\"")]
    [InlineData("\"0\"")]
    [InlineData("0")]
    [InlineData("-5")]
    [InlineData("\"20PiB\"")]
    [InlineData("\"-1G\"")]
    [InlineData("\"99999999999T\"")]
    [InlineData("1.5")]
    [InlineData("true")]
    public void Parse_RejectsABadQuota_NamingTheLineAndTheValue(string value)
    {
        string message = Rejected($"# quota in a comment is not the line\nmount = \"/m\"\n\n[cache]\nquota = {value}\n");

        Assert.StartsWith("realize.toml: line 5: 'cache.quota = ", message, StringComparison.Ordinal);
        Assert.Contains("20GiB", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"30\"")]
    [InlineData("30")]
    [InlineData("\"0s\"")]
    [InlineData("\"25h\"")]
    [InlineData("\"soon\"")]
    public void Parse_RejectsABadFetchTimeout_NamingTheLineAndTheValue(string value)
    {
        string message = Rejected($"[cache]\nquota = \"1G\"\nfetch_timeout = {value}\n");

        Assert.StartsWith("realize.toml: line 3: 'cache.fetch_timeout = ", message, StringComparison.Ordinal);
        Assert.Contains("30s", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_RejectsACacheThatIsNotASection() =>
        Assert.Contains("[cache]", Rejected("cache = 5\n"), StringComparison.Ordinal);

    [Theory]
    [InlineData(20L << 30, 30_000)]
    [InlineData(12345L, 1_500)]
    [InlineData(3L << 39, 90_000)]
    public void ToToml_ThenParse_RoundTripsTheCacheSettings(long quota, int milliseconds)
    {
        var config = new StoreConfig { CacheQuota = quota, FetchTimeout = TimeSpan.FromMilliseconds(milliseconds) };

        var parsed = StoreConfig.Parse(config.ToToml());

        Assert.Equal((quota, config.FetchTimeout), (parsed.CacheQuota, parsed.FetchTimeout));
    }

    [Fact]
    public void ToToml_WritesTheQuotaInItsLargestUnit_AndLeavesDefaultsUnwritten()
    {
        Assert.Contains("quota = \"20GiB\"", new StoreConfig { CacheQuota = 20L << 30 }.ToToml(), StringComparison.Ordinal);
        Assert.DoesNotContain("fetch_timeout", new StoreConfig { CacheQuota = 20L << 30 }.ToToml(), StringComparison.Ordinal);
        Assert.DoesNotContain("cache", new StoreConfig().ToToml(), StringComparison.Ordinal);
    }
}
