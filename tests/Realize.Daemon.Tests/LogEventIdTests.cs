using System.Reflection;
using Microsoft.Extensions.Logging;

namespace Realize.Daemon.Tests;

/// <summary>Each log message of the daemon's process has an event id of its own, so that a journal filter on one finds only it.</summary>
public sealed class LogEventIdTests
{
    [Fact]
    public void EveryLoggerMessage_InEveryProject_HasAnEventIdOfItsOwn()
    {
        Assembly[] projects = [typeof(Daemon).Assembly, typeof(Network.HistoryService).Assembly, typeof(Real.StoreScan).Assembly, typeof(Storage.Store).Assembly];
        var messages = projects
            .SelectMany(a => a.GetTypes())
            .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            .Select(m => (Method: $"{m.DeclaringType!.FullName}.{m.Name}", Attribute: m.GetCustomAttribute<LoggerMessageAttribute>()))
            .Where(m => m.Attribute is not null)
            .ToList();

        Assert.True(messages.Count > 30, $"only {messages.Count} log messages found: is the reflection looking in the right places?");
        var shared = messages.GroupBy(m => m.Attribute!.EventId).Where(g => g.Count() > 1).Select(g => $"{g.Key}: {string.Join(", ", g.Select(m => m.Method))}");
        Assert.Empty(shared);
        // One Log class per project.
        Assert.All(messages, m => Assert.EndsWith(".Log." + m.Method.Split('.')[^1], m.Method, StringComparison.Ordinal));
    }
}
