@{
    RootModule           = 'XmppFederation.dll'
    ModuleVersion        = '0.1.0'
    GUID                 = '0087ece1-8ff4-463a-a117-f259c8233167'
    Author               = 'xmppfed developers'
    Description          = 'XMPP federation allowed partners (the *-CsXmppAllowedPartner cmdlets of Lync Server 2013), on a cross-platform Rust core.'
    # The assemblies target .NET 10, which PowerShell 7.6 is the first to run on.
    PowerShellVersion    = '7.6'
    CompatiblePSEditions = @('Core')
    FormatsToProcess     = @('XmppFederation.Format.ps1xml')
    CmdletsToExport      = @('New-CsXmppAllowedPartner', 'Get-CsXmppAllowedPartner', 'Set-CsXmppAllowedPartner', 'Remove-CsXmppAllowedPartner')
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
}
