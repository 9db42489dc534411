@{
    RootModule           = 'XmppFederation.dll'
    # Stamped by scripts/build.sh with the crate's version (Cargo.toml), which the assemblies and
    # the native library carry too: this copy is never imported as it is.
    ModuleVersion        = '0.0.0'
    GUID                 = '0087ece1-8ff4-463a-a117-f259c8233167'
    Author               = 'xmppfed developers'
    CompanyName          = 'xmppfed developers'
    Copyright            = '(c) xmppfed developers. MIT License.'
    Description          = 'The XMPP federation allowed-partner list of Lync Server 2013 (New-, Get-, Set- and Remove-CsXmppAllowedPartner) on a cross-platform Rust core, Test-CsXmppAllowedPartner, which explains remote domains, Get-CsXmppAllowedPartnerHistory (who changed what, when) and Export-/Import-CsXmppAllowedPartner (the whole list as JSON or CSV, imported in one commit): validated domains and negotiation settings, a durable central store with a local replica, help, tab completion and CSV/JSON round trips. See about_XmppFederation.'
    # The assemblies target .NET 10, which PowerShell 7.6 is the first to run on.
    PowerShellVersion    = '7.6'
    CompatiblePSEditions = @('Core')
    RequiredAssemblies   = @('XmppFederation.Native.dll', 'XmppFederation.dll')
    TypesToProcess       = @('XmppFederation.Types.ps1xml')
    FormatsToProcess     = @('XmppFederation.Format.ps1xml')
    CmdletsToExport      = @('New-CsXmppAllowedPartner', 'Get-CsXmppAllowedPartner', 'Set-CsXmppAllowedPartner', 'Remove-CsXmppAllowedPartner',
                            'Test-CsXmppAllowedPartner', 'Invoke-CsXmppAllowedPartnerReplication', 'Get-CsXmppAllowedPartnerReplicationStatus',
                            'Initialize-CsXmppAllowedPartnerStore', 'Get-CsXmppAllowedPartnerHistory', 'Export-CsXmppAllowedPartner',
                            'Import-CsXmppAllowedPartner')
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
    PrivateData          = @{
        PSData = @{
            # No ProjectUri, LicenseUri or HelpInfoUri: the project has no public address yet.
            Tags = @('XMPP', 'Federation', 'Lync', 'LyncServer2013', 'AllowedPartner', 'Jabber', 'PSEdition_Core', 'Linux')
        }
    }
}
