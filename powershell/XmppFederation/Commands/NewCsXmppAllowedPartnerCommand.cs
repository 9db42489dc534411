using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using XmppFederation.Native;

namespace XmppFederation.Commands;

/// <summary>New-CsXmppAllowedPartner: creates an XMPP allowed partner (or, with -InMemory, only builds it).</summary>
[Cmdlet(VerbsCommon.New, "CsXmppAllowedPartner", DefaultParameterSetName = IdentitySet,
    SupportsShouldProcess = true, ConfirmImpact = Impact)]
[OutputType(typeof(PartnerData))]
public sealed class NewCsXmppAllowedPartnerCommand : StoreCmdlet
{
    /// <summary>The cmdlet's ConfirmImpact: -Confirm is asked for when $ConfirmPreference is Medium or Low.</summary>
    private const ConfirmImpact Impact = ConfirmImpact.Medium;

    /// <summary>Parameter set naming the partner by -Identity.</summary>
    public const string IdentitySet = "Identity";
    /// <summary>Parameter set naming the partner by -Domain.</summary>
    public const string DomainSet = "Domain";

    /// <summary>The partner's primary domain (the key).</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = IdentitySet, ValueFromPipelineByPropertyName = true)]
    [PartnerIdentityTransformation]
    [ValidateNotNullOrEmpty]
    public string Identity { get; set; } = string.Empty;

    /// <summary>The partner's primary domain; the same as -Identity.</summary>
    [Parameter(Mandatory = true, ParameterSetName = DomainSet)]
    [PartnerIdentityTransformation]
    [ValidateNotNullOrEmpty]
    public string Domain { get; set; } = string.Empty;

    /// <summary>Further domains of the partner: a list, or a PSListModifier / hashtable with Add, Remove, Replace.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AllowNull]
    public object? AdditionalDomains { get; set; }

    /// <summary>Free text, e.g. contact details (at most 1,024 characters).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? Description { get; set; }

    /// <summary>FQDN of the partner's proxy server.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? ProxyFqdn { get; set; }

    /// <summary>Trust level; default PublicUnverified.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public PartnerType PartnerType { get; set; }

    /// <summary>TLS negotiation; default Required.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public TlsNegotiation TlsNegotiation { get; set; }

    /// <summary>SASL negotiation; default Required.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public SaslNegotiation SaslNegotiation { get; set; }

    /// <summary>Whether server dialback (XEP-0220) is supported; default $true.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [BooleanTextTransformation]
    [ArgumentCompleter(typeof(BooleanCompleter))]
    public bool SupportDialbackNegotiation { get; set; }

    /// <summary>Whether keep-alives are sent; default $true.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [BooleanTextTransformation]
    [ArgumentCompleter(typeof(BooleanCompleter))]
    public bool EnableKeepAlive { get; set; }

    /// <summary>Maximum simultaneous connections with this partner; default 20.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public uint ConnectionLimit { get; set; }

    /// <summary>Build and return the object without storing it; commit it later with Set-CsXmppAllowedPartner -Instance.</summary>
    [Parameter]
    public SwitchParameter InMemory { get; set; }

    /// <summary>Suppresses non-fatal messages: the library's warnings go to the verbose stream.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>The parameters given on the command line (and by $PSDefaultParameterValues), as opposed to those bound from a pipeline object.</summary>
    private HashSet<string> commandLineParameters = new(StringComparer.OrdinalIgnoreCase);

    /// <inheritdoc/>
    protected override bool NeedsStore => !InMemory;

    /// <inheritdoc/>
    protected override void BeginProcessing()
    {
        commandLineParameters = new HashSet<string>(MyInvocation.BoundParameters.Keys, StringComparer.OrdinalIgnoreCase);
        base.BeginProcessing();
    }

    /// <inheritdoc/>
    protected override void ProcessRecord()
    {
        try
        {
            ProcessOne();
        }
        finally
        {
            // PowerShell leaves a value bound from one pipeline object in BoundParameters when the
            // next object lacks that property, so one object's Description would reach the next
            // partner. Each object's own values are bound again before its ProcessRecord.
            foreach (var name in MyInvocation.BoundParameters.Keys.Where(k => !commandLineParameters.Contains(k)).ToList())
            {
                MyInvocation.BoundParameters.Remove(name);
            }
        }
    }

    private void ProcessOne()
    {
        var name = ParameterSetName == DomainSet ? Domain : Identity;
        ForItem(name, () =>
        {
            var properties = PropertyBag.ForNew(MyInvocation.BoundParameters);
            if (InMemory)
            {
                var built = PartnerStore.NewInMemory(properties);
                WriteWarnings(built, Force);
                WriteVerbose($"Built '{built.Partner.Identity}' in memory; nothing was stored (commit it with Set-CsXmppAllowedPartner -Instance).");
                WritePartner(built.Partner);
                return;
            }
            // Decided by the library first when ShouldProcess may show it, so that -WhatIf and
            // -Confirm never offer a change that would be refused.
            string target = ShouldProcessMayShow(Impact) ? Store.PreviewNew(properties).Partner.Identity : name;
            if (!ShouldProcess(target, "Create XMPP allowed partner"))
            {
                return;
            }
            var outcome = Store.New(properties);
            WriteWarnings(outcome, Force);
            WriteVerbose($"Created '{outcome.Partner.Identity}': committed as revision {outcome.Partner.Revision}.");
            WritePartner(outcome.Partner);
        });
    }
}
