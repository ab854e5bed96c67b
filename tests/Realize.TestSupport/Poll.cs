using System.Diagnostics;

namespace Realize.TestSupport;

/// <summary>
/// Waiting for what another thread or process does, by polling with a deadline: never a
/// fixed sleep, which is too short on a loaded machine and too long on an idle one.
/// </summary>
public static class Poll
{
    /// <summary>How often a condition is tried again.</summary>
    public static TimeSpan Interval { get; } = TimeSpan.FromMilliseconds(20);

    /// <summary>Returns once <paramref name="condition"/> holds; throws a <see cref="TimeoutException"/> saying <paramref name="what"/> when <paramref name="deadline"/> passes first.</summary>
    public static Task UntilAsync(Func<bool> condition, TimeSpan deadline, Func<string> what) =>
        UntilAsync(() => Task.FromResult(condition()), deadline, what);

    /// <inheritdoc cref="UntilAsync(Func{bool}, TimeSpan, Func{string})"/>
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan deadline, Func<string> what)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > deadline)
            {
                throw new TimeoutException($"still not so after {deadline.TotalSeconds:0} s: {what()}");
            }
            await Task.Delay(Interval);
        }
    }
}
