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
    public static int Runs(string[] rest)
    {
        int at = Array.IndexOf(rest, "--runs");
        if (at < 0)
        {
            return DefaultRuns;
        }
        if (at + 1 >= rest.Length)
        {
            throw new BenchException("--runs needs a number");
        }
        return Count(rest[at + 1]);
    }

    /// <summary>A positive count.</summary>
    public static int Count(string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0
            ? n
            : throw new BenchException($"'{text}' is not a positive number");
}
