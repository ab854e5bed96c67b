using System.Text;
using Realize.Linux;

namespace Realize.Real;

/// <summary>
/// What overlayfs's own attributes in the upper dir mean (docs/history.md "The model"): a
/// whiteout deletes, a redirect renames, an opaque directory hides what is below it, a metacopy
/// has the lower file's content. Lower paths are relative to the lower root and include the arena.
/// </summary>
internal static class OverlayRules
{
    private const string Opaque = "trusted.overlay.opaque";
    private const string RedirectName = "trusted.overlay.redirect";
    private const string Metacopy = "trusted.overlay.metacopy";
    private const string Whiteout = "trusted.overlay.whiteout";

    /// <summary>
    /// The lower directory merged under the upper directory <paramref name="full"/> named
    /// <paramref name="name"/>: none when it is opaque, the one its redirect names, else the same
    /// name under its parent's lower directory.
    /// </summary>
    public static string? LowerSource(string full, string? parentLower, string name)
    {
        if (Xattr.Get(full, Opaque) is [(byte)'y'])
        {
            return null;
        }
        return Redirect(full, parentLower) ?? (parentLower is null ? null : Names.Join(parentLower, name));
    }

    /// <summary>Where <c>trusted.overlay.redirect</c> points: absolute from the lower root, or relative to the parent's lower directory.</summary>
    public static string? Redirect(string full, string? parentLower)
    {
        if (Xattr.Get(full, RedirectName) is not { Length: > 0 } redirect)
        {
            return null;
        }
        string target = Encoding.UTF8.GetString(redirect);
        if (target.StartsWith('/'))
        {
            return target.TrimStart('/');
        }
        return parentLower is null ? null : Names.Join(parentLower, target);
    }

    /// <summary>True for a zero-size regular file marked as a whiteout (the char device 0/0 is the other kind, <see cref="FileStatus.IsWhiteoutDevice"/>).</summary>
    public static bool IsWhiteoutFile(string full) => Xattr.Get(full, Whiteout) is not null;

    /// <summary>True for a metadata-only copy: its content is the lower file's.</summary>
    public static bool IsMetacopy(string full) => Xattr.Get(full, Metacopy) is not null;
}
