using Realize.Core;

namespace Realize.Network;

/// <summary>
/// Block lists this server computed, by blob: a blob's list never changes, and hashing a large
/// file again for each connection would cost seconds. Least recently used lists go first once
/// their bytes pass the bound. Thread-safe.
/// </summary>
internal sealed class BlockListCache(long maxBytes)
{
    private readonly Lock _gate = new();
    // Most recently used first; the dictionary points into it.
    private readonly LinkedList<(BlobHash Blob, byte[] Hashes)> _order = new();
    private readonly Dictionary<BlobHash, LinkedListNode<(BlobHash Blob, byte[] Hashes)>> _byBlob = [];
    private long _bytes;

    public byte[]? Find(BlobHash blob)
    {
        lock (_gate)
        {
            if (!_byBlob.TryGetValue(blob, out var node))
            {
                return null;
            }
            _order.Remove(node);
            _order.AddFirst(node);
            return node.Value.Hashes;
        }
    }

    public void Add(BlobHash blob, byte[] hashes)
    {
        lock (_gate)
        {
            if (_byBlob.ContainsKey(blob) || hashes.Length > maxBytes)
            {
                return;
            }
            _byBlob[blob] = _order.AddFirst((blob, hashes));
            _bytes += hashes.Length;
            while (_bytes > maxBytes && _order.Last is { } last)
            {
                _order.RemoveLast();
                _byBlob.Remove(last.Value.Blob);
                _bytes -= last.Value.Hashes.Length;
            }
        }
    }
}
