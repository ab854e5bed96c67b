using System.Text.Json;
using Realize.Storage;

namespace Realize.Cli.Tests;

/// <summary><c>realize cache</c> without a daemon: what unreal.db records of the blob cache, and the quota from realize.toml.</summary>
public sealed class CacheTests : IDisposable
{
    private readonly CliStore _store = new();

    public CacheTests() => _store.Run("init").AssertSucceeds();

    public void Dispose() => _store.Dispose();

    [Fact]
    public void Cache_ShowsWhatTheCacheHolds_WithoutADaemon()
    {
        var store = Store.Open(_store.StoreDir);
        store.SaveConfig(store.Config with { CacheQuota = 20L << 30 });
        byte[] content = new byte[(4 << 20) + 100];
        new Random(7).NextBytes(content);
        var blob = ContentHasher.HashBytes(content);
        using (var cache = BlobCache.Open(store, 20L << 30))
        {
            // One block of two: a partial blob.
            cache.WriteBlock(blob, content.Length, 0, content.AsSpan(0, 4 << 20));
        }

        string output = _store.Run("cache").AssertSucceeds();

        Assert.Contains("4 MiB of a 20 GiB quota", output, StringComparison.Ordinal);
        Assert.Contains("blobs: 0 complete, 1 partial, 0 open", output, StringComparison.Ordinal);
        Assert.Contains("no daemon is running", output, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(_store.Run("cache", "--json").AssertSucceeds());
        Assert.Equal(4 << 20, json.RootElement.GetProperty("bytes_used").GetInt64());
        Assert.Equal(20L << 30, json.RootElement.GetProperty("quota").GetInt64());
        Assert.Equal(1, json.RootElement.GetProperty("partial").GetInt32());
        Assert.False(json.RootElement.GetProperty("running").GetBoolean());
    }

    [Fact]
    public void Cache_DefaultsToATenthOfItsFilesystem()
    {
        using var json = JsonDocument.Parse(_store.Run("cache", "--json").AssertSucceeds());

        long total = new DriveInfo(Path.Combine(_store.StoreDir, "unreal")).TotalSize;
        Assert.Equal(total / 10, json.RootElement.GetProperty("quota").GetInt64());
        Assert.Equal(0, json.RootElement.GetProperty("bytes_used").GetInt64());
    }
}
