namespace Realize.Daemon;

/// <summary>
/// An arena that is not recorded now, and why: unavailable (a plain arena without its marker:
/// its disk is not mounted), or failing (a scan or watch error). It is tried again at
/// <see cref="NextTry"/>, with backoff; the other arenas go on meanwhile.
/// </summary>
internal sealed class ArenaHealth(DateTimeOffset since)
{
    /// <summary>Since when it is not recorded.</summary>
    public DateTimeOffset Since { get; } = since;

    /// <summary>What is wrong and what to do, one line.</summary>
    public string Problem { get; set; } = "";

    /// <summary>True when its directory is not the arena's (no marker): it is not watched either.</summary>
    public bool Unavailable { get; set; }

    /// <summary>Failed attempts in a row.</summary>
    public int Failures { get; set; }

    /// <summary>When it is tried again (Stopwatch ticks).</summary>
    public long NextTry { get; set; }

    /// <summary>When it is tried again.</summary>
    public DateTimeOffset NextTryAt { get; set; }
}
