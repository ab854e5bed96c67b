using System.Globalization;
using System.Text;
using Realize.Core;
using Xunit;

namespace Realize.TestSupport;

/// <summary>Assertions on the history of one arena, whose failure message shows what went wrong rather than a diff of thousands of entries.</summary>
public static class HistoryAssert
{
    /// <summary>
    /// <paramref name="history"/> (of one arena) is exactly one <c>Added</c> per path of
    /// <paramref name="expected"/>, with its blob, and nothing else, with indexes 1..n.
    /// <paramref name="context"/> (a daemon's log, say) ends the failure message.
    /// </summary>
    public static void EachAddedOnce(IReadOnlyList<Notification> history, IReadOnlyDictionary<string, BlobHash> expected, string context = "")
    {
        var problems = new List<string>();
        for (int i = 0; i < history.Count; i++)
        {
            if (history[i].Index != i + 1)
            {
                problems.Add($"entry {i + 1} has index {history[i].Index}");
                break;
            }
        }
        foreach (var group in history.GroupBy(n => n.Path.Value, StringComparer.Ordinal))
        {
            bool once = group.Count() == 1 && group.First() is { Type: NotificationType.Added } n && expected.TryGetValue(group.Key, out var blob) && n.Blob == blob;
            if (!once)
            {
                problems.Add(string.Join(", ", group.Select(Describe)) + (expected.ContainsKey(group.Key) ? "" : " (never made)"));
            }
        }
        var reported = history.Select(n => n.Path.Value).ToHashSet(StringComparer.Ordinal);
        var missing = expected.Keys.Where(p => !reported.Contains(p)).ToList();
        if (missing.Count > 0)
        {
            problems.Add($"{missing.Count} never reported: {string.Join(", ", missing.Take(10))}{(missing.Count > 10 ? ", ..." : "")}");
        }
        if (problems.Count > 0)
        {
            Assert.Fail(new StringBuilder()
                .AppendLine(CultureInfo.InvariantCulture, $"expected each of {expected.Count} files Added once with its blob, indexes 1..{expected.Count}; got {history.Count} notifications, and:")
                .AppendJoin('\n', problems.Take(30).Select(p => "  " + p)).AppendLine()
                .AppendLine(problems.Count > 30 ? $"  ... ({problems.Count} problems in all)" : "")
                .Append(context)
                .ToString());
        }
    }

    /// <summary>One notification on a line: <c>#3 Updated "a/b" size 5 1a2b3c4d (was 5e6f7a8b)</c>.</summary>
    public static string Describe(Notification n) =>
        $"#{n.Index} {n.Type} {Content.Literal(n.Path.Value)}{(n.Size is { } size ? $" size {size}" : "")}{(n.Blob is { } blob ? $" {blob.Hex[..8]}" : "")}{(n.OldBlob is { } old ? $" (was {old.Hex[..8]})" : "")}";
}
