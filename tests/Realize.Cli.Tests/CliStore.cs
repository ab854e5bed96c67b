using Realize.Linux;
using Realize.TestSupport;

namespace Realize.Cli.Tests;

/// <summary>
/// A temporary directory with room for a store, a lower directory and a merged view;
/// Dispose unmounts whatever a test left mounted, also when it failed.
/// </summary>
internal sealed class CliStore : IDisposable
{
    private readonly TempDir _dir = new("cli");

    public CliStore(string? storeDir = null)
    {
        StoreDir = storeDir ?? _dir.Combine("store");
        Lower = _dir.Combine("lower");
        View = _dir.Combine("view");
    }

    public string Top => _dir.Path;

    public string StoreDir { get; }

    public string Lower { get; }

    public string View { get; }

    public string Combine(params string[] parts) => _dir.Combine(parts);

    /// <summary>Runs realize in this process with <c>--store</c> set to this store.</summary>
    public CliResult Run(params string[] args) => CliRun.InProcess(["--store", StoreDir, .. args]);

    /// <summary><c>init --lower --mount</c> after creating the lower directory; returns the printed peer ID.</summary>
    public string InitWithLower(Action<string>? prepareLower = null)
    {
        Directory.CreateDirectory(Lower);
        prepareLower?.Invoke(Lower);
        return Run("init", "--lower", Lower, "--mount", View).AssertSucceeds().Trim();
    }

    public void Dispose()
    {
        try
        {
            while (Mounts.FindMount(View) is not null)
            {
                Mounts.Unmount(View, detach: true);
            }
        }
        finally
        {
            _dir.Dispose();
        }
    }
}
