using System;
using System.Management.Automation;
using XmppFederation.Native;

namespace XmppFederation.Commands;

/// <summary>
/// Test-CsXmppAllowedPartner: explains remote domains: whether each is allowed, by which partner
/// and how (primary or additional domain), the negotiation methods tried in order, the warnings,
/// and near misses (subdomains are not covered implicitly). The library decides all of it.
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "CsXmppAllowedPartner")]
[OutputType(typeof(DomainExplanation))]
public sealed class TestCsXmppAllowedPartnerCommand : StoreCmdlet
{
    /// <summary>
    /// The remote domains to explain, e.g. from <c>Get-Content domains.txt</c>; objects with a
    /// Domain property (partners, CSV rows) bind by that property; other objects are refused.
    /// </summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [DomainNamesTransformation]
    [ArgumentCompleter(typeof(PartnerIdentityCompleter))]
    public string[] Domain { get; set; } = Array.Empty<string>();

    /// <summary>Read this machine's local replica instead of the central store.</summary>
    [Parameter]
    public SwitchParameter LocalStore { get; set; }

    /// <inheritdoc/>
    protected override void ProcessRecord()
    {
        foreach (string domain in Domain)
        {
            ForItem(domain, () =>
            {
                var explanation = Store.Explain(domain, LocalStore);
                WriteVerbose($"{explanation.Summary}. Read at revision {explanation.StoreRevision} of the {(LocalStore ? "local replica" : "central store")}.");
                WriteObject(explanation);
            });
        }
    }
}
