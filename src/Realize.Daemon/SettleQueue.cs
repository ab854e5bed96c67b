using System.Diagnostics;
using Realize.Core;
using Realize.Real;

namespace Realize.Daemon;

/// <summary>
/// Which changed paths wait to be examined, and until when (Stopwatch ticks). Each changed path
/// is examined (with what lies below it) once quiet for the settle delay, or at once when it
/// was closed after writing or is the new name of a rename whose old name inotify gave, unless it was examined less than a settle delay before it changed
/// (and has not been quiet for one since): a file written over and over is then recorded once
/// it stops. The two ends of a rename are examined together, so a moved file keeps its blob unread.
/// Used by the watch loop's thread alone.
/// </summary>
internal sealed class SettleQueue(long settle)
{
    // Paths waiting to be examined -> when they are due.
    private readonly Dictionary<(ArenaName Arena, string Path), long> _due = [];

    // The two ends of a rename.
    private readonly Dictionary<(ArenaName Arena, string Path), (ArenaName Arena, string Path)> _partners = [];

    // Paths something was renamed to, while they wait.
    private readonly HashSet<(ArenaName Arena, string Path)> _renamed = [];

    // Paths examined lately -> when, or when last changed if they changed again within a
    // settle delay of that (they are busy); pruned now and then.
    private readonly Dictionary<(ArenaName Arena, string Path), long> _examined = [];
    private long _pruned;

    /// <summary>Paths waiting.</summary>
    public int Count => _due.Count;

    /// <summary>When the first waiting path is due; <see cref="long.MaxValue"/> when none waits.</summary>
    public long Earliest
    {
        get
        {
            long earliest = long.MaxValue;
            foreach (long due in _due.Values)
            {
                earliest = Math.Min(earliest, due);
            }
            return earliest;
        }
    }

    /// <summary>A change inotify told of.</summary>
    public void Note((ArenaName Arena, string Path) key, bool closed, (ArenaName Arena, string Path)? movedFrom, long now)
    {
        bool examinedLately = _examined.TryGetValue(key, out long when) && now - when < settle;
        if (examinedLately)
        {
            // Still busy: it stays so until quiet for a settle delay, so that a file closed
            // over and over (echo x >> f in a loop) is recorded once more when it stops, not
            // again every settle delay.
            _examined[key] = now;
        }
        // A rename whose two ends inotify paired is whole at once (rename(2) is atomic), as is a
        // file closed after writing: examined now, so that a moved directory reaches the peers
        // without waiting for quiet.
        bool whole = closed || movedFrom is not null;
        _due[key] = whole && !examinedLately ? Math.Min(_due.GetValueOrDefault(key, long.MaxValue), now) : now + settle;
        if (movedFrom is { } source)
        {
            _partners[key] = source;
            _partners[source] = key;
            _renamed.Add(key);
        }
    }

    /// <summary>Due at <paramref name="when"/> at the latest.</summary>
    public void DueBy((ArenaName Arena, string Path) key, long when) =>
        _due[key] = Math.Min(_due.GetValueOrDefault(key, long.MaxValue), when);

    /// <summary>Due at <paramref name="when"/>, unless an event names it first.</summary>
    public void DueIfNew((ArenaName Arena, string Path) key, long when) => _due.TryAdd(key, when);

    /// <summary>Due at <paramref name="when"/>, whatever it was due at.</summary>
    public void DueAt((ArenaName Arena, string Path) key, long when) => _due[key] = when;

    /// <summary>Forgets every path of <paramref name="arena"/>: it is scanned whole, or no longer recorded.</summary>
    public void Drop(ArenaName arena)
    {
        foreach (var key in _due.Keys.Where(k => k.Arena == arena).ToArray())
        {
            Forget(key);
        }
    }

    /// <summary>Forgets <paramref name="key"/> (left for the catch-up scan of the next start).</summary>
    public void Forget((ArenaName Arena, string Path) key)
    {
        _due.Remove(key);
        _partners.Remove(key);
        _renamed.Remove(key);
    }

    /// <summary>
    /// Turns the paths due now (all of them when <paramref name="all"/>) into scan scopes, leaving
    /// out those still settling and those of <paramref name="skip"/>; <paramref name="whole"/>
    /// arenas are scanned whole.
    /// </summary>
    public List<ScanScope> Collect(long now, bool all, IEnumerable<ArenaName> whole, Func<ArenaName, bool> skip)
    {
        var ready = new HashSet<(ArenaName Arena, string Path)>();
        foreach (var (key, due) in _due)
        {
            if ((all || due <= now) && !skip(key.Arena))
            {
                ready.Add(key);
                if (_partners.TryGetValue(key, out var partner) && _due.ContainsKey(partner))
                {
                    ready.Add(partner);
                }
            }
        }
        foreach (var arena in whole)
        {
            ready.Add((arena, ""));
        }
        var scopes = new List<ScanScope>();
        foreach (var group in ready.GroupBy(k => k.Arena))
        {
            var deferred = _due.Keys.Where(k => k.Arena == group.Key && !ready.Contains(k)).Select(k => k.Path).ToHashSet(StringComparer.Ordinal);
            var renamed = group.Where(_renamed.Contains).Select(k => k.Path).ToHashSet(StringComparer.Ordinal);
            scopes.Add(new ScanScope(group.Key, group.Select(k => k.Path).ToArray(), deferred, renamed));
        }
        return scopes;
    }

    /// <summary>The paths of <paramref name="scope"/> were examined at <paramref name="now"/>.</summary>
    public void Examined(ScanScope scope, long now)
    {
        foreach (string path in scope.Paths!)
        {
            var key = (scope.Arena, path);
            Forget(key);
            _examined[key] = now;
        }
    }

    /// <summary>Now and then: forgets examinations older than a settle delay.</summary>
    public void Prune(long now)
    {
        if (now - _pruned <= Stopwatch.Frequency)
        {
            return;
        }
        _pruned = now;
        foreach (var (key, when) in _examined.ToArray())
        {
            if (now - when >= settle)
            {
                _examined.Remove(key);
            }
        }
    }
}
