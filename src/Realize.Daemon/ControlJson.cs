using System.Text.Json.Serialization;

namespace Realize.Daemon;

/// <summary>Source-generated JSON for the control socket and <c>status --json</c>.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ControlRequest))]
[JsonSerializable(typeof(ControlResponse))]
[JsonSerializable(typeof(DaemonStatus))]
[JsonSerializable(typeof(CacheStatus))]
public sealed partial class ControlJson : JsonSerializerContext
{
}
