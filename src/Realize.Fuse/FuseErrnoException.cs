namespace Realize.Fuse;

/// <summary>
/// Thrown by a <see cref="FuseFileSystem"/> handler to answer its request with an error, such as
/// <see cref="Linux.Errno.ENOENT"/>; the session replies with that errno and logs nothing.
/// </summary>
public sealed class FuseErrnoException : Exception
{
    public FuseErrnoException(int errno)
        : base($"errno {errno}")
    {
        Errno = errno;
    }

    public FuseErrnoException(int errno, string message)
        : base(message)
    {
        Errno = errno;
    }

    public FuseErrnoException()
        : this(Linux.Errno.EIO)
    {
    }

    public FuseErrnoException(string message)
        : this(Linux.Errno.EIO, message)
    {
    }

    public FuseErrnoException(string message, Exception innerException)
        : base(message, innerException)
    {
        Errno = Linux.Errno.EIO;
    }

    /// <summary>The positive errno the request is answered with.</summary>
    public int Errno { get; }
}
