using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace Realize.Core.Tests;

public sealed partial class PeerIdTests
{
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

    [GeneratedRegex("^[A-Z2-7]{4}(-[A-Z2-7]{4}){12}$")]
    private static partial Regex Shown();

    /// <summary>What DESIGN.md says a peer ID is, computed with the reference encoder.</summary>
    private static string Expected(byte[] spki)
    {
        string base32 = Rfc4648.Base32(SHA256.HashData(spki)).TrimEnd('=');
        Assert.Equal(52, base32.Length);
        return string.Join('-', Enumerable.Range(0, 13).Select(i => base32.Substring(i * 4, 4)));
    }

    private static byte[] NewSpki()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return key.ExportSubjectPublicKeyInfo();
    }

    [Theory]
    [InlineData("", "")]
    [InlineData("f", "MY======")]
    [InlineData("fo", "MZXQ====")]
    [InlineData("foo", "MZXW6===")]
    [InlineData("foob", "MZXW6YQ=")]
    [InlineData("fooba", "MZXW6YTB")]
    [InlineData("foobar", "MZXW6YTBOI======")]
    public void ReferenceEncoder_MatchesRfc4648TestVectors(string input, string expected) =>
        Assert.Equal(expected, Rfc4648.Base32(System.Text.Encoding.ASCII.GetBytes(input)));

    [Fact]
    public void FromSubjectPublicKeyInfo_IsBase32OfSha256_In13GroupsOf4()
    {
        byte[] spki = NewSpki();

        var id = PeerId.FromSubjectPublicKeyInfo(spki);

        Assert.Equal(Expected(spki), id.ToString());
        Assert.Matches(Shown(), id.ToString());
    }

    [Fact]
    public void FromSubjectPublicKeyInfo_AgreesWithReference_ForManyInputs()
    {
        // Arbitrary bytes: every digest bit pattern, including a last bit of 0 and of 1.
        var random = new Random(4648);
        var lastCharacters = new HashSet<char>();
        for (int i = 0; i < 200; i++)
        {
            byte[] spki = new byte[random.Next(0, 200)];
            random.NextBytes(spki);

            string id = PeerId.FromSubjectPublicKeyInfo(spki).ToString();

            Assert.Equal(Expected(spki), id);
            lastCharacters.Add(id[^1]);
        }
        Assert.Equal(['A', 'Q'], lastCharacters.Order());
    }

    [Fact]
    public void Parse_RoundTripsToString()
    {
        var id = PeerId.FromSubjectPublicKeyInfo(NewSpki());

        Assert.Equal(id, PeerId.Parse(id.ToString()));
        Assert.Equal(id.ToString(), PeerId.Parse(id.ToString()).ToString());
    }

    [Fact]
    public void Parse_IgnoresDashesSpacesAndCase()
    {
        var id = PeerId.FromSubjectPublicKeyInfo(NewSpki());
        string compact = id.ToString().Replace("-", "", StringComparison.Ordinal);
        string spaced = string.Join(' ', compact.Chunk(7).Select(c => new string(c)));

        Assert.Equal(id, PeerId.Parse(compact));
        Assert.Equal(id, PeerId.Parse(compact.ToLowerInvariant()));
        Assert.Equal(id, PeerId.Parse(" " + spaced.ToLowerInvariant() + " "));
        Assert.Equal(id, PeerId.Parse("--" + id.ToString().Replace("-", "- -", StringComparison.Ordinal)));
    }

    [Fact]
    public void TryParse_RejectsWrongLength()
    {
        string compact = PeerId.FromSubjectPublicKeyInfo(NewSpki()).ToString().Replace("-", "", StringComparison.Ordinal);

        Assert.False(PeerId.TryParse(compact[..51], out _));
        Assert.False(PeerId.TryParse(compact + "A", out _));
        Assert.False(PeerId.TryParse(compact + "AAAA", out _));
        Assert.False(PeerId.TryParse("", out _));
        Assert.False(PeerId.TryParse(null, out _));
    }

    [Theory]
    [InlineData('0')]
    [InlineData('1')]
    [InlineData('8')]
    [InlineData('9')]
    [InlineData('=')]
    [InlineData('_')]
    [InlineData('é')]
    public void TryParse_RejectsCharacterOutsideTheBase32Alphabet(char c)
    {
        string compact = PeerId.FromSubjectPublicKeyInfo(NewSpki()).ToString().Replace("-", "", StringComparison.Ordinal);
        string bad = compact[..10] + c + compact[11..];

        Assert.False(PeerId.TryParse(bad, out _));
        Assert.Throws<FormatException>(() => PeerId.Parse(bad));
    }

    [Fact]
    public void TryParse_AcceptsOnlyZeroPaddingBitsInTheLastCharacter()
    {
        // 52 characters carry 260 bits; a 256-bit digest leaves the last character 1 data
        // bit followed by 4 zero bits: 00000 ('A') or 10000 ('Q').
        string compact = PeerId.FromSubjectPublicKeyInfo(NewSpki()).ToString().Replace("-", "", StringComparison.Ordinal);

        var accepted = Alphabet.Where(c => PeerId.TryParse(compact[..51] + c, out _)).ToArray();

        Assert.Equal(['A', 'Q'], accepted);
    }

    [Fact]
    public void DifferentKeys_HaveDifferentIds() =>
        Assert.NotEqual(PeerId.FromSubjectPublicKeyInfo(NewSpki()), PeerId.FromSubjectPublicKeyInfo(NewSpki()));
}
