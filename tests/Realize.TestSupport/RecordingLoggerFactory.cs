using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Realize.TestSupport;

/// <summary>One line a <see cref="RecordingLoggerFactory"/> kept: when (since the factory was made), its level and its text.</summary>
public sealed record LogLine(TimeSpan At, LogLevel Level, string Message)
{
    public override string ToString() => $"{At.TotalSeconds,8:0.000} s {Level}: {Message}";
}

/// <summary>
/// Loggers that keep every line they are given, so that a test can assert what was logged
/// and put the log into its failure message.
/// </summary>
public sealed class RecordingLoggerFactory : ILoggerFactory
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    // Appended to by whichever thread logs; locked.
    private readonly List<LogLine> _lines = [];

    /// <summary>The lines logged so far, oldest first.</summary>
    public IReadOnlyList<LogLine> Lines
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }

    /// <summary>Every line, one a line.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        foreach (var line in Lines)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  {line}");
        }
        return text.ToString();
    }

    public ILogger CreateLogger(string categoryName) => new Recorder(this);

    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException("a RecordingLoggerFactory only records");

    public void Dispose()
    {
    }

    private void Add(LogLevel level, string message)
    {
        lock (_lines)
        {
            _lines.Add(new LogLine(_clock.Elapsed, level, message));
        }
    }

    private sealed class Recorder(RecordingLoggerFactory owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Add(logLevel, formatter(state, exception) + (exception is null ? "" : $" ({exception.GetType().Name}: {exception.Message})"));
    }
}
