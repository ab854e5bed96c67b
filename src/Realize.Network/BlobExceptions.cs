using Realize.Core;

namespace Realize.Network;

/// <summary>A peer cannot give a blob now: it refused (it does not have it, or its file changed), cannot be reached, or the connection broke. Another peer may have it.</summary>
public sealed class BlobUnavailableException : Exception
{
    public BlobUnavailableException(string message)
        : base(message)
    {
    }

    public BlobUnavailableException()
    {
    }

    public BlobUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>A peer sent a block (or a block list) that does not match its hash: it was not returned, and is never stored.</summary>
public sealed class BadBlockException : Exception
{
    public BadBlockException(PeerId peer, BlobHash blob, int? index, string message)
        : base(message)
    {
        Peer = peer;
        Blob = blob;
        Index = index;
    }

    public BadBlockException()
    {
    }

    public BadBlockException(string message)
        : base(message)
    {
    }

    public BadBlockException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The peer that sent it.</summary>
    public PeerId Peer { get; }

    /// <summary>The blob it is of.</summary>
    public BlobHash Blob { get; }

    /// <summary>The block's index; null for a bad block list.</summary>
    public int? Index { get; }
}
