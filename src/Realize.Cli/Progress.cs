using System.Diagnostics;

namespace Realize.Cli;

/// <summary>A progress line on a terminal, redrawn at most four times a second.</summary>
internal sealed class Progress : IProgress<long>, IDisposable
{
    private readonly TextWriter _writer;
    private readonly string _label;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _lastDrawMs = -1000;
    private bool _drawn;

    private Progress(TextWriter writer, string label)
    {
        _writer = writer;
        _label = label;
    }

    /// <summary>A progress line on <paramref name="writer"/> when it is a terminal, else null.</summary>
    public static Progress? ForTerminal(TextWriter writer, string label) =>
        writer == Console.Error && !Console.IsErrorRedirected ? new Progress(writer, label) : null;

    public void Report(long value)
    {
        long now = _clock.ElapsedMilliseconds;
        if (now - _lastDrawMs < 250)
        {
            return;
        }
        _lastDrawMs = now;
        _drawn = true;
        _writer.Write($"\r{_label}: {value:N0} files, {now / 1000.0:0.0} s");
    }

    /// <summary>Clears the line.</summary>
    public void Done()
    {
        if (_drawn)
        {
            _writer.Write("\r\u001b[K");
            _drawn = false;
        }
    }

    public void Dispose() => Done();
}
