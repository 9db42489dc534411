using System.Management.Automation;
using XmppFederation.Native;

namespace XmppFederation.Commands;

/// <summary>Get-CsXmppAllowedPartner: returns allowed partners, all of them, one by identity, or those matching a wildcard filter.</summary>
[Cmdlet(VerbsCommon.Get, "CsXmppAllowedPartner", DefaultParameterSetName = IdentitySet)]
[OutputType(typeof(PartnerData))]
public sealed class GetCsXmppAllowedPartnerCommand : StoreCmdlet
{
    /// <summary>Parameter set naming one partner (or none: every partner).</summary>
    public const string IdentitySet = "Identity";
    /// <summary>Parameter set selecting partners by a wildcard pattern.</summary>
    public const string FilterSet = "Filter";

    /// <summary>
    /// The identity (primary domain) of one partner; no wildcards. Omit it for every partner; an
    /// explicit $null or empty value is an error (a typo must never select the whole list).
    /// </summary>
    [Parameter(Position = 0, ParameterSetName = IdentitySet)]
    [PartnerIdentityTransformation]
    [ArgumentCompleter(typeof(PartnerIdentityCompleter))]
    [ValidateNotNullOrEmpty]
    public string? Identity { get; set; }

    /// <summary>A wildcard pattern (*, ?, [abc], [a-z], backtick escapes) matched against Identity, case-insensitively.</summary>
    [Parameter(Mandatory = true, ParameterSetName = FilterSet)]
    [SupportsWildcards]
    [ValidateNotNull]
    [ArgumentCompleter(typeof(PartnerIdentityCompleter))]
    public string Filter { get; set; } = string.Empty;

    /// <summary>Read this machine's local replica instead of the central store.</summary>
    [Parameter]
    public SwitchParameter LocalStore { get; set; }

    /// <inheritdoc/>
    protected override void ProcessRecord()
    {
        string source = LocalStore ? "local replica" : "central store";
        if (Identity is not null)
        {
            ForItem(Identity, () =>
            {
                var partner = Store.Get(Identity, LocalStore);
                WriteVerbose($"Found '{partner.Identity}' in the {source} (revision {partner.Revision}).");
                WritePartner(partner);
            });
            return;
        }
        string? filter = ParameterSetName == FilterSet ? Filter : null;
        ForItem(filter, () =>
        {
            // Streamed: each partner is decoded from the library's UTF-8 output as it is written,
            // so the pipeline gets the first one at once and the list is never held whole here.
            // The count is told after the partners, from what was written: counting first would
            // be a second pass over the whole output (a tenth of the list's cost at 100,000).
            using var partners = Store.ListStreamed(filter, LocalStore);
            int written = WritePartners(partners);
            WriteVerbose($"{written} partner(s) {(filter is null ? "in" : $"matching '{filter}' in")} the {source}.");
        });
    }
}
