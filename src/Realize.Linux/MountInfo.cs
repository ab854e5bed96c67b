using System.Globalization;
using System.Text;

namespace Realize.Linux;

/// <summary>One line of <c>/proc/self/mountinfo</c>: a mount of this process's namespace.</summary>
/// <param name="Id">The mount ID (as <c>statx</c>'s <c>STATX_MNT_ID</c> gives it).</param>
/// <param name="MountPoint">Where it is mounted, unescaped.</param>
/// <param name="FsType">The filesystem type, such as <c>overlay</c>.</param>
/// <param name="SuperOptions">The filesystem's own options, still escaped as the kernel shows them.</param>
public sealed record MountInfo(ulong Id, string MountPoint, string FsType, string SuperOptions)
{
    /// <summary>The mount at the top of <paramref name="path"/> (of stacked mounts, the visible one), or null when it is no mount point.</summary>
    public static MountInfo? Top(string path)
    {
        if (Stat.MountRootId(path) is not { } id)
        {
            return null;
        }
        string wanted = id.ToString(CultureInfo.InvariantCulture);
        foreach (string line in File.ReadLines("/proc/self/mountinfo"))
        {
            // id parent major:minor root mount-point options [optional...] - fstype source super-options
            string[] fields = line.Split(' ');
            int dash = Array.IndexOf(fields, "-");
            if (fields[0] == wanted && dash > 0 && dash + 3 < fields.Length)
            {
                return new MountInfo(id, Unescape(fields[4]), fields[dash + 1], fields[dash + 3]);
            }
        }
        return null;
    }

    /// <summary>The value of super option <paramref name="name"/> (<c>upperdir</c>), unescaped; null when absent or a flag.</summary>
    public string? SuperOption(string name)
    {
        // The kernel escapes ',', '=', whitespace and '\' in option values as \ooo, so splitting on ',' is safe.
        foreach (string option in SuperOptions.Split(','))
        {
            int equals = option.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0 && option.AsSpan(0, equals).SequenceEqual(name))
            {
                return Unescape(option[(equals + 1)..]);
            }
        }
        return null;
    }

    /// <summary>
    /// The path an overlay layer option (<c>upperdir</c>, <c>workdir</c>) names, or null: overlay
    /// shows these as they were given, quoted with backslashes (<see cref="Mounts.EscapeOverlayPath"/>).
    /// </summary>
    public string? OverlayLayerPath(string name)
    {
        if (SuperOption(name) is not { } value)
        {
            return null;
        }
        var path = new StringBuilder(value.Length);
        for (int i = 0; i < value.Length; i++)
        {
            if (value[i] == '\\' && i + 1 < value.Length)
            {
                i++;
            }
            path.Append(value[i]);
        }
        return path.ToString();
    }

    // Octal escapes (\040 for a space) as the kernel writes them in mountinfo.
    private static string Unescape(string field)
    {
        if (!field.Contains('\\', StringComparison.Ordinal))
        {
            return field;
        }
        var bytes = new List<byte>(field.Length);
        byte[] utf8 = Encoding.UTF8.GetBytes(field);
        for (int i = 0; i < utf8.Length; i++)
        {
            if (utf8[i] == '\\' && i + 3 < utf8.Length && IsOctal(utf8[i + 1]) && IsOctal(utf8[i + 2]) && IsOctal(utf8[i + 3]))
            {
                bytes.Add((byte)(((utf8[i + 1] - '0') << 6) | ((utf8[i + 2] - '0') << 3) | (utf8[i + 3] - '0')));
                i += 3;
            }
            else
            {
                bytes.Add(utf8[i]);
            }
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    private static bool IsOctal(byte b) => b is >= (byte)'0' and <= (byte)'7';
}
