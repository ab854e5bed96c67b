using System.Security.Cryptography;
using System.Text;

namespace Realize.Core.Tests;

public sealed class BlobHashTests
{
    private const string EmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    private static string HexByHand(byte[] bytes)
    {
        const string digits = "0123456789abcdef";
        var text = new StringBuilder();
        foreach (byte b in bytes)
        {
            text.Append(digits[b >> 4]).Append(digits[b & 15]);
        }
        return text.ToString();
    }

    [Fact]
    public void Parse_AcceptsLowercaseHex()
    {
        var hash = BlobHash.Parse(EmptySha256);

        Assert.Equal(EmptySha256, hash.Hex);
        Assert.Equal(EmptySha256, hash.ToString());
    }

    [Fact]
    public void Parse_IsCaseInsensitive_AndShowsLowercase()
    {
        var upper = BlobHash.Parse(EmptySha256.ToUpperInvariant());
        var mixed = BlobHash.Parse("E3b0C44298FC1c149afbf4c8996fb92427ae41e4649b934ca495991b7852B855");

        Assert.Equal(EmptySha256, upper.Hex);
        Assert.Equal(BlobHash.Parse(EmptySha256), upper);
        Assert.Equal(upper, mixed);
    }

    [Theory]
    [InlineData(63)]
    [InlineData(65)]
    [InlineData(0)]
    [InlineData(32)]
    [InlineData(128)]
    public void TryParse_RejectsWrongLength(int length)
    {
        string text = string.Concat(Enumerable.Repeat("a1", 65))[..length];

        Assert.False(BlobHash.TryParse(text, out _));
        Assert.Throws<FormatException>(() => BlobHash.Parse(text));
    }

    [Theory]
    [InlineData('g')]
    [InlineData('G')]
    [InlineData(' ')]
    [InlineData('-')]
    [InlineData('x')]
    [InlineData('\0')]
    [InlineData('０')] // fullwidth zero
    [InlineData('٣')] // Arabic-Indic three
    public void TryParse_RejectsNonHexCharacter(char c)
    {
        string text = EmptySha256[..30] + c + EmptySha256[31..];
        Assert.Equal(64, text.Length);

        Assert.False(BlobHash.TryParse(text, out _));
    }

    [Fact]
    public void TryParse_RejectsNull() => Assert.False(BlobHash.TryParse(null, out _));

    [Fact]
    public void TryParse_RejectsSurroundingWhitespace() => Assert.False(BlobHash.TryParse(" " + EmptySha256[1..], out _));

    [Fact]
    public void FromBytes_ShowsTheBytesAsLowercaseHex()
    {
        byte[] digest = SHA256.HashData("hello"u8);

        var hash = BlobHash.FromBytes(digest);

        Assert.Equal(HexByHand(digest), hash.Hex);
        Assert.Equal(hash, BlobHash.Parse(HexByHand(digest).ToUpperInvariant()));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(31)]
    [InlineData(33)]
    public void FromBytes_RejectsWrongLength(int length) =>
        Assert.Throws<ArgumentException>(() => BlobHash.FromBytes(new byte[length]));

    [Fact]
    public void WriteBytes_RoundTripsFromBytes()
    {
        byte[] bytes = SHA256.HashData("abc"u8);
        Span<byte> written = stackalloc byte[32];
        BlobHash.FromBytes(bytes).WriteBytes(written);
        Assert.Equal(bytes, written.ToArray());
        Assert.Equal(HexByHand(bytes), BlobHash.FromBytes(bytes).Hex);
    }

    [Fact]
    public void BlockSize_Is4MiB() => Assert.Equal(4 * 1024 * 1024, BlobHash.BlockSize);
}
