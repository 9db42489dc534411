using System.Management.Automation;
using XmppFederation.Native;

namespace XmppFederation.Commands;

/// <summary>
/// Initialize-CsXmppAllowedPartnerStore: creates the central store explicitly (a PostgreSQL
/// database's schema, or a store folder), or checks that it is current (Lync: Install-CsDatabase
/// for the Central Management store). For databases whose admins have no DDL rights: a user who
/// has them runs it once, and again to upgrade a database of an older schema. The library decides
/// what is needed; -WhatIf and -Confirm only offer a store that would be created or upgraded.
/// </summary>
[Cmdlet(VerbsData.Initialize, "CsXmppAllowedPartnerStore", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(StoreInitialization))]
public sealed class InitializeCsXmppAllowedPartnerStoreCommand : StoreCmdlet
{
    /// <summary>Warnings (e.g. a store folder on a network file system) go to the verbose stream instead.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <inheritdoc/>
    protected override void ProcessRecord()
    {
        ForItem(Store.Paths.Central, () =>
        {
            var preview = Store.PreviewInitialize();
            if (preview.Action == StoreInitializeAction.Current)
            {
                WriteWarnings(preview.Warnings, Force);
                WriteVerbose($"The central store '{preview.CentralStore}' ({preview.Kind}) is at version {preview.Version}, which this library writes: nothing to do.");
                WriteObject(preview);
                return;
            }
            string action = preview.Action == StoreInitializeAction.Upgraded
                ? $"Upgrade the central store ({preview.Kind}) to version {preview.Version}"
                : $"Create the central store ({preview.Kind}, version {preview.Version})";
            if (!ShouldProcess(preview.CentralStore, action))
            {
                return;
            }
            var result = Store.Initialize();
            WriteWarnings(result.Warnings, Force);
            WriteVerbose($"The central store '{result.CentralStore}' ({result.Kind}) is {result.Action.ToString().ToLowerInvariant()} at version {result.Version}.");
            WriteObject(result);
        });
    }
}
