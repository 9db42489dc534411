using System.Management.Automation;
using XmppFederation.Native;

namespace XmppFederation.Commands;

/// <summary>
/// Set-CsXmppAllowedPartner: changes an allowed partner named by -Identity, or writes a partner
/// object (-Instance, from the pipeline) with any property parameters applied to it.
/// </summary>
[Cmdlet(VerbsCommon.Set, "CsXmppAllowedPartner", DefaultParameterSetName = IdentitySet,
    SupportsShouldProcess = true, ConfirmImpact = Impact)]
[OutputType(typeof(PartnerData))]
public sealed class SetCsXmppAllowedPartnerCommand : StoreCmdlet
{
    /// <summary>The cmdlet's ConfirmImpact: -Confirm is asked for when $ConfirmPreference is Medium or Low.</summary>
    private const ConfirmImpact Impact = ConfirmImpact.Medium;

    /// <summary>Parameter set naming the partner to change.</summary>
    public const string IdentitySet = "Identity";
    /// <summary>Parameter set writing a whole partner object.</summary>
    public const string InstanceSet = "Instance";

    /// <summary>The identity (primary domain) of the partner to change.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = IdentitySet)]
    [PartnerIdentityTransformation]
    [ArgumentCompleter(typeof(PartnerIdentityCompleter))]
    [ValidateNotNullOrEmpty]
    public string Identity { get; set; } = string.Empty;

    /// <summary>
    /// A partner object to write: from Get- (edited or not), from New- -InMemory (created by this
    /// call), or deserialized (Import-Clixml). Refused if the partner changed in the store since the
    /// object was read, unless -Force.
    /// </summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = InstanceSet)]
    [PartnerInstanceTransformation]
    [ValidateNotNull]
    public PartnerData? Instance { get; set; }

    /// <summary>
    /// Further domains: a list replaces them, $null clears them, @{Add=...}, @{Remove=...} or
    /// @{Replace=...} (or a PSListModifier) changes them.
    /// </summary>
    [Parameter]
    [AllowNull]
    public object? AdditionalDomains { get; set; }

    /// <summary>Free text, e.g. contact details (at most 1,024 characters).</summary>
    [Parameter]
    public string? Description { get; set; }

    /// <summary>FQDN of the partner's proxy server; an empty string clears it.</summary>
    [Parameter]
    public string? ProxyFqdn { get; set; }

    /// <summary>Trust level.</summary>
    [Parameter]
    public PartnerType PartnerType { get; set; }

    /// <summary>TLS negotiation.</summary>
    [Parameter]
    public TlsNegotiation TlsNegotiation { get; set; }

    /// <summary>SASL negotiation.</summary>
    [Parameter]
    public SaslNegotiation SaslNegotiation { get; set; }

    /// <summary>Whether server dialback (XEP-0220) is supported.</summary>
    [Parameter]
    [BooleanTextTransformation]
    [ArgumentCompleter(typeof(BooleanCompleter))]
    public bool SupportDialbackNegotiation { get; set; }

    /// <summary>Whether keep-alives are sent.</summary>
    [Parameter]
    [BooleanTextTransformation]
    [ArgumentCompleter(typeof(BooleanCompleter))]
    public bool EnableKeepAlive { get; set; }

    /// <summary>Maximum simultaneous connections with this partner.</summary>
    [Parameter]
    public uint ConnectionLimit { get; set; }

    /// <summary>
    /// With -Instance: write the object even if the partner changed (or was removed) in the store
    /// since it was read. Always: the library's warnings go to the verbose stream.
    /// </summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Write the partner as stored to the pipeline.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <inheritdoc/>
    protected override void ProcessRecord()
    {
        var instance = Instance;
        var target = instance?.Identity ?? Identity;
        ForItem(target, () =>
        {
            var changes = PropertyBag.ForSet(MyInvocation.BoundParameters);
            // Decided by the library first when ShouldProcess may show it (see New).
            string shown = target;
            if (ShouldProcessMayShow(Impact))
            {
                var preview = instance is null
                    ? Store.PreviewSet(Identity, changes)
                    : Store.PreviewSetInstance(instance, Force, changes);
                shown = preview.Partner.Identity;
            }
            if (!ShouldProcess(shown, "Set XMPP allowed partner"))
            {
                return;
            }
            var outcome = instance is null
                ? Store.Set(Identity, changes)
                : Store.SetInstance(instance, Force, changes);
            WriteWarnings(outcome, Force);
            WriteVerbose($"Set '{outcome.Partner.Identity}': committed as revision {outcome.Partner.Revision}.");
            if (PassThru)
            {
                WritePartner(outcome.Partner);
            }
        });
    }
}
