using System.Globalization;
using System.Text.RegularExpressions;

namespace Realize.Core;

/// <summary>Sizes in bytes as a user writes them: "20GiB", "512M", "1.5T", "4096". K, M, G and T are powers of 1024 (IEC), also when written KB, MB...</summary>
public static partial class ByteSize
{
    private static readonly (string Unit, long Bytes)[] s_units = [("TiB", 1L << 40), ("GiB", 1L << 30), ("MiB", 1L << 20), ("KiB", 1L << 10)];

    /// <summary>Parses a size; false for anything else, a negative size or one beyond a long.</summary>
    public static bool TryParse(string? text, out long bytes)
    {
        bytes = 0;
        var match = text is null ? Match.Empty : Pattern().Match(text);
        if (!match.Success || !decimal.TryParse(match.Groups[1].Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out decimal number))
        {
            return false;
        }
        long unit = char.ToUpperInvariant(match.Groups[2].Value.FirstOrDefault()) switch
        {
            'K' => 1L << 10,
            'M' => 1L << 20,
            'G' => 1L << 30,
            'T' => 1L << 40,
            _ => 1,
        };
        decimal value = decimal.Floor(number * unit);
        if (value > long.MaxValue)
        {
            return false;
        }
        bytes = (long)value;
        return true;
    }

    /// <summary>A size in the largest unit that writes it exactly ("20GiB"), or in bytes.</summary>
    public static string Format(long bytes)
    {
        foreach (var (unit, size) in s_units)
        {
            if (bytes != 0 && bytes % size == 0)
            {
                return string.Create(CultureInfo.InvariantCulture, $"{bytes / size}{unit}");
            }
        }
        return bytes.ToString(CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"^\s*(\d+(?:\.\d+)?)\s*(?:([KMGT])(?:i?B)?|B)?\s*$", RegexOptions.IgnoreCase)]
    private static partial Regex Pattern();
}
