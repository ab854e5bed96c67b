using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Realize.Bench;

/// <summary>
/// One figure of a row (bench/README.md, "Row format"): the median of <see cref="Runs"/> runs with
/// their minimum and maximum, in <see cref="Unit"/> (<c>s</c>, <c>MB/s</c>, <c>MB</c>, <c>/s</c>,
/// <c>%</c>), and the <see cref="Text"/> the table shows.
/// </summary>
internal sealed record Figure(string Label, double Median, double Min, double Max, string Unit, int Runs, string Text)
{
    /// <summary>
    /// The figure of a series of runs, its text "12.3 ms (10.1–15.0, 5 runs)"; <paramref name="note"/>,
    /// when given, is appended to the text after a semicolon.
    /// </summary>
    public static Figure Of(string label, IReadOnlyList<double> values, string unit, string? note = null)
    {
        double median = Measure.Median(values), min = values.Min(), max = values.Max();
        string text = values.Count == 1
            ? $"{Format(median, unit, withUnit: true)} (1 run)"
            : $"{Format(median, unit, withUnit: true)} ({Format(min, unit, withUnit: false, like: median)}–{Format(max, unit, withUnit: false, like: median)}, {values.Count} runs)";
        return new Figure(label, median, min, max, unit, values.Count, note is null ? text : $"{text}; {note}");
    }

    /// <summary>Rates (<paramref name="amount"/> per second of each run) from a series of run times.</summary>
    public static Figure Rates(string label, IReadOnlyList<double> seconds, double amount, string unit, string? note = null) =>
        Of(label, [.. seconds.Select(s => amount / s)], unit, note);

    /// <summary>
    /// A value in its unit as the table shows it: times under a second in ms, rates and MB/s
    /// without decimals. <paramref name="like"/> picks the scale (the median's, for min and max).
    /// </summary>
    public static string Format(double value, string unit, bool withUnit, double? like = null)
    {
        double scale = like ?? value;
        string number = unit switch
        {
            "s" when scale < 1 => (value * 1000).ToString(value * 1000 < 100 ? "0.0" : "0", CultureInfo.InvariantCulture),
            "s" => value.ToString("0.00", CultureInfo.InvariantCulture),
            "MB/s" or "/s" => value.ToString(scale < 10 ? "0.0" : "0", CultureInfo.InvariantCulture),
            "%" => value.ToString("0.00", CultureInfo.InvariantCulture),
            _ => value.ToString("0.0", CultureInfo.InvariantCulture),
        };
        if (!withUnit)
        {
            return number;
        }
        return unit switch
        {
            "s" when scale < 1 => number + " ms",
            "s" => number + " s",
            "/s" => number + "/s",
            "%" => number + " %",
            _ => number + " " + unit,
        };
    }
}

/// <summary>What the daemons (Realize's) and the reference's processes cost during a row: their peak RSS and CPU seconds.</summary>
internal sealed record Cost(string Realize, string? Reference);

/// <summary>
/// One row of the table, as one JSON line of the rows file (the contract of bench/README.md):
/// Realize's figure, the reference's, their ratio, the target and whether it is met, or why
/// the row could not run (<see cref="Skipped"/>, and no figures).
/// </summary>
internal sealed record Row(string Group, string Measure, Figure? Realize, Figure? Reference, string? Ratio, string? Target, bool? Met, string? Skipped)
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Cost? Cost { get; init; }
}

/// <summary>
/// What a row measured, before the harness adds its group and measure: see <see cref="Rows.Measure"/>.
/// </summary>
internal sealed record Outcome(Figure Realize, Figure? Reference = null, string? Ratio = null, string? Target = null, bool? Met = null, Cost? Cost = null);

/// <summary>
/// The rows file (<c>--rows FILE</c>): every row is appended as one JSON line as soon as it is
/// measured, so that a row that fails later, or a killed run, loses nothing measured before.
/// Without <c>--rows</c> the rows are printed on stdout.
/// </summary>
internal static class Rows
{
    private static readonly JsonSerializerOptions s_json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>The file given by <c>--rows</c>; null prints the rows on stdout.</summary>
    public static string? File { get; set; }

    /// <summary>The group of the rows written (<c>--group</c>, or the mode's own).</summary>
    public static string Group { get; set; } = "bench";

    /// <summary>
    /// Measures one row: the row is written with what <paramref name="measure"/> returns, or,
    /// when it throws, as skipped with the reason; either way the next row still runs.
    /// </summary>
    public static void Measure(string measure, Func<Outcome> run)
    {
        Outcome outcome;
        try
        {
            outcome = run();
        }
        catch (Exception e) when (e is BenchException or IOException or InvalidOperationException or UnauthorizedAccessException
            or TimeoutException or Realize.Core.RealizeException or Microsoft.Data.Sqlite.SqliteException)
        {
            Console.WriteLine($"row '{measure}' failed: {e}");
            Skip(measure, e.Message.Split('\n')[0]);
            return;
        }
        Write(new Row(Group, measure, outcome.Realize, outcome.Reference, outcome.Ratio, outcome.Target, outcome.Met, null) { Cost = outcome.Cost });
    }

    /// <summary>Writes a row that could not run, and why.</summary>
    public static void Skip(string measure, string why) => Write(new Row(Group, measure, null, null, null, null, null, why));

    /// <summary>Appends one row as a JSON line.</summary>
    public static void Write(Row row)
    {
        string line = JsonSerializer.Serialize(row, s_json);
        Console.WriteLine($"ROW {line}");
        if (File is { } path)
        {
            System.IO.File.AppendAllText(path, line + "\n");
        }
    }

    /// <summary>"2.07x as fast": how much faster Realize is, from two times or two rates (the higher rate, the faster).</summary>
    public static string AsFast(Figure realize, Figure reference) =>
        string.Create(CultureInfo.InvariantCulture, $"{Speedup(realize, reference):0.00}x as fast");

    /// <summary>How many times as fast Realize is: the reference's time over Realize's, or Realize's rate over the reference's.</summary>
    public static double Speedup(Figure realize, Figure reference) =>
        realize.Unit == "s" ? reference.Median / realize.Median : realize.Median / reference.Median;

    /// <summary>"1.90x the time": Realize's time over the reference's.</summary>
    public static string TimeOf(Figure realize, Figure reference) =>
        string.Create(CultureInfo.InvariantCulture, $"{realize.Median / reference.Median:0.00}x the time");
}
