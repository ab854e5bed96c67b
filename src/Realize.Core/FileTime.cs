using System.Globalization;

namespace Realize.Core;

/// <summary>A file time with the filesystem's nanoseconds (what <c>statx</c> reports).</summary>
public readonly record struct FileTime(long Seconds, uint Nanoseconds)
{
    /// <summary>Nanoseconds since the Unix epoch, for storage.</summary>
    public long TotalNanoseconds => (Seconds * 1_000_000_000L) + Nanoseconds;

    /// <summary>The inverse of <see cref="TotalNanoseconds"/>.</summary>
    public static FileTime FromTotalNanoseconds(long ns) =>
        new(Math.DivRem(ns, 1_000_000_000L, out long rem) - (rem < 0 ? 1 : 0), (uint)(rem < 0 ? rem + 1_000_000_000L : rem));

    /// <summary>RFC 3339 in UTC with nine fractional digits: <c>2026-11-24T05:00:00.123456789Z</c>.</summary>
    public override string ToString()
    {
        var time = DateTimeOffset.FromUnixTimeSeconds(Seconds);
        return time.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture) + "." + Nanoseconds.ToString("D9", CultureInfo.InvariantCulture) + "Z";
    }
}
