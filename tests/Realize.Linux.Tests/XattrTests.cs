using Realize.TestSupport;

namespace Realize.Linux.Tests;

/// <summary>user.* attributes on a file of the temporary directory (ext4, like a store).</summary>
public sealed class XattrTests : IDisposable
{
    private readonly TempDir _dir = new("xattr");
    private readonly string _file;

    public XattrTests()
    {
        _file = _dir.Combine("file");
        File.WriteAllText(_file, "content");
    }

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Set_ThenGet_ReturnsTheValue()
    {
        Xattr.Set(_file, "user.realize.mark", "keep"u8);

        Assert.Equal("keep"u8.ToArray(), Xattr.Get(_file, "user.realize.mark"));
    }

    [Fact]
    public void Get_ReturnsNull_WhenAbsent() => Assert.Null(Xattr.Get(_file, "user.absent"));

    [Fact]
    public void Get_ReturnsEmptyArray_ForAnEmptyValue()
    {
        Xattr.Set(_file, "user.empty", []);

        Assert.Equal(Array.Empty<byte>(), Xattr.Get(_file, "user.empty"));
    }

    [Theory]
    [InlineData(255)]
    [InlineData(256)]
    [InlineData(257)]
    [InlineData(1000)]
    [InlineData(3500)]
    public void Set_ThenGet_ReturnsValuesLargerThanTheFirstBuffer(int size)
    {
        byte[] value = new byte[size];
        new Random(size).NextBytes(value);

        Xattr.Set(_file, "user.big", value);

        Assert.Equal(value, Xattr.Get(_file, "user.big"));
    }

    [Fact]
    public void Set_ReplacesAnExistingValue()
    {
        Xattr.Set(_file, "user.x", "first, longer value"u8);
        Xattr.Set(_file, "user.x", "2nd"u8);

        Assert.Equal("2nd"u8.ToArray(), Xattr.Get(_file, "user.x"));
    }

    [Fact]
    public void List_ReturnsEveryName()
    {
        Xattr.Set(_file, "user.one", "1"u8);
        Xattr.Set(_file, "user.two", "2"u8);
        Xattr.Set(_file, "user.données", "3"u8);

        var names = Xattr.List(_file).Where(n => n.StartsWith("user.", StringComparison.Ordinal));

        Assert.Equal(["user.données", "user.one", "user.two"], names.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void List_ReturnsManyLongNames()
    {
        // 20 names of 70 bytes: more than List's spare room, within ext4's one block for xattrs.
        var expected = Enumerable.Range(0, 20).Select(i => $"user.{i:D3}.{new string('n', 60)}").ToList();
        foreach (string name in expected)
        {
            Xattr.Set(_file, name, "v"u8);
        }

        var names = Xattr.List(_file).Where(n => n.StartsWith("user.", StringComparison.Ordinal));

        Assert.Equal(expected, names.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void List_OfAFileWithoutUserAttributes_HasNone() =>
        Assert.DoesNotContain(Xattr.List(_file), n => n.StartsWith("user.", StringComparison.Ordinal));

    [Fact]
    public void Remove_DeletesTheAttribute()
    {
        Xattr.Set(_file, "user.gone", "x"u8);

        Xattr.Remove(_file, "user.gone");

        Assert.Null(Xattr.Get(_file, "user.gone"));
        Assert.DoesNotContain("user.gone", Xattr.List(_file));
    }

    [Fact]
    public void Remove_OfAnAbsentAttribute_IsNoError()
    {
        Xattr.Remove(_file, "user.never");

        Assert.Null(Xattr.Get(_file, "user.never"));
    }

    [Fact]
    public void Get_OfMissingFile_ThrowsENOENT()
    {
        var e = Assert.Throws<LinuxException>(() => Xattr.Get(_dir.Combine("missing"), "user.x"));

        Assert.Equal(Errno.ENOENT, e.Errno);
    }

    [Fact]
    public void Get_DoesNotFollowSymlinks()
    {
        Xattr.Set(_file, "user.target", "t"u8);
        File.CreateSymbolicLink(_dir.Combine("link"), "file");

        Assert.Null(Xattr.Get(_dir.Combine("link"), "user.target"));
        Assert.Equal("t"u8.ToArray(), Xattr.Get(_file, "user.target"));
    }

    [Fact]
    public void Set_OnASymlink_DoesNotTouchItsTarget()
    {
        File.CreateSymbolicLink(_dir.Combine("link"), "file");

        // The kernel allows no user.* attributes on a symlink itself.
        var e = Assert.Throws<LinuxException>(() => Xattr.Set(_dir.Combine("link"), "user.x", "1"u8));

        Assert.Equal(Errno.EPERM, e.Errno);
        Assert.Null(Xattr.Get(_file, "user.x"));
    }

    [Fact]
    public void TrustedAttributes_RoundTrip_AsRoot()
    {
        Root.Require();

        Xattr.Set(_file, "trusted.overlay.redirect", "/docs/old"u8);

        Assert.Equal("/docs/old"u8.ToArray(), Xattr.Get(_file, "trusted.overlay.redirect"));
        Assert.Contains("trusted.overlay.redirect", Xattr.List(_file));
    }
}
