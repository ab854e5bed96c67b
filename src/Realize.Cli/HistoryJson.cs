using System.Text.Encodings.Web;
using System.Text.Json;
using Realize.Core;
using Realize.Storage;

namespace Realize.Cli;

/// <summary>How notifications are printed.</summary>
internal static class HistoryJson
{
    private static readonly JsonWriterOptions s_options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>One JSON object on one line, keys in the documented order.</summary>
    public static string Format(Notification n) => Line(writer =>
    {
        writer.WriteNumber("index", n.Index);
        writer.WriteString("arena", n.Arena.Value);
        writer.WriteString("type", TypeName(n.Type));
        writer.WriteString("path", n.Path.Value);
        if (n.Blob is { } blob)
        {
            writer.WriteString("blob", blob.Hex);
        }
        if (n.Size is { } size)
        {
            writer.WriteNumber("size", size);
        }
        if (n.MTime is { } mtime)
        {
            writer.WriteString("mtime", mtime.ToString());
        }
        if (n.OldBlob is { } old)
        {
            writer.WriteString("old_blob", old.Hex);
        }
    });

    /// <summary>A file of another peer as one JSON object on one line.</summary>
    public static string Format(string peer, RemoteFile file) => Line(writer =>
    {
        writer.WriteString("peer", peer);
        writer.WriteString("arena", file.Arena.Value);
        writer.WriteString("path", file.Path.Value);
        writer.WriteString("blob", file.Blob.Hex);
        writer.WriteNumber("size", file.Size);
        writer.WriteString("mtime", file.MTime.ToString());
    });

    /// <summary>One JSON object on one line, its members written by <paramref name="members"/> in order.</summary>
    private static string Line(Action<Utf8JsonWriter> members)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, s_options))
        {
            writer.WriteStartObject();
            members(writer);
            writer.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>A line for people: index, arena, type, path and what changed.</summary>
    public static string FormatText(Notification n) =>
        $"{n.Arena}#{n.Index}\t{TypeName(n.Type),-7}\t{JsonEncodedText.Encode(n.Path.Value, JavaScriptEncoder.UnsafeRelaxedJsonEscaping)}" +
        (n.Blob is { } blob ? $"\t{n.Size} bytes\t{blob.Hex[..12]}" : "");

    public static string TypeName(NotificationType type) => type switch
    {
        NotificationType.Added => "added",
        NotificationType.Updated => "updated",
        NotificationType.Removed => "removed",
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };
}
