using Realize.Core;

namespace Realize.Storage;

/// <summary>The history log of <see cref="IndexDb"/>: reading it in order, and trimming what every peer acknowledged.</summary>
public sealed partial class IndexDb
{
    /// <summary>The history of <paramref name="arena"/> (all arenas when null, by name, each in order) after index <paramref name="since"/>.</summary>
    public IEnumerable<Notification> ReadHistory(ArenaName? arena, long since = 0)
    {
        const int Batch = 4096;
        foreach (var name in arena is { } one ? [one] : Guarded(ArenasWithHistory))
        {
            // In batches through the one reading path, each read finished before its rows are
            // handed out: the caller may use this connection meanwhile.
            var batch = new List<Notification>(Batch);
            long after = since;
            do
            {
                batch.Clear();
                ReadHistory(name, after, Batch, batch);
                foreach (var notification in batch)
                {
                    yield return notification;
                }
                after = batch.Count > 0 ? batch[^1].Index : after;
            }
            while (batch.Count == Batch);
        }
    }

    private List<ArenaName> ArenasWithHistory()
    {
        var (command, _) = Prepared("SELECT name FROM arenas ORDER BY name");
        using var reader = command.ExecuteReader();
        var names = new List<ArenaName>();
        while (reader.Read())
        {
            names.Add(ArenaName.Parse(reader.GetString(0)));
        }
        return names;
    }

    /// <summary>At most <paramref name="limit"/> entries of <paramref name="arena"/>'s history after index <paramref name="since"/>, appended to <paramref name="into"/>.</summary>
    public void ReadHistory(ArenaName arena, long since, int limit, List<Notification> into) => Guarded(() =>
    {
        // SQLite's own API: what a peer is sent, a million rows in a row.
        var query = PreparedRaw("SELECT idx, type, path, blob, size, mtime_ns, old_blob FROM history WHERE arena = ?1 AND idx > ?2 ORDER BY idx LIMIT ?3");
        query.Bind(1, arena.Value);
        query.Bind(2, since);
        query.Bind(3, limit);
        try
        {
            ReadRows(query, arena, into);
        }
        finally
        {
            query.Reset();
        }
    });

    private void ReadRows(RawStatement query, ArenaName arena, List<Notification> into)
    {
        while (query.Read())
        {
            into.Add(new Notification(
                query.Value(0),
                arena,
                (NotificationType)query.Value(1),
                RelPath.Parse(query.Text(2)),
                query.Blob(3, DatabaseName),
                query.NullableValue(4),
                query.NullableValue(5) is { } ns ? FileTime.FromTotalNanoseconds(ns) : null,
                query.Blob(6, DatabaseName)));
        }
    }

    /// <summary>
    /// The first index of <paramref name="arena"/>'s history still kept: entries before it were
    /// trimmed. One past <see cref="LastIndex"/> when none is kept.
    /// </summary>
    public long FirstIndex(ArenaName arena) => Guarded(() =>
    {
        var (command, p) = Prepared("SELECT min(idx) FROM history WHERE arena = $arena", "$arena");
        p[0].Value = arena.Value;
        return command.ExecuteScalar() is long first ? first : NextIndex(arena);
    });

    /// <summary>Deletes the entries of <paramref name="arena"/>'s history up to index <paramref name="through"/>; returns how many.</summary>
    public int TrimHistory(ArenaName arena, long through) => Guarded(() =>
    {
        return InTransaction(() =>
        {
            var (command, p) = Prepared("DELETE FROM history WHERE arena = $arena AND idx <= $through", "$arena", "$through");
            p[0].Value = arena.Value;
            p[1].Value = through;
            return command.ExecuteNonQuery();
        });
    });
}
