using System.Diagnostics;
using Realize.Core;

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

/// <summary>
/// The arenas not recorded now, and when each is tried again: an unavailable one every
/// <c>retryMin</c> (its check is a stat, and the disk may come back any time), a failing one
/// after <c>retryMin</c> doubling at each failure up to <c>retryMax</c>. Used by the watch loop's thread alone.
/// </summary>
internal sealed class FailingArenas(TimeSpan retryMin, TimeSpan retryMax)
{
    private readonly Dictionary<ArenaName, ArenaHealth> _arenas = [];

    public bool Contains(ArenaName arena) => _arenas.ContainsKey(arena);

    public IEnumerable<KeyValuePair<ArenaName, ArenaHealth>> All => _arenas;

    /// <summary>When the first of them is tried again (Stopwatch ticks); <see cref="long.MaxValue"/> when none fails.</summary>
    public long NextTry => _arenas.Count == 0 ? long.MaxValue : _arenas.Values.Min(h => h.NextTry);

    /// <summary>Records a failed attempt; returns its health, how long until the next try, and whether the problem is news (to be logged).</summary>
    public (ArenaHealth Health, TimeSpan Delay, bool News) Fail(ArenaName arena, string problem, bool unavailable, long now)
    {
        bool first = !_arenas.TryGetValue(arena, out var health);
        health ??= _arenas[arena] = new ArenaHealth(DateTimeOffset.UtcNow);
        bool changed = health.Problem != problem;
        health.Problem = problem;
        health.Unavailable = unavailable;
        health.Failures++;
        var delay = unavailable ? retryMin
            : TimeSpan.FromTicks(Math.Min(retryMax.Ticks, retryMin.Ticks << Math.Min(health.Failures - 1, 20)));
        Postpone(health, now, delay);
        return (health, delay, first || changed);
    }

    /// <summary>Those due now are tried again after <paramref name="delay"/> instead (a failure that was no arena's).</summary>
    public void PostponeDue(long now, TimeSpan delay)
    {
        foreach (var health in _arenas.Values.Where(h => h.NextTry <= now))
        {
            Postpone(health, now, delay);
        }
    }

    /// <summary>True when <paramref name="arena"/> was failing and is recorded again.</summary>
    public bool Recover(ArenaName arena) => _arenas.Remove(arena);

    /// <summary>For <c>status</c>.</summary>
    public Dictionary<ArenaName, ArenaProblem> Problems() => _arenas.ToDictionary(
        f => f.Key,
        f => new ArenaProblem(f.Value.Unavailable ? "unavailable" : "failing", f.Value.Problem, f.Value.Since, f.Value.NextTryAt));

    private static void Postpone(ArenaHealth health, long now, TimeSpan delay)
    {
        health.NextTry = now + (long)(delay.TotalSeconds * Stopwatch.Frequency);
        health.NextTryAt = DateTimeOffset.UtcNow + delay;
    }
}
