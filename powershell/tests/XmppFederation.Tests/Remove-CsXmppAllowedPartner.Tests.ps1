# Remove-CsXmppAllowedPartner in a real pwsh, on a fresh temporary store per test.
param([string] $ModulePath = (Join-Path $PSScriptRoot '../../../target/XmppFederation/XmppFederation.psd1'))

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module $ModulePath
    Set-TestModulePath $ModulePath
    $PSDefaultParameterValues = @{ '*-CsXmppAllowedPartner:WarningAction' = 'SilentlyContinue' }
}

Describe 'Remove-CsXmppAllowedPartner' {
    BeforeEach {
        $store = New-TestStore
        $null = New-CsXmppAllowedPartner a.com -PartnerType PublicVerified -AdditionalDomains a-extra.com
        $null = New-CsXmppAllowedPartner b.com
        $null = New-CsXmppAllowedPartner c.com
    }
    AfterEach { Remove-TestStore }

    Context 'the example SPEC.md names' {
        It 'Get-CsXmppAllowedPartner | Where-Object {...} | Remove-CsXmppAllowedPartner removes those, without a prompt' {
            $out = Get-CsXmppAllowedPartner | Where-Object { $_.PartnerType -eq 'PublicUnverified' } | Remove-CsXmppAllowedPartner -ErrorVariable ev
            $out | Should -BeNullOrEmpty
            $ev.Count | Should -Be 0
            (Get-CsXmppAllowedPartner).Identity | Should -Be @('a.com')
        }
    }

    Context 'removing' {
        It 'removes by -Identity and writes nothing' {
            $out = Remove-CsXmppAllowedPartner -Identity b.com
            $out | Should -BeNullOrEmpty
            (Get-CsXmppAllowedPartner).Identity | Should -Be @('a.com', 'c.com')
        }

        It 'takes the identity by position' {
            Remove-CsXmppAllowedPartner c.com
            (Get-CsXmppAllowedPartner).Identity | Should -Be @('a.com', 'b.com')
        }

        It 'takes the identity from the pipeline by property name' {
            [pscustomobject]@{ Identity = 'b.com' } | Remove-CsXmppAllowedPartner
            (Get-CsXmppAllowedPartner).Identity | Should -Be @('a.com', 'c.com')
        }

        It '-PassThru writes the removed partner' {
            $out = @(Remove-CsXmppAllowedPartner a.com -PassThru)
            $out.Count | Should -Be 1
            $out[0] | Should -BeOfType ([XmppFederation.Native.PartnerData])
            $out[0].Identity | Should -BeExactly 'a.com'
            "$($out[0].PartnerType)" | Should -BeExactly 'PublicVerified'
            @($out[0].AdditionalDomains) | Should -Be @('a-extra.com')
        }

        It 'frees the partner''s domains for another partner' {
            Remove-CsXmppAllowedPartner a.com
            (New-CsXmppAllowedPartner a-extra.com).Identity | Should -BeExactly 'a-extra.com'
        }

        It 'declares PartnerData as its output type' {
            (Get-Command Remove-CsXmppAllowedPartner).OutputType.Name | Should -Contain 'XmppFederation.Native.PartnerData'
        }
    }

    Context 'errors' {
        It 'writes a non-terminating NotFound error for a missing identity' {
            $hash = Get-LogHash $store.Central
            Remove-CsXmppAllowedPartner missing.com -ErrorVariable ev -ErrorAction SilentlyContinue
            Assert-XmppError $ev -Id NotFound -Verb Remove -Category ObjectNotFound -Target 'missing.com'
            Get-LogHash $store.Central | Should -BeExactly $hash
        }

        It 'skips a missing identity silently with -Force' {
            $hash = Get-LogHash $store.Central
            $out = Remove-CsXmppAllowedPartner missing.com -Force -ErrorVariable ev
            $out | Should -BeNullOrEmpty
            $ev.Count | Should -Be 0
            Get-LogHash $store.Central | Should -BeExactly $hash
        }

        It 'one bad item in a pipeline does not stop the rest: 3 identities, the middle one missing' {
            $out = 'a.com', 'missing.com', 'c.com' | ForEach-Object { [pscustomobject]@{ Identity = $_ } } |
                Remove-CsXmppAllowedPartner -ErrorVariable ev -ErrorAction SilentlyContinue
            $out | Should -BeNullOrEmpty
            Assert-XmppError $ev -Id NotFound -Verb Remove -Category ObjectNotFound -Target 'missing.com'
            (Get-CsXmppAllowedPartner).Identity | Should -Be @('b.com')
        }

        It '-ErrorAction Stop turns NotFound into a terminating error that stops the pipeline' {
            {
                'a.com', 'missing.com', 'c.com' | ForEach-Object { [pscustomobject]@{ Identity = $_ } } |
                    Remove-CsXmppAllowedPartner -ErrorAction Stop
            } | Should -Throw -ErrorId 'NotFound,XmppFederation.Commands.RemoveCsXmppAllowedPartnerCommand'
            (Get-CsXmppAllowedPartner).Identity | Should -Be @('b.com', 'c.com')
        }

        It 'refuses -Identity <Case> with a parameter validation error (bug 3)' -TestCases @(
            @{ Case = '$null'; Value = $null }
            @{ Case = "''"; Value = '' }
        ) {
            $hash = Get-LogHash $store.Central
            $err = { Remove-CsXmppAllowedPartner -Identity $Value } | Should -Throw -ErrorId 'ParameterArgumentValidationError*' -PassThru
            $err.FullyQualifiedErrorId | Should -BeLike 'ParameterArgumentValidationError*,XmppFederation.Commands.RemoveCsXmppAllowedPartnerCommand'
            Get-LogHash $store.Central | Should -BeExactly $hash
            (Get-CsXmppAllowedPartner).Identity | Should -Be @('a.com', 'b.com', 'c.com')
        }

        It 'refuses an invalid domain: InvalidDomain' {
            Remove-CsXmppAllowedPartner 'not a domain' -ErrorVariable ev -ErrorAction SilentlyContinue
            Assert-XmppError $ev -Id InvalidDomain -Verb Remove -Category InvalidArgument -Target 'not a domain'
        }
    }

    Context '-WhatIf and -Confirm' {
        It '-WhatIf prints one "What if:" line per item, removes nothing and leaves partners.log byte-for-byte unchanged' {
            $hash = Get-LogHash $store.Central
            $child = Invoke-ChildPwsh -Store $store -Script @'
Get-CsXmppAllowedPartner | Remove-CsXmppAllowedPartner -WhatIf -ErrorVariable ev
Show-Errors $ev
'@
            $child.ErrorLines | Should -BeNullOrEmpty -Because $child.Output
            $child.WhatIf.Count | Should -Be 3 -Because $child.Output
            $child.WhatIf[0] | Should -BeLike '*a.com*'
            $child.WhatIf[1] | Should -BeLike '*b.com*'
            $child.WhatIf[2] | Should -BeLike '*c.com*'
            Get-LogHash $store.Central | Should -BeExactly $hash
            (Get-CsXmppAllowedPartner).Identity | Should -Be @('a.com', 'b.com', 'c.com')
        }

        It '-WhatIf on a missing identity: NotFound and no "What if:" line (bug 4)' {
            $hash = Get-LogHash $store.Central
            $child = Invoke-ChildPwsh -Store $store -Script @'
'b.com', 'missing.com' | ForEach-Object { [pscustomobject]@{ Identity = $_ } } |
    Remove-CsXmppAllowedPartner -WhatIf -ErrorVariable ev -ErrorAction SilentlyContinue
Show-Errors $ev
'@
            $child.ErrorLines | Should -Be @('NotFound,XmppFederation.Commands.RemoveCsXmppAllowedPartnerCommand|ObjectNotFound|missing.com') -Because $child.Output
            $child.WhatIf.Count | Should -Be 1 -Because $child.Output
            $child.WhatIf[0] | Should -BeLike '*b.com*'
            Get-LogHash $store.Central | Should -BeExactly $hash
        }

        It 'never prompts: not by default, and not with -Confirm:$false under $ConfirmPreference = ''Low''' {
            $child = Invoke-ChildPwsh -Store $store -Script @'
Remove-CsXmppAllowedPartner a.com
$ConfirmPreference = 'Low'
Remove-CsXmppAllowedPartner b.com -Confirm:$false
Show-Errors $Error
"IDS=$((Get-CsXmppAllowedPartner).Identity -join ',')"
'@
            $child.ErrorLines | Should -BeNullOrEmpty -Because ($child.Output + $child.Errors)
            $child.Lines | Should -Contain 'IDS=c.com'
        }
    }

    Context 'store location (bug 6)' {
        It 'fails with StoreIo naming the folder when the central folder does not exist' -Tag FolderOnly {
            $missing = New-TestStore -CentralMissing
            $err = { Remove-CsXmppAllowedPartner a.com -ErrorAction Stop } | Should -Throw -ErrorId 'StoreIo,XmppFederation.Commands.RemoveCsXmppAllowedPartnerCommand' -PassThru
            $err.CategoryInfo.Category | Should -Be 'ResourceUnavailable'
            $err.Exception.Message | Should -BeLike "*$($missing.Central)*"
            $err.Exception.Message | Should -Not -BeLike '*partners.lock*'
            $missing.Central | Should -Not -Exist
        }
    }
}
