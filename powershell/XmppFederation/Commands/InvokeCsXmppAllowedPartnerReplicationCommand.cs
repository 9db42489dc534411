using System.Management.Automation;
using XmppFederation.Native;

namespace XmppFederation.Commands;

/// <summary>
/// Invoke-CsXmppAllowedPartnerReplication: refreshes this machine's local replica from the central
/// store now (Lync: Invoke-CsManagementStoreReplication), verifying all of it.
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "CsXmppAllowedPartnerReplication", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(ReplicationStatus))]
public sealed class InvokeCsXmppAllowedPartnerReplicationCommand : StoreCmdlet
{
    /// <summary>Write the replication status after the refresh.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <inheritdoc/>
    protected override void ProcessRecord()
    {
        ForItem(Store.Paths.Replica, () =>
        {
            if (!ShouldProcess(Store.Paths.Replica, $"Refresh the local replica from '{Store.Paths.Central}'"))
            {
                return;
            }
            Store.Replicate();
            var status = Store.Status();
            WriteVerbose($"The local replica '{status.Replica}' is at revision {status.ReplicaRevision?.ToString() ?? "none"}.");
            if (PassThru)
            {
                WriteObject(status);
            }
        });
    }
}
