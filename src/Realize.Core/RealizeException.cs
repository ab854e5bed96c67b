namespace Realize.Core;

/// <summary>A user-facing error: one line saying what is wrong and what to do.</summary>
public class RealizeException : Exception
{
    public RealizeException(string message)
        : base(message)
    {
    }

    public RealizeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public RealizeException()
    {
    }
}
