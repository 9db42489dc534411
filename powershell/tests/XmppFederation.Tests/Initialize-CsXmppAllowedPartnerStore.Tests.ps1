# Initialize-CsXmppAllowedPartnerStore in a real pwsh: on a folder store and on a PostgreSQL store
# (a fresh schema of the test cluster, whatever kind the rest of the run uses).
param([string] $ModulePath = (Join-Path $PSScriptRoot '../../../target/XmppFederation/XmppFederation.psd1'))

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module $ModulePath
    Set-TestModulePath $ModulePath
}

Describe 'Initialize-CsXmppAllowedPartnerStore' {
    AfterEach { Remove-TestStore }

    It 'declares StoreInitialization as its output type and asks ShouldProcess' {
        $command = Get-Command Initialize-CsXmppAllowedPartnerStore
        $command.OutputType.Name | Should -Contain 'XmppFederation.Native.StoreInitialization'
        $command.Parameters.Keys | Should -Contain 'WhatIf'
        $command.Parameters.Keys | Should -Contain 'Confirm'
    }

    Context 'a folder store' {
        It 'creates a missing folder, private, only without -WhatIf; then finds it current' {
            $store = New-TestStore -Kind Folder -CentralMissing
            $child = Invoke-ChildPwsh -Store $store -Script 'Initialize-CsXmppAllowedPartnerStore -WhatIf'
            $child.ExitCode | Should -Be 0 -Because $child.Errors
            $child.WhatIf.Count | Should -Be 1 -Because $child.Output
            $child.WhatIf[0] | Should -BeLike "*Create the central store (Folder, version 3)*$($store.Central)*"
            $store.Central | Should -Not -Exist

            $done = Initialize-CsXmppAllowedPartnerStore
            $done | Should -BeOfType ([XmppFederation.Native.StoreInitialization])
            "$($done.Action)" | Should -BeExactly 'Created'
            $done.Kind | Should -BeExactly 'Folder'
            $done.Version | Should -Be 3
            $done.CentralStore | Should -BeExactly $store.Central
            @($done.Warnings).Count | Should -Be 0
            $store.Central | Should -Exist
            if (-not $IsWindows) {
                (Get-Item -LiteralPath $store.Central).UnixFileMode | Should -Be ([System.IO.UnixFileMode]'UserRead, UserWrite, UserExecute')
            }
            "$((Initialize-CsXmppAllowedPartnerStore).Action)" | Should -BeExactly 'Current'
            (New-CsXmppAllowedPartner contoso.com).Revision | Should -Be 1
        }

        It 'checks an existing store without changing it: Current (with -WhatIf too, without a "What if:" line), verbose says so' {
            $store = New-TestStore -Kind Folder
            $null = New-CsXmppAllowedPartner contoso.com
            $hash = Get-LogHash $store.Central
            $verbose = @(Initialize-CsXmppAllowedPartnerStore -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message)
            $verbose | Should -Contain "The central store '$($store.Central)' (Folder) is at version 3, which this library writes: nothing to do."
            $child = Invoke-ChildPwsh -Store $store -Script '$r = Initialize-CsXmppAllowedPartnerStore -WhatIf; "action=$($r.Action)"'
            $child.WhatIf.Count | Should -Be 0 -Because $child.Output
            $child.Lines | Should -Contain 'action=Current'
            Get-LogHash $store.Central | Should -BeExactly $hash
        }

        It 'refuses to create afresh a folder in which this machine has seen a store (an unmounted share): StoreMismatch' {
            $store = New-TestStore -Kind Folder
            $null = New-CsXmppAllowedPartner contoso.com
            Rename-Item -LiteralPath $store.Central -NewName 'unmounted'
            $err = { Initialize-CsXmppAllowedPartnerStore } | Should -Throw -PassThru
            Assert-XmppError $err -Id StoreMismatch -Verb Initialize -Noun CsXmppAllowedPartnerStore -Category InvalidData -Target $store.Central
            $err.Exception.Message | Should -BeLike '*does not exist*Nothing was created*'
            $store.Central | Should -Not -Exist
        }
    }

    # The Windows build has no PostgreSQL client (no libpq for mingw; README "Windows"): there a
    # connection string is refused, and the database tests are not defined.
    if ($IsWindows) {
        Context 'a PostgreSQL connection string on Windows' {
            It 'is refused: this build has no PostgreSQL support (NoStoreLocation)' {
                $store = New-TestStore -Kind Folder
                $env:XMPPFED_STORE = 'host=127.0.0.1 port=5432 dbname=xmppfed'
                $err = { Initialize-CsXmppAllowedPartnerStore } | Should -Throw -PassThru
                $err.FullyQualifiedErrorId | Should -BeExactly 'NoStoreLocation,XmppFederation.Commands.InitializeCsXmppAllowedPartnerStoreCommand'
                $err.Exception.Message | Should -BeLike '*no PostgreSQL support*'
            }
        }
    }
    else {
        Context 'a PostgreSQL store' {
            BeforeEach {
                $store = New-TestStore -Kind PostgreSQL
                $password = (Get-TestPostgresServer) -replace '.*password=(\S+).*', '$1'
            }

            It 'creates the schema in an empty database, only without -WhatIf, naming the database without its password' {
                $child = Invoke-ChildPwsh -Store $store -Script 'Initialize-CsXmppAllowedPartnerStore -WhatIf'
                $child.ExitCode | Should -Be 0 -Because $child.Errors
                $child.WhatIf.Count | Should -Be 1 -Because $child.Output
                $child.WhatIf[0] | Should -BeLike '*Create the central store (PostgreSQL, version 2)*postgresql://xmppfed@127.0.0.1:*'
                $child.Output | Should -Not -BeLike "*$password*"
                Invoke-TestPsql $store.Central "SELECT to_regclass('xmppfed_meta') IS NULL" | Should -Be 't'

                $done = Initialize-CsXmppAllowedPartnerStore
                "$($done.Action)" | Should -BeExactly 'Created'
                $done.Kind | Should -BeExactly 'PostgreSQL'
                $done.Version | Should -Be 2
                $done.CentralStore | Should -BeLike 'postgresql://xmppfed@127.0.0.1:*'
                $done.CentralStore | Should -Not -BeLike "*$password*"
                Invoke-TestPsql $store.Central 'SELECT schema_version FROM xmppfed_meta' | Should -Be '2'
                "$((Initialize-CsXmppAllowedPartnerStore).Action)" | Should -BeExactly 'Current'
                (New-CsXmppAllowedPartner contoso.com).Revision | Should -Be 1
            }

            It 'upgrades a database of schema version 1: Upgraded, only without -WhatIf, keeping its partners' {
                $null = Initialize-CsXmppAllowedPartnerStore
                $null = New-CsXmppAllowedPartner contoso.com
                $null = Invoke-TestPsql $store.Central 'UPDATE xmppfed_meta SET schema_version = 1'
                $child = Invoke-ChildPwsh -Store $store -Script '$r = Initialize-CsXmppAllowedPartnerStore -WhatIf; "output=$(@($r).Count)"'
                $child.WhatIf.Count | Should -Be 1 -Because $child.Output
                $child.WhatIf[0] | Should -BeLike '*Upgrade the central store (PostgreSQL) to version 2*postgresql://xmppfed@127.0.0.1:*'
                $child.Lines | Should -Contain 'output=0'
                Invoke-TestPsql $store.Central 'SELECT schema_version FROM xmppfed_meta' | Should -Be '1'

                $done = Initialize-CsXmppAllowedPartnerStore
                $done.Action | Should -Be ([XmppFederation.Native.StoreInitializeAction]::Upgraded)
                $done.Version | Should -Be 2
                Invoke-TestPsql $store.Central 'SELECT schema_version FROM xmppfed_meta' | Should -Be '2'
                "$((Initialize-CsXmppAllowedPartnerStore).Action)" | Should -BeExactly 'Current'
                (Get-CsXmppAllowedPartner).Identity | Should -Be @('contoso.com')
            }

            It 'refuses a schema newer than the library: StoreVersion, saying so' {
                $null = Initialize-CsXmppAllowedPartnerStore
                $null = Invoke-TestPsql $store.Central 'UPDATE xmppfed_meta SET schema_version = 3'
                $err = { Initialize-CsXmppAllowedPartnerStore } | Should -Throw -PassThru
                $err.FullyQualifiedErrorId | Should -BeExactly 'StoreVersion,XmppFederation.Commands.InitializeCsXmppAllowedPartnerStoreCommand'
                $err.Exception.Message | Should -BeLike '*schema version 3, written by a newer xmppfed; this library reads up to version 2*'
                # Every other command refuses it too (another session: this one's handle has read it).
                $child = Invoke-ChildPwsh -Store $store -Script 'try { Get-CsXmppAllowedPartner } catch { Show-Errors $_ }'
                $child.ErrorLines.Count | Should -Be 1 -Because $child.Output
                $child.ErrorLines[0] | Should -BeLike 'StoreVersion,XmppFederation.Commands.GetCsXmppAllowedPartnerCommand|InvalidData|*'
            }

            It 'tells an admin without DDL rights to have Initialize run, and works once the owner ran it and granted the tables' {
                $schema = $store.Central -replace ".*search_path=(\w+)'.*", '$1'
                $role = 'pester_admin_' + [guid]::NewGuid().ToString('N').Substring(0, 8)
                $secret = 'Pw-' + [guid]::NewGuid().ToString('N')
                $null = Invoke-TestPsql $store.Central "CREATE ROLE $role LOGIN PASSWORD '$secret'; GRANT USAGE ON SCHEMA $schema TO $role"
                try {
                    $owner = $store.Central
                    $env:XMPPFED_STORE = "$owner user=$role password=$secret"
                    Get-CsXmppAllowedPartner -ErrorVariable e -ErrorAction SilentlyContinue
                    @($e).Count | Should -Be 1
                    $e[0].FullyQualifiedErrorId | Should -BeExactly 'StoreIo,XmppFederation.Commands.GetCsXmppAllowedPartnerCommand'
                    $e[0].CategoryInfo.Category | Should -Be ResourceUnavailable
                    $e[0].Exception.Message | Should -BeLike '*no xmppfed schema yet, and this user may not create it*Initialize-CsXmppAllowedPartnerStore*'
                    $e[0].Exception.Message | Should -Not -BeLike "*$secret*"
                    $null = New-CsXmppAllowedPartner contoso.com -ErrorVariable e -ErrorAction SilentlyContinue
                    $e[0].FullyQualifiedErrorId | Should -BeExactly 'StoreIo,XmppFederation.Commands.NewCsXmppAllowedPartnerCommand'

                    $env:XMPPFED_STORE = $owner
                    "$((Initialize-CsXmppAllowedPartnerStore).Action)" | Should -BeExactly 'Created'
                    $null = Invoke-TestPsql $owner "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA $schema TO $role"
                    $env:XMPPFED_STORE = "$owner user=$role password=$secret"
                    (New-CsXmppAllowedPartner contoso.com).Revision | Should -Be 1
                    "$((Initialize-CsXmppAllowedPartnerStore).Action)" | Should -BeExactly 'Current'
                }
                finally {
                    $env:XMPPFED_STORE = $store.Central
                    $null = Invoke-TestPsql $store.Central "DROP OWNED BY $role; DROP ROLE $role"
                }
            }
        }
    }
}
