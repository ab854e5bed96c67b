using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Realize.Bench;

/// <summary>
/// <c>report ROWS --md FILE --json FILE [--header KEY=VALUE ...]</c>: the results files of a
/// run. The JSON file is <c>{"header": {KEY: VALUE, ...}, "rows": [row, ...]}</c>, the rows as
/// the groups wrote them; the Markdown file is the header as a list and the rows as one table
/// (what bench/readme-table pastes into the README).
/// </summary>
internal static class Report
{
    private static readonly JsonSerializerOptions s_indented = new()
    {
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static int Write(string rowsFile, string[] rest)
    {
        string md = Options.Text(rest, "--md") ?? throw new BenchException("--md FILE is needed");
        string json = Options.Text(rest, "--json") ?? throw new BenchException("--json FILE is needed");
        var header = new List<(string Key, string Value)>();
        for (int at = 0; at < rest.Length; at++)
        {
            if (rest[at] == "--header" && at + 1 < rest.Length)
            {
                string pair = rest[++at];
                int equals = pair.IndexOf('=', StringComparison.Ordinal);
                header.Add(equals > 0 ? (pair[..equals], pair[(equals + 1)..]) : throw new BenchException($"--header '{pair}' is not KEY=VALUE"));
            }
        }
        var rows = ReadRows(rowsFile);

        var document = new JsonObject
        {
            ["header"] = new JsonObject(header.Select(h => KeyValuePair.Create(h.Key, (JsonNode?)JsonValue.Create(h.Value)))),
            ["rows"] = new JsonArray([.. rows]),
        };
        File.WriteAllText(json, document.ToJsonString(s_indented) + "\n");
        File.WriteAllText(md, Markdown(header, rows));
        return 0;
    }

    /// <summary>The rows file's JSON lines; a line that is no row object stops the report.</summary>
    private static List<JsonObject> ReadRows(string rowsFile)
    {
        var rows = new List<JsonObject>();
        int number = 0;
        foreach (string line in File.Exists(rowsFile) ? File.ReadLines(rowsFile) : [])
        {
            number++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }
            JsonNode? node;
            try
            {
                node = JsonNode.Parse(line);
            }
            catch (JsonException e)
            {
                throw new BenchException($"{rowsFile}:{number} is not JSON: {e.Message}");
            }
            if (node is not JsonObject row || Text(row, "group") is null || Text(row, "measure") is null)
            {
                throw new BenchException($"{rowsFile}:{number} is not a row (an object with a group and a measure)");
            }
            rows.Add(row);
        }
        return rows;
    }

    private static string Markdown(List<(string Key, string Value)> header, List<JsonObject> rows)
    {
        var text = new StringBuilder();
        foreach (var (key, value) in header)
        {
            text.Append(CultureInfo.InvariantCulture, $"- {key}: {value}\n");
        }
        text.Append('\n');
        text.Append("| group | measure | Realize | reference | ratio | target | met? | cost: peak RSS, CPU seconds |\n");
        text.Append("|---|---|---|---|---|---|---|---|\n");
        foreach (var row in rows)
        {
            string[] cells;
            if (Text(row, "skipped") is { } why)
            {
                cells = [Text(row, "group")!, Text(row, "measure")!, $"**skipped**: {why}", "–", "–", Text(row, "target") ?? "–", "–", "–"];
            }
            else
            {
                string met = row["met"]?.GetValue<bool>() switch
                {
                    true => "yes",
                    false => "**no**",
                    null => "–",
                };
                cells = [Text(row, "group")!, Text(row, "measure")!, FigureText(row["realize"], "Realize"), FigureText(row["reference"], null),
                    Text(row, "ratio") ?? "–", Text(row, "target") ?? "–", met, CostText(row["cost"])];
            }
            text.Append("| ").AppendJoin(" | ", cells.Select(Cell)).Append(" |\n");
        }
        text.Append("\nMB = 10^6 bytes. Each figure: the median of its runs (min–max, how many runs).\n");
        return text.ToString();
    }

    /// <summary>"LABEL: TEXT", without the label when it is <paramref name="plain"/>.</summary>
    private static string FigureText(JsonNode? figure, string? plain)
    {
        if (figure is not JsonObject f || Text(f, "text") is not { } text)
        {
            return "–";
        }
        string? label = Text(f, "label");
        return label is null || label == plain ? text : $"{label}: {text}";
    }

    private static string CostText(JsonNode? cost)
    {
        if (cost is not JsonObject c)
        {
            return "–";
        }
        string realize = Text(c, "realize") ?? "–";
        return Text(c, "reference") is { } reference ? $"Realize {realize}; reference {reference}" : $"Realize {realize}";
    }

    private static string? Text(JsonObject node, string name) =>
        node[name] is JsonValue value && value.TryGetValue(out string? text) ? text : null;

    /// <summary>A Markdown table cell: no line breaks, pipes escaped.</summary>
    private static string Cell(string text) => text.Replace("\r", "", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal)
        .Replace("|", "\\|", StringComparison.Ordinal);
}
