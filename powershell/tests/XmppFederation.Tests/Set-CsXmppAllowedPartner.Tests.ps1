# Set-CsXmppAllowedPartner in a real pwsh, on a fresh temporary store per test.
param([string] $ModulePath = (Join-Path $PSScriptRoot '../../../target/XmppFederation/XmppFederation.psd1'))

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module $ModulePath
    Set-TestModulePath $ModulePath
    $PSDefaultParameterValues = @{ '*-CsXmppAllowedPartner:WarningAction' = 'SilentlyContinue' }
}

Describe 'Set-CsXmppAllowedPartner' {
    BeforeEach { $store = New-TestStore }
    AfterEach { Remove-TestStore }

    Context 'the examples SPEC.md names' {
        BeforeEach {
            $null = New-CsXmppAllowedPartner a.com -SaslNegotiation Optional -TlsNegotiation Optional
            $null = New-CsXmppAllowedPartner b.com -SaslNegotiation NotSupported
            $null = New-CsXmppAllowedPartner c.com
        }

        It 'Get-CsXmppAllowedPartner | Set-CsXmppAllowedPartner -SaslNegotiation Required changes every partner' {
            $out = Get-CsXmppAllowedPartner | Set-CsXmppAllowedPartner -SaslNegotiation Required -ErrorVariable ev
            $out | Should -BeNullOrEmpty
            $ev.Count | Should -Be 0
            (Get-CsXmppAllowedPartner).SaslNegotiation | ForEach-Object { "$_" } | Should -Be @('Required', 'Required', 'Required')
        }

        It 'Get-CsXmppAllowedPartner | Set-CsXmppAllowedPartner -SaslNegotiation Optional changes every partner' {
            Get-CsXmppAllowedPartner | Set-CsXmppAllowedPartner -SaslNegotiation Optional
            (Get-CsXmppAllowedPartner).SaslNegotiation | ForEach-Object { "$_" } | Should -Be @('Optional', 'Optional', 'Optional')
            "$((Get-CsXmppAllowedPartner a.com).TlsNegotiation)" | Should -BeExactly 'Optional' -Because 'only the named property changes'
        }
    }

    Context '-Identity' {
        BeforeEach {
            $created = New-CsXmppAllowedPartner contoso.com -Description 'before' -PartnerType Federated
        }

        It 'changes the named property only, writes nothing without -PassThru, and raises the revision' {
            $out = Set-CsXmppAllowedPartner -Identity contoso.com -Description 'after'
            $out | Should -BeNullOrEmpty
            $p = Get-CsXmppAllowedPartner contoso.com
            $p.Description | Should -BeExactly 'after'
            "$($p.PartnerType)" | Should -BeExactly 'Federated'
            $p.Revision | Should -BeGreaterThan $created.Revision
        }

        It 'takes the identity by position' {
            Set-CsXmppAllowedPartner contoso.com -ConnectionLimit 7
            (Get-CsXmppAllowedPartner contoso.com).ConnectionLimit | Should -Be 7
        }

        It '-PassThru writes the result' {
            $out = @(Set-CsXmppAllowedPartner contoso.com -ProxyFqdn proxy.contoso.com -PassThru)
            $out.Count | Should -Be 1
            $out[0] | Should -BeOfType ([XmppFederation.Native.PartnerData])
            $out[0].ProxyFqdn | Should -BeExactly 'proxy.contoso.com'
            $out[0].Revision | Should -Be (Get-CsXmppAllowedPartner contoso.com).Revision
        }

        It 'sets every property parameter of New except the key' {
            $splat = @{
                AdditionalDomains          = 'contoso.net'
                Description                = 'changed'
                ProxyFqdn                  = 'proxy.contoso.com'
                PartnerType                = 'PublicVerified'
                TlsNegotiation             = 'Optional'
                SaslNegotiation            = 'NotSupported'
                SupportDialbackNegotiation = $true
                EnableKeepAlive            = $false
                ConnectionLimit            = 3
            }
            Set-CsXmppAllowedPartner contoso.com @splat
            $p = Get-CsXmppAllowedPartner contoso.com
            @($p.AdditionalDomains) | Should -Be @('contoso.net')
            $p.Description | Should -BeExactly 'changed'
            $p.ProxyFqdn | Should -BeExactly 'proxy.contoso.com'
            "$($p.PartnerType)" | Should -BeExactly 'PublicVerified'
            "$($p.TlsNegotiation)" | Should -BeExactly 'Optional'
            "$($p.SaslNegotiation)" | Should -BeExactly 'NotSupported'
            $p.SupportDialbackNegotiation | Should -BeTrue
            $p.EnableKeepAlive | Should -BeFalse
            $p.ConnectionLimit | Should -Be 3
        }

        It 'declares PartnerData as its output type' {
            (Get-Command Set-CsXmppAllowedPartner).OutputType.Name | Should -Contain 'XmppFederation.Native.PartnerData'
        }

        It 'writes a non-terminating NotFound error for a missing identity' {
            $hash = Get-LogHash $store.Central
            Set-CsXmppAllowedPartner missing.com -Description x -ErrorVariable ev -ErrorAction SilentlyContinue
            Assert-XmppError $ev -Id NotFound -Verb Set -Category ObjectNotFound -Target 'missing.com'
            Get-LogHash $store.Central | Should -BeExactly $hash
        }

        It 'turns NotFound into a terminating error with -ErrorAction Stop' {
            { Set-CsXmppAllowedPartner missing.com -Description x -ErrorAction Stop } | Should -Throw -ErrorId 'NotFound,XmppFederation.Commands.SetCsXmppAllowedPartnerCommand'
        }

        It 'refuses dialback off with TLS NotSupported: InvalidNegotiation, store unchanged' {
            $hash = Get-LogHash $store.Central
            Set-CsXmppAllowedPartner contoso.com -SupportDialbackNegotiation $false -TlsNegotiation NotSupported -ErrorVariable ev -ErrorAction SilentlyContinue
            Assert-XmppError $ev -Id InvalidNegotiation -Verb Set -Category InvalidArgument -Target 'contoso.com'
            Get-LogHash $store.Central | Should -BeExactly $hash
        }

        It 'writes a questionable combination''s warning to the warning stream' {
            Set-CsXmppAllowedPartner contoso.com -TlsNegotiation Optional -SaslNegotiation Optional -WarningVariable w -WarningAction SilentlyContinue
            $w.Count | Should -Be 1
            $w[0].Message | Should -Match 'SaslNegotiation'
            "$((Get-CsXmppAllowedPartner contoso.com).TlsNegotiation)" | Should -BeExactly 'Optional'
        }

        It 'refuses -Identity <Case> with a parameter validation error (bug 3)' -TestCases @(
            @{ Case = '$null'; Value = $null }
            @{ Case = "''"; Value = '' }
        ) {
            $hash = Get-LogHash $store.Central
            $err = { Set-CsXmppAllowedPartner -Identity $Value -Description x } | Should -Throw -ErrorId 'ParameterArgumentValidationError*' -PassThru
            $err.FullyQualifiedErrorId | Should -BeLike 'ParameterArgumentValidationError*,XmppFederation.Commands.SetCsXmppAllowedPartnerCommand'
            Get-LogHash $store.Central | Should -BeExactly $hash
        }

        It 'one bad item in a pipeline does not stop the rest' {
            $null = New-CsXmppAllowedPartner b.com
            $null = New-CsXmppAllowedPartner c.com
            $read = @(Get-CsXmppAllowedPartner -Filter '[bc].com')
            Remove-CsXmppAllowedPartner b.com
            $read | Set-CsXmppAllowedPartner -Description 'piped' -ErrorVariable ev -ErrorAction SilentlyContinue
            Assert-XmppError $ev -Id NotFound -Verb Set -Category ObjectNotFound -Target 'b.com'
            (Get-CsXmppAllowedPartner c.com).Description | Should -BeExactly 'piped'
            (Get-CsXmppAllowedPartner).Identity | Should -Be @('c.com', 'contoso.com')
        }
    }

    Context '-AdditionalDomains' {
        BeforeEach {
            $null = New-CsXmppAllowedPartner contoso.com -AdditionalDomains a1.com, a2.com
            $null = New-CsXmppAllowedPartner other.com -AdditionalDomains owned.com
        }

        It '<Case>' -TestCases @(
            @{ Case = 'a plain value replaces the list'; Value = 'b.com'; Expected = @('b.com') }
            @{ Case = 'a list replaces the list'; Value = @('b.com', 'c.com'); Expected = @('b.com', 'c.com') }
            @{ Case = '$null clears the list'; Value = $null; Expected = @() }
            @{ Case = '@{Add=..} appends'; Value = @{ Add = 'a3.com' }; Expected = @('a1.com', 'a2.com', 'a3.com') }
            @{ Case = '@{Remove=..} removes'; Value = @{ Remove = 'a1.com' }; Expected = @('a2.com') }
            @{ Case = '@{Remove=..} ignores a missing item'; Value = @{ Remove = 'missing.com' }; Expected = @('a1.com', 'a2.com') }
            @{ Case = '@{Add=..;Remove=..} removes, then adds'; Value = @{ Add = 'a3.com'; Remove = 'a1.com' }; Expected = @('a2.com', 'a3.com') }
            @{ Case = '@{Add=x;Remove=x} removes x, then adds it back'; Value = @{ Add = 'a1.com'; Remove = 'a1.com' }; Expected = @('a2.com', 'a1.com') }
            @{ Case = 'a non-empty Replace wins over Add and Remove'; Value = @{ Replace = 'r.com'; Add = 'x.com'; Remove = 'a1.com' }; Expected = @('r.com') }
            @{ Case = 'a PSListModifier object'; Value = [System.Management.Automation.PSListModifier]::new(@{ Add = 'a3.com'; Remove = 'a2.com' }); Expected = @('a1.com', 'a3.com') }
            @{ Case = 'domains compare case-insensitively: no duplicate is kept'; Value = @{ Add = 'A1.COM', 'a3.com', 'A3.com' }; Expected = @('a1.com', 'a2.com', 'a3.com') }
            @{ Case = 'a duplicate in a plain list is kept once'; Value = @('b.com', 'B.com'); Expected = @('b.com') }
        ) {
            Set-CsXmppAllowedPartner contoso.com -AdditionalDomains $Value
            @((Get-CsXmppAllowedPartner contoso.com).AdditionalDomains) | Should -Be $Expected
        }

        It 'refuses the primary domain in the list: InvalidValue' {
            $hash = Get-LogHash $store.Central
            Set-CsXmppAllowedPartner contoso.com -AdditionalDomains @{ Add = 'Contoso.com' } -ErrorVariable ev -ErrorAction SilentlyContinue
            Assert-XmppError $ev -Id InvalidValue -Verb Set -Category InvalidArgument -Target 'contoso.com'
            $ev[0].Exception.Message | Should -Match 'AdditionalDomains'
            Get-LogHash $store.Central | Should -BeExactly $hash
        }

        It 'refuses a domain another partner claims: DomainConflict' {
            $hash = Get-LogHash $store.Central
            Set-CsXmppAllowedPartner contoso.com -AdditionalDomains @{ Add = 'owned.com' } -ErrorVariable ev -ErrorAction SilentlyContinue
            Assert-XmppError $ev -Id DomainConflict -Verb Set -Category ResourceExists -Target 'contoso.com'
            Get-LogHash $store.Central | Should -BeExactly $hash
        }

        It 'refuses @{Append=...}: InvalidValue naming AdditionalDomains and Append, without JSON parser wording (bug 5)' {
            $hash = Get-LogHash $store.Central
            Set-CsXmppAllowedPartner contoso.com -AdditionalDomains @{ Append = 'x.com' } -ErrorVariable ev -ErrorAction SilentlyContinue
            Assert-XmppError $ev -Id InvalidValue -Verb Set -Category InvalidArgument -Target 'contoso.com'
            $message = $ev[0].Exception.Message
            $message | Should -Match 'AdditionalDomains'
            $message | Should -Match 'Append'
            $message | Should -Not -Match 'JSON'
            $message | Should -Not -Match 'line 1'
            Get-LogHash $store.Central | Should -BeExactly $hash
        }

        It 'refuses a script block: InvalidValue naming AdditionalDomains' {
            $hash = Get-LogHash $store.Central
            Set-CsXmppAllowedPartner contoso.com -AdditionalDomains { 'x.com' } -ErrorVariable ev -ErrorAction SilentlyContinue
            Assert-XmppError $ev -Id InvalidValue -Verb Set -Category InvalidArgument -Target 'contoso.com'
            $ev[0].Exception.Message | Should -Match 'AdditionalDomains'
            Get-LogHash $store.Central | Should -BeExactly $hash
        }
    }

    Context '-Instance' {
        It 'creates an object from New -InMemory' {
            $draft = New-CsXmppAllowedPartner contoso.com -InMemory -Description 'draft'
            Set-CsXmppAllowedPartner -Instance $draft
            $p = Get-CsXmppAllowedPartner contoso.com
            $p.Description | Should -BeExactly 'draft'
            $p.Revision | Should -BeGreaterThan 0
        }

        It 'takes the instance from the pipeline and applies property parameters before writing: New -InMemory | Set -ConnectionLimit 7' {
            New-CsXmppAllowedPartner contoso.com -InMemory | Set-CsXmppAllowedPartner -ConnectionLimit 7 -AdditionalDomains @{ Add = 'contoso.net' }
            $p = Get-CsXmppAllowedPartner contoso.com
            $p.ConnectionLimit | Should -Be 7
            @($p.AdditionalDomains) | Should -Be @('contoso.net')
        }

        It 'refuses an in-memory object whose identity exists: AlreadyExists' {
            $null = New-CsXmppAllowedPartner contoso.com
            $hash = Get-LogHash $store.Central
            Set-CsXmppAllowedPartner -Instance (New-CsXmppAllowedPartner contoso.com -InMemory) -ErrorVariable ev -ErrorAction SilentlyContinue
            Assert-XmppError $ev -Id AlreadyExists -Verb Set -Category ResourceExists -Target 'contoso.com'
            Get-LogHash $store.Central | Should -BeExactly $hash
        }

        It 'writes an object read with Get and edited' {
            $null = New-CsXmppAllowedPartner contoso.com
            $p = Get-CsXmppAllowedPartner contoso.com
            $p.Description = 'edited'
            $p.AdditionalDomains.Add('contoso.net')
            $p.ConnectionLimit = 9
            Set-CsXmppAllowedPartner -Instance $p
            $q = Get-CsXmppAllowedPartner contoso.com
            $q.Description | Should -BeExactly 'edited'
            @($q.AdditionalDomains) | Should -Be @('contoso.net')
            $q.ConnectionLimit | Should -Be 9
        }

        It '-PassThru writes the stored result' {
            $null = New-CsXmppAllowedPartner contoso.com
            $p = Get-CsXmppAllowedPartner contoso.com
            $out = @($p | Set-CsXmppAllowedPartner -Description 'passed' -PassThru)
            $out.Count | Should -Be 1
            $out[0].Description | Should -BeExactly 'passed'
            $out[0].Revision | Should -BeGreaterThan $p.Revision
        }

        It 'accepts a deserialized object from Export-Clixml / Import-Clixml (<How>)' -TestCases @(
            @{ How = '-Instance' }
            @{ How = 'pipeline' }
        ) {
            $null = New-CsXmppAllowedPartner contoso.com -AdditionalDomains contoso.net
            $file = Join-Path $store.Root 'partner.xml'
            Get-CsXmppAllowedPartner contoso.com | Export-Clixml -LiteralPath $file
            $imported = Import-Clixml -LiteralPath $file
            $imported.Description = 'from clixml'
            if ($How -eq '-Instance') {
                Set-CsXmppAllowedPartner -Instance $imported -ErrorVariable ev
            }
            else {
                $imported | Set-CsXmppAllowedPartner -ErrorVariable ev
            }
            $ev.Count | Should -Be 0
            $p = Get-CsXmppAllowedPartner contoso.com
            $p.Description | Should -BeExactly 'from clixml'
            @($p.AdditionalDomains) | Should -Be @('contoso.net')
        }

        It 'refuses an instance whose partner changed in the store since it was read: StaleInstance, unless -Force' {
            $null = New-CsXmppAllowedPartner contoso.com
            $mine = Get-CsXmppAllowedPartner contoso.com
            Set-CsXmppAllowedPartner contoso.com -Description 'theirs'
            $hash = Get-LogHash $store.Central
            $mine.Description = 'mine'
            Set-CsXmppAllowedPartner -Instance $mine -ErrorVariable ev -ErrorAction SilentlyContinue
            Assert-XmppError $ev -Id StaleInstance -Verb Set -Category InvalidOperation -Target 'contoso.com'
            Get-LogHash $store.Central | Should -BeExactly $hash
            (Get-CsXmppAllowedPartner contoso.com).Description | Should -BeExactly 'theirs'

            Set-CsXmppAllowedPartner -Instance $mine -Force
            (Get-CsXmppAllowedPartner contoso.com).Description | Should -BeExactly 'mine'
        }

        It 'refuses an instance whose partner was removed since it was read: NotFound, unless -Force' {
            $null = New-CsXmppAllowedPartner contoso.com
            $mine = Get-CsXmppAllowedPartner contoso.com
            Remove-CsXmppAllowedPartner contoso.com
            $mine.Description = 'mine'
            Set-CsXmppAllowedPartner -Instance $mine -ErrorVariable ev -ErrorAction SilentlyContinue
            Assert-XmppError $ev -Id NotFound -Verb Set -Category ObjectNotFound -Target 'contoso.com'
            Get-CsXmppAllowedPartner | Should -BeNullOrEmpty

            Set-CsXmppAllowedPartner -Instance $mine -Force
            (Get-CsXmppAllowedPartner contoso.com).Description | Should -BeExactly 'mine'
        }

        It 'turns StaleInstance into a terminating error with -ErrorAction Stop' {
            $null = New-CsXmppAllowedPartner contoso.com
            $mine = Get-CsXmppAllowedPartner contoso.com
            Set-CsXmppAllowedPartner contoso.com -Description 'theirs'
            { Set-CsXmppAllowedPartner -Instance $mine -ErrorAction Stop } | Should -Throw -ErrorId 'StaleInstance,XmppFederation.Commands.SetCsXmppAllowedPartnerCommand'
        }
    }

    Context '-WhatIf and -Confirm' {
        BeforeEach {
            $null = New-CsXmppAllowedPartner a.com
            $null = New-CsXmppAllowedPartner b.com
            $null = New-CsXmppAllowedPartner c.com
        }

        It '-WhatIf prints one "What if:" line per item and leaves partners.log byte-for-byte unchanged' {
            $hash = Get-LogHash $store.Central
            $child = Invoke-ChildPwsh -Store $store -Script @'
Set-CsXmppAllowedPartner a.com -Description 'what if' -WhatIf -ErrorVariable ev1
Get-CsXmppAllowedPartner | Set-CsXmppAllowedPartner -SaslNegotiation Optional -WhatIf -ErrorVariable ev2
Show-Errors ($ev1 + $ev2)
'@
            $child.ErrorLines | Should -BeNullOrEmpty -Because $child.Output
            $child.WhatIf.Count | Should -Be 4 -Because $child.Output
            $child.WhatIf[0] | Should -BeLike '*a.com*'
            $child.WhatIf[1] | Should -BeLike '*a.com*'
            $child.WhatIf[2] | Should -BeLike '*b.com*'
            $child.WhatIf[3] | Should -BeLike '*c.com*'
            Get-LogHash $store.Central | Should -BeExactly $hash
        }

        It '-WhatIf on a missing identity: NotFound and no "What if:" line (bug 4)' {
            $hash = Get-LogHash $store.Central
            $child = Invoke-ChildPwsh -Store $store -Script @'
Set-CsXmppAllowedPartner missing.com -Description x -WhatIf -ErrorVariable ev -ErrorAction SilentlyContinue
Show-Errors $ev
'@
            $child.ErrorLines | Should -Be @('NotFound,XmppFederation.Commands.SetCsXmppAllowedPartnerCommand|ObjectNotFound|missing.com') -Because $child.Output
            $child.WhatIf | Should -BeNullOrEmpty
            Get-LogHash $store.Central | Should -BeExactly $hash
        }

        It 'never prompts: not by default, and not with -Confirm:$false under $ConfirmPreference = ''Low''' {
            $child = Invoke-ChildPwsh -Store $store -Script @'
Set-CsXmppAllowedPartner a.com -Description 'default' -WarningAction SilentlyContinue
$ConfirmPreference = 'Low'
Get-CsXmppAllowedPartner -Filter '[bc].com' | Set-CsXmppAllowedPartner -Description 'no prompt' -Confirm:$false -WarningAction SilentlyContinue
Show-Errors $Error
"DESCRIPTIONS=$((Get-CsXmppAllowedPartner).Description -join ',')"
'@
            $child.ErrorLines | Should -BeNullOrEmpty -Because ($child.Output + $child.Errors)
            $child.Lines | Should -Contain 'DESCRIPTIONS=default,no prompt,no prompt'
        }
    }

    Context 'store location (bug 6)' {
        It 'fails with StoreIo naming the folder when the central folder does not exist' -Tag FolderOnly {
            $missing = New-TestStore -CentralMissing
            $err = { Set-CsXmppAllowedPartner contoso.com -Description x -ErrorAction Stop } | Should -Throw -ErrorId 'StoreIo,XmppFederation.Commands.SetCsXmppAllowedPartnerCommand' -PassThru
            $err.CategoryInfo.Category | Should -Be 'ResourceUnavailable'
            $err.Exception.Message | Should -BeLike "*$($missing.Central)*"
            $err.Exception.Message | Should -Not -BeLike '*partners.lock*'
            $missing.Central | Should -Not -Exist
        }
    }
}
