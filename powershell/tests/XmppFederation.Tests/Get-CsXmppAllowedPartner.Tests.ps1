# Get-CsXmppAllowedPartner in a real pwsh, on a fresh temporary store per test.
param([string] $ModulePath = (Join-Path $PSScriptRoot '../../../target/XmppFederation/XmppFederation.psd1'))

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module $ModulePath
    Set-TestModulePath $ModulePath
    $PSDefaultParameterValues = @{ '*-CsXmppAllowedPartner:WarningAction' = 'SilentlyContinue' }
}

Describe 'Get-CsXmppAllowedPartner' {
    BeforeEach { $store = New-TestStore }
    AfterEach { Remove-TestStore }

    Context 'the reference page''s examples' {
        BeforeEach {
            # Created out of order: the output is sorted by Identity.
            $null = New-CsXmppAllowedPartner fabrikam.com -AdditionalDomains fabrikam.org -SaslNegotiation Optional -TlsNegotiation Optional
            $null = New-CsXmppAllowedPartner contoso.com
            $null = New-CsXmppAllowedPartner beta.org -SaslNegotiation NotSupported
            $null = New-CsXmppAllowedPartner alpha.org
        }

        It 'Get-CsXmppAllowedPartner: every partner, sorted by Identity' {
            $all = @(Get-CsXmppAllowedPartner)
            $all.Identity | Should -Be @('alpha.org', 'beta.org', 'contoso.com', 'fabrikam.com')
            $all | ForEach-Object { $_ | Should -BeOfType ([XmppFederation.Native.PartnerData]) }
        }

        It 'Get-CsXmppAllowedPartner -Identity "contoso.com"' {
            $p = @(Get-CsXmppAllowedPartner -Identity "contoso.com")
            $p.Count | Should -Be 1
            $p[0].Identity | Should -BeExactly 'contoso.com'
        }

        It 'Get-CsXmppAllowedPartner -Filter "*.org" (Identity only, not additional domains)' {
            (Get-CsXmppAllowedPartner -Filter "*.org").Identity | Should -Be @('alpha.org', 'beta.org')
        }

        It 'Get-CsXmppAllowedPartner | Where-Object {$_.SaslNegotiation -eq "Required"}' {
            (Get-CsXmppAllowedPartner | Where-Object { $_.SaslNegotiation -eq "Required" }).Identity | Should -Be @('alpha.org', 'contoso.com')
        }

        It 'streams: a pipeline that stops after the first partner gets it, and the next Get still lists all' {
            # Partners are decoded one at a time as they are written (issue 14); stopping early
            # releases the library's pages and leaves the session's store usable.
            @(Get-CsXmppAllowedPartner | Select-Object -First 1).Identity | Should -Be @('alpha.org')
            @(Get-CsXmppAllowedPartner -Filter '*.com' | Select-Object -First 1).Identity | Should -Be @('contoso.com')
            @(Get-CsXmppAllowedPartner).Count | Should -Be 4
        }
    }

    Context 'a list of many pages' {
        BeforeEach {
            # 300 partners of about 1 KB each: the library hands the list out in pages of about
            # 64 KiB (issue 14), so this list takes several.
            $null = 0..299 | ForEach-Object { [pscustomobject]@{ Identity = 'p{0:D3}.example.org' -f $_; Description = "partner $_ " + ('d' * 1000) } } |
                Import-CsXmppAllowedPartner
        }

        It 'lists every partner once, in order, across the pages' {
            $all = @(Get-CsXmppAllowedPartner)
            $all.Count | Should -Be 300
            $all.Identity | Should -Be @(0..299 | ForEach-Object { 'p{0:D3}.example.org' -f $_ })
            $all[299].Description | Should -BeExactly ('partner 299 ' + ('d' * 1000))
        }

        It 'Get | Set and Get | Remove change every partner once: the list is the store as it was when Get began' {
            Get-CsXmppAllowedPartner | Set-CsXmppAllowedPartner -Description 'changed'
            $after = @(Get-CsXmppAllowedPartner)
            $after.Count | Should -Be 300
            @($after | Where-Object Description -ne 'changed').Count | Should -Be 0
            # Each partner was written once: the import was commit 1, then 300 commits, one per
            # partner (a partner listed twice would have taken a 302nd).
            ($after.Revision | Measure-Object -Minimum -Maximum) | ForEach-Object { $_.Minimum, $_.Maximum } | Should -Be @(2, 301)
            @($after.Revision | Sort-Object -Unique).Count | Should -Be 300

            Get-CsXmppAllowedPartner | Remove-CsXmppAllowedPartner -Confirm:$false
            @(Get-CsXmppAllowedPartner).Count | Should -Be 0
        }

        It 'a pipeline that stops in the first page leaves the session''s store usable' {
            @(Get-CsXmppAllowedPartner | Select-Object -First 2).Identity | Should -Be @('p000.example.org', 'p001.example.org')
            @(Get-CsXmppAllowedPartner -Filter 'p29?.example.org').Count | Should -Be 10
        }
    }

    Context 'all partners' {
        It 'writes nothing and no error for an empty store' {
            $out = Get-CsXmppAllowedPartner -ErrorVariable ev
            $out | Should -BeNullOrEmpty
            $ev.Count | Should -Be 0
        }

        It 'declares PartnerData as its output type' {
            (Get-Command Get-CsXmppAllowedPartner).OutputType.Name | Should -Contain 'XmppFederation.Native.PartnerData'
        }

        It 'turns a partner into its Identity as a string: "$p" (bug 2)' {
            $p = New-CsXmppAllowedPartner contoso.com
            "$p" | Should -BeExactly 'contoso.com'
            "$(Get-CsXmppAllowedPartner contoso.com)" | Should -BeExactly 'contoso.com'
        }
    }

    Context '-Identity' {
        BeforeEach {
            $null = New-CsXmppAllowedPartner contoso.com
            $null = New-CsXmppAllowedPartner fabrikam.com
        }

        It 'sees what another session committed at its next read, also after reads that found nothing changed' {
            # Reads of an unchanged store ask the kernel nothing on this thread (issue 14: the
            # watch's poll ring); a commit by another process must still show at once.
            foreach ($round in 1..3) {
                foreach ($i in 1..200) {
                    $null = Get-CsXmppAllowedPartner contoso.com
                }
                $child = Invoke-ChildPwsh -Store $store -Script "Set-CsXmppAllowedPartner contoso.com -Description 'round $round'; Show-Errors `$Error"
                $child.ErrorLines | Should -BeNullOrEmpty
                $child.ExitCode | Should -Be 0
                (Get-CsXmppAllowedPartner contoso.com).Description | Should -BeExactly "round $round"
            }
        }

        It 'takes the identity by position' {
            (Get-CsXmppAllowedPartner fabrikam.com).Identity | Should -BeExactly 'fabrikam.com'
        }

        It 'compares the identity case-insensitively' {
            (Get-CsXmppAllowedPartner 'Contoso.COM').Identity | Should -BeExactly 'contoso.com'
        }

        It 'writes a non-terminating NotFound error for a missing identity' {
            $out = Get-CsXmppAllowedPartner -Identity missing.com -ErrorVariable ev -ErrorAction SilentlyContinue
            $out | Should -BeNullOrEmpty
            Assert-XmppError $ev -Id NotFound -Verb Get -Category ObjectNotFound -Target 'missing.com'
        }

        It 'turns NotFound into a terminating error with -ErrorAction Stop' {
            $err = { Get-CsXmppAllowedPartner -Identity missing.com -ErrorAction Stop } | Should -Throw -ErrorId 'NotFound,XmppFederation.Commands.GetCsXmppAllowedPartnerCommand' -PassThru
            $err.TargetObject | Should -BeExactly 'missing.com'
        }

        It 'takes no wildcards: -Identity "contoso*" is an invalid domain, not a pattern' {
            $out = Get-CsXmppAllowedPartner -Identity 'contoso*' -ErrorVariable ev -ErrorAction SilentlyContinue
            $out | Should -BeNullOrEmpty
            Assert-XmppError $ev -Id InvalidDomain -Verb Get -Category InvalidArgument -Target 'contoso*'
        }

        It 'refuses -Identity <Case> with a parameter validation error, never the whole list (bug 3)' -TestCases @(
            @{ Case = '$null'; Value = $null }
            @{ Case = "''"; Value = '' }
        ) {
            # A binding error stops the command before it reads anything, so no list can be written.
            $err = { Get-CsXmppAllowedPartner -Identity $Value } | Should -Throw -ErrorId 'ParameterArgumentValidationError*' -PassThru
            $err.FullyQualifiedErrorId | Should -BeLike 'ParameterArgumentValidationError*,XmppFederation.Commands.GetCsXmppAllowedPartnerCommand'
            $err.Exception.Message | Should -Match 'Identity'
        }
    }

    Context '-Filter' {
        BeforeEach {
            $null = New-CsXmppAllowedPartner contoso.com
            $null = New-CsXmppAllowedPartner fabrikam.com -AdditionalDomains fabrikam.org
            $null = New-CsXmppAllowedPartner beta.org
            $null = New-CsXmppAllowedPartner alpha.org
        }

        It 'matches <Filter> against Identity with PowerShell wildcard rules' -TestCases @(
            @{ Filter = '*.org'; Expected = @('alpha.org', 'beta.org') }
            @{ Filter = '*.ORG'; Expected = @('alpha.org', 'beta.org') }
            @{ Filter = 'c?ntoso.com'; Expected = @('contoso.com') }
            @{ Filter = '[a-b]*'; Expected = @('alpha.org', 'beta.org') }
            @{ Filter = '[cf]*.com'; Expected = @('contoso.com', 'fabrikam.com') }
            @{ Filter = 'contoso`.com'; Expected = @('contoso.com') }
            @{ Filter = '*'; Expected = @('alpha.org', 'beta.org', 'contoso.com', 'fabrikam.com') }
        ) {
            (Get-CsXmppAllowedPartner -Filter $Filter).Identity | Should -Be $Expected
        }

        It 'matches the whole string and honours backtick escapes: <Filter> matches nothing, without an error' -TestCases @(
            @{ Filter = 'contoso' }
            @{ Filter = 'contoso.co' }
            @{ Filter = '`*' }
            @{ Filter = 'fabrikam.org' }
        ) {
            $out = Get-CsXmppAllowedPartner -Filter $Filter -ErrorVariable ev
            $out | Should -BeNullOrEmpty
            $ev.Count | Should -Be 0
        }

        It 'refuses a malformed pattern: InvalidFilter' {
            $out = Get-CsXmppAllowedPartner -Filter '[a-' -ErrorVariable ev -ErrorAction SilentlyContinue
            $out | Should -BeNullOrEmpty
            Assert-XmppError $ev -Id InvalidFilter -Verb Get -Category InvalidArgument -Target '[a-'
        }
    }

    Context '-LocalStore' {
        BeforeEach {
            $null = New-CsXmppAllowedPartner contoso.com -Description 'in both'
            $null = New-CsXmppAllowedPartner fabrikam.com
        }

        It 'reads the replica, and works when the central folder is gone' -Tag FolderOnly {
            Remove-StoreFolder $store.Central
            (Get-CsXmppAllowedPartner -LocalStore).Identity | Should -Be @('contoso.com', 'fabrikam.com')
            (Get-CsXmppAllowedPartner -LocalStore -Identity contoso.com).Description | Should -BeExactly 'in both'
            (Get-CsXmppAllowedPartner -LocalStore -Filter 'fab*').Identity | Should -Be @('fabrikam.com')
        }

        It 'reads the replica, not the central store' {
            # Another machine's replica: an empty folder of its own.
            $env:XMPPFED_REPLICA = Join-Path $store.Root 'other-replica'
            $null = New-Item -ItemType Directory -Path $env:XMPPFED_REPLICA
            $out = Get-CsXmppAllowedPartner -LocalStore -ErrorVariable ev -ErrorAction SilentlyContinue
            $out | Should -BeNullOrEmpty
            (Get-CsXmppAllowedPartner).Identity | Should -Be @('contoso.com', 'fabrikam.com')
        }
    }

    Context 'store location (bugs 1 and 6)' {
        It 'uses $env:XMPPFED_STORE and $env:XMPPFED_REPLICA as set in the session, and follows changes to them' {
            $before = Get-DefaultStoreFingerprint
            $null = New-CsXmppAllowedPartner contoso.com
            $first = $store
            $second = New-TestStore
            Get-CsXmppAllowedPartner | Should -BeNullOrEmpty
            $null = New-CsXmppAllowedPartner fabrikam.com
            (Get-CsXmppAllowedPartner).Identity | Should -Be @('fabrikam.com')
            $env:XMPPFED_STORE = $first.Central
            $env:XMPPFED_REPLICA = $first.Replica
            (Get-CsXmppAllowedPartner).Identity | Should -Be @('contoso.com')
            if ($second.Kind -eq 'Folder') {
                [System.IO.File]::ReadAllText($second.Log) | Should -Not -Match 'contoso'
            }
            else {
                Invoke-TestPsql $second.Central "SELECT count(*) FROM xmppfed_log WHERE change::text LIKE '%contoso%'" | Should -Be '0'
            }
            Get-DefaultStoreFingerprint | Should -BeExactly $before
        }

        It '-Verbose names the central store folder and the replica folder in use' {
            $null = New-CsXmppAllowedPartner contoso.com
            $verbose = @(Get-CsXmppAllowedPartner -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] })
            $text = $verbose.Message -join "`n"
            $text | Should -BeLike "*$(Get-TestStoreDisplay $store)*"
            $text | Should -BeLike "*$($store.Replica)*"
        }

        It 'fails with StoreIo naming the folder when the session''s $env:XMPPFED_STORE does not exist, and reads no other store' -Tag FolderOnly {
            $null = New-CsXmppAllowedPartner contoso.com
            $missing = New-TestStore -CentralMissing
            $err = { Get-CsXmppAllowedPartner -ErrorAction Stop } | Should -Throw -ErrorId 'StoreIo,XmppFederation.Commands.GetCsXmppAllowedPartnerCommand' -PassThru
            $err.CategoryInfo.Category | Should -Be 'ResourceUnavailable'
            $err.Exception.Message | Should -BeLike "*$($missing.Central)*"
            $err.Exception.Message | Should -Not -BeLike '*partners.lock*'
            { Get-CsXmppAllowedPartner -Identity contoso.com -ErrorAction Stop } | Should -Throw -ErrorId 'StoreIo,XmppFederation.Commands.GetCsXmppAllowedPartnerCommand'
            $missing.Central | Should -Not -Exist
        }
    }
}
