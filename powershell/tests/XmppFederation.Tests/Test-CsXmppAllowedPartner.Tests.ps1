# Test-CsXmppAllowedPartner in a real pwsh, on a fresh temporary store per test: what the list says
# about remote domains (allowed, by which partner and how, the methods in order, warnings, near
# misses), from the pipeline, with New's domain errors, and read-only.
param([string] $ModulePath = (Join-Path $PSScriptRoot '../../../target/XmppFederation/XmppFederation.psd1'))

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module $ModulePath
    Set-TestModulePath $ModulePath
    $PSDefaultParameterValues = @{ '*-CsXmppAllowedPartner:WarningAction' = 'SilentlyContinue' }
}

Describe 'Test-CsXmppAllowedPartner' {
    BeforeEach {
        $store = New-TestStore
        $null = New-CsXmppAllowedPartner contoso.com
        $null = New-CsXmppAllowedPartner fabrikam.com -AdditionalDomains research.fabrikam2.com -TlsNegotiation Optional -SaslNegotiation Optional -PartnerType Federated
        $null = New-CsXmppAllowedPartner jabber.org -TlsNegotiation NotSupported -SaslNegotiation NotSupported
        $null = New-CsXmppAllowedPartner 'bücher.example'
    }
    AfterEach { Remove-TestStore }

    Context 'a domain the list allows' {
        It 'a primary domain: the partner, its settings, the one method and the DialbackNotUsed warning' {
            $e = Test-CsXmppAllowedPartner -Domain 'Contoso.COM.'
            $e | Should -BeOfType ([XmppFederation.Native.DomainExplanation])
            $e.Input | Should -BeExactly 'Contoso.COM.'
            $e.Domain | Should -BeExactly 'contoso.com'
            $e.Allowed | Should -BeTrue
            $e.Partner | Should -BeExactly 'contoso.com'
            $e.CoveredAs | Should -Be ([XmppFederation.Native.DomainCoverage]::PrimaryDomain)
            $e.PartnerType | Should -Be 'PublicUnverified'
            $e.TlsNegotiation | Should -Be 'Required'
            $e.SaslNegotiation | Should -Be 'Required'
            $e.SupportDialbackNegotiation | Should -BeTrue
            @($e.Methods | ForEach-Object { [string]$_ }) | Should -Be @('SaslOverTls')
            $e.NoMethodReason | Should -BeNullOrEmpty
            @($e.Warnings.Id) | Should -Be @('DialbackNotUsed')
            @($e.Hints).Count | Should -Be 0
            $e.Summary | Should -BeExactly 'contoso.com is allowed as the primary domain of partner contoso.com; tried in order: SASL EXTERNAL over TLS'
            $e.StoreRevision | Should -Be 4
        }

        It 'an additional domain: covered by its partner, every method in order, the SASL warning' {
            $e = Test-CsXmppAllowedPartner research.fabrikam2.com
            $e.Allowed | Should -BeTrue
            $e.Partner | Should -BeExactly 'fabrikam.com'
            $e.CoveredAs | Should -Be 'AdditionalDomain'
            $e.PartnerType | Should -Be 'Federated'
            @($e.Methods | ForEach-Object { [string]$_ }) | Should -Be @('SaslOverTls', 'TlsDialback', 'TcpDialback')
            @($e.Warnings.Id) | Should -Be @('SaslWithoutRequiredTls')
        }

        It 'TLS and SASL NotSupported: dialback over plain TCP only, no warning' {
            $e = Test-CsXmppAllowedPartner jabber.org
            @($e.Methods | ForEach-Object { [string]$_ }) | Should -Be @('TcpDialback')
            @($e.Warnings).Count | Should -Be 0
        }

        It 'the A-label form of a partner is the same partner' {
            $e = Test-CsXmppAllowedPartner 'xn--bcher-kva.example'
            $e.Allowed | Should -BeTrue
            $e.Domain | Should -BeExactly 'bücher.example'
            $e.AsciiDomain | Should -BeExactly 'xn--bcher-kva.example'
            $e.Partner | Should -BeExactly 'bücher.example'
            $e.Hints[0].Id | Should -BeExactly 'SameDomainOtherForm'
        }
    }

    Context 'near misses' {
        It 'a subdomain is not covered: the hint names the partner, and its fix allows the domain' {
            $e = Test-CsXmppAllowedPartner chat.contoso.com
            $e.Allowed | Should -BeFalse
            $e.Partner | Should -BeNullOrEmpty
            $e.CoveredAs | Should -Be 'NotCovered'
            $e.TlsNegotiation | Should -BeNullOrEmpty
            @($e.Methods).Count | Should -Be 0
            $e.NoMethodReason | Should -BeLike '*not on the allowed-partner list*'
            $hint = @($e.Hints)
            $hint.Count | Should -Be 1
            $hint[0].Id | Should -BeExactly 'SubdomainOfPartnerDomain'
            $hint[0].Partner | Should -BeExactly 'contoso.com'
            $hint[0].Message | Should -BeLike '*not covered implicitly*'
            $hint[0].Fix | Should -BeExactly "Set-CsXmppAllowedPartner -Identity contoso.com -AdditionalDomains @{Add='chat.contoso.com'}"

            Invoke-Expression $hint[0].Fix
            $after = Test-CsXmppAllowedPartner chat.contoso.com
            $after.Allowed | Should -BeTrue
            $after.Partner | Should -BeExactly 'contoso.com'
            $after.CoveredAs | Should -Be 'AdditionalDomain'
        }

        It 'a parent of a partner''s domain is not covered either' {
            $e = Test-CsXmppAllowedPartner fabrikam2.com
            $e.Allowed | Should -BeFalse
            $e.Hints[0].Id | Should -BeExactly 'ParentOfPartnerDomain'
            $e.Hints[0].Partner | Should -BeExactly 'fabrikam.com'
        }

        It 'an unknown domain: not allowed, no hints' {
            $e = Test-CsXmppAllowedPartner unknown.example.net
            $e.Allowed | Should -BeFalse
            @($e.Hints).Count | Should -Be 0
            $e.Summary | Should -BeExactly 'unknown.example.net is not allowed: no partner claims it'
        }
    }

    Context 'input' {
        It 'Get-Content domains.txt | Test-CsXmppAllowedPartner: one answer per line, in order' {
            $file = Join-Path $store.Root 'domains.txt'
            Set-Content -LiteralPath $file -Value 'contoso.com', 'chat.contoso.com', 'research.fabrikam2.com'
            $out = @(Get-Content $file | Test-CsXmppAllowedPartner)
            $out.Domain | Should -Be @('contoso.com', 'chat.contoso.com', 'research.fabrikam2.com')
            $out.Allowed | Should -Be @($true, $false, $true)
        }

        It 'an invalid domain is a non-terminating InvalidDomain error with New''s message; the rest go on' {
            $out = @('contoso.com', 'not a domain', 'jabber.org' | Test-CsXmppAllowedPartner -ErrorVariable ev -ErrorAction SilentlyContinue)
            $out.Domain | Should -Be @('contoso.com', 'jabber.org')
            Assert-XmppError $ev -Id InvalidDomain -Verb Test -Category InvalidArgument -Target 'not a domain'
            $null = New-CsXmppAllowedPartner -Domain 'not a domain' -ErrorVariable newError -ErrorAction SilentlyContinue
            $ev[0].Exception.Message | Should -BeExactly $newError[0].Exception.Message
            $ev[0].Exception.Message | Should -BeExactly "Domain 'not a domain' is not a valid domain: it contains whitespace"
        }

        It 'refuses wildcards, IP literals and single labels: InvalidDomain (<Domain>)' -TestCases @(
            @{ Domain = '*.contoso.com' }
            @{ Domain = '192.168.0.1' }
            @{ Domain = 'localhost' }
        ) {
            $out = Test-CsXmppAllowedPartner $Domain -ErrorVariable ev -ErrorAction SilentlyContinue
            $out | Should -BeNullOrEmpty
            Assert-XmppError $ev -Id InvalidDomain -Verb Test -Category InvalidArgument -Target $Domain
        }

        It 'an empty line is a parameter binding error, as New''s empty -Domain is; the rest go on' {
            $out = @('contoso.com', '', 'jabber.org' | Test-CsXmppAllowedPartner -ErrorVariable ev -ErrorAction SilentlyContinue)
            $out.Domain | Should -Be @('contoso.com', 'jabber.org')
            @($ev).Count | Should -Be 1
            $ev[0].FullyQualifiedErrorId | Should -BeLike 'ParameterArgumentValidationError*,XmppFederation.Commands.TestCsXmppAllowedPartnerCommand'
        }

        It 'takes several domains in one -Domain, and partners by their Domain property' {
            (Test-CsXmppAllowedPartner -Domain contoso.com, chat.contoso.com).Allowed | Should -Be @($true, $false)
            $out = @(Get-CsXmppAllowedPartner | Test-CsXmppAllowedPartner)
            $out.Domain | Should -Be @('bücher.example', 'contoso.com', 'fabrikam.com', 'jabber.org')
            $out.CoveredAs | Sort-Object -Unique | Should -Be 'PrimaryDomain'
            ([pscustomobject]@{ Domain = 'research.fabrikam2.com' } | Test-CsXmppAllowedPartner).Partner | Should -BeExactly 'fabrikam.com'
        }

        It 'binds CSV rows and Import-Clixml partners by their Domain property' {
            $csv = Join-Path $store.Root 'partners.csv'
            $xml = Join-Path $store.Root 'partners.xml'
            Get-CsXmppAllowedPartner | Export-Csv -LiteralPath $csv
            Get-CsXmppAllowedPartner | Export-Clixml -LiteralPath $xml
            (Import-Csv -LiteralPath $csv | Test-CsXmppAllowedPartner).Partner | Should -Be @('bücher.example', 'contoso.com', 'fabrikam.com', 'jabber.org')
            (Import-Clixml -LiteralPath $xml | Test-CsXmppAllowedPartner).Partner | Should -Be @('bücher.example', 'contoso.com', 'fabrikam.com', 'jabber.org')
        }

        It 'refuses objects that are neither domain names nor partners at binding (<Case>); the rest go on' -TestCases @(
            @{ Case = 'a hashtable'; Value = @{ a = 1 } }
            @{ Case = 'a number'; Value = 42 }
            @{ Case = 'a script block'; Value = { 'contoso.com' } }
        ) {
            # PowerShell would otherwise explain "System.Collections.Hashtable" as a domain name.
            $out = @('contoso.com', $Value, 'jabber.org' | Test-CsXmppAllowedPartner -ErrorVariable ev -ErrorAction SilentlyContinue)
            $out.Domain | Should -Be @('contoso.com', 'jabber.org')
            @($ev).Count | Should -Be 1
            $ev[0].FullyQualifiedErrorId | Should -BeExactly 'ParameterArgumentTransformationError,XmppFederation.Commands.TestCsXmppAllowedPartnerCommand'
            $ev[0].Exception.Message | Should -BeLike '*Domain takes domain names or allowed-partner objects*'
            # As an argument, a script block is PowerShell's delay-bind form (ScriptBlockArgumentNoInput).
            if ($Value -isnot [scriptblock]) {
                { Test-CsXmppAllowedPartner -Domain $Value } | Should -Throw -ErrorId 'ParameterArgumentTransformationError,XmppFederation.Commands.TestCsXmppAllowedPartnerCommand'
            }
        }
    }

    Context 'tab completion' {
        It '-Domain completes the identities of partners (<Line>)' -TestCases @(
            @{ Line = 'Test-CsXmppAllowedPartner -Domain con'; Expected = @('contoso.com') }
            @{ Line = 'Test-CsXmppAllowedPartner fab'; Expected = @('fabrikam.com') }
            @{ Line = 'Test-CsXmppAllowedPartner -LocalStore -Domain j'; Expected = @('jabber.org') }
        ) {
            @((TabExpansion2 -inputScript $Line -cursorColumn $Line.Length).CompletionMatches.CompletionText) | Should -Be $Expected
        }
    }

    Context 'reading' {
        It 'changes nothing in the store or the replica' {
            $central = Get-LogHash $store.Central
            $replica = Get-LogHash $store.Replica
            $null = 'contoso.com', 'chat.contoso.com', 'fabrikam2.com' | Test-CsXmppAllowedPartner
            Get-LogHash $store.Central | Should -BeExactly $central
            Get-LogHash $store.Replica | Should -BeExactly $replica
        }

        It '-LocalStore reads this machine''s replica, which has not seen another machine''s change yet' {
            $env:XMPPFED_REPLICA = Join-Path $store.Root 'other-machine-replica'
            $null = New-CsXmppAllowedPartner other-machine.example.com
            $env:XMPPFED_REPLICA = $store.Replica
            (Test-CsXmppAllowedPartner other-machine.example.com).Allowed | Should -BeTrue
            (Test-CsXmppAllowedPartner other-machine.example.com -LocalStore).Allowed | Should -BeFalse
            Invoke-CsXmppAllowedPartnerReplication
            (Test-CsXmppAllowedPartner other-machine.example.com -LocalStore).Allowed | Should -BeTrue
        }

        It '-Verbose writes each domain''s summary' {
            $verbose = @(Test-CsXmppAllowedPartner chat.contoso.com -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message)
            $verbose | Should -Contain 'chat.contoso.com is not allowed: no partner claims it (see Hints for near misses). Read at revision 4 of the central store.'
        }
    }

    Context 'display' {
        It 'the default table shows Domain, Allowed, Partner and Methods (one per line) within <Width> columns' -TestCases @(
            @{ Width = 80 }
            @{ Width = 120 }
        ) {
            $text = 'research.fabrikam2.com', 'chat.contoso.com', 'jabber.org' | Test-CsXmppAllowedPartner | Out-String -Width $Width
            $lines = @($text -split '\r?\n' | ForEach-Object TrimEnd | Where-Object { $_ })
            $lines | ForEach-Object { $_.Length | Should -BeLessOrEqual $Width -Because "'$_' must fit in $Width columns" }
            $lines[0] | Should -Match '^Domain\s+Allowed\s+Partner\s+Methods$'
            $lines[2] | Should -Match '^research\.fabrikam2\.com\s+True\s+fabrikam\.com\s+SaslOverTls$'
            $lines[3].Trim() | Should -BeExactly 'TlsDialback'
            $lines[4].Trim() | Should -BeExactly 'TcpDialback'
            $lines[5] | Should -Match '^chat\.contoso\.com\s+False\s*$'
            $lines[6] | Should -Match '^jabber\.org\s+True\s+jabber\.org\s+TcpDialback$'
        }

        It 'Format-List shows the hints and the summary' {
            $text = (Test-CsXmppAllowedPartner chat.contoso.com | Format-List | Out-String -Width 200) -replace '\s+', ' '
            $text | Should -BeLike '*CoveredAs : NotCovered*'
            $text | Should -BeLike "*Hints : chat.contoso.com is a subdomain of contoso.com, the primary domain of partner contoso.com; subdomains are not covered implicitly.*"
            $text | Should -BeLike '*Summary : chat.contoso.com is not allowed*'
        }
    }
}
