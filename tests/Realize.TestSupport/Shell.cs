using System.Diagnostics;

namespace Realize.TestSupport;

/// <summary>What a child process did.</summary>
public sealed record ProcessResult(int ExitCode, string Output, string Error);

/// <summary>
/// Runs other programs (coreutils, openssl, mount, bash) as an independent check of what
/// Realize computes, or to set up what .NET cannot (nanosecond mtimes, non-UTF-8 names).
/// </summary>
public static class Shell
{
    /// <summary>Runs <paramref name="fileName"/> with <paramref name="arguments"/>, each passed as is.</summary>
    /// <param name="environment">Variables to set (a null value removes one).</param>
    public static ProcessResult Run(
        string fileName,
        IEnumerable<string> arguments,
        string? workingDirectory = null,
        IReadOnlyDictionary<string, string?>? environment = null)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? "",
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                start.Environment.Remove(name);
            }
            else
            {
                start.Environment[name] = value;
            }
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {fileName}");
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return new ProcessResult(process.ExitCode, output.GetAwaiter().GetResult(), error.GetAwaiter().GetResult());
    }

    /// <summary>Runs a program that must succeed; returns its standard output.</summary>
    public static string Check(string fileName, params string[] arguments)
    {
        var result = Run(fileName, arguments);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"{fileName} {string.Join(' ', arguments)} exited {result.ExitCode}: {result.Error.Trim()}");
        }
        return result.Output;
    }

    /// <summary>
    /// Runs a bash script (with <c>set -euo pipefail</c>) that must succeed; its positional
    /// parameters <c>$1</c>, <c>$2</c>… are <paramref name="arguments"/>, so paths need no quoting.
    /// </summary>
    public static string Bash(string script, params string[] arguments) =>
        Check("bash", ["-c", "set -euo pipefail; " + script, "bash", .. arguments]);
}
