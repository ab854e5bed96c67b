using System.Runtime.InteropServices;
using System.Text;

namespace Realize.Linux;

/// <summary>Extended attributes of a path, without following symlinks.</summary>
public static class Xattr
{
    /// <summary>The value of attribute <paramref name="name"/>, or null when the file lacks it.</summary>
    public static unsafe byte[]? Get(string path, string name)
    {
        Span<byte> stack = stackalloc byte[256];
        while (true)
        {
            nint n;
            fixed (byte* p = stack)
            {
                n = Interop.lgetxattr(path, name, p, (nuint)stack.Length);
            }
            if (n >= 0)
            {
                return stack[..(int)n].ToArray();
            }
            switch (Marshal.GetLastPInvokeError())
            {
                case Interop.ENODATA or Interop.EOPNOTSUPP:
                    return null;
                case Interop.ERANGE:
                    nint size = Interop.lgetxattr(path, name, null, 0);
                    if (size < 0)
                    {
                        throw LinuxException.FromLastError("getxattr " + name, path);
                    }
                    stack = new byte[size + 64];
                    continue;
                default:
                    throw LinuxException.FromLastError("getxattr " + name, path);
            }
        }
    }

    /// <summary>The names of all attributes of <paramref name="path"/>.</summary>
    public static unsafe IReadOnlyList<string> List(string path)
    {
        nint size = Interop.llistxattr(path, null, 0);
        if (size < 0)
        {
            var error = LinuxException.FromLastError("listxattr", path);
            return error.Errno == Interop.EOPNOTSUPP ? [] : throw error;
        }
        if (size == 0)
        {
            return [];
        }
        byte[] buffer = new byte[size + 256];
        fixed (byte* p = buffer)
        {
            size = Interop.llistxattr(path, p, (nuint)buffer.Length);
        }
        if (size < 0)
        {
            throw LinuxException.FromLastError("listxattr", path);
        }
        return Encoding.UTF8.GetString(buffer, 0, (int)size).Split('\0', StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>Sets attribute <paramref name="name"/> to <paramref name="value"/>.</summary>
    public static unsafe void Set(string path, string name, ReadOnlySpan<byte> value)
    {
        fixed (byte* p = value)
        {
            if (Interop.lsetxattr(path, name, p, (nuint)value.Length, 0) != 0)
            {
                throw LinuxException.FromLastError("setxattr " + name, path);
            }
        }
    }

    /// <summary>Removes attribute <paramref name="name"/>; no error when it is absent.</summary>
    public static void Remove(string path, string name)
    {
        if (Interop.lremovexattr(path, name) != 0)
        {
            var error = LinuxException.FromLastError("removexattr " + name, path);
            if (error.Errno != Interop.ENODATA)
            {
                throw error;
            }
        }
    }
}
