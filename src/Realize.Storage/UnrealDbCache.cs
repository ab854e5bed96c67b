using Realize.Core;

namespace Realize.Storage;

/// <summary>A blob of the cache as unreal.db records it.</summary>
/// <param name="BlockList">The SHA-256 of each block, concatenated; null until known.</param>
/// <param name="Blocks">The indexes of the blocks written.</param>
/// <param name="Arena">The arena of the file it was fetched for: served only to peers sharing it.</param>
/// <param name="Seal">Its file's inode and ctime once complete (schema <c>unreal_003.sql</c>); null before.</param>
public sealed record CachedBlobRow(BlobHash Blob, long Size, byte[]? BlockList, bool Complete, long LastUseNs, IReadOnlyList<int> Blocks, ArenaName? Arena, CacheSeal? Seal);

/// <summary>
/// A complete cache file's inode and ctime (ns) as they were once it was complete and synced. The
/// cache never writes it again and a ctime cannot be set back, so a file with another seal was
/// changed behind the cache's back.
/// </summary>
public readonly record struct CacheSeal(ulong Inode, long CTimeNs);

/// <summary>The blob cache's tables of unreal.db (schemas <c>unreal_002.sql</c> and <c>unreal_003.sql</c>): what <see cref="BlobCache"/> keeps across restarts.</summary>
public sealed partial class UnrealDb
{
    private static readonly string[] s_deleteCachedBlob = ["DELETE FROM cached_blocks WHERE blob = $blob", "DELETE FROM cached_blobs WHERE blob = $blob"];

    /// <summary>
    /// Commits on this connection are no longer synced one by one (WAL stays consistent): for the
    /// cache's rows, written at every block. A blob is marked complete only after its file was
    /// synced, and a complete row lost to a power cut is found again at open.
    /// </summary>
    public void RelaxDurability() => Guarded(() => Execute("PRAGMA synchronous=NORMAL"));

    /// <summary>Every cached blob with the blocks it has.</summary>
    public List<CachedBlobRow> ReadCachedBlobs() => Guarded(() =>
    {
        var blocks = new Dictionary<BlobHash, List<int>>();
        using (var command = Command("SELECT blob, idx FROM cached_blocks"))
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                var blob = ReadBlob(reader, 0)!.Value;
                (blocks.TryGetValue(blob, out var list) ? list : blocks[blob] = []).Add(reader.GetInt32(1));
            }
        }
        var rows = new List<CachedBlobRow>();
        using (var command = Command("SELECT blob, size, block_list, complete, last_use, arena, sealed_inode, sealed_ctime FROM cached_blobs"))
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                var blob = ReadBlob(reader, 0)!.Value;
                byte[]? list = reader.IsDBNull(2) ? null : (byte[])reader.GetValue(2);
                ArenaName? arena = reader.IsDBNull(5) ? null : ArenaName.Parse(reader.GetString(5));
                CacheSeal? seal = reader.IsDBNull(6) || reader.IsDBNull(7) ? null : new CacheSeal((ulong)reader.GetInt64(6), reader.GetInt64(7));
                rows.Add(new CachedBlobRow(blob, reader.GetInt64(1), list, reader.GetInt64(3) != 0, reader.GetInt64(4), blocks.GetValueOrDefault(blob) ?? [], arena, seal));
            }
        }
        return rows;
    });

    /// <summary>Records a blob in the cache (or updates its block list, completeness and last use).</summary>
    public void SaveCachedBlob(BlobHash blob, long size, byte[]? blockList, bool complete, long lastUseNs) => Guarded(() =>
    {
        var (command, p) = Prepared("INSERT INTO cached_blobs (blob, size, block_list, complete, last_use) VALUES ($blob, $size, $list, $complete, $use) "
            + "ON CONFLICT (blob) DO UPDATE SET size = excluded.size, block_list = coalesce(excluded.block_list, block_list), complete = excluded.complete, last_use = excluded.last_use",
            "$blob", "$size", "$list", "$complete", "$use");
        p[0].Value = BlobValue(blob);
        p[1].Value = size;
        p[2].Value = (object?)blockList ?? DBNull.Value;
        p[3].Value = complete ? 1 : 0;
        p[4].Value = lastUseNs;
        command.ExecuteNonQuery();
    });

    /// <summary>Records the arena of the file a cached blob is fetched for.</summary>
    public void SaveCachedArena(BlobHash blob, ArenaName arena) => Guarded(() =>
    {
        var (command, p) = Prepared("UPDATE cached_blobs SET arena = $arena WHERE blob = $blob", "$blob", "$arena");
        p[0].Value = BlobValue(blob);
        p[1].Value = arena.Value;
        command.ExecuteNonQuery();
    });

    /// <summary>Records the seal of a complete cached blob's file.</summary>
    public void SaveCachedSeal(BlobHash blob, CacheSeal seal) => Guarded(() =>
    {
        var (command, p) = Prepared("UPDATE cached_blobs SET sealed_inode = $inode, sealed_ctime = $ctime WHERE blob = $blob", "$blob", "$inode", "$ctime");
        p[0].Value = BlobValue(blob);
        p[1].Value = (long)seal.Inode;
        p[2].Value = seal.CTimeNs;
        command.ExecuteNonQuery();
    });

    /// <summary>Records block <paramref name="index"/> of a cached blob as written.</summary>
    public void SaveCachedBlock(BlobHash blob, int index) => Guarded(() =>
    {
        var (command, p) = Prepared("INSERT OR IGNORE INTO cached_blocks (blob, idx) VALUES ($blob, $idx)", "$blob", "$idx");
        p[0].Value = BlobValue(blob);
        p[1].Value = index;
        command.ExecuteNonQuery();
    });

    /// <summary>Forgets a cached blob (its file is gone or going).</summary>
    public void DeleteCachedBlob(BlobHash blob) => Guarded(() =>
    {
        InTransaction(() =>
        {
            foreach (string sql in s_deleteCachedBlob)
            {
                var (command, p) = Prepared(sql, "$blob");
                p[0].Value = BlobValue(blob);
                command.ExecuteNonQuery();
            }
            return 0;
        });
    });
}
