using System;
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

    /// <summary>The identity (primary domain) of one partner; no wildcards. Omit it for every partner.</summary>
    [Parameter(Position = 0, ParameterSetName = IdentitySet)]
    public string? Identity { get; set; }

    /// <summary>A wildcard pattern (*, ?, [abc], [a-z], backtick escapes) matched against Identity, case-insensitively.</summary>
    [Parameter(Mandatory = true, ParameterSetName = FilterSet)]
    public string Filter { get; set; } = string.Empty;

    /// <summary>Read this machine's local replica instead of the central store.</summary>
    [Parameter]
    public SwitchParameter LocalStore { get; set; }

    /// <inheritdoc/>
    protected override void ProcessRecord()
    {
        try
        {
            if (ParameterSetName == IdentitySet && Identity is not null)
            {
                WriteObject(Store.Get(Identity, LocalStore));
            }
            else
            {
                WriteObject(Store.List(ParameterSetName == FilterSet ? Filter : null, LocalStore), enumerateCollection: true);
            }
        }
        catch (XmppFedException e)
        {
            Fail(e, (object?)Identity ?? Filter);
        }
    }
}
