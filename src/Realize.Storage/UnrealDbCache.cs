using Realize.Core;

namespace Realize.Storage;

/// <summary>A cached blob's row, as <see cref="BlobCache"/> loads it at start.</summary>
internal sealed record CachedBlobRow(BlobHash Blob, long Size, byte[]? BlockList, bool Complete, long LastUse, List<int> Blocks);

/// <summary>The blob cache's tables of unreal.db (<c>cached_blobs</c>, <c>cached_blocks</c>), for <see cref="BlobCache"/>'s own connection.</summary>
public sealed partial class UnrealDb
{
    /// <summary>
    /// Commits without waiting for the disk on this connection: the cache's records may be lost
    /// by a power cut but never contradict each other, and a blob is marked complete only after
    /// its file was synced.
    /// </summary>
    internal void RelaxDurability() => Guarded(() => Execute("PRAGMA synchronous=NORMAL"));

    /// <summary>Every cached blob with the blocks it has.</summary>
    internal List<CachedBlobRow> LoadCachedBlobs() => Guarded(() =>
    {
        var rows = new Dictionary<BlobHash, CachedBlobRow>();
        using (var command = Command("SELECT blob, size, block_list, complete, last_use FROM cached_blobs"))
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                var blob = ReadBlob(reader, 0)!.Value;
                rows[blob] = new CachedBlobRow(blob, reader.GetInt64(1), reader.IsDBNull(2) ? null : reader.GetFieldValue<byte[]>(2), reader.GetInt64(3) != 0, reader.GetInt64(4), []);
            }
        }
        using (var command = Command("SELECT blob, idx FROM cached_blocks"))
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                if (rows.TryGetValue(ReadBlob(reader, 0)!.Value, out var row))
                {
                    row.Blocks.Add(reader.GetInt32(1));
                }
            }
        }
        return rows.Values.ToList();
    });

    /// <summary>Records a blob in the cache, or its new block list; the blocks it has stay.</summary>
    internal void SaveCachedBlob(BlobHash blob, long size, byte[]? blockList, long lastUse) => Guarded(() =>
    {
        var upsert = PreparedRaw("INSERT INTO cached_blobs (blob, size, block_list, complete, last_use) VALUES (?1, ?2, ?3, 0, ?4) ON CONFLICT (blob) DO UPDATE SET block_list = coalesce(excluded.block_list, block_list), last_use = excluded.last_use");
        upsert.Bind(1, blob);
        upsert.Bind(2, size);
        if (blockList is null)
        {
            upsert.BindNull(3);
        }
        else
        {
            upsert.BindBytes(3, blockList);
        }
        upsert.Bind(4, lastUse);
        upsert.Execute();
    });

    /// <summary>Records that block <paramref name="index"/> of <paramref name="blob"/> is written.</summary>
    internal void AddCachedBlock(BlobHash blob, int index, long lastUse) => Guarded(() => InTransaction(() =>
    {
        var insert = PreparedRaw("INSERT INTO cached_blocks (blob, idx) VALUES (?1, ?2) ON CONFLICT DO NOTHING");
        insert.Bind(1, blob);
        insert.Bind(2, index);
        insert.Execute();
        TouchCachedBlob(blob, lastUse);
        return 0;
    }));

    /// <summary>Marks a blob complete: every block is written and synced.</summary>
    internal void CompleteCachedBlob(BlobHash blob) => Guarded(() =>
    {
        var update = PreparedRaw("UPDATE cached_blobs SET complete = 1 WHERE blob = ?1");
        update.Bind(1, blob);
        update.Execute();
    });

    /// <summary>Records when a blob was last used.</summary>
    internal void TouchCachedBlob(BlobHash blob, long lastUse) => Guarded(() =>
    {
        var update = PreparedRaw("UPDATE cached_blobs SET last_use = ?2 WHERE blob = ?1");
        update.Bind(1, blob);
        update.Bind(2, lastUse);
        update.Execute();
    });

    /// <summary>Forgets a cached blob and its blocks.</summary>
    internal void DeleteCachedBlob(BlobHash blob) => Guarded(() => InTransaction(() =>
    {
        foreach (string sql in (string[])["DELETE FROM cached_blocks WHERE blob = ?1", "DELETE FROM cached_blobs WHERE blob = ?1"])
        {
            var delete = PreparedRaw(sql);
            delete.Bind(1, blob);
            delete.Execute();
        }
        return 0;
    }));
}
