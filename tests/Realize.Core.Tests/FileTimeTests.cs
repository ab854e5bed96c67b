using System.Globalization;
using System.Numerics;

namespace Realize.Core.Tests;

public sealed class FileTimeTests
{
    private static long UnixSeconds(int year, int month, int day, int hour, int minute, int second) =>
        new DateTimeOffset(year, month, day, hour, minute, second, TimeSpan.Zero).ToUnixTimeSeconds();

    [Fact]
    public void ToString_IsRfc3339Utc_WithNineFractionalDigits()
    {
        var time = new FileTime(UnixSeconds(2026, 11, 24, 5, 0, 0), 123_456_789);

        Assert.Equal("2026-11-24T05:00:00.123456789Z", time.ToString());
    }

    [Theory]
    [InlineData(0u, "000000000")]
    [InlineData(5u, "000000005")]
    [InlineData(100u, "000000100")]
    [InlineData(999_999_999u, "999999999")]
    public void ToString_PadsNanosecondsToNineDigits(uint nanoseconds, string digits)
    {
        var time = new FileTime(UnixSeconds(2001, 2, 3, 4, 5, 6), nanoseconds);

        Assert.Equal($"2001-02-03T04:05:06.{digits}Z", time.ToString());
    }

    [Fact]
    public void ToString_OfEpoch() => Assert.Equal("1970-01-01T00:00:00.000000000Z", new FileTime(0, 0).ToString());

    [Fact]
    public void ToString_BeforeEpoch_CountsNanosecondsForward()
    {
        Assert.Equal("1969-12-31T23:59:59.500000000Z", new FileTime(-1, 500_000_000).ToString());
    }

    [Fact]
    public void ToString_UsesTwentyFourHourClockAndUtc()
    {
        var time = new FileTime(UnixSeconds(2024, 2, 29, 23, 59, 58), 1);
        string text = time.ToString();

        Assert.Equal("2024-02-29T23:59:58.000000001Z", text);
        var parsed = DateTimeOffset.ParseExact(text[..19], "yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
        Assert.Equal(time.Seconds, parsed.ToUnixTimeSeconds());
    }

    [Fact]
    public void TotalNanoseconds_IsSecondsTimesBillionPlusNanoseconds()
    {
        var time = new FileTime(1_795_000_000, 123_456_789);

        Assert.Equal(1_795_000_000_123_456_789L, time.TotalNanoseconds);
        Assert.Equal(-500_000_000L, new FileTime(-1, 500_000_000).TotalNanoseconds);
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(1L)]
    [InlineData(-1L)]
    [InlineData(999_999_999L)]
    [InlineData(1_000_000_000L)]
    [InlineData(1_000_000_001L)]
    [InlineData(-999_999_999L)]
    [InlineData(-1_000_000_000L)]
    [InlineData(-1_000_000_001L)]
    [InlineData(1_795_000_000_123_456_789L)]
    [InlineData(-1_795_000_000_123_456_789L)]
    [InlineData(long.MaxValue)]
    [InlineData(long.MinValue)]
    public void FromTotalNanoseconds_IsFloorDivision_AndRoundTrips(long ns)
    {
        // Expected: seconds = floor(ns / 1e9), nanoseconds = ns - seconds * 1e9, in [0, 1e9).
        var big = new BigInteger(ns);
        var billion = new BigInteger(1_000_000_000);
        var seconds = BigInteger.Divide(big, billion);
        if (big.Sign < 0 && seconds * billion != big)
        {
            seconds -= 1;
        }
        var nanoseconds = big - (seconds * billion);

        var time = FileTime.FromTotalNanoseconds(ns);

        Assert.Equal((long)seconds, time.Seconds);
        Assert.Equal((uint)nanoseconds, time.Nanoseconds);
        Assert.InRange(time.Nanoseconds, 0u, 999_999_999u);
        Assert.Equal(ns, time.TotalNanoseconds);
    }

    [Fact]
    public void FromTotalNanoseconds_OfMinusOne_IsOneNanosecondBeforeEpoch()
    {
        var time = FileTime.FromTotalNanoseconds(-1);

        Assert.Equal(new FileTime(-1, 999_999_999), time);
        Assert.Equal("1969-12-31T23:59:59.999999999Z", time.ToString());
    }
}
