using System.Globalization;
using System.Text;
using Tomlyn;
using Tomlyn.Model;

namespace Realize.Core;

/// <summary>One arena declared in <c>realize.toml</c>.</summary>
/// <param name="Name">The arena's name, a top-level directory of the merged view.</param>
/// <param name="PlainPath">For a plain-directory arena, the directory shared as it is.</param>
/// <param name="SharedWith">The names of the peers it is shared with; null: every peer.</param>
public sealed record ArenaConfig(ArenaName Name, string? PlainPath = null, IReadOnlyList<string>? SharedWith = null)
{
    /// <summary>Whether this arena is shared with the peer named <paramref name="peer"/>.</summary>
    public bool IsSharedWith(string peer) => SharedWith is null || SharedWith.Contains(peer, StringComparer.Ordinal);
}

/// <summary>A member of the household, as <c>[peers.NAME]</c> declares it.</summary>
/// <param name="Name">What this store calls it: <c>[A-Za-z0-9._-]{1,64}</c>.</param>
/// <param name="Id">Its peer ID: only a certificate with this key is let in.</param>
/// <param name="Address">HOST:PORT where it listens; null for a blind peer.</param>
public sealed record PeerConfig(string Name, PeerId Id, string? Address = null);

/// <summary>
/// The content of a store's <c>realize.toml</c>. Parsing validates every value, so code
/// holding a <see cref="StoreConfig"/> never sees a bad arena name or a relative path.
/// </summary>
public sealed record StoreConfig
{
    /// <summary>Where the merged view is mounted; null when the store has none.</summary>
    public string? Mount { get; init; }

    /// <summary>A directory used as the overlay's lower layer instead of the Unreal.</summary>
    public string? Lower { get; init; }

    /// <summary>HOST:PORT this peer listens on for the household; null for a blind peer.</summary>
    public string? Listen { get; init; }

    /// <summary>The arenas, in the order they were declared.</summary>
    public IReadOnlyList<ArenaConfig> Arenas { get; init; } = [];

    /// <summary>The other members of the household, in the order they were added.</summary>
    public IReadOnlyList<PeerConfig> Peers { get; init; } = [];

    /// <summary>How many days <c>history.keep_days</c> gives when realize.toml does not say.</summary>
    public const int DefaultHistoryKeepDays = 30;

    /// <summary>The most <c>history.keep_days</c> may say: a hundred years is "always".</summary>
    public const int MaxHistoryKeepDays = 36500;

    /// <summary>
    /// <c>[history] keep_days</c>: a peer that has not acknowledged an arena's history for this many
    /// days no longer holds its trimming back (it gets a reset when it returns).
    /// </summary>
    public int HistoryKeepDays { get; init; } = DefaultHistoryKeepDays;

    /// <summary>
    /// <c>[cache] quota</c>: how many bytes the blob cache may hold; null when realize.toml does
    /// not say, and then the caller gives 10% of the store's filesystem.
    /// </summary>
    public long? CacheQuota { get; init; }

    /// <summary>How long <c>cache.fetch_timeout</c> gives when realize.toml does not say.</summary>
    public static readonly TimeSpan DefaultFetchTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The longest <c>cache.fetch_timeout</c> may say.</summary>
    public static readonly TimeSpan MaxFetchTimeout = TimeSpan.FromHours(24);

    /// <summary>
    /// <c>[cache] fetch_timeout</c>: a read of remote content that makes no progress for this
    /// long fails (EIO) instead of hanging.
    /// </summary>
    public TimeSpan FetchTimeout { get; init; } = DefaultFetchTimeout;

    /// <summary>Finds an arena by name.</summary>
    public ArenaConfig? FindArena(ArenaName name) => Arenas.FirstOrDefault(a => a.Name == name);

    /// <summary>Finds a peer by name.</summary>
    public PeerConfig? FindPeer(string name) => Peers.FirstOrDefault(p => p.Name == name);

    /// <summary>Finds a peer by ID.</summary>
    public PeerConfig? FindPeer(PeerId id) => Peers.FirstOrDefault(p => p.Id == id);

    /// <summary>The arenas shared with <paramref name="peer"/>.</summary>
    public IEnumerable<ArenaName> ArenasSharedWith(string peer) => Arenas.Where(a => a.IsSharedWith(peer)).Select(a => a.Name);

    /// <summary>Checks a peer name: like an arena name, <c>[A-Za-z0-9._-]{1,64}</c>.</summary>
    public static bool IsValidPeerName(string? name, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        bool valid = ArenaName.TryParse(name, out _, out error);
        error = error?.Replace("an arena name", "a peer name", StringComparison.Ordinal);
        return valid;
    }

