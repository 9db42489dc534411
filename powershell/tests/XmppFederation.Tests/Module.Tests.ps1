# The module as a package: its manifest, one version everywhere (Cargo.toml's), and use by name
# from a folder on $env:PSModulePath (auto-loading), as an admin installs it.
param([string] $ModulePath = (Join-Path $PSScriptRoot '../../../target/XmppFederation/XmppFederation.psd1'))

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module $ModulePath
    Set-TestModulePath $ModulePath
    $script:CargoVersion = (Select-String -LiteralPath (Join-Path $PSScriptRoot '../../../Cargo.toml') -Pattern '^version\s*=\s*"([0-9.]+)"' | Select-Object -First 1).Matches[0].Groups[1].Value
}

Describe 'The module manifest' {
    BeforeAll {
        $manifest = Test-ModuleManifest -Path $ModulePath -ErrorAction Stop
        $data = Import-PowerShellDataFile -LiteralPath $ModulePath
    }

    It 'passes Test-ModuleManifest' {
        $manifest | Should -Not -BeNullOrEmpty
        $manifest.Name | Should -BeExactly 'XmppFederation'
    }

    It 'carries Cargo.toml''s version, as do both assemblies and the native library' {
        $script:CargoVersion | Should -Match '^\d+\.\d+\.\d+$'
        "$($manifest.Version)" | Should -BeExactly $script:CargoVersion
        foreach ($assembly in [XmppFederation.Native.PartnerStore].Assembly, [XmppFederation.Commands.StoreCmdlet].Assembly) {
            $assembly.GetName().Version.ToString(3) | Should -BeExactly $script:CargoVersion
            [System.Diagnostics.FileVersionInfo]::GetVersionInfo($assembly.Location).ProductVersion | Should -BeExactly $script:CargoVersion
        }
        [XmppFederation.Native.PartnerStore]::LibraryVersion | Should -BeExactly $script:CargoVersion
        (Get-Module XmppFederation).Version.ToString() | Should -BeExactly $script:CargoVersion
    }

    It 'describes the module and tags it, and states no address it does not have' {
        $manifest.Description | Should -Match 'XMPP'
        $manifest.Description.Length | Should -BeGreaterThan 80
        $manifest.Tags | Should -Contain 'XMPP'
        $manifest.Tags | Should -Contain 'Lync'
        $manifest.Tags | Should -Contain 'PSEdition_Core'
        # No invented addresses: these stay out until the project has real ones.
        $manifest.ProjectUri | Should -BeNullOrEmpty
        $manifest.LicenseUri | Should -BeNullOrEmpty
        $manifest.HelpInfoUri | Should -BeNullOrEmpty
        $manifest.PowerShellVersion | Should -Be ([version]'7.6')
    }

    It 'exports exactly the seven cmdlets, by name' {
        @($data.CmdletsToExport) | Sort-Object | Should -Be @('Get-CsXmppAllowedPartner', 'Get-CsXmppAllowedPartnerReplicationStatus', 'Invoke-CsXmppAllowedPartnerReplication',
            'New-CsXmppAllowedPartner', 'Remove-CsXmppAllowedPartner', 'Set-CsXmppAllowedPartner', 'Test-CsXmppAllowedPartner')
        @($manifest.ExportedCmdlets.Keys) | Sort-Object | Should -Be @($data.CmdletsToExport | Sort-Object)
        @($data.FunctionsToExport).Count | Should -Be 0
        @($data.AliasesToExport).Count | Should -Be 0
    }

    It 'ships its format data and help in the module folder' {
        $folder = Split-Path $ModulePath
        Join-Path $folder $data.FormatsToProcess[0] | Should -Exist
        Join-Path $folder 'en-US/XmppFederation.dll-Help.xml' | Should -Exist
        Join-Path $folder 'en-US/about_XmppFederation.help.txt' | Should -Exist
    }
}

Describe 'Installed in a folder on $env:PSModulePath' {
    BeforeEach {
        $store = New-TestStore
        # The layout Install-Module uses: <folder>/XmppFederation/<version>/.
        $modules = Join-Path $store.Root 'Modules'
        $installed = Join-Path $modules "XmppFederation/$script:CargoVersion"
        $null = New-Item -ItemType Directory -Path $installed
        Copy-Item -Path (Join-Path (Split-Path $ModulePath) '*') -Destination $installed -Recurse
    }
    AfterEach { Remove-TestStore }

    It 'is found by name and loaded by the first cmdlet call, without Import-Module' {
        $quoted = "'" + ($modules -replace "'", "''") + "'"
        $child = Invoke-ChildPwsh -Store $store -NoImport -Script @"
`$env:PSModulePath = $quoted + [System.IO.Path]::PathSeparator + `$env:PSModulePath
"LOADED-BEFORE=`$(@(Get-Module XmppFederation).Count)"
"AVAILABLE=`$((Get-Module -ListAvailable XmppFederation).Version)"
"COMMAND-SOURCE=`$((Get-Command Get-CsXmppAllowedPartner).Source)"
`$null = New-CsXmppAllowedPartner contoso.com -ErrorVariable ev
Show-Errors `$ev
"IDS=`$((Get-CsXmppAllowedPartner).Identity -join ',')"
"LOADED-FROM=`$((Get-Module XmppFederation).ModuleBase)"
"HELP=`$((Get-Help Get-CsXmppAllowedPartner).Synopsis)"
"@
        $child.ErrorLines | Should -BeNullOrEmpty -Because ($child.Output + $child.Errors)
        $child.Lines | Should -Contain 'LOADED-BEFORE=0'
        $child.Lines | Should -Contain "AVAILABLE=$script:CargoVersion"
        $child.Lines | Should -Contain 'COMMAND-SOURCE=XmppFederation'
        $child.Lines | Should -Contain 'IDS=contoso.com'
        $child.Lines | Should -Contain "LOADED-FROM=$installed"
        ($child.Lines | Where-Object { $_ -like 'HELP=*' }) | Should -BeLike 'HELP=Returns the XMPP allowed partners*'
    }
}
