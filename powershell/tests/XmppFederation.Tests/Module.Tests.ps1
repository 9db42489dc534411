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
    }

    It 'asks for the PowerShell its assemblies run on: 7.6 for net10.0, 5.1 (Desktop and Core) for netstandard2.0' {
        $framework = [XmppFederation.Native.PartnerStore].Assembly.GetCustomAttributes([System.Runtime.Versioning.TargetFrameworkAttribute], $false)[0].FrameworkName
        [XmppFederation.Commands.StoreCmdlet].Assembly.GetCustomAttributes([System.Runtime.Versioning.TargetFrameworkAttribute], $false)[0].FrameworkName |
            Should -BeExactly $framework
        switch ($framework) {
            '.NETCoreApp,Version=v10.0' {
                $manifest.PowerShellVersion | Should -Be ([version]'7.6')
                @($data.CompatiblePSEditions) | Should -Be @('Core')
                $manifest.Tags | Should -Not -Contain 'PSEdition_Desktop'
            }
            '.NETStandard,Version=v2.0' {
                # The Windows PowerShell 5.1 build (the staged module's Desktop folder).
                $manifest.PowerShellVersion | Should -Be ([version]'5.1')
                @($data.CompatiblePSEditions) | Should -Be @('Desktop', 'Core')
                $manifest.Tags | Should -Contain 'PSEdition_Desktop'
            }
            default { throw "unexpected target framework '$framework'" }
        }
    }

    It 'exports exactly the eleven cmdlets, by name' {
        @($data.CmdletsToExport) | Sort-Object | Should -Be @('Export-CsXmppAllowedPartner', 'Get-CsXmppAllowedPartner', 'Get-CsXmppAllowedPartnerHistory',
            'Get-CsXmppAllowedPartnerReplicationStatus', 'Import-CsXmppAllowedPartner', 'Initialize-CsXmppAllowedPartnerStore',
            'Invoke-CsXmppAllowedPartnerReplication', 'New-CsXmppAllowedPartner', 'Remove-CsXmppAllowedPartner', 'Set-CsXmppAllowedPartner',
            'Test-CsXmppAllowedPartner')
        @($manifest.ExportedCmdlets.Keys) | Sort-Object | Should -Be @($data.CmdletsToExport | Sort-Object)
        @($data.FunctionsToExport).Count | Should -Be 0
        @($data.AliasesToExport).Count | Should -Be 0
    }

    It 'ships its type data, format data and help in the module folder' {
        $folder = Split-Path $ModulePath
        Join-Path $folder $data.FormatsToProcess[0] | Should -Exist
        Join-Path $folder $data.TypesToProcess[0] | Should -Exist
        # The type data names the partner type's adapter: both assemblies load before it is read.
        @($data.RequiredAssemblies) | Should -Be @('XmppFederation.Native.dll', 'XmppFederation.dll')
        $data.RequiredAssemblies | ForEach-Object { Join-Path $folder $_ | Should -Exist }
        Join-Path $folder 'en-US/XmppFederation.dll-Help.xml' | Should -Exist
        Join-Path $folder 'en-US/about_XmppFederation.help.txt' | Should -Exist
    }
}

Describe 'The native library' {
    It 'is loaded from the module''s own runtimes/RID/native folder' {
        $null = [XmppFederation.Native.PartnerStore]::LibraryVersion
        $resolver = [XmppFederation.Native.PartnerStore].Assembly.GetType('XmppFederation.Native.NativeLibraryResolver', $true)
        $loaded = $resolver.GetProperty('LoadedPath', [System.Reflection.BindingFlags]'NonPublic, Static').GetValue($null)
        $loaded | Should -Not -BeNullOrEmpty
        $runtimes = [System.IO.Path]::GetFullPath((Join-Path (Split-Path $ModulePath) 'runtimes')) + [System.IO.Path]::DirectorySeparatorChar
        [System.IO.Path]::GetFullPath($loaded).StartsWith($runtimes, [System.StringComparison]::Ordinal) | Should -BeTrue -Because "$loaded is under $runtimes"
        Split-Path -Leaf $loaded | Should -BeExactly $(if ($IsWindows) { 'xmppfed.dll' } else { 'libxmppfed.so' })
    }

    It 'is reported as NativeLibraryNotFound, naming the file, when it cannot be loaded' {
        $store = New-TestStore
        try {
            $missing = Join-Path $store.Root 'no-such-library'
            $child = Invoke-ChildPwsh -Store $store -NoImport -Script @"
`$env:XMPPFED_NATIVE_LIBRARY = '$($missing -replace "'", "''")'
Import-Module '$($ModulePath -replace "'", "''")' -ErrorAction Stop
try { Get-CsXmppAllowedPartner -ErrorAction Stop } catch { "ID=`$(`$_.FullyQualifiedErrorId)"; "CATEGORY=`$(`$_.CategoryInfo.Category)"; "MESSAGE=`$(`$_.Exception.Message)" }
"@
            $child.Lines | Should -Contain 'ID=NativeLibraryNotFound,XmppFederation.Commands.GetCsXmppAllowedPartnerCommand' -Because ($child.Output + $child.Errors)
            ($child.Lines | Where-Object { $_ -like 'MESSAGE=*' }) | Should -BeLike "*'$missing'*XMPPFED_NATIVE_LIBRARY*"
        }
        finally {
            Remove-TestStore
        }
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
