using System.Globalization;

namespace Realize.Bench;

/// <summary>
/// Rows for row groups written as scripts: <c>realize-bench row</c> turns the runs a script
/// measured into a row of the contract (medians, min, max, the text, the ratio, the target met
/// or not), and <c>realize-bench skip</c> writes a row that could not run. Both append to
/// <c>--rows FILE</c> in group <c>--group NAME</c>, as every mode does.
/// </summary>
internal static class ScriptRows
{
    /// <summary>
    /// <c>row --measure TEXT --unit U --realize LABEL=V,V,... [--reference LABEL=V,V,...]
    /// [--ratio as-fast|time] [--target TEXT] [--met-if 'OP N'] [--met-if-speedup 'OP N']
    /// [--cost TEXT] [--reference-cost TEXT]</c>: <c>--met-if</c> compares Realize's median, in
    /// its unit, with N; <c>--met-if-speedup</c> compares how many times as fast it is.
    /// </summary>
    public static int Row(string[] rest)
    {
        string measure = Required(rest, "--measure");
        string unit = Required(rest, "--unit");
        var realize = Series(Required(rest, "--realize"), unit);
        var reference = Options.Text(rest, "--reference") is { } text ? Series(text, unit) : null;
        string? ratio = (Options.Text(rest, "--ratio"), reference) switch
        {
            (null, _) or (_, null) => null,
            ("as-fast", { } r) => Rows.AsFast(realize, r),
            ("time", { } r) => Rows.TimeOf(realize, r),
            (var other, _) => throw new BenchException($"--ratio: '{other}' is neither as-fast nor time"),
        };
        bool? met = null;
        if (Options.Text(rest, "--met-if") is { } test)
        {
            met = Compare(realize.Median, test);
        }
        if (Options.Text(rest, "--met-if-speedup") is { } speedupTest)
        {
            met = reference is null ? throw new BenchException("--met-if-speedup needs --reference") : Compare(Rows.Speedup(realize, reference), speedupTest);
        }
        var cost = Options.Text(rest, "--cost") is { } ours ? new Cost(ours, Options.Text(rest, "--reference-cost")) : null;
        Rows.Write(new Row(Rows.Group, measure, realize, reference, ratio, Options.Text(rest, "--target"), met, null) { Cost = cost });
        return 0;
    }

    /// <summary><c>skip --measure TEXT --why TEXT</c>.</summary>
    public static int Skip(string[] rest)
    {
        Rows.Skip(Required(rest, "--measure"), Required(rest, "--why"));
        return 0;
    }

    /// <summary>"LABEL=V,V,...": a figure of those runs.</summary>
    private static Figure Series(string text, string unit)
    {
        int at = text.LastIndexOf('=');
        if (at <= 0)
        {
            throw new BenchException($"'{text}' is not LABEL=V,V,...");
        }
        var values = text[(at + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(v => double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && double.IsFinite(d)
                ? d
                : throw new BenchException($"'{v}' of '{text}' is not a number"))
            .ToArray();
        return values.Length > 0 ? Figure.Of(text[..at], values, unit) : throw new BenchException($"'{text}' has no runs");
    }

    /// <summary>Whether <paramref name="value"/> passes "OP N" (OP one of &lt;, &lt;=, &gt;, &gt;=).</summary>
    private static bool Compare(double value, string test)
    {
        string[] parts = test.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 2 || !double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double limit))
        {
            throw new BenchException($"'{test}' is not 'OP NUMBER'");
        }
        return parts[0] switch
        {
            "<" => value < limit,
            "<=" => value <= limit,
            ">" => value > limit,
            ">=" => value >= limit,
            _ => throw new BenchException($"'{parts[0]}' of '{test}' is not one of <, <=, >, >="),
        };
    }

    private static string Required(string[] rest, string name) => Options.Text(rest, name) ?? throw new BenchException($"{name} is needed");
}
