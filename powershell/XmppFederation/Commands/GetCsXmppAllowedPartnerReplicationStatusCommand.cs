using System.Management.Automation;
using XmppFederation.Native;

namespace XmppFederation.Commands;

/// <summary>
/// Get-CsXmppAllowedPartnerReplicationStatus: this machine's local replica against the central store
/// (Lync: Get-CsManagementStoreReplicationStatus). A side that cannot be read is described in the
/// status, not reported as an error.
/// </summary>
[Cmdlet(VerbsCommon.Get, "CsXmppAllowedPartnerReplicationStatus")]
[OutputType(typeof(ReplicationStatus))]
public sealed class GetCsXmppAllowedPartnerReplicationStatusCommand : StoreCmdlet
{
    /// <inheritdoc/>
    protected override void ProcessRecord()
    {
        ForItem(Store.Paths.Replica, () => WriteObject(Store.Status()));
    }
}
