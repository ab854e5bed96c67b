using System.Diagnostics;
using System.Text;

namespace Realize.Scenarios;

/// <summary>
/// A bash process that stays up in a working directory and runs commands sent to it one after
/// another, as a user's terminal does: what a view does to a shell whose cwd is inside it.
/// Disposing kills it.
/// </summary>
public sealed class LiveShell : IDisposable
{
    private const string End = "__realize_end__";
    private readonly Process _process;

    private LiveShell(Process process) => _process = process;

    /// <summary>Starts bash in <paramref name="directory"/>.</summary>
    public static LiveShell Start(string directory)
    {
        var start = new ProcessStartInfo("bash")
        {
            WorkingDirectory = directory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start bash");
        return new LiveShell(process);
    }

    /// <summary>Runs <paramref name="command"/> (its stderr folded into stdout) and returns what it printed and its exit status.</summary>
    public async Task<(int Status, string Output)> RunAsync(string command, TimeSpan deadline)
    {
        await _process.StandardInput.WriteLineAsync($"{{ {command}\n}} 2>&1; echo \"{End} $?\"");
        await _process.StandardInput.FlushAsync();
        using var timeout = new CancellationTokenSource(deadline);
        var output = new StringBuilder();
        while (true)
        {
            string? line = await _process.StandardOutput.ReadLineAsync(timeout.Token)
                ?? throw new InvalidOperationException($"bash exited ({output}): {await _process.StandardError.ReadToEndAsync(timeout.Token)}");
            // After output that does not end with a newline, the mark ends its last line.
            int mark = line.IndexOf(End, StringComparison.Ordinal);
            if (mark >= 0)
            {
                output.Append(line.AsSpan(0, mark));
                return (int.Parse(line.AsSpan(mark + End.Length + 1), System.Globalization.CultureInfo.InvariantCulture), output.ToString());
            }
            output.Append(line).Append('\n');
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }
        _process.WaitForExit();
        _process.Dispose();
    }
}
