@{
    # Bench-only: the trivial binary module that Measure-XmppFederation.ps1 measures the product against.
    RootModule           = 'XmppFederation.BenchFloor.dll'
    ModuleVersion        = '0.1.0'
    GUID                 = '5d0b7d5e-2f4c-4a36-9a55-0c1f3b8e7a41'
    Author               = 'xmppfed developers'
    Description          = 'Bench-only PowerShell floor for XmppFederation: cmdlets that do nothing but bind and write prebuilt objects.'
    PowerShellVersion    = '7.6'
    CompatiblePSEditions = @('Core')
    CmdletsToExport      = @('Initialize-BenchFloor', 'Get-BenchFloorPartner', 'New-BenchFloorPartner', 'Set-BenchFloorPartner',
                            'Remove-BenchFloorPartner', 'Measure-BenchFloorFsync')
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
}
