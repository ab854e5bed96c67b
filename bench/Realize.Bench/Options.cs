using System.Globalization;

namespace Realize.Bench;

/// <summary>A benchmark could not run or its result is not what it measures.</summary>
internal sealed class BenchException : Exception
{
    public BenchException(string message)
        : base(message)
    {
    }

    public BenchException()
    {
    }

    public BenchException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>Command-line values.</summary>
internal static class Options
{
    public const int DefaultRuns = 7;

    /// <summary><c>--runs N</c> among <paramref name="rest"/>, at least 1; <see cref="DefaultRuns"/> when absent.</summary>
    public static int Runs(string[] rest) => Number(rest, "--runs", DefaultRuns);

    /// <summary>
    /// <c>NAME N</c> among <paramref name="rest"/>: a count of at least 1, or of at least 0
    /// with <paramref name="zeroAllowed"/>; <paramref name="fallback"/> when absent.
    /// </summary>
    public static int Number(string[] rest, string name, int fallback, bool zeroAllowed = false)
    {
        if (Text(rest, name) is not { } text)
        {
            return fallback;
        }
        return zeroAllowed && text == "0" ? 0 : Count(text);
    }

    /// <summary>The value of <c>NAME VALUE</c> among <paramref name="rest"/>; null when absent.</summary>
    public static string? Text(string[] rest, string name)
    {
        int at = Array.IndexOf(rest, name);
        if (at < 0)
        {
            return null;
        }
        if (at + 1 >= rest.Length)
        {
            throw new BenchException($"{name} needs a value");
        }
        return rest[at + 1];
    }

    /// <summary>A positive count.</summary>
    public static int Count(string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0
            ? n
            : throw new BenchException($"'{text}' is not a positive number");
}
