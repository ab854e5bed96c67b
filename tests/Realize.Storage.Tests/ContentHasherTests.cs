using System.Security.Cryptography;
using Realize.Core;
using Realize.TestSupport;

namespace Realize.Storage.Tests;

public sealed class ContentHasherTests : IDisposable
{
    private const int MiB4 = 4 * 1024 * 1024;

    private readonly TempDir _dir = new("hasher");

    public void Dispose() => _dir.Dispose();

    /// <summary>DESIGN.md's definition: SHA-256 of the concatenated SHA-256 of each 4 MiB block.</summary>
    private static string Expected(byte[] content)
    {
        using var concatenated = new MemoryStream();
        for (int start = 0; start < content.Length; start += MiB4)
        {
            concatenated.Write(SHA256.HashData(content.AsSpan(start, Math.Min(MiB4, content.Length - start))));
        }
        return Convert.ToHexStringLower(SHA256.HashData(concatenated.ToArray()));
    }

    private static byte[] RandomBytes(int size)
    {
        byte[] content = new byte[size];
        new Random(size).NextBytes(content);
        return content;
    }

    private string WriteFile(byte[] content)
    {
        string path = _dir.Combine($"file-{content.Length}");
        File.WriteAllBytes(path, content);
        return path;
    }

    public static TheoryData<int> Sizes => [0, 1, 1000, MiB4 - 1, MiB4, MiB4 + 1, (3 * MiB4) + 123];

    [Theory]
    [MemberData(nameof(Sizes))]
    public void HashFile_EqualsTheDefinition(int size)
    {
        byte[] content = RandomBytes(size);

        var hash = ContentHasher.HashFile(WriteFile(content));

        Assert.Equal(Expected(content), hash.Hex);
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void HashBytes_AgreesWithHashFile(int size)
    {
        byte[] content = RandomBytes(size);

        Assert.Equal(ContentHasher.HashFile(WriteFile(content)), ContentHasher.HashBytes(content));
        Assert.Equal(Expected(content), ContentHasher.HashBytes(content).Hex);
    }

    [Fact]
    public void HashFile_OfAnEmptyFile_IsTheSha256OfTheEmptyString()
    {
        // openssl over /dev/null: the hash of nothing at all.
        string emptyDigest = Shell.Bash("openssl dgst -sha256 -r /dev/null | cut -d' ' -f1").Trim();

        var hash = ContentHasher.HashFile(WriteFile([]));

        Assert.Equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", emptyDigest);
        Assert.Equal(emptyDigest, hash.Hex);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(MiB4)]
    public void HashFile_OfOneBlock_IsSha256OfSha256_AsOpensslComputesIt(int size)
    {
        string path = WriteFile(RandomBytes(size));

        string openssl = Shell.Bash("openssl dgst -sha256 -binary \"$1\" | openssl dgst -sha256 -r | cut -d' ' -f1", path).Trim();

        Assert.Equal(openssl, ContentHasher.HashFile(path).Hex);
    }

    [Fact]
    public void HashFile_OfSeveralBlocks_MatchesSplitAndOpenssl()
    {
        string path = WriteFile(RandomBytes((3 * MiB4) + 123));

        string openssl = Shell.Bash(
            "cd \"$(dirname \"$1\")\" && split -b 4194304 -d -a 3 \"$1\" block. && " +
            "for b in block.*; do openssl dgst -sha256 -binary \"$b\"; done | openssl dgst -sha256 -r | cut -d' ' -f1",
            path).Trim();

        Assert.Equal(4, Directory.GetFiles(_dir.Path, "block.*").Length);
        Assert.Equal(openssl, ContentHasher.HashFile(path).Hex);
    }

    [Fact]
    public void HashFile_DependsOnEveryBlock()
    {
        byte[] content = RandomBytes((2 * MiB4) + 10);
        var before = ContentHasher.HashFile(WriteFile(content));
        content[MiB4 + 5] ^= 1;

        var after = ContentHasher.HashFile(WriteFile(content));

        Assert.NotEqual(before, after);
        Assert.Equal(Expected(content), after.Hex);
    }

    [Fact]
    public void Hash_OfAPrefix_EqualsTheDefinitionOverThatPrefix()
    {
        byte[] content = RandomBytes((2 * MiB4) + 99);
        string path = WriteFile(content);
        int length = MiB4 + 7;

        using var handle = File.OpenHandle(path);
        var hash = ContentHasher.Hash(handle, length, path);

        Assert.Equal(Expected(content[..length]), hash.Hex);
    }

    [Theory]
    [InlineData(10, 11)]
    [InlineData((2 * MiB4) + 1, (3 * MiB4) + 1)]
    public void Hash_ThrowsFileChanged_WhenTheFileIsShorterThanExpected(int actual, int expected)
    {
        string path = WriteFile(RandomBytes(actual));

        using var handle = File.OpenHandle(path);
        var e = Assert.Throws<FileChangedException>(() => ContentHasher.Hash(handle, expected, path));

        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void HashFile_OfAMissingFile_ThrowsFileNotFound() =>
        Assert.Throws<FileNotFoundException>(() => ContentHasher.HashFile(_dir.Combine("missing")));

    [Fact]
    public void HashBytes_OfKnownText_IsSha256OfSha256()
    {
        // "abc": SHA-256 is the FIPS 180-2 test vector ba7816bf...; the blob hashes that digest again.
        byte[] inner = Convert.FromHexString("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(inner)), ContentHasher.HashBytes("abc"u8).Hex);
        Assert.Equal(BlobHash.FromBytes(SHA256.HashData(inner)), ContentHasher.HashBytes("abc"u8));
    }
}
