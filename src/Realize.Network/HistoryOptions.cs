namespace Realize.Network;

/// <summary>Settings of the history service.</summary>
public sealed record HistoryOptions
{
    public LinkOptions Link { get; init; } = new();

    /// <summary>The first wait before connecting again; doubled at each failure up to <see cref="MaxBackoff"/>, with jitter.</summary>
    public TimeSpan MinBackoff { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The longest wait between two attempts to connect.</summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Notifications in one batch.</summary>
    public int BatchSize { get; init; } = 4096;

    /// <summary>Batches sent and not yet acknowledged, at most.</summary>
    public int Window { get; init; } = 8;

    /// <summary>How often a sender writes the acknowledged cursors to index.db.</summary>
    public TimeSpan AckPersistInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>How often history every peer has acknowledged is deleted (zero: never).</summary>
    public TimeSpan TrimInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How long a peer that has not acknowledged an arena's history holds its trimming back; past
    /// it, the history it lacks is trimmed and it gets a reset when it returns. Null: realize.toml's
    /// <c>history.keep_days</c>.
    /// </summary>
    public TimeSpan? KeepFor { get; init; }

    /// <summary>Settings of the BLOB server this service runs in its accept path.</summary>
    public BlobServerOptions BlobServer { get; init; } = new();

    /// <summary>Settings of <see cref="HistoryService.Blobs"/>.</summary>
    public BlobClientOptions BlobClient { get; init; } = new();
}
