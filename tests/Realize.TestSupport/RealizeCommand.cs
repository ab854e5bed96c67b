using Xunit;

namespace Realize.TestSupport;

/// <summary>The built <c>realize</c> command, for tests that run it as a child process.</summary>
public static class RealizeCommand
{
    /// <summary>The realize.dll built next to the test assembly: the test project must reference src/Realize.Cli.</summary>
    public static string Dll
    {
        get
        {
            string path = Path.Combine(AppContext.BaseDirectory, "realize.dll");
            Assert.True(File.Exists(path), $"{path} is missing: the test project must reference src/Realize.Cli");
            return path;
        }
    }

    /// <summary>The dotnet host that runs <see cref="Dll"/>: the one running the tests when known, else dotnet from PATH.</summary>
    public static string Dotnet =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
}
