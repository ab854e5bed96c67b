namespace Realize.Fuse.Tests;

/// <summary>The mount(2) data string a <see cref="FuseMountOptions"/> gives.</summary>
public sealed class FuseMountOptionsTests
{
    [Fact]
    public void MountData_NamesRootModeOwnerAndTheAskedOptions()
    {
        string data = FuseMount.MountData(new FuseMountOptions { UserId = 1000, GroupId = 100, AllowOther = true, DefaultPermissions = true });

        Assert.Equal("rootmode=40000,user_id=1000,group_id=100,allow_other,default_permissions", data);
    }

    [Fact]
    public void MountData_DefaultsToThisProcessesIds_WithoutAllowOther()
    {
        string data = FuseMount.MountData(new FuseMountOptions { DefaultPermissions = false });

        Assert.Equal($"rootmode=40000,user_id={Linux.FuseDevice.EffectiveUserId},group_id={Linux.FuseDevice.EffectiveGroupId}", data);
        Assert.Equal(Environment.IsPrivilegedProcess, Linux.FuseDevice.EffectiveUserId == 0);
    }
}
