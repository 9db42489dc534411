using System.Management.Automation;
using XmppFederation.Native;

namespace XmppFederation.Commands;

/// <summary>Remove-CsXmppAllowedPartner: removes allowed partners by identity (from the pipeline too).</summary>
[Cmdlet(VerbsCommon.Remove, "CsXmppAllowedPartner", SupportsShouldProcess = true, ConfirmImpact = Impact)]
[OutputType(typeof(PartnerData))]
public sealed class RemoveCsXmppAllowedPartnerCommand : StoreCmdlet
{
    /// <summary>The cmdlet's ConfirmImpact: -Confirm is asked for when $ConfirmPreference is Medium or Low.</summary>
    private const ConfirmImpact Impact = ConfirmImpact.Medium;

    /// <summary>The identity (primary domain) of the partner to remove; partner objects bind by their Identity property.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [PartnerIdentityTransformation]
    [ArgumentCompleter(typeof(PartnerIdentityCompleter))]
    [ValidateNotNullOrEmpty]
    public string Identity { get; set; } = string.Empty;

    /// <summary>A partner that does not exist is skipped silently instead of reported.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Write each removed partner (as it was) to the pipeline.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <inheritdoc/>
    protected override void ProcessRecord()
    {
        ForItem(Identity, () =>
        {
            try
            {
                // Decided by the library first when ShouldProcess may show it (see New).
                string target = ShouldProcessMayShow(Impact) ? Store.PreviewRemove(Identity).Partner.Identity : Identity;
                if (!ShouldProcess(target, "Remove XMPP allowed partner"))
                {
                    return;
                }
                var outcome = Store.Remove(Identity);
                WriteWarnings(outcome, Force);
                WriteVerbose($"Removed '{outcome.Partner.Identity}' (last written at revision {outcome.Partner.Revision}); the removal is committed.");
                if (PassThru)
                {
                    WritePartner(outcome.Partner);
                }
            }
            catch (PartnerNotFoundException) when (Force)
            {
                WriteVerbose($"'{Identity}' does not exist; skipped (-Force).");
            }
        });
    }
}
