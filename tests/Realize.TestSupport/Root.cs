namespace Realize.TestSupport;

/// <summary>Tests that mount need root; without it they fail loudly, never pass silently.</summary>
public static class Root
{
    public static void Require()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            throw new InvalidOperationException("this test mounts an overlay and needs root (CAP_SYS_ADMIN); run the tests as root, as CI does");
        }
    }
}
