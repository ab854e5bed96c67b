using Realize.TestSupport;

namespace Realize.Cli.Tests;

/// <summary>What one run of <c>realize</c> did.</summary>
internal sealed record CliResult(int ExitCode, string Output, string Error)
{
    /// <summary>The run failed with exit 1 and exactly one line on stderr, no stack trace, nothing on stdout.</summary>
    public string AssertFailsWithOneLine(int exitCode = 1)
    {
        Assert.True(exitCode == ExitCode, $"exit {ExitCode}, expected {exitCode}; stdout: {Output}; stderr: {Error}");
        return AssertOneErrorLine();
    }

    /// <summary>stderr is one line starting "realize: ", without a stack trace; returns it.</summary>
    public string AssertOneErrorLine()
    {
        Assert.EndsWith("\n", Error, StringComparison.Ordinal);
        string line = Error.TrimEnd('\n');
        Assert.DoesNotContain('\n', line);
        Assert.StartsWith("realize: ", line, StringComparison.Ordinal);
        Assert.DoesNotContain(" at Realize.", line, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", line, StringComparison.Ordinal);
        Assert.Equal("", Output);
        return line;
    }

    /// <summary>stderr is one line as <see cref="AssertOneErrorLine"/> says, whatever stdout holds; returns it.</summary>
    public string AssertOneErrorLineBesidesOutput() => (this with { Output = "" }).AssertOneErrorLine();

    /// <summary>The run succeeded with nothing on stderr; returns stdout.</summary>
    public string AssertSucceeds()
    {
        Assert.True(ExitCode == 0, $"exit {ExitCode}; stdout: {Output}; stderr: {Error}");
        Assert.Equal("", Error);
        return Output;
    }
}

/// <summary>Runs <c>realize</c> in this process (Cli.Run) or as a child process (the built realize.dll).</summary>
internal static class CliRun
{
    public static CliResult InProcess(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        int code = Cli.Run(args, output, error);
        return new CliResult(code, output.ToString(), error.ToString());
    }

    /// <summary>Runs <c>dotnet realize.dll</c> with <paramref name="args"/>, optionally as user nobody.</summary>
    public static CliResult Process(string[] args, IReadOnlyDictionary<string, string?>? environment = null, bool asNobody = false)
    {
        string[] command = [RealizeCommand.Dotnet, RealizeCommand.Dll, .. args];
        var result = asNobody
            ? Shell.Run("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", .. command], environment: environment)
            : Shell.Run(command[0], command[1..], environment: environment);
        return new CliResult(result.ExitCode, result.Output, result.Error);
    }
}
