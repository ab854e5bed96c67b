using System.Runtime.InteropServices;

namespace Realize.Linux;

/// <summary>A failed system call, with its errno, what was attempted and on which path.</summary>
public sealed class LinuxException : IOException
{
    public LinuxException(int errno, string operation, string? path)
        : base($"{operation}{(path is null ? "" : $" {path}")}: {Marshal.GetPInvokeErrorMessage(errno)}")
    {
        Errno = errno;
        Operation = operation;
        PathName = path;
    }

    public LinuxException()
        : this(0, "unknown", null)
    {
    }

    public LinuxException(string message)
        : base(message)
    {
        Operation = "unknown";
    }

    public LinuxException(string message, Exception innerException)
        : base(message, innerException)
    {
        Operation = "unknown";
    }

    /// <summary>The errno value the call failed with.</summary>
    public int Errno { get; }

    /// <summary>The call that failed, such as <c>statx</c>.</summary>
    public string Operation { get; }

    /// <summary>The path it was called on, when there was one.</summary>
    public string? PathName { get; }

    /// <summary>The one place that turns the last errno into an exception.</summary>
    internal static LinuxException FromLastError(string operation, string? path) =>
        new(Marshal.GetLastPInvokeError(), operation, path);
}
