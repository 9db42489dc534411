# New-CsXmppAllowedPartner in a real pwsh, on a fresh temporary store per test.
param([string] $ModulePath = (Join-Path $PSScriptRoot '../../../target/XmppFederation/XmppFederation.psd1'))

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module $ModulePath
    Set-TestModulePath $ModulePath
    # The default settings warn that dialback will not be used; tests that are about warnings ask
    # for them explicitly.
    $PSDefaultParameterValues = @{ '*-CsXmppAllowedPartner:WarningAction' = 'SilentlyContinue' }
}

Describe 'New-CsXmppAllowedPartner' {
    BeforeEach { $store = New-TestStore }
    AfterEach { Remove-TestStore }

    Context 'the reference page''s examples' {
        It 'New-CsXmppAllowedPartner -Identity "contoso.com" -PartnerType "PublicVerified"' {
            $p = New-CsXmppAllowedPartner -Identity "contoso.com" -PartnerType "PublicVerified"
            $p.Identity | Should -BeExactly 'contoso.com'
            "$($p.PartnerType)" | Should -BeExactly 'PublicVerified'
            $p.Revision | Should -BeGreaterThan 0
            (Get-CsXmppAllowedPartner -Identity contoso.com).PartnerType | Should -Be 'PublicVerified'
        }

        It 'New-CsXmppAllowedPartner -Identity "fabrikam.com" -AdditionalDomains "research.fabrikam2.com"' {
            $p = New-CsXmppAllowedPartner -Identity "fabrikam.com" -AdditionalDomains "research.fabrikam2.com"
            @($p.AdditionalDomains) | Should -Be @('research.fabrikam2.com')
            @((Get-CsXmppAllowedPartner -Identity fabrikam.com).AdditionalDomains) | Should -Be @('research.fabrikam2.com')
        }
    }

    Context 'creating' {
        It 'writes one XmppFederation.Native.PartnerData with the documented defaults' {
            $p = @(New-CsXmppAllowedPartner -Identity contoso.com)
            $p.Count | Should -Be 1
            $p = $p[0]
            $p | Should -BeOfType ([XmppFederation.Native.PartnerData])
            $p.Identity | Should -BeExactly 'contoso.com'
            $p.Domain | Should -BeExactly 'contoso.com'
            @($p.AdditionalDomains).Count | Should -Be 0
            ($p.AdditionalDomains -is [System.Collections.Generic.IList[string]]) | Should -BeTrue
            $p.Description | Should -BeExactly ''
            $p.ProxyFqdn | Should -BeExactly ''
            "$($p.PartnerType)" | Should -BeExactly 'PublicUnverified'
            "$($p.TlsNegotiation)" | Should -BeExactly 'Required'
            "$($p.SaslNegotiation)" | Should -BeExactly 'Required'
            $p.SupportDialbackNegotiation | Should -BeTrue
            $p.EnableKeepAlive | Should -BeTrue
            $p.ConnectionLimit | Should -BeOfType ([uint32])
            $p.ConnectionLimit | Should -Be 20
            $p.Revision | Should -BeOfType ([uint64])
            $p.Revision | Should -BeGreaterThan 0
        }

        It 'declares PartnerData as its output type' {
            (Get-Command New-CsXmppAllowedPartner).OutputType.Name | Should -Contain 'XmppFederation.Native.PartnerData'
        }

        It 'takes the identity by position' {
            (New-CsXmppAllowedPartner gmail.com).Identity | Should -BeExactly 'gmail.com'
            (Get-CsXmppAllowedPartner).Identity | Should -Be @('gmail.com')
        }

        It 'takes the identity as -Domain' {
            $p = New-CsXmppAllowedPartner -Domain example.org
            $p.Identity | Should -BeExactly 'example.org'
            $p.Domain | Should -BeExactly 'example.org'
        }

        It 'refuses -Identity and -Domain together' {
            { New-CsXmppAllowedPartner -Identity a.com -Domain a.com } | Should -Throw -ErrorId 'AmbiguousParameterSet,XmppFederation.Commands.NewCsXmppAllowedPartnerCommand'
            Get-LogHash $store.Central | Should -BeExactly '<no partners.log>'
        }

        It 'stores the domain in canonical form (lowercase, trailing dot stripped)' {
            (New-CsXmppAllowedPartner 'Contoso.COM.').Identity | Should -BeExactly 'contoso.com'
            (Get-CsXmppAllowedPartner).Identity | Should -Be @('contoso.com')
        }

        It 'sets every property parameter' {
            $splat = @{
                Identity                   = 'contoso.com'
                AdditionalDomains          = 'contoso.net', 'contoso.org'
                Description                = 'Contact: admin@contoso.com'
                ProxyFqdn                  = 'proxy.contoso.com'
                PartnerType                = 'Federated'
                TlsNegotiation             = 'Optional'
                SaslNegotiation            = 'NotSupported'
                SupportDialbackNegotiation = $true
                EnableKeepAlive            = $false
                ConnectionLimit            = 5
                Force                      = $true
            }
            $null = New-CsXmppAllowedPartner @splat
            $p = Get-CsXmppAllowedPartner -Identity contoso.com
            @($p.AdditionalDomains) | Should -Be @('contoso.net', 'contoso.org')
            $p.Description | Should -BeExactly 'Contact: admin@contoso.com'
            $p.ProxyFqdn | Should -BeExactly 'proxy.contoso.com'
            "$($p.PartnerType)" | Should -BeExactly 'Federated'
            "$($p.TlsNegotiation)" | Should -BeExactly 'Optional'
            "$($p.SaslNegotiation)" | Should -BeExactly 'NotSupported'
            $p.SupportDialbackNegotiation | Should -BeTrue
            $p.EnableKeepAlive | Should -BeFalse
            $p.ConnectionLimit | Should -Be 5
        }

        It 'matches enum names case-insensitively' {
            $p = New-CsXmppAllowedPartner contoso.com -PartnerType federated -TlsNegotiation OPTIONAL -SaslNegotiation notsupported
            "$($p.PartnerType)" | Should -BeExactly 'Federated'
            "$($p.TlsNegotiation)" | Should -BeExactly 'Optional'
            "$($p.SaslNegotiation)" | Should -BeExactly 'NotSupported'
        }

        It 'writes the partner to the partners.log of $env:XMPPFED_STORE set in the session, and its replica' -Tag FolderOnly {
            $before = Get-DefaultStoreFingerprint
            $null = New-CsXmppAllowedPartner contoso.com
            $store.Log | Should -Exist
            [System.IO.File]::ReadAllText($store.Log) | Should -Match 'contoso\.com'
            Join-Path $store.Replica 'partners.1.log' | Should -Exist
            Get-DefaultStoreFingerprint | Should -BeExactly $before -Because 'nothing may land in the default store ~/.local/share/xmppfed'
        }
    }

    Context 'warnings' {
        It 'writes a questionable combination (SASL Optional, TLS Optional) to the warning stream and still creates the partner' {
            $out = New-CsXmppAllowedPartner contoso.com -SaslNegotiation Optional -TlsNegotiation Optional -WarningAction Continue 3>&1
            $warnings = @($out | Where-Object { $_ -is [System.Management.Automation.WarningRecord] })
            $partners = @($out | Where-Object { $_ -is [XmppFederation.Native.PartnerData] })
            $warnings.Count | Should -Be 1
            $warnings[0].Message | Should -Match 'SaslNegotiation'
            $warnings[0].Message | Should -Match 'TlsNegotiation'
            $partners.Count | Should -Be 1
            (Get-CsXmppAllowedPartner contoso.com).Revision | Should -BeGreaterThan 0
        }

        It 'writes no warning for a combination without one (TLS Required, SASL NotSupported, dialback on)' {
            $null = New-CsXmppAllowedPartner contoso.com -SaslNegotiation NotSupported -WarningVariable w
            $w.Count | Should -Be 0
        }
    }

    Context 'errors' {
        It 'refuses an identity that exists: AlreadyExists, non-terminating, store unchanged' {
            $null = New-CsXmppAllowedPartner contoso.com
            $hash = Get-LogHash $store.Central
            $out = New-CsXmppAllowedPartner contoso.com -Description 'second' -ErrorVariable ev -ErrorAction SilentlyContinue
            $out | Should -BeNullOrEmpty
            Assert-XmppError $ev -Id AlreadyExists -Verb New -Category ResourceExists -Target 'contoso.com'
            Get-LogHash $store.Central | Should -BeExactly $hash
            (Get-CsXmppAllowedPartner contoso.com).Description | Should -BeExactly ''
        }

        It 'turns AlreadyExists into a terminating error with -ErrorAction Stop' {
            $null = New-CsXmppAllowedPartner contoso.com
            { New-CsXmppAllowedPartner contoso.com -ErrorAction Stop } | Should -Throw -ErrorId 'AlreadyExists,XmppFederation.Commands.NewCsXmppAllowedPartnerCommand'
        }

        It 'refuses a domain already claimed by another partner: DomainConflict (<Case>)' -TestCases @(
            @{ Case = 'new primary is an additional domain of another'; Identity = 'shared.com'; Additional = @() }
            @{ Case = 'new additional domain is an additional domain of another'; Identity = 'b.com'; Additional = @('shared.com') }
            @{ Case = 'new additional domain is the primary of another'; Identity = 'b.com'; Additional = @('a.com') }
        ) {
            $null = New-CsXmppAllowedPartner a.com -AdditionalDomains shared.com
            $hash = Get-LogHash $store.Central
            $null = New-CsXmppAllowedPartner -Identity $Identity -AdditionalDomains $Additional -ErrorVariable ev -ErrorAction SilentlyContinue
            Assert-XmppError $ev -Id DomainConflict -Verb New -Category ResourceExists -Target $Identity
            Get-LogHash $store.Central | Should -BeExactly $hash
            (Get-CsXmppAllowedPartner).Identity | Should -Be @('a.com')
        }

        It 'refuses an invalid domain: InvalidDomain (<Identity>)' -TestCases @(
            @{ Identity = 'not a domain' }
            @{ Identity = '*.contoso.com' }
            @{ Identity = '192.168.0.1' }
            @{ Identity = 'localhost' }
            @{ Identity = 'contoso..com' }
        ) {
            $out = New-CsXmppAllowedPartner -Identity $Identity -ErrorVariable ev -ErrorAction SilentlyContinue
            $out | Should -BeNullOrEmpty
            Assert-XmppError $ev -Id InvalidDomain -Verb New -Category InvalidArgument -Target $Identity
            Get-LogHash $store.Central | Should -BeExactly '<no partners.log>'
        }

        It 'refuses an invalid additional domain: InvalidDomain' {
            $null = New-CsXmppAllowedPartner contoso.com -AdditionalDomains 'ok.com', 'not ok' -ErrorVariable ev -ErrorAction SilentlyContinue
            Assert-XmppError $ev -Id InvalidDomain -Verb New -Category InvalidArgument -Target 'contoso.com'
            Get-CsXmppAllowedPartner | Should -BeNullOrEmpty
        }

        It 'refuses dialback off with <Which> NotSupported: InvalidNegotiation' -TestCases @(
            @{ Which = 'TLS'; Splat = @{ TlsNegotiation = 'NotSupported' } }
            @{ Which = 'SASL'; Splat = @{ SaslNegotiation = 'NotSupported' } }
        ) {
            $null = New-CsXmppAllowedPartner contoso.com -SupportDialbackNegotiation $false @Splat -ErrorVariable ev -ErrorAction SilentlyContinue
            Assert-XmppError $ev -Id InvalidNegotiation -Verb New -Category InvalidArgument -Target 'contoso.com'
            Get-LogHash $store.Central | Should -BeExactly '<no partners.log>'
        }

        It 'refuses an out-of-range value: InvalidValue (<Case>)' -TestCases @(
            @{ Case = 'ConnectionLimit 0'; Splat = @{ ConnectionLimit = 0 }; Field = 'ConnectionLimit' }
            @{ Case = 'Description of 1,025 characters'; Splat = @{ Description = 'x' * 1025 }; Field = 'Description' }
            @{ Case = 'the primary domain as an additional domain'; Splat = @{ AdditionalDomains = 'Contoso.com' }; Field = 'AdditionalDomains' }
        ) {
            $null = New-CsXmppAllowedPartner contoso.com @Splat -ErrorVariable ev -ErrorAction SilentlyContinue
            Assert-XmppError $ev -Id InvalidValue -Verb New -Category InvalidArgument -Target 'contoso.com'
            $ev[0].Exception.Message | Should -Match $Field
            Get-LogHash $store.Central | Should -BeExactly '<no partners.log>'
        }
    }

    Context '-InMemory' {
        It 'returns the partner with defaults and Revision 0 and stores nothing' {
            $null = New-CsXmppAllowedPartner existing.com
            $hash = Get-LogHash $store.Central
            $p = New-CsXmppAllowedPartner contoso.com -InMemory -Description 'draft'
            $p | Should -BeOfType ([XmppFederation.Native.PartnerData])
            $p.Identity | Should -BeExactly 'contoso.com'
            $p.Description | Should -BeExactly 'draft'
            $p.Revision | Should -Be 0
            "$($p.PartnerType)" | Should -BeExactly 'PublicUnverified'
            $p.ConnectionLimit | Should -Be 20
            Get-LogHash $store.Central | Should -BeExactly $hash
            $null = Get-CsXmppAllowedPartner contoso.com -ErrorVariable ev -ErrorAction SilentlyContinue
            Assert-XmppError $ev -Id NotFound -Verb Get -Category ObjectNotFound -Target 'contoso.com'
        }

        It 'still validates: InvalidDomain' {
            $out = New-CsXmppAllowedPartner 'not a domain' -InMemory -ErrorVariable ev -ErrorAction SilentlyContinue
            $out | Should -BeNullOrEmpty
            Assert-XmppError $ev -Id InvalidDomain -Verb New -Category InvalidArgument -Target 'not a domain'
        }
    }

    Context '-WhatIf and -Confirm' {
        It '-WhatIf prints one "What if:" line, writes nothing and leaves partners.log byte-for-byte unchanged' {
            $null = New-CsXmppAllowedPartner existing.com
            $hash = Get-LogHash $store.Central
            $child = Invoke-ChildPwsh -Store $store -Script @'
$out = New-CsXmppAllowedPartner contoso.com -WhatIf -ErrorVariable ev
"OUTPUT=$(@($out).Count)"
Show-Errors $ev
'@
            $child.WhatIf.Count | Should -Be 1 -Because $child.Output
            $child.WhatIf[0] | Should -BeLike '*contoso.com*'
            $child.Lines | Should -Contain 'OUTPUT=0'
            $child.ErrorLines | Should -BeNullOrEmpty
            Get-LogHash $store.Central | Should -BeExactly $hash
            (Get-CsXmppAllowedPartner).Identity | Should -Be @('existing.com')
        }

        It '-WhatIf with an invalid domain: InvalidDomain and no "What if:" line' {
            $child = Invoke-ChildPwsh -Store $store -Script @'
New-CsXmppAllowedPartner 'not a domain' -WhatIf -ErrorVariable ev -ErrorAction SilentlyContinue
Show-Errors $ev
'@
            $child.ErrorLines | Should -Be @('InvalidDomain,XmppFederation.Commands.NewCsXmppAllowedPartnerCommand|InvalidArgument|not a domain') -Because $child.Output
            $child.WhatIf | Should -BeNullOrEmpty
        }

        It '-WhatIf with an existing identity: AlreadyExists and no "What if:" line' {
            $null = New-CsXmppAllowedPartner contoso.com
            $hash = Get-LogHash $store.Central
            $child = Invoke-ChildPwsh -Store $store -Script @'
New-CsXmppAllowedPartner contoso.com -WhatIf -ErrorVariable ev -ErrorAction SilentlyContinue
Show-Errors $ev
'@
            $child.ErrorLines | Should -Be @('AlreadyExists,XmppFederation.Commands.NewCsXmppAllowedPartnerCommand|ResourceExists|contoso.com') -Because $child.Output
            $child.WhatIf | Should -BeNullOrEmpty
            Get-LogHash $store.Central | Should -BeExactly $hash
        }

        It 'never prompts: not by default, and not with -Confirm:$false under $ConfirmPreference = ''Low''' {
            $child = Invoke-ChildPwsh -Store $store -Script @'
$null = New-CsXmppAllowedPartner a.com -WarningAction SilentlyContinue
$ConfirmPreference = 'Low'
$null = New-CsXmppAllowedPartner b.com -Confirm:$false -WarningAction SilentlyContinue
Show-Errors $Error
"IDS=$((Get-CsXmppAllowedPartner).Identity -join ',')"
'@
            $child.ErrorLines | Should -BeNullOrEmpty -Because ($child.Output + $child.Errors)
            $child.Lines | Should -Contain 'IDS=a.com,b.com'
        }

        # The library decides the change before ShouldProcess only when ShouldProcess may show it;
        # whenever it does, it names the partner as it would be stored and never offers a refusal.
        It 'asks under $ConfirmPreference = ''Medium'' naming the partner as stored, and never offers a change that would be refused' {
            $null = New-CsXmppAllowedPartner contoso.com
            $r = Invoke-WithPromptHost -Answer 0 -Script @'
$ConfirmPreference = 'Medium'
$null = New-CsXmppAllowedPartner 'Fabrikam.COM' -WarningAction SilentlyContinue
$null = New-CsXmppAllowedPartner 'CONTOSO.com'
'@
            $r.Prompts.Count | Should -Be 1 -Because ($r.Prompts -join "`n")
            $r.Prompts[0] | Should -BeLikeExactly '*"Create XMPP allowed partner" on target "fabrikam.com"*'
            @($r.Errors | ForEach-Object { $_.FullyQualifiedErrorId }) | Should -Be @('AlreadyExists,XmppFederation.Commands.NewCsXmppAllowedPartnerCommand')
            (Get-CsXmppAllowedPartner).Identity | Should -Be @('contoso.com', 'fabrikam.com')
        }

        It '-Confirm asks under any $ConfirmPreference naming the partner as stored; -Confirm:$false never asks, and with -Verbose still names it as stored' {
            $r = Invoke-WithPromptHost -Answer 0 -Script @'
$null = New-CsXmppAllowedPartner 'Fabrikam.COM' -Confirm -WarningAction SilentlyContinue
'@
            $r.Prompts.Count | Should -Be 1 -Because ($r.Prompts -join "`n")
            $r.Prompts[0] | Should -BeLikeExactly '*"Create XMPP allowed partner" on target "fabrikam.com"*'
            $verbose = @(New-CsXmppAllowedPartner 'Northwind.COM' -Confirm:$false -Verbose -WarningAction SilentlyContinue 4>&1 |
                Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message)
            $verbose -ccontains 'Performing the operation "Create XMPP allowed partner" on target "northwind.com".' | Should -BeTrue -Because ($verbose -join "`n")
            (Get-CsXmppAllowedPartner).Identity | Should -Be @('fabrikam.com', 'northwind.com')
        }

        It '-Verbose: ShouldProcess''s line names the partner as stored; without it, the same partner and errors' {
            $verbose = @(New-CsXmppAllowedPartner 'Fabrikam.COM' -Verbose -WarningAction SilentlyContinue 4>&1 |
                Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message)
            $verbose -ccontains 'Performing the operation "Create XMPP allowed partner" on target "fabrikam.com".' | Should -BeTrue -Because ($verbose -join "`n")
            (New-CsXmppAllowedPartner 'Northwind.COM' -WarningAction SilentlyContinue).Identity | Should -BeExactly 'northwind.com'
            $null = New-CsXmppAllowedPartner 'FABRIKAM.com' -ErrorVariable ev -ErrorAction SilentlyContinue
            Assert-XmppError $ev -Id AlreadyExists -Verb New -Category ResourceExists -Target 'FABRIKAM.com'
            (Get-CsXmppAllowedPartner).Identity | Should -Be @('fabrikam.com', 'northwind.com')
        }
    }

    Context 'parameter values that are not what they seem (bug 2)' {
        It '-Identity with a partner object uses its Identity: AlreadyExists for an existing one' {
            $p = New-CsXmppAllowedPartner contoso.com
            $hash = Get-LogHash $store.Central
            $null = New-CsXmppAllowedPartner -Identity $p -ErrorVariable ev -ErrorAction SilentlyContinue
            Assert-XmppError $ev -Id AlreadyExists -Verb New -Category ResourceExists -Target 'contoso.com'
            Get-LogHash $store.Central | Should -BeExactly $hash
            (Get-CsXmppAllowedPartner).Identity | Should -Be @('contoso.com')
        }

        It '-Identity with an in-memory partner object creates that identity, never the type name' {
            $draft = New-CsXmppAllowedPartner fresh.com -InMemory
            (New-CsXmppAllowedPartner -Identity $draft).Identity | Should -BeExactly 'fresh.com'
            (Get-CsXmppAllowedPartner).Identity | Should -Be @('fresh.com')
        }

        # -Identity binds from the pipeline by property name, so PowerShell reads a script block
        # there as a delay-bind script block, which without pipeline input is its own binding error.
        It 'refuses -Identity <Case> with a parameter binding error naming Identity, and creates nothing' -TestCases @(
            @{ Case = 'a hashtable'; Value = @{ a = 1 }; ErrorId = 'ParameterArgumentTransformationError' }
            @{ Case = 'a script block'; Value = { 'x.com' }; ErrorId = 'ScriptBlockArgumentNoInput' }
        ) {
            $err = { New-CsXmppAllowedPartner -Identity $Value } | Should -Throw -ErrorId "$ErrorId*" -PassThru
            $err.FullyQualifiedErrorId | Should -BeLike "$ErrorId*,XmppFederation.Commands.NewCsXmppAllowedPartnerCommand"
            $err.Exception.Message | Should -Match 'Identity'
            Get-LogHash $store.Central | Should -BeExactly '<no partners.log>'
            Get-CsXmppAllowedPartner | Should -BeNullOrEmpty
        }

        It 'refuses -AdditionalDomains as a script block: InvalidValue naming AdditionalDomains, creates nothing' {
            $out = New-CsXmppAllowedPartner x.com -AdditionalDomains { 'a.com' } -ErrorVariable ev -ErrorAction SilentlyContinue
            $out | Should -BeNullOrEmpty
            Assert-XmppError $ev -Id InvalidValue -Verb New -Category InvalidArgument -Target 'x.com'
            $ev[0].Exception.Message | Should -Match 'AdditionalDomains'
            Get-CsXmppAllowedPartner | Should -BeNullOrEmpty
        }

        It 'refuses -AdditionalDomains @{Append=...}: InvalidValue naming AdditionalDomains and Append, without JSON parser wording (bug 5)' {
            $null = New-CsXmppAllowedPartner x.com -AdditionalDomains @{ Append = 'y.com' } -ErrorVariable ev -ErrorAction SilentlyContinue
            Assert-XmppError $ev -Id InvalidValue -Verb New -Category InvalidArgument -Target 'x.com'
            $message = $ev[0].Exception.Message
            $message | Should -Match 'AdditionalDomains'
            $message | Should -Match 'Append'
            $message | Should -Not -Match 'JSON'
            $message | Should -Not -Match 'line 1'
            Get-CsXmppAllowedPartner | Should -BeNullOrEmpty
        }
    }

    Context 'store location (bugs 1 and 6)' {
        It 'fails with StoreIo naming the folder when the session''s $env:XMPPFED_STORE does not exist, and uses no other store' -Tag FolderOnly {
            $missing = New-TestStore -CentralMissing
            $before = Get-DefaultStoreFingerprint
            $err = { New-CsXmppAllowedPartner contoso.com -ErrorAction Stop } | Should -Throw -ErrorId 'StoreIo,XmppFederation.Commands.NewCsXmppAllowedPartnerCommand' -PassThru
            $err.CategoryInfo.Category | Should -Be 'ResourceUnavailable'
            $err.Exception.Message | Should -BeLike "*$($missing.Central)*"
            $err.Exception.Message | Should -Not -BeLike '*partners.lock*'
            $missing.Central | Should -Not -Exist
            Get-DefaultStoreFingerprint | Should -BeExactly $before
        }
    }
}
