namespace Realize.Harness;

/// <summary>
/// The built realize CLI: <paramref name="Dll"/> (realize.dll) run by the dotnet host
/// <paramref name="Dotnet"/>, which runs it in its own process (so its pid is realize's).
/// </summary>
public sealed record RealizeExecutable(string Dotnet, string Dll)
{
    /// <summary>The dotnet host running this process when known (DOTNET_HOST_PATH), else dotnet from PATH.</summary>
    public static string DefaultDotnet =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    /// <summary>
    /// realize.dll in <paramref name="directory"/> (a test project that references src/Realize.Cli
    /// gets it next to its assembly); throws <see cref="FileNotFoundException"/> saying so when it is missing.
    /// </summary>
    public static RealizeExecutable In(string directory) => At(Path.Combine(directory, "realize.dll"));

    /// <summary>The realize.dll at <paramref name="dll"/>; throws <see cref="FileNotFoundException"/> when it is missing.</summary>
    public static RealizeExecutable At(string dll)
    {
        string path = Path.GetFullPath(dll);
        return File.Exists(path)
            ? new RealizeExecutable(DefaultDotnet, path)
            : throw new FileNotFoundException($"{path} is missing: build src/Realize.Cli (a test project must reference it)", path);
    }

    /// <summary>The command line that runs realize with <paramref name="arguments"/>: the program first.</summary>
    public IReadOnlyList<string> Command(IEnumerable<string> arguments) => [Dotnet, Dll, .. arguments];
}
