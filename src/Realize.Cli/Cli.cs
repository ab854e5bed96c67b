using System.CommandLine;
using Realize.Core;
using Realize.Storage;

namespace Realize.Cli;

/// <summary>The <c>realize</c> command line: parses, dispatches, and turns every error into one line.</summary>
public static class Cli
{
    /// <summary>Runs the command line; returns the exit code.</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var options = new GlobalOptions();
        var root = new RootCommand("Realize: partial file sync for a household of Linux hosts.");
        root.Options.Add(options.Store);
        root.Options.Add(options.Verbose);
        foreach (var command in Commands.All(options, output, error))
        {
            root.Subcommands.Add(command);
        }

        ParseResult parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            string problem = parsed.UnmatchedTokens.Count > 0
                ? $"unknown command or argument '{parsed.UnmatchedTokens[0]}'"
                : parsed.Errors[0].Message;
            error.WriteLine($"realize: {OneLine(problem)} (see 'realize --help')");
            return 2;
        }
        bool verbose = parsed.GetValue(options.Verbose);
        try
        {
            return parsed.Invoke(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (e is RealizeException or IOException or UnauthorizedAccessException or InvalidDataException or FormatException
            or System.Data.Common.DbException or System.Net.Sockets.SocketException)
        {
            error.WriteLine($"realize: {OneLine(e.Message)}");
            if (verbose)
            {
                error.WriteLine(e);
            }
            return 1;
        }
        catch (Exception e)
        {
            error.WriteLine($"realize: unexpected error: {OneLine(e.Message)} ({(verbose ? "please report it" : "run again with --verbose for details, and please report it")})");
            if (verbose)
            {
                error.WriteLine(e);
            }
            return 70;
        }
    }

    private static string OneLine(string message) => message.ReplaceLineEndings(" ").Trim();
}

/// <summary>Options every command accepts.</summary>
internal sealed class GlobalOptions
{
    public Option<string?> Store { get; } = new("--store")
    {
        Description = "The store directory (default: $REALIZE_STORE, else ~/.local/share/realize)",
        Recursive = true,
        HelpName = "DIR",
    };

    public Option<bool> Verbose { get; } = new("--verbose", "-v")
    {
        Description = "Show details, and the stack trace of an error",
        Recursive = true,
    };

    /// <summary>The store directory chosen by --store, $REALIZE_STORE or the per-user default.</summary>
    public string StoreDir(ParseResult parsed)
    {
        if (parsed.GetValue(Store) is { Length: > 0 } explicitDir)
        {
            return Path.GetFullPath(explicitDir);
        }
        if (Environment.GetEnvironmentVariable("REALIZE_STORE") is { Length: > 0 } fromEnvironment)
        {
            return Path.GetFullPath(fromEnvironment);
        }
        string data = Environment.GetEnvironmentVariable("XDG_DATA_HOME") is { Length: > 0 } xdg
            ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share");
        return Path.Combine(data, "realize");
    }

    public Store OpenStore(ParseResult parsed) => Storage.Store.Open(StoreDir(parsed));
}
