# Import-CsXmppAllowedPartner in a real pwsh, on a fresh temporary store per test: round trips
# with Export (JSON and CSV, files and the pipeline), the difference (added, changed, removed,
# unchanged, rejected) applied in one commit or not at all, -WhatIf, the confirmation of removals,
# a store changed between the shown difference and the commit (StoreChanged), and the errors.
param([string] $ModulePath = (Join-Path $PSScriptRoot '../../../target/XmppFederation/XmppFederation.psd1'))

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module $ModulePath
    Set-TestModulePath $ModulePath
    $PSDefaultParameterValues = @{ '*-CsXmppAllowedPartner:WarningAction' = 'SilentlyContinue' }

    # Writes text to a file of the test's folder (UTF-8, no byte-order mark) and returns its path.
    function New-InputFile([string] $Name, [string] $Text) {
        $path = Join-Path $work $Name
        [System.IO.File]::WriteAllText($path, $Text)
        $path
    }

    function Get-Counts($Result) {
        "added=$(@($Result.Added).Count) changed=$(@($Result.Changed).Count) removed=$(@($Result.Removed).Count) unchanged=$(@($Result.Unchanged).Count) rejected=$(@($Result.Rejected).Count)"
    }
}

Describe 'Import-CsXmppAllowedPartner' {
    BeforeEach {
        $store = New-TestStore
        $null = New-CsXmppAllowedPartner contoso.com -PartnerType PublicVerified
        $null = New-CsXmppAllowedPartner fabrikam.com -AdditionalDomains research.fabrikam2.com, eu.fabrikam2.com -Description 'Contact: Ken Myer, "sales"'
        $null = New-CsXmppAllowedPartner jabber.org -TlsNegotiation NotSupported -SaslNegotiation NotSupported -ConnectionLimit 5
        $null = New-CsXmppAllowedPartner 'bücher.example' -ProxyFqdn proxy.bücher.example -EnableKeepAlive $false
        $work = Join-Path $store.Root 'work'
        $null = New-Item -ItemType Directory -Path $work
        Push-Location $work
    }
    AfterEach {
        Pop-Location
        Remove-TestStore
    }

    Context 'round trips: an export imported back changes nothing' {
        It 'a <Format> file: -WhatIf shows every partner unchanged, no warning, and the store stays byte for byte' -TestCases @(
            @{ Format = 'Json'; Name = 'partners.json' }
            @{ Format = 'Csv'; Name = 'partners.csv' }
        ) {
            Export-CsXmppAllowedPartner -Path $Name
            $hash = Get-LogHash $store.Central
            $plan = Import-CsXmppAllowedPartner -Path $Name -WhatIf -WarningVariable warnings -ErrorVariable ev
            $plan | Should -BeOfType ([XmppFederation.Native.ImportResult])
            Get-Counts $plan | Should -BeExactly 'added=0 changed=0 removed=0 unchanged=4 rejected=0'
            $plan.Unchanged | Should -Be @('bücher.example', 'contoso.com', 'fabrikam.com', 'jabber.org')
            $plan.BaseRevision | Should -Be 4
            $plan.CommittedRevision | Should -BeNullOrEmpty
            $warnings | Should -BeNullOrEmpty
            $ev | Should -BeNullOrEmpty
            # Without -WhatIf too: nothing to change, nothing committed, nothing asked.
            $again = Import-CsXmppAllowedPartner -Path $Name -RemoveMissing
            Get-Counts $again | Should -BeExactly 'added=0 changed=0 removed=0 unchanged=4 rejected=0'
            $again.CommittedRevision | Should -BeNullOrEmpty
            Get-LogHash $store.Central | Should -BeExactly $hash
        }

        It 'from the pipeline: <Case>' -TestCases @(
            @{ Case = 'Import-Csv of Export-Csv'; Source = { Get-CsXmppAllowedPartner | Export-Csv p.csv; Import-Csv p.csv } }
            @{ Case = 'Import-Csv of Export -Format Csv'; Source = { Export-CsXmppAllowedPartner p.csv; Import-Csv p.csv } }
            @{ Case = 'ConvertFrom-Json of Export'; Source = { Export-CsXmppAllowedPartner | ConvertFrom-Json } }
            @{ Case = 'ConvertFrom-Json of ConvertTo-Json -EnumsAsStrings'; Source = { Get-CsXmppAllowedPartner | ConvertTo-Json -EnumsAsStrings | ConvertFrom-Json } }
            @{ Case = 'Get-CsXmppAllowedPartner'; Source = { Get-CsXmppAllowedPartner } }
            @{ Case = 'Import-Clixml'; Source = { Get-CsXmppAllowedPartner | Export-Clixml p.xml; Import-Clixml p.xml } }
        ) {
            $hash = Get-LogHash $store.Central
            $plan = & $Source | Import-CsXmppAllowedPartner -RemoveMissing -WarningVariable warnings
            Get-Counts $plan | Should -BeExactly 'added=0 changed=0 removed=0 unchanged=4 rejected=0'
            $warnings | Should -BeNullOrEmpty
            Get-LogHash $store.Central | Should -BeExactly $hash
        }

        It 'ConvertTo-Json without -EnumsAsStrings writes enum numbers: refused, naming the property and its values' {
            $rows = @(Get-CsXmppAllowedPartner contoso.com | ConvertTo-Json | ConvertFrom-Json)
            $rows | Import-CsXmppAllowedPartner -ErrorVariable ev -ErrorAction SilentlyContinue
            $ev[0].FullyQualifiedErrorId | Should -BeExactly 'InvalidValue,XmppFederation.Commands.ImportCsXmppAllowedPartnerCommand'
            $ev[0].TargetObject | Should -BeExactly 'contoso.com'
            $ev[0].Exception.Message | Should -BeExactly "Pipeline object 1 cannot be imported: PartnerType: '1' is not a valid PartnerType; valid values: Federated, PublicVerified, PublicUnverified"
        }

        It 'into another store: every partner added, with every property, in one commit' {
            Export-CsXmppAllowedPartner -Path partners.json
            Export-CsXmppAllowedPartner -Path partners.csv
            $expected = Get-PartnerText (Get-CsXmppAllowedPartner)
            foreach ($file in 'partners.json', 'partners.csv') {
                $null = New-TestStore
                $result = Import-CsXmppAllowedPartner -Path $file
                Get-Counts $result | Should -BeExactly 'added=4 changed=0 removed=0 unchanged=0 rejected=0'
                $result.CommittedRevision | Should -Be 1
                Get-PartnerText (Get-CsXmppAllowedPartner) | Should -Be $expected -Because $file
                (Get-CsXmppAllowedPartner).Revision | Sort-Object -Unique | Should -Be 1
            }
        }
    }

    Context 'the difference, applied in one commit' {
        BeforeEach {
            # contoso.com changed, fabrikam.com as it is, jabber.org and bücher.example left out,
            # new.example.net added.
            Export-CsXmppAllowedPartner -Path before.json
            $file = New-InputFile 'partners.json' @'
[
  {"Identity":"contoso.com","PartnerType":"PublicVerified","ConnectionLimit":40,"Description":"pilot"},
  {"Identity":"fabrikam.com","AdditionalDomains":["research.fabrikam2.com","eu.fabrikam2.com"],"Description":"Contact: Ken Myer, \"sales\""},
  {"Identity":"new.example.net","AdditionalDomains":"chat.example.net;im.example.net"}
]
'@
        }

        It 'adds and changes, leaves the partners the input does not name, and says what it did' {
            $result = Import-CsXmppAllowedPartner -Path partners.json
            Get-Counts $result | Should -BeExactly 'added=1 changed=1 removed=0 unchanged=1 rejected=0'
            $result.Added.Identity | Should -Be @('new.example.net')
            $result.Changed.Identity | Should -Be @('contoso.com')
            @($result.Changed[0].Changes | ForEach-Object { [string]$_ }) | Should -Be @("Description: '' → 'pilot'", 'ConnectionLimit: 20 → 40')
            $result.Changed[0].Before.ConnectionLimit | Should -Be 20
            $result.Unchanged | Should -Be @('fabrikam.com')
            $result.BaseRevision | Should -Be 4
            $result.CommittedRevision | Should -Be 5
            (Get-CsXmppAllowedPartner).Identity | Should -Be @('bücher.example', 'contoso.com', 'fabrikam.com', 'jabber.org', 'new.example.net')
            (Get-CsXmppAllowedPartner contoso.com).ConnectionLimit | Should -Be 40
            @((Get-CsXmppAllowedPartner new.example.net).AdditionalDomains) | Should -Be @('chat.example.net', 'im.example.net')
        }

        It '-RemoveMissing also removes the partners the input does not name: the list becomes the input' {
            $result = Import-CsXmppAllowedPartner -Path partners.json -RemoveMissing -Force
            Get-Counts $result | Should -BeExactly 'added=1 changed=1 removed=2 unchanged=1 rejected=0'
            $result.Removed.Identity | Should -Be @('bücher.example', 'jabber.org')
            $result.RemoveMissing | Should -BeTrue
            (Get-CsXmppAllowedPartner).Identity | Should -Be @('contoso.com', 'fabrikam.com', 'new.example.net')
            # Back to the list before, in one more commit.
            $back = Import-CsXmppAllowedPartner -Path before.json -RemoveMissing -Force
            Get-Counts $back | Should -BeExactly 'added=2 changed=1 removed=1 unchanged=1 rejected=0'
            Export-CsXmppAllowedPartner | Should -BeExactly (Get-Content -Raw before.json)
        }

        It 'is one commit: one revision for every change, recorded in the history as Import' {
            $result = Import-CsXmppAllowedPartner -Path partners.json -RemoveMissing -Force
            $entries = @(Get-CsXmppAllowedPartnerHistory | Where-Object Revision -EQ $result.CommittedRevision)
            $entries.Count | Should -Be 4
            $entries | ForEach-Object { [string]$_.Operation | Should -BeExactly 'Import' }
            @($entries.Identity | Sort-Object) | Should -Be @('bücher.example', 'contoso.com', 'jabber.org', 'new.example.net')
            (Get-CsXmppAllowedPartnerHistory -First 1 -Identity 'contoso.com').Changes.Property | Should -Be @('Description', 'ConnectionLimit')
            @(Get-CsXmppAllowedPartner | Where-Object Revision -EQ $result.CommittedRevision).Identity | Should -Be @('contoso.com', 'new.example.net')
        }

        It '-WhatIf writes the difference and changes nothing; one "What if:" line with the counts' {
            $hash = Get-LogHash $store.Central
            $plan = Import-CsXmppAllowedPartner -Path partners.json -RemoveMissing -WhatIf
            Get-Counts $plan | Should -BeExactly 'added=1 changed=1 removed=2 unchanged=1 rejected=0'
            $plan.CommittedRevision | Should -BeNullOrEmpty
            Get-LogHash $store.Central | Should -BeExactly $hash

            $child = Invoke-ChildPwsh -Store $store -Script @'
$plan = Import-CsXmppAllowedPartner -Path work/partners.json -RemoveMissing -WhatIf -ErrorVariable ev
"OUTPUT=$($plan.GetType().Name)|$($plan.BaseRevision)|$($plan.CommittedRevision)"
Show-Errors $ev
'@
            $child.WhatIf.Count | Should -Be 1 -Because $child.Output
            $child.WhatIf[0] | Should -BeLike "What if: Performing the operation ""Import XMPP allowed partners (1 added, 1 changed, 2 removed, 1 unchanged)"" on target ""$(Get-TestStoreDisplay $store)""*"
            $child.Lines | Should -Contain 'OUTPUT=ImportResult|4|'
            $child.ErrorLines | Should -BeNullOrEmpty
            Get-LogHash $store.Central | Should -BeExactly $hash
        }

        It 'pipeline objects make one import, applied once at the end' {
            $rows = @(
                [pscustomobject]@{ Identity = 'contoso.com'; PartnerType = 'PublicVerified'; ConnectionLimit = '40'; Description = 'pilot' }
                @{ Identity = 'one.example.net'; EnableKeepAlive = 'False' }
                [pscustomobject]@{ Identity = 'two.example.net'; AdditionalDomains = @('x.two.example.net', 'y.two.example.net'); SupportDialbackNegotiation = $true }
            )
            $result = $rows | Import-CsXmppAllowedPartner
            Get-Counts $result | Should -BeExactly 'added=2 changed=1 removed=0 unchanged=0 rejected=0'
            $result.CommittedRevision | Should -Be 5
            (Get-CsXmppAllowedPartner one.example.net).EnableKeepAlive | Should -BeFalse
            @((Get-CsXmppAllowedPartner two.example.net).AdditionalDomains) | Should -Be @('x.two.example.net', 'y.two.example.net')
        }

        It 'a CSV file edited by hand: a subset of the columns, the rest New''s defaults' {
            $null = New-InputFile 'edited.csv' "Identity,ConnectionLimit,AdditionalDomains`r`ncontoso.com,40,`r`nnew.example.net,,a.example.net;b.example.net`r`n"
            $result = Import-CsXmppAllowedPartner edited.csv
            $result.Added.Identity | Should -Be @('new.example.net')
            (Get-CsXmppAllowedPartner new.example.net).ConnectionLimit | Should -Be 20
            # contoso.com is a whole partner too: its PartnerType goes back to New's default.
            @($result.Changed[0].Changes.Property) | Should -Be @('PartnerType', 'ConnectionLimit')
        }

        It 'reads a file with a byte-order mark, UTF-16 too (Windows PowerShell''s Out-File)' {
            $text = Get-Content -Raw partners.json
            [System.IO.File]::WriteAllText((Join-Path $work 'utf16.json'), $text, [System.Text.Encoding]::Unicode)
            [System.IO.File]::WriteAllText((Join-Path $work 'bom.json'), $text, [System.Text.UTF8Encoding]::new($true))
            foreach ($name in 'utf16.json', 'bom.json') {
                Get-Counts (Import-CsXmppAllowedPartner $name -WhatIf) | Should -BeExactly 'added=1 changed=1 removed=0 unchanged=1 rejected=0' -Because $name
            }
        }
    }

    Context 'rejected items: all or nothing' {
        BeforeEach {
            $file = New-InputFile 'bad.json' @'
[
  {"Identity":"new.example.net"},
  {"Identity":"not a domain"},
  {"Identity":"contoso.com","ConnectionLimit":"many"},
  {"Identity":"new.example.net"},
  {"Identity":"grab.example.net","AdditionalDomains":"research.fabrikam2.com"}
]
'@
        }

        It 'each rejected item is an error naming its position and problem; then ImportRejected; nothing changes' {
            $hash = Get-LogHash $store.Central
            $out = Import-CsXmppAllowedPartner -Path bad.json -ErrorVariable ev -ErrorAction SilentlyContinue
            $out | Should -BeNullOrEmpty
            Get-LogHash $store.Central | Should -BeExactly $hash
            @($ev | ForEach-Object FullyQualifiedErrorId) | Should -Be @(
                'InvalidDomain,XmppFederation.Commands.ImportCsXmppAllowedPartnerCommand'
                'InvalidValue,XmppFederation.Commands.ImportCsXmppAllowedPartnerCommand'
                'DuplicateIdentity,XmppFederation.Commands.ImportCsXmppAllowedPartnerCommand'
                'DomainConflict,XmppFederation.Commands.ImportCsXmppAllowedPartnerCommand'
                'ImportRejected,XmppFederation.Commands.ImportCsXmppAllowedPartnerCommand')
            $path = Join-Path $work 'bad.json'
            $ev[0].Exception.Message | Should -BeExactly "Item 2 of '$path' cannot be imported: Identity 'not a domain' is not a valid domain: it contains whitespace"
            $ev[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
            $ev[0].TargetObject | Should -BeExactly 'not a domain'
            $ev[1].Exception.Message | Should -BeExactly "Item 3 of '$path' cannot be imported: ConnectionLimit: 'many' is not a whole number from 1 to 4294967295"
            $ev[2].Exception.Message | Should -BeLike "Item 4 of '$path' cannot be imported: *'new.example.net' is also given at position 1*"
            $ev[3].Exception.Message | Should -BeLike "Item 5 of '$path' cannot be imported: domain 'research.fabrikam2.com' of 'grab.example.net' is also claimed by allowed partner 'fabrikam.com'*"
            $ev[3].CategoryInfo.Category | Should -Be 'ResourceExists'
            $ev[4].Exception.Message | Should -BeLike "4 input item(s) cannot be imported, so nothing was imported (an import is all or nothing); the first at position 2: Identity 'not a domain'*"
            $ev[4].CategoryInfo.Category | Should -Be 'InvalidData'
            $ev[4].Exception | Should -BeOfType ([XmppFederation.Native.InvalidPartnerException])
        }

        It '$Error[0] is ImportRejected, and -ErrorAction Stop stops at the first rejected item' {
            Import-CsXmppAllowedPartner -Path bad.json -ErrorAction SilentlyContinue
            $Error[0].FullyQualifiedErrorId | Should -BeExactly 'ImportRejected,XmppFederation.Commands.ImportCsXmppAllowedPartnerCommand'
            { Import-CsXmppAllowedPartner -Path bad.json -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidDomain,XmppFederation.Commands.ImportCsXmppAllowedPartnerCommand'
            (Get-CsXmppAllowedPartner).Count | Should -Be 4
        }

        It '-WhatIf lists the rejected items in the difference, writes their errors, and no "What if:" line' {
            $plan = Import-CsXmppAllowedPartner -Path bad.json -WhatIf -ErrorVariable ev -ErrorAction SilentlyContinue
            @($plan.Rejected | ForEach-Object { "$($_.Position)|$($_.Identity)|$($_.ErrorId)" }) | Should -Be @(
                '2|not a domain|InvalidDomain', '3|contoso.com|InvalidValue', '4|new.example.net|DuplicateIdentity', '5|grab.example.net|DomainConflict')
            $plan.Added.Identity | Should -Be @('new.example.net')
            @($ev).Count | Should -Be 4
            $ev.FullyQualifiedErrorId | Should -Not -Contain 'ImportRejected,XmppFederation.Commands.ImportCsXmppAllowedPartnerCommand'

            $child = Invoke-ChildPwsh -Store $store -Script 'Import-CsXmppAllowedPartner -Path work/bad.json -WhatIf -ErrorAction SilentlyContinue | Out-Null'
            $child.WhatIf | Should -BeNullOrEmpty -Because $child.Output
        }

        It 'a CSV file''s rejected rows are named by their line' {
            $null = New-InputFile 'bad.csv' "Identity,EnableKeepAlive`r`nok.example.net,true`r`n`r`nbad.example.net,maybe`r`n"
            Import-CsXmppAllowedPartner bad.csv -ErrorVariable ev -ErrorAction SilentlyContinue
            $ev[0].Exception.Message | Should -BeExactly "Line 4 of '$(Join-Path $work 'bad.csv')' cannot be imported: EnableKeepAlive: 'maybe' is not True or False"
            $ev[-1].FullyQualifiedErrorId | Should -BeExactly 'ImportRejected,XmppFederation.Commands.ImportCsXmppAllowedPartnerCommand'
            Get-CsXmppAllowedPartner ok.example.net -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        }

        It 'a pipeline''s rejected objects are named by their number' {
            [pscustomobject]@{ Identity = 'ok.example.net' }, [pscustomobject]@{ Identity = 'bad example' } |
                Import-CsXmppAllowedPartner -ErrorVariable ev -ErrorAction SilentlyContinue
            $ev[0].Exception.Message | Should -BeExactly "Pipeline object 2 cannot be imported: Identity 'bad example' is not a valid domain: it contains whitespace"
            $ev[-1].FullyQualifiedErrorId | Should -BeExactly 'ImportRejected,XmppFederation.Commands.ImportCsXmppAllowedPartnerCommand'
        }

        It 'a domain may move from one partner to another within one import' {
            $null = New-InputFile 'move.json' '[{"Identity":"fabrikam.com","AdditionalDomains":"research.fabrikam2.com"},{"Identity":"grab.example.net","AdditionalDomains":"eu.fabrikam2.com"}]'
            $result = Import-CsXmppAllowedPartner move.json
            Get-Counts $result | Should -BeExactly 'added=1 changed=1 removed=0 unchanged=0 rejected=0'
            @((Get-CsXmppAllowedPartner grab.example.net).AdditionalDomains) | Should -Be @('eu.fabrikam2.com')
        }
    }

    Context 'confirmation' {
        BeforeEach {
            $null = New-InputFile 'fewer.json' '[{"Identity":"contoso.com","PartnerType":"PublicVerified"},{"Identity":"added.example.net"}]'
        }

        It 'declares a medium confirm impact: an import that only adds and changes does not ask' {
            $attribute = (Get-Command Import-CsXmppAllowedPartner).ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0]
            $attribute.SupportsShouldProcess | Should -BeTrue
            $attribute.ConfirmImpact | Should -Be ([System.Management.Automation.ConfirmImpact]::Medium)
            $r = Invoke-WithPromptHost -Script "Import-CsXmppAllowedPartner -Path '$(Join-Path $work 'fewer.json')'"
            $r.Prompts | Should -BeNullOrEmpty
            $r.Errors | Should -BeNullOrEmpty
            (Get-CsXmppAllowedPartner added.example.net).Identity | Should -BeExactly 'added.example.net'
        }

        It 'an import that removes partners asks, naming them, as a high-impact change; No changes nothing' {
            $hash = Get-LogHash $store.Central
            $r = Invoke-WithPromptHost -Script "Import-CsXmppAllowedPartner -Path '$(Join-Path $work 'fewer.json')' -RemoveMissing" -Answer 1
            $r.Prompts.Count | Should -Be 1
            $r.Prompts[0] | Should -BeExactly 'Confirm removal|-RemoveMissing removes 3 partner(s) that the input does not name: bücher.example, fabrikam.com, jabber.org. Remove them?'
            $r.Output | Should -BeNullOrEmpty
            Get-LogHash $store.Central | Should -BeExactly $hash

            $r = Invoke-WithPromptHost -Script "Import-CsXmppAllowedPartner -Path '$(Join-Path $work 'fewer.json')' -RemoveMissing" -Answer 0
            $r.Prompts.Count | Should -Be 1
            (Get-CsXmppAllowedPartner).Identity | Should -Be @('added.example.net', 'contoso.com')
        }

        It 'removes without asking with -Force, -Confirm:$false or $ConfirmPreference None (<Case>)' -TestCases @(
            @{ Case = '-Force'; Command = 'Import-CsXmppAllowedPartner -Path fewer.json -RemoveMissing -Force' }
            @{ Case = '-Confirm:$false'; Command = 'Import-CsXmppAllowedPartner -Path fewer.json -RemoveMissing -Confirm:$false' }
            @{ Case = 'None'; Command = '$ConfirmPreference = ''None''; Import-CsXmppAllowedPartner -Path fewer.json -RemoveMissing' }
        ) {
            $r = Invoke-WithPromptHost -Script "Set-Location '$work'; $Command"
            $r.Prompts | Should -BeNullOrEmpty
            $r.Errors | Should -BeNullOrEmpty
            (Get-CsXmppAllowedPartner).Identity | Should -Be @('added.example.net', 'contoso.com')
        }

        It '-Confirm asks once, with the counts, also when removing' {
            $r = Invoke-WithPromptHost -Script "Import-CsXmppAllowedPartner -Path '$(Join-Path $work 'fewer.json')' -RemoveMissing -Confirm" -Answer 0
            $r.Prompts.Count | Should -Be 1
            $r.Prompts[0] | Should -BeLike 'Confirm|*Import XMPP allowed partners (1 added, 0 changed, 3 removed, 1 unchanged)*'
            (Get-CsXmppAllowedPartner).Identity | Should -Be @('added.example.net', 'contoso.com')
        }

        It 'in a non-interactive session an import that removes partners fails asking, and changes nothing' {
            $hash = Get-LogHash $store.Central
            { Import-CsXmppAllowedPartner -Path fewer.json -RemoveMissing } | Should -Throw '*NonInteractive*'
            Get-LogHash $store.Central | Should -BeExactly $hash
        }
    }

    Context 'a store changed between the difference and the commit' {
        It 'is refused with StoreChanged while the admin reads the confirmation: nothing is imported' {
            $null = New-InputFile 'one.json' '[{"Identity":"imported.example.net"}]'
            $r = Invoke-WithPromptHost -Script "Import-CsXmppAllowedPartner -Path '$(Join-Path $work 'one.json')' -Confirm" `
                -OnPrompt 'New-CsXmppAllowedPartner meanwhile.example.net' -Answer 0
            $r.Prompts.Count | Should -Be 1
            $r.PromptErrors | Should -BeNullOrEmpty
            $r.Output | Should -BeNullOrEmpty
            @($r.Errors).Count | Should -Be 1
            $r.Errors[0].FullyQualifiedErrorId | Should -BeExactly 'StoreChanged,XmppFederation.Commands.ImportCsXmppAllowedPartnerCommand'
            $r.Errors[0].CategoryInfo.Category | Should -Be 'InvalidOperation'
            $r.Errors[0].Exception | Should -BeOfType ([XmppFederation.Native.PartnerConflictException])
            $r.Errors[0].Exception.Message | Should -BeExactly "the store changed after the import's difference was computed (at revision 4, now at 5); nothing was imported: run the import again to see the difference as it is now"
            (Get-CsXmppAllowedPartner).Identity | Should -Contain 'meanwhile.example.net'
            (Get-CsXmppAllowedPartner).Identity | Should -Not -Contain 'imported.example.net'
            # Run again: the difference as it is now, applied.
            (Import-CsXmppAllowedPartner one.json).CommittedRevision | Should -Be 6
        }

        It 'the .NET layer refuses an ExpectedRevision the store has moved on from' {
            $options = [XmppFederation.Native.ImportOptions]@{ ExpectedRevision = 3 }
            $partnerStore = [XmppFederation.Native.PartnerStore]::Open($store.Central, $store.Replica)
            try {
                { $partnerStore.Import('[{"Identity":"stale.example.net"}]', $options) } | Should -Throw '*at revision 3, now at 4*'
                $options.ExpectedRevision = 4
                $partnerStore.Import('[{"Identity":"stale.example.net"}]', $options).CommittedRevision | Should -Be 5
            }
            finally {
                $partnerStore.Dispose()
            }
        }
    }

    Context 'input errors' {
        It 'a file that does not exist is PathNotFound, naming it' {
            Import-CsXmppAllowedPartner -Path missing.json -ErrorVariable ev -ErrorAction SilentlyContinue
            Assert-XmppError $ev -Id PathNotFound -Verb Import -Category ObjectNotFound -Target (Join-Path $work 'missing.json')
            $ev[0].Exception.Message | Should -BeLike "*'$(Join-Path $work 'missing.json')'*does not exist*"
        }

        It 'a file that is not a JSON array of objects: <Id>' -TestCases @(
            @{ Text = '[{"Identity":'; Id = 'JsonSyntax'; Message = 'malformed JSON: *' }
            @{ Text = '{"Identity":"a.example.net"}'; Id = 'JsonShape'; Message = '*not a JSON array of partners*' }
            @{ Text = '["a.example.net"]'; Id = 'JsonShape'; Message = '*item 1 is a string, not a partner object*' }
        ) {
            $null = New-InputFile 'bad.json' $Text
            Import-CsXmppAllowedPartner bad.json -ErrorVariable ev -ErrorAction SilentlyContinue
            Assert-XmppError $ev -Id $Id -Verb Import -Category InvalidArgument -Target (Join-Path $work 'bad.json')
            $ev[0].Exception.Message | Should -BeLike $Message
        }

        It 'a CSV file that cannot be read is InvalidValue, naming the line' {
            $null = New-InputFile 'bad.csv' "Identity,Description`r`na.example.net,`"open`r`n"
            Import-CsXmppAllowedPartner bad.csv -ErrorVariable ev -ErrorAction SilentlyContinue
            Assert-XmppError $ev -Id InvalidValue -Verb Import -Category InvalidArgument -Target (Join-Path $work 'bad.csv')
            $ev[0].Exception.Message | Should -BeLike '*line 2*never closed*'
        }

        It 'text on the pipeline is refused (use -Path), and nothing is imported' {
            Export-CsXmppAllowedPartner -Path p.csv
            $null = New-TestStore
            Get-Content p.csv | Import-CsXmppAllowedPartner -ErrorVariable ev -ErrorAction SilentlyContinue
            @($ev).Count | Should -Be 1
            $ev[0].FullyQualifiedErrorId | Should -BeExactly 'InvalidValue,XmppFederation.Commands.ImportCsXmppAllowedPartnerCommand'
            $ev[0].Exception.Message | Should -BeLike '*InputObject takes objects with partner properties*pipeline object 1 is a String*and 4 more*nothing was imported. To import a file, use -Path.'
            @(Get-CsXmppAllowedPartner).Count | Should -Be 0
        }

        It 'a property that is not a partner''s is a PropertyIgnored warning (verbose with -Force)' {
            $null = New-InputFile 'extra.csv' "Identity,Notes,Revision`r`ncontoso.com,x,7`r`n"
            $null = Import-CsXmppAllowedPartner extra.csv -WhatIf -WarningVariable warnings
            @($warnings).Count | Should -Be 1
            $warnings[0].Message | Should -BeExactly "'Notes' is not a partner property; it was ignored"
            $verbose = @(Import-CsXmppAllowedPartner extra.csv -WhatIf -Force -Verbose -WarningVariable none 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] })
            $none | Should -BeNullOrEmpty
            $verbose.Message | Should -Contain "WARNING (PropertyIgnored): 'Notes' is not a partner property; it was ignored"
        }

        It 'negotiation warnings only for partners the import writes with settings it chooses, naming each once' {
            $null = New-InputFile 'n.json' '[{"Identity":"contoso.com","PartnerType":"PublicVerified","TlsNegotiation":"Optional","SaslNegotiation":"Optional"},{"Identity":"plain.example.net","TlsNegotiation":"Required"}]'
            $null = Import-CsXmppAllowedPartner n.json -WarningVariable warnings
            @($warnings.Message) | Should -Be @('contoso.com: SaslNegotiation is Optional but TlsNegotiation is Optional; SASL needs TLS, so SASL will not be used when TLS is not negotiated')
        }

        It 'a path of another provider is InvalidPath' {
            { Import-CsXmppAllowedPartner -Path 'Env:PATH' } | Should -Throw -ErrorId 'InvalidPath,XmppFederation.Commands.ImportCsXmppAllowedPartnerCommand'
        }

        It '-Path and -InputObject are two parameter sets; -Format belongs to -Path' {
            $command = Get-Command Import-CsXmppAllowedPartner
            @($command.ParameterSets.Name | Sort-Object) | Should -Be @('InputObject', 'Path')
            $command.DefaultParameterSet | Should -BeExactly 'Path'
            @($command.Parameters['Format'].ParameterSets.Keys) | Should -Be @('Path')
            { Import-CsXmppAllowedPartner -Path a.json -InputObject ([pscustomobject]@{ Identity = 'a.example.net' }) } |
                Should -Throw -ErrorId 'AmbiguousParameterSet,XmppFederation.Commands.ImportCsXmppAllowedPartnerCommand'
        }
    }

    Context 'display' {
        It 'the default table shows the counts and the revisions within 80 columns; Format-List names the partners' {
            $null = New-InputFile 'd.json' '[{"Identity":"contoso.com","ConnectionLimit":40,"PartnerType":"PublicVerified"},{"Identity":"new.example.net"}]'
            $result = Import-CsXmppAllowedPartner d.json
            $lines = @(($result | Out-String -Width 80) -split '\r?\n' | ForEach-Object TrimEnd | Where-Object { $_ })
            $lines | ForEach-Object { $_.Length | Should -BeLessOrEqual 80 }
            $lines[0] | Should -Match '^Added\s+Changed\s+Removed\s+Unchanged\s+Rejected\s+BaseRevision\s+CommittedRevision$'
            $lines[2] | Should -Match '^\s+1\s+1\s+0\s+0\s+0\s+4\s+5$'
            $list = ($result | Format-List | Out-String -Width 200) -replace '\r', ''
            $list | Should -Match 'Added\s+: new\.example\.net'
            $list | Should -Match 'Changed\s+: contoso\.com \(ConnectionLimit: 20 → 40\)'
            $list | Should -Match 'CommittedRevision : 5'
        }
    }
}
