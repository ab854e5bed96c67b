using System.Security.Cryptography;
using Realize.TestSupport;

namespace Realize.Cli.Tests;

/// <summary><c>realize hash</c>, and how errors reach the user.</summary>
public sealed class CommandLineTests : IDisposable
{
    private const int MiB4 = 4 * 1024 * 1024;
    private readonly TempDir _dir = new("cli-hash");

    public void Dispose() => _dir.Dispose();

    /// <summary>SHA-256 over the concatenated SHA-256 of each 4 MiB block.</summary>
    private static string Expected(byte[] content)
    {
        using var digests = new MemoryStream();
        for (int start = 0; start < content.Length; start += MiB4)
        {
            digests.Write(SHA256.HashData(content.AsSpan(start, Math.Min(MiB4, content.Length - start))));
        }
        return Convert.ToHexStringLower(SHA256.HashData(digests.ToArray()));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(12)]
    [InlineData((2 * MiB4) + 5)]
    public void Hash_PrintsTheContentHash(int size)
    {
        byte[] content = new byte[size];
        new Random(size).NextBytes(content);
        string path = _dir.Combine("file");
        File.WriteAllBytes(path, content);

        string output = CliRun.InProcess("hash", path).AssertSucceeds();

        Assert.Equal(Expected(content) + "\n", output);
    }

    [Fact]
    public void Hash_OfAMissingFile_FailsWithOneLine()
    {
        string line = CliRun.InProcess("hash", _dir.Combine("missing")).AssertFailsWithOneLine();

        Assert.Contains(_dir.Combine("missing"), line, StringComparison.Ordinal);
    }

    [Fact]
    public void Hash_OfADirectory_FailsWithOneLine() =>
        Assert.Contains("directory", CliRun.InProcess("hash", _dir.Path).AssertFailsWithOneLine(), StringComparison.Ordinal);

    [Fact]
    public void UnknownCommand_PrintsOneLine()
    {
        var result = CliRun.InProcess("frobnicate");

        Assert.NotEqual(0, result.ExitCode);
        result.AssertOneErrorLine();
    }

    [Fact]
    public void MissingArgument_FailsWithOneLine()
    {
        var result = CliRun.InProcess("hash");

        Assert.NotEqual(0, result.ExitCode);
        result.AssertOneErrorLine();
    }

    [Fact]
    public void UnknownOption_FailsWithOneLine()
    {
        var result = CliRun.InProcess("history", "--frob");

        Assert.NotEqual(0, result.ExitCode);
        result.AssertOneErrorLine();
    }

    [Fact]
    public void Verbose_AddsTheStackTrace_ToTheOneLine()
    {
        var result = CliRun.InProcess("--verbose", "hash", _dir.Combine("missing"));

        Assert.Equal(1, result.ExitCode);
        string[] lines = result.Error.TrimEnd('\n').Split('\n');
        Assert.StartsWith("realize: ", lines[0], StringComparison.Ordinal);
        Assert.True(lines.Length > 1, result.Error);
        Assert.Contains(lines, l => l.TrimStart().StartsWith("at Realize.Cli.", StringComparison.Ordinal));
    }

    [Fact]
    public void Help_ListsTheCommands()
    {
        var result = CliRun.InProcess("--help");

        Assert.Equal(0, result.ExitCode);
        foreach (string command in new[] { "init", "id", "arena", "mount", "unmount", "scan", "history", "hash" })
        {
            Assert.Contains($"  {command} ", result.Output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void TheBuiltBinary_RunsAsAChildProcess_AndPrintsTheSameHash()
    {
        string path = _dir.Combine("file");
        File.WriteAllText(path, "hello\n");

        var result = CliRun.Process(["hash", path]);

        Assert.Equal(Expected("hello\n"u8.ToArray()) + "\n", result.AssertSucceeds());
    }

    [Fact]
    public void MistypedCommand_IsNamedInTheError()
    {
        var result = CliRun.InProcess("histroy", "docs");
        Assert.Contains("'histroy'", result.AssertOneErrorLine(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Hash_OfAFifo_FailsWithOneLine_InsteadOfWaitingForAWriter()
    {
        string fifo = _dir.Combine("fifo");
        Posix.Mkfifo(fifo);
        var run = Task.Run(() => CliRun.InProcess("hash", fifo));
        var finished = await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(20)));
        if (finished != run)
        {
            // Unblock the open(2) so the test run ends.
            await using (new FileStream(fifo, FileMode.Open, FileAccess.Write))
            {
            }
            await run;
        }
        Assert.True(finished == run, "realize hash blocked opening the FIFO until a writer came");
        Assert.Contains("not a regular file", (await run).AssertFailsWithOneLine(), StringComparison.Ordinal);
    }
}
