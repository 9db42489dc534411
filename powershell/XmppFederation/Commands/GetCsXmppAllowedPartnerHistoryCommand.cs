using System;
using System.Management.Automation;
using XmppFederation.Native;

namespace XmppFederation.Commands;

/// <summary>
/// Get-CsXmppAllowedPartnerHistory: who changed which partner, when, on which machine, how (New,
/// Set, Remove, Import) and what changed, newest first, from the central store's history. The
/// library keeps, filters and orders it; this binds the parameters and converts the times.
/// </summary>
[Cmdlet(VerbsCommon.Get, "CsXmppAllowedPartnerHistory")]
[OutputType(typeof(HistoryEntry))]
public sealed class GetCsXmppAllowedPartnerHistoryCommand : StoreCmdlet
{
    /// <summary>
    /// A wildcard pattern matched against the changed partner's Identity (partners removed since
    /// included); partner objects bind by their Identity property. Omit it for every partner.
    /// </summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [PartnerIdentityTransformation]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(PartnerIdentityCompleter))]
    [ValidateNotNullOrEmpty]
    public string? Identity { get; set; }

    /// <summary>Only changes made at or after this time (to the second; a time without a kind is local time).</summary>
    [Parameter]
    public DateTime After { get; set; }

    /// <summary>Only changes made at or before this time (to the second; a time without a kind is local time).</summary>
    [Parameter]
    public DateTime Before { get; set; }

    /// <summary>At most this many entries, the newest.</summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public int First { get; set; }

    /// <inheritdoc/>
    protected override void ProcessRecord()
    {
        var bound = MyInvocation.BoundParameters;
        var query = new HistoryQuery
        {
            Identity = Identity,
            After = bound.ContainsKey(nameof(After)) ? After : null,
            Before = bound.ContainsKey(nameof(Before)) ? Before : null,
            First = bound.ContainsKey(nameof(First)) ? (ulong)First : null,
        };
        ForItem(Identity, () =>
        {
            var entries = Store.History(query);
            WriteVerbose($"{entries.Count} change(s){(Identity is null ? string.Empty : $" of partners matching '{Identity}'")} in the central store's history.");
            foreach (var entry in entries)
            {
                WriteObject(entry);
            }
        });
    }
}
