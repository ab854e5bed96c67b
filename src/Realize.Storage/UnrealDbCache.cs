using Realize.Core;

namespace Realize.Storage;

/// <summary>A blob of the cache as unreal.db records it.</summary>
/// <param name="BlockList">The SHA-256 of each block, concatenated; null until known.</param>
/// <param name="Blocks">The indexes of the blocks written.</param>
public sealed record CachedBlobRow(BlobHash Blob, long Size, byte[]? BlockList, bool Complete, long LastUseNs, IReadOnlyList<int> Blocks);

/// <summary>The blob cache's tables of unreal.db (schema <c>unreal_002.sql</c>): what <see cref="BlobCache"/> keeps across restarts.</summary>
public sealed partial class UnrealDb
{
    private static readonly string[] s_deleteCachedBlob = ["DELETE FROM cached_blocks WHERE blob = $blob", "DELETE FROM cached_blobs WHERE blob = $blob"];

    /// <summary>
    /// Lets this connection's commits return before they reach the disk (<c>synchronous=NORMAL</c>;
    /// WAL keeps the file consistent): for the blob cache, which records every 4 MiB block it
    /// writes. With <c>FULL</c> each record waited for an fsync (8 ms on average here, 2 s per GiB,
    /// with the cache's lock held); a crash now loses at most the last records, whose blocks are
    /// fetched again. The block data itself is synced only when the blob completes, as before.
    /// </summary>
    public void CommitWithoutSync() => Guarded(() => Execute("PRAGMA synchronous=NORMAL"));

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
        using (var command = Command("SELECT blob, size, block_list, complete, last_use FROM cached_blobs"))
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                var blob = ReadBlob(reader, 0)!.Value;
                byte[]? list = reader.IsDBNull(2) ? null : (byte[])reader.GetValue(2);
                rows.Add(new CachedBlobRow(blob, reader.GetInt64(1), list, reader.GetInt64(3) != 0, reader.GetInt64(4), blocks.GetValueOrDefault(blob) ?? []));
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
