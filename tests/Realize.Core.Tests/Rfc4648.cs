using System.Text;

namespace Realize.Core.Tests;

/// <summary>
/// A reference RFC 4648 base32 encoder, written from the RFC's description (quanta of 40
/// bits, 8 characters each, '=' padding), to check PeerId against something it does not share.
/// </summary>
internal static class Rfc4648
{
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

    public static string Base32(ReadOnlySpan<byte> data)
    {
        var text = new StringBuilder();
        for (int start = 0; start < data.Length; start += 5)
        {
            int count = Math.Min(5, data.Length - start);
            ulong quantum = 0;
            for (int i = 0; i < 5; i++)
            {
                quantum = (quantum << 8) | (i < count ? data[start + i] : 0UL);
            }
            // RFC 4648 section 6: 1, 2, 3, 4 or 5 input bytes give 2, 4, 5, 7 or 8 characters.
            int characters = count switch { 1 => 2, 2 => 4, 3 => 5, 4 => 7, _ => 8 };
            for (int i = 0; i < 8; i++)
            {
                text.Append(i < characters ? Alphabet[(int)((quantum >> (35 - (5 * i))) & 31)] : '=');
            }
        }
        return text.ToString();
    }
}