    /// <summary>Checks HOST:PORT (a port from 1 to 65535); the host is resolved when used.</summary>
    public static bool IsValidAddress(string? address, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error) =>
        HostPort.TryParse(address, out _, out error);

    /// <summary>Parses TOML text; throws <see cref="FormatException"/> with a one-line reason.</summary>
    public static StoreConfig Parse(string toml)
    {
        try
        {
            return ParseTable(toml);
        }
        catch (FormatException e)
        {
            // A bad value quoted in the reason may hold a newline: the reason stays one line.
            string reason = string.Concat(e.Message.Select(c => char.IsControl(c) ? $"\\u{(int)c:X4}" : c.ToString()));
            throw new FormatException(WithLine(toml, reason), e);
        }
    }

    /// <summary>
    /// Names the line a reason speaks of, found by what it quotes (<c>arena 'x y'</c>), so that
    /// whoever edits the file by hand is pointed at it; TOML syntax errors come with theirs.
    /// </summary>
    private static string WithLine(string toml, string reason)
    {
        const string Prefix = "realize.toml: ";
        int open = reason.IndexOf('\'');
        int close = open < 0 ? -1 : reason.IndexOf('\'', open + 1);
        if (!reason.StartsWith(Prefix, StringComparison.Ordinal) || close <= open + 1)
        {
            return reason;
        }
        string quoted = reason[(open + 1)..close];
        string[] lines = toml.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            if (lines[i].Contains(quoted, StringComparison.Ordinal))
            {
                return $"{Prefix}line {i + 1}: {reason[Prefix.Length..]}";
            }
        }
        return reason;
    }

    private static StoreConfig ParseTable(string toml)
    {
        TomlTable table;
        try
        {
            table = TomlSerializer.Deserialize<TomlTable>(toml) ?? new TomlTable();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Tomlyn says "(LINE,COLUMN) : error : REASON".
            var where = System.Text.RegularExpressions.Regex.Match(FirstLine(e.Message), @"^\((\d+),(\d+)\)\s*:\s*(?:error\s*:\s*)?(.*)$");
            throw new FormatException(where.Success
                ? $"realize.toml: line {where.Groups[1].Value}, column {where.Groups[2].Value}: not valid TOML: {where.Groups[3].Value}"
                : $"realize.toml: not valid TOML: {FirstLine(e.Message)}", e);
        }

        var arenas = new List<ArenaConfig>();
        if (table.TryGetValue("arenas", out object? arenasValue))
        {
            if (arenasValue is not TomlTable arenaTables)
            {
                throw new FormatException("realize.toml: 'arenas' must be a table of [arenas.NAME] sections");
            }
            foreach (var (key, value) in arenaTables)
            {
                if (!ArenaName.TryParse(key, out ArenaName name, out string? error))
                {
                    throw new FormatException($"realize.toml: arena '{key}': {error}");
                }
                if (value is not TomlTable arena)
                {
                    throw new FormatException($"realize.toml: arena '{key}' must be a table");
                }
                arenas.Add(new ArenaConfig(name, OptionalAbsolutePath(arena, "path", $"arenas.{key}.path"), OptionalPeerList(arena, $"arenas.{key}.peers")));
            }
        }
        var peers = new List<PeerConfig>();
        if (table.TryGetValue("peers", out object? peersValue))
        {
            if (peersValue is not TomlTable peerTables)
            {
                throw new FormatException("realize.toml: 'peers' must be a table of [peers.NAME] sections");
            }
            foreach (var (key, value) in peerTables)
            {
                if (!IsValidPeerName(key, out string? error))
                {
                    throw new FormatException($"realize.toml: peer '{key}': {error}");
                }
                if (value is not TomlTable peer || !peer.TryGetValue("id", out object? idValue) || idValue is not string idText)
                {
                    throw new FormatException($"realize.toml: peer '{key}' needs id = \"PEER-ID\"");
                }
                if (!PeerId.TryParse(idText, out PeerId id))
                {
                    throw new FormatException($"realize.toml: peer '{key}': '{idText}' is not a peer ID ('realize id' prints one)");
                }
                if (peers.Any(p => p.Id == id))
                {
                    throw new FormatException($"realize.toml: peer '{key}' has the same id as peer '{peers.First(p => p.Id == id).Name}'");
                }
                peers.Add(new PeerConfig(key, id, OptionalAddress(peer, "address", $"peers.{key}.address")));
            }
        }
        foreach (var arena in arenas)
        {
            if (arena.SharedWith?.FirstOrDefault(name => !peers.Any(p => p.Name == name)) is { } unknown)
            {
                throw new FormatException($"realize.toml: arena '{arena.Name}' is shared with '{unknown}', which is not in [peers]");
            }
        }
        var (quota, fetchTimeout) = CacheOf(table, toml);
        return new StoreConfig
        {
            HistoryKeepDays = HistoryKeepDaysOf(table, toml),
            CacheQuota = quota,
            FetchTimeout = fetchTimeout,
            Mount = OptionalAbsolutePath(table, "mount", "mount"),
            Lower = OptionalAbsolutePath(table, "lower", "lower"),
            Listen = OptionalAddress(table, "listen", "listen"),
            Arenas = arenas,
            Peers = peers,
        };
    }

    /// <summary>Writes the configuration as TOML.</summary>
    public string ToToml()
    {
        var text = new StringBuilder();
        text.Append("# Realize store configuration. See `realize --help`.\n");
        if (Mount is not null)
        {
            text.Append(CultureInfo.InvariantCulture, $"mount = {Quote(Mount)}\n");
        }
        if (Lower is not null)
        {
            text.Append(CultureInfo.InvariantCulture, $"lower = {Quote(Lower)}\n");
        }
        if (Listen is not null)
        {
            text.Append(CultureInfo.InvariantCulture, $"listen = {Quote(Listen)}\n");
        }
        if (HistoryKeepDays != DefaultHistoryKeepDays)
        {
            text.Append(CultureInfo.InvariantCulture, $"\n[history]\nkeep_days = {HistoryKeepDays}\n");
        }
        if (CacheQuota is not null || FetchTimeout != DefaultFetchTimeout)
        {
            text.Append("\n[cache]\n");
            if (CacheQuota is { } quota)
            {
                text.Append(CultureInfo.InvariantCulture, $"quota = {Quote(ByteSize.Format(quota))}\n");
            }
            if (FetchTimeout != DefaultFetchTimeout)
            {
                text.Append(CultureInfo.InvariantCulture, $"fetch_timeout = {Quote(FormatDuration(FetchTimeout))}\n");
            }
        }
        foreach (var arena in Arenas)
        {
            text.Append(CultureInfo.InvariantCulture, $"\n[arenas.{Quote(arena.Name.Value)}]\n");
            if (arena.PlainPath is not null)
            {
                text.Append(CultureInfo.InvariantCulture, $"path = {Quote(arena.PlainPath)}\n");
            }
            if (arena.SharedWith is not null)
            {
                text.Append(CultureInfo.InvariantCulture, $"peers = [{string.Join(", ", arena.SharedWith.Select(Quote))}]\n");
            }
        }
        foreach (var peer in Peers)
        {
            text.Append(CultureInfo.InvariantCulture, $"\n[peers.{Quote(peer.Name)}]\nid = {Quote(peer.Id.ToString())}\n");
            if (peer.Address is not null)
            {
                text.Append(CultureInfo.InvariantCulture, $"address = {Quote(peer.Address)}\n");
            }
        }
        return text.ToString();
    }

    private static int HistoryKeepDaysOf(TomlTable table, string toml)
    {
        if (!table.TryGetValue("history", out object? historyValue))
        {
            return DefaultHistoryKeepDays;
        }
        if (historyValue is not TomlTable history)
        {
            throw new FormatException("realize.toml: 'history' must be a [history] section");
        }
        if (!history.TryGetValue("keep_days", out object? value))
        {
            return DefaultHistoryKeepDays;
        }
        if (value is long days and >= 1 and <= MaxHistoryKeepDays)
        {
            return (int)days;
        }
        throw SettingError(toml, "history", "keep_days", value, $"give a whole number of days from 1 to {MaxHistoryKeepDays} (the default is {DefaultHistoryKeepDays})");
    }

    private static (long? Quota, TimeSpan FetchTimeout) CacheOf(TomlTable table, string toml)
    {
        if (!table.TryGetValue("cache", out object? cacheValue))
        {
            return (null, DefaultFetchTimeout);
        }
        if (cacheValue is not TomlTable cache)
        {
            throw new FormatException("realize.toml: 'cache' must be a [cache] section");
        }
        long? quota = null;
        if (cache.TryGetValue("quota", out object? quotaValue))
        {
            quota = quotaValue switch
            {
                string text when ByteSize.TryParse(text, out long bytes) && bytes > 0 => bytes,
                long bytes and > 0 => bytes,
                _ => throw SettingError(toml, "cache", "quota", quotaValue, "give a size such as \"20GiB\": a number of bytes, or with a K, M, G or T suffix (KiB, MiB, GiB, TiB: powers of 1024)"),
            };
        }
        var fetchTimeout = DefaultFetchTimeout;
        if (cache.TryGetValue("fetch_timeout", out object? timeoutValue))
        {
            fetchTimeout = timeoutValue is string text && TryParseDuration(text, out var duration) && duration > TimeSpan.Zero && duration <= MaxFetchTimeout
                ? duration
                : throw SettingError(toml, "cache", "fetch_timeout", timeoutValue, $"give a time such as \"30s\", \"500ms\" or \"2m\", more than 0 and at most 24h (the default is 30s)");
        }
        return (quota, fetchTimeout);
    }

    /// <summary>A setting's value refused, naming the line as written, so that the user finds it: TOML allows the key in several forms.</summary>
    private static FormatException SettingError(string toml, string section, string key, object value, string advice)
    {
        int line = Array.FindIndex(toml.Split('\n'), l => !l.TrimStart().StartsWith('#') && l.Contains(key, StringComparison.Ordinal)) + 1;
        string written = value switch
        {
            string text => $"\"{text}\"",
            bool flag => flag ? "true" : "false",
            IFormattable number => number.ToString(null, CultureInfo.InvariantCulture),
            _ => "a table or a list",
        };
        return new FormatException($"realize.toml: {(line > 0 ? $"line {line}: " : "")}'{section}.{key} = {written}': {advice}");
    }

    /// <summary>Parses a duration: a number with ms, s, m or h ("30s", "1.5m").</summary>
    private static bool TryParseDuration(string text, out TimeSpan duration)
    {
        duration = default;
        var match = System.Text.RegularExpressions.Regex.Match(text.Trim(), @"^(\d+(?:\.\d+)?)\s*(ms|s|m|h)$");
        if (!match.Success || !double.TryParse(match.Groups[1].Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double number))
        {
            return false;
        }
        double milliseconds = number * match.Groups[2].Value switch { "ms" => 1, "s" => 1_000, "m" => 60_000, _ => 3_600_000 };
        if (milliseconds > MaxFetchTimeout.TotalMilliseconds)
        {
            duration = TimeSpan.MaxValue;
            return true;
        }
        duration = TimeSpan.FromMilliseconds(Math.Round(milliseconds));
        return true;
    }

    /// <summary>A duration as <see cref="TryParseDuration"/> reads it back.</summary>
    private static string FormatDuration(TimeSpan duration) =>
        duration.Ticks % TimeSpan.TicksPerSecond == 0
            ? $"{(long)duration.TotalSeconds}s"
            : $"{(long)Math.Round(duration.TotalMilliseconds)}ms";

    private static string? OptionalAddress(TomlTable table, string key, string what)
    {
        if (!table.TryGetValue(key, out object? value))
        {
            return null;
        }
        if (value is not string address)
        {
            throw new FormatException($"realize.toml: '{what}' must be \"HOST:PORT\" in quotes");
        }
        return IsValidAddress(address, out string? error) ? address : throw new FormatException($"realize.toml: '{what}': {error}");
    }

    private static List<string>? OptionalPeerList(TomlTable table, string what)
    {
        if (!table.TryGetValue("peers", out object? value))
        {
            return null;
        }
        if (value is not TomlArray array || array.Any(item => item is not string))
        {
            throw new FormatException($"realize.toml: '{what}' must be a list of peer names, such as [\"nas\", \"laptop\"]");
        }
        return array.Cast<string>().ToList();
    }

    private static string? OptionalAbsolutePath(TomlTable table, string key, string what)
    {
        if (!table.TryGetValue(key, out object? value))
        {
            return null;
        }
        if (value is not string path || !Path.IsPathFullyQualified(path))
        {
            throw new FormatException($"realize.toml: '{what}' must be an absolute path in quotes");
        }
        return path;
    }

    private static string Quote(string value)
    {
        var text = new StringBuilder("\"");
        foreach (char c in value)
        {
            switch (c)
            {
                case '"': text.Append("\\\""); break;
                case '\\': text.Append("\\\\"); break;
                case < ' ' or '\u007f': text.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:X4}"); break;
                default: text.Append(c); break;
            }
        }
        return text.Append('"').ToString();
    }

    private static string FirstLine(string message) => message.Split('\n')[0].Trim();
}
