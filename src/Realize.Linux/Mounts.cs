using System.Text;


namespace Realize.Linux;

/// <summary>mount(2), umount2(2) and the mount table.</summary>
public static class Mounts
{
    /// <summary>Mounts an overlay at <paramref name="target"/>.</summary>
    /// <param name="options">The option string, already escaped (see <see cref="EscapeOverlayPath"/>).</param>
    public static void MountOverlay(string target, string options)
    {
        if (Interop.mount("overlay", target, "overlay", 0, options) != 0)
        {
            throw LinuxException.FromLastError("mount overlay", target);
        }
    }

    /// <summary>Unmounts <paramref name="target"/>; with <paramref name="detach"/>, lazily (<c>MNT_DETACH</c>).</summary>
    public static void Unmount(string target, bool detach = false)
    {
        if (Interop.umount2(target, detach ? Interop.MNT_DETACH : 0) != 0)
        {
            throw LinuxException.FromLastError("umount", target);
        }
    }

    /// <summary>
    /// Escapes a path for an overlay option value: the option parser splits on <c>,</c> and
    /// lowerdir on <c>:</c>, and both accept a backslash escape.
    /// </summary>
    public static string EscapeOverlayPath(string path)
    {
        var text = new StringBuilder(path.Length);
        foreach (char c in path)
        {
            if (c is ',' or ':' or '\\')
            {
                text.Append('\\');
            }
            text.Append(c);
        }
        return text.ToString();
    }

    /// <summary>True when <paramref name="path"/> is a mount point in this process's namespace.</summary>
    public static bool IsMountPoint(string path) => FindMount(path) is not null;

    /// <summary>The filesystem type mounted at <paramref name="path"/> (the top of stacked mounts), or null when nothing is.</summary>
    public static string? FindMount(string path)
    {
        // By mount ID, not by name: mountinfo holds resolved paths, the caller's may go through symlinks.
        if (Stat.MountRootId(path) is not { } id)
        {
            return null;
        }
        string wanted = id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        foreach (string line in File.ReadLines("/proc/self/mountinfo"))
        {
            // id parent major:minor root mount-point options ... - fstype source super-options
            string[] fields = line.Split(' ');
            if (fields[0] == wanted)
            {
                int dash = Array.IndexOf(fields, "-");
                return dash > 0 && dash + 1 < fields.Length ? fields[dash + 1] : "unknown";
            }
        }
        return "unknown";
    }
}
