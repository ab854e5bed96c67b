using Realize.Core;
using Realize.Storage;
using Realize.TestSupport;

namespace Realize.Network.Tests;

public sealed class BackoffTests : IDisposable
{
    private readonly TempDir _dir = new("backoff");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Backoff_DoublesFromTheMinimum_IsCapped_AndIsJittered()
    {
        var store = Store.Create(_dir.Combine("store"), new StoreConfig());
        using var identity = PeerIdentity.Load(store);
        var options = new HistoryOptions { MinBackoff = TimeSpan.FromSeconds(1), MaxBackoff = TimeSpan.FromSeconds(10) };
        using var service = new HistoryService(store, identity, new HistoryFeed(), options, new RecordingLoggerFactory().CreateLogger("t"));

        for (int failures = 1; failures <= 40; failures++)
        {
            double full = Math.Min(10, Math.Pow(2, Math.Min(failures - 1, 30)));
            var waits = Enumerable.Range(0, 200).Select(_ => service.Backoff(failures).TotalSeconds).ToArray();

            Assert.All(waits, w => Assert.InRange(w, full / 2, full));
            // Jitter: two peers that failed together do not come back together.
            Assert.True(waits.Distinct().Count() > 100, $"waits after {failures} failures are spread");
        }
    }
}
