using System.Globalization;

namespace Realize.TestSupport;

/// <summary>The seeds of a randomised test, and its other settings, from environment variables.</summary>
public static class Seeds
{
    /// <summary>Seeds first, first+1, ...: <paramref name="firstVariable"/> sets the first, <paramref name="runsVariable"/> how many.</summary>
    public static IEnumerable<int> FromEnvironment(string firstVariable, string runsVariable, int first, int runs) =>
        Enumerable.Range(IntFromEnvironment(firstVariable) ?? first, IntFromEnvironment(runsVariable) ?? runs);

    /// <summary>The integer in environment variable <paramref name="name"/>, or null.</summary>
    public static int? IntFromEnvironment(string name) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) ? value : null;
}
