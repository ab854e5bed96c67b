using Realize.Harness;

namespace Realize.TestSupport;

/// <summary>The built <c>realize</c> command, for tests that run it as a child process.</summary>
public static class RealizeCommand
{
    /// <summary>The realize.dll built next to the test assembly: the test project must reference src/Realize.Cli.</summary>
    public static RealizeExecutable Executable => RealizeExecutable.In(AppContext.BaseDirectory);

    /// <summary>The path of <see cref="Executable"/>'s realize.dll.</summary>
    public static string Dll => Executable.Dll;

    /// <summary>The dotnet host that runs <see cref="Dll"/>.</summary>
    public static string Dotnet => RealizeExecutable.DefaultDotnet;
}
