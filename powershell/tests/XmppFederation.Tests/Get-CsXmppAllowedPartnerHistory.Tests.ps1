# Get-CsXmppAllowedPartnerHistory in a real pwsh, on a fresh temporary store per test: who changed
# which partner, when, on which machine, how and what changed; the filters; the history kept
# across sessions and the log's compaction; the views.
param([string] $ModulePath = (Join-Path $PSScriptRoot '../../../target/XmppFederation/XmppFederation.psd1'))

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module $ModulePath
    Set-TestModulePath $ModulePath
    $PSDefaultParameterValues = @{ '*-CsXmppAllowedPartner:WarningAction' = 'SilentlyContinue' }

    # What the library records as the user and machine: the OS account and the host name.
    $script:User = [Environment]::UserName
    $script:Machine = [System.Net.Dns]::GetHostName()
}

Describe 'Get-CsXmppAllowedPartnerHistory' {
    BeforeEach {
        $store = New-TestStore
        $started = [datetime]::UtcNow.AddSeconds(-1)
        $null = New-CsXmppAllowedPartner contoso.com
        $null = New-CsXmppAllowedPartner fabrikam.com -AdditionalDomains research.fabrikam2.com
        Set-CsXmppAllowedPartner contoso.com -ConnectionLimit 40 -Description 'pilot partner'
        Remove-CsXmppAllowedPartner fabrikam.com
        $finished = [datetime]::UtcNow.AddSeconds(1)
    }
    AfterEach { Remove-TestStore }

    Context 'what it records' {
        It 'lists New, Set and Remove newest first, with the revision, the operation and the partner' {
            $entries = @(Get-CsXmppAllowedPartnerHistory)
            $entries | ForEach-Object { $_ | Should -BeOfType ([XmppFederation.Native.HistoryEntry]) }
            $entries.Revision | Should -Be @(4, 3, 2, 1)
            @($entries | ForEach-Object { [string]$_.Operation }) | Should -Be @('Remove', 'Set', 'Create', 'Create')
            $entries.Identity | Should -Be @('fabrikam.com', 'contoso.com', 'fabrikam.com', 'contoso.com')
        }

        It 'names the operating-system account and the machine, and the time in UTC' {
            foreach ($entry in Get-CsXmppAllowedPartnerHistory) {
                $entry.User | Should -BeExactly $script:User
                $entry.Machine | Should -Be $script:Machine
                $entry.At.Kind | Should -Be ([System.DateTimeKind]::Utc)
                $entry.At | Should -BeGreaterOrEqual $started.AddTicks(-($started.Ticks % [timespan]::TicksPerSecond))
                $entry.At | Should -BeLessOrEqual $finished
            }
        }

        It 'a Set: the partner before and after, and each property that changed (old -> new)' {
            $set = Get-CsXmppAllowedPartnerHistory contoso.com -First 1
            [string]$set.Operation | Should -BeExactly 'Set'
            $set.Before.ConnectionLimit | Should -Be 20
            $set.After.ConnectionLimit | Should -Be 40
            $set.Before.Revision | Should -Be 1
            $set.After.Revision | Should -Be 3
            @($set.Changes | ForEach-Object { "$($_.Property)|$($_.Old)|$($_.New)" }) | Should -Be @('Description||pilot partner', 'ConnectionLimit|20|40')
            @($set.Changes | ForEach-Object { [string]$_ }) | Should -Be @("Description: '' → 'pilot partner'", 'ConnectionLimit: 20 → 40')
        }

        It 'a creation: no partner before, every property new; a removal: the partner as it was, none after' {
            $created = Get-CsXmppAllowedPartnerHistory fabrikam.com | Where-Object Revision -EQ 2
            $created.Before | Should -BeNullOrEmpty
            $created.After.Identity | Should -BeExactly 'fabrikam.com'
            $created.Changes.Property | Should -Contain 'ConnectionLimit'
            $created.Changes | ForEach-Object { $_.Old | Should -BeNullOrEmpty }
            ($created.Changes | Where-Object Property -EQ 'AdditionalDomains').New | Should -BeExactly 'research.fabrikam2.com'

            $removed = Get-CsXmppAllowedPartnerHistory fabrikam.com -First 1
            [string]$removed.Operation | Should -BeExactly 'Remove'
            $removed.After | Should -BeNullOrEmpty
            @($removed.Before.AdditionalDomains) | Should -Be @('research.fabrikam2.com')
            $removed.Changes | ForEach-Object { $_.New | Should -BeNullOrEmpty }
        }

        It 'declares HistoryEntry as its output type and changes nothing' {
            (Get-Command Get-CsXmppAllowedPartnerHistory).OutputType.Type | Should -Be ([XmppFederation.Native.HistoryEntry])
            $central = Get-LogHash $store.Central
            $replica = Get-LogHash $store.Replica
            $null = Get-CsXmppAllowedPartnerHistory
            Get-LogHash $store.Central | Should -BeExactly $central
            Get-LogHash $store.Replica | Should -BeExactly $replica
        }
    }

    Context 'filters' {
        It '-Identity selects partners by a wildcard pattern, removed ones included (<Pattern>)' -TestCases @(
            @{ Pattern = 'contoso.com'; Expected = @(3, 1) }
            @{ Pattern = 'CONTOSO.COM'; Expected = @(3, 1) }
            @{ Pattern = 'fab*'; Expected = @(4, 2) }
            @{ Pattern = '*.com'; Expected = @(4, 3, 2, 1) }
            @{ Pattern = 'nothing*'; Expected = @() }
        ) {
            @((Get-CsXmppAllowedPartnerHistory -Identity $Pattern -ErrorVariable ev).Revision) | Should -Be $Expected
            $ev | Should -BeNullOrEmpty
        }

        It 'takes -Identity by position and from partner objects by property name' {
            (Get-CsXmppAllowedPartnerHistory contoso.com).Revision | Should -Be @(3, 1)
            (Get-CsXmppAllowedPartner contoso.com | Get-CsXmppAllowedPartnerHistory).Revision | Should -Be @(3, 1)
            ([pscustomobject]@{ Identity = 'fabrikam.com' } | Get-CsXmppAllowedPartnerHistory).Revision | Should -Be @(4, 2)
            $null = New-CsXmppAllowedPartner jabber.org
            (Get-CsXmppAllowedPartner | Get-CsXmppAllowedPartnerHistory).Revision | Should -Be @(3, 1, 5)
        }

        It '-First returns the newest entries (<First>)' -TestCases @(
            @{ First = 2; Expected = @(4, 3) }
            @{ First = 10; Expected = @(4, 3, 2, 1) }
            @{ First = 0; Expected = @() }
        ) {
            @((Get-CsXmppAllowedPartnerHistory -First $First).Revision) | Should -Be $Expected
            @((Get-CsXmppAllowedPartnerHistory contoso.com -First 1).Revision) | Should -Be @(3)
        }

        It '-After and -Before select a time window, to the second, whatever the DateTime''s kind' {
            # A second commit a second later, so that the two times differ.
            Start-Sleep -Milliseconds 1100
            $null = New-CsXmppAllowedPartner later.example.com
            $later = Get-CsXmppAllowedPartnerHistory -First 1
            $at = $later.At
            $at.Kind | Should -Be 'Utc'
            $local = $at.ToLocalTime()
            $unspecified = [datetime]::SpecifyKind($local, [System.DateTimeKind]::Unspecified)
            foreach ($time in $at, $local, $unspecified) {
                (Get-CsXmppAllowedPartnerHistory -After $time).Identity | Should -Be @('later.example.com') -Because "-After $($time.Kind)"
                @(Get-CsXmppAllowedPartnerHistory -After $time.AddSeconds(1)).Count | Should -Be 0
                @(Get-CsXmppAllowedPartnerHistory -Before $time).Count | Should -Be 5
                @((Get-CsXmppAllowedPartnerHistory -Before $time.AddSeconds(-1)).Revision) | Should -Not -Contain 5
            }
            (Get-CsXmppAllowedPartnerHistory -After $at -Before $at).Revision | Should -Be @(5)
            @(Get-CsXmppAllowedPartnerHistory -After $at -Before $at.AddSeconds(-1)).Count | Should -Be 0
        }

        It 'a time without a kind is local time, also where local time is not UTC' {
            # A child pwsh in UTC+5 (Linux TZ; on Windows the child keeps the machine's zone):
            # an Unspecified time read as UTC would miss by five hours.
            $at = (Get-CsXmppAllowedPartnerHistory -First 1).At
            $inThatSecond = @(Get-CsXmppAllowedPartnerHistory -After $at).Count
            $saved = $env:TZ
            $env:TZ = 'Etc/GMT-5'
            try {
                $child = Invoke-ChildPwsh -Store $store -Script @"
`$utc = [datetime]::new($($at.Ticks), 'Utc')
`$local = [datetime]::SpecifyKind(`$utc.ToLocalTime(), 'Unspecified')
"OFFSET=`$([System.TimeZoneInfo]::Local.GetUtcOffset(`$utc).TotalHours)"
"AFTER=`$(@(Get-CsXmppAllowedPartnerHistory -After `$local).Count)"
"AFTER+1=`$(@(Get-CsXmppAllowedPartnerHistory -After `$local.AddSeconds(1)).Count)"
"BEFORE=`$(@(Get-CsXmppAllowedPartnerHistory -Before `$local).Count)"
"BEFORE-1=`$(@(Get-CsXmppAllowedPartnerHistory -Before `$local.AddSeconds(-1)).Count)"
"@
            }
            finally {
                $env:TZ = $saved
            }
            $child.ErrorLines | Should -BeNullOrEmpty -Because ($child.Output + $child.Errors)
            if (-not $IsWindows) {
                $child.Lines | Should -Contain 'OFFSET=5'
            }
            $child.Lines | Should -Contain "AFTER=$inThatSecond"
            $child.Lines | Should -Contain 'AFTER+1=0'
            $child.Lines | Should -Contain 'BEFORE=4'
            $child.Lines | Should -Contain "BEFORE-1=$(4 - $inThatSecond)"
        }
    }

    Context 'errors' {
        It 'a malformed -Identity pattern is InvalidFilter, naming the pattern' {
            $out = Get-CsXmppAllowedPartnerHistory -Identity '[abc' -ErrorVariable ev -ErrorAction SilentlyContinue
            $out | Should -BeNullOrEmpty
            Assert-XmppError $ev -Id InvalidFilter -Verb Get -Noun CsXmppAllowedPartnerHistory -Category InvalidArgument -Target '[abc'
            $ev[0].Exception.Message | Should -BeLike "invalid filter '``[abc'*"
        }

        It 'an empty -Identity, and a negative -First, are refused at binding, naming the parameter' {
            { Get-CsXmppAllowedPartnerHistory -Identity '' } | Should -Throw -ErrorId 'ParameterArgumentValidationError,XmppFederation.Commands.GetCsXmppAllowedPartnerHistoryCommand'
            { Get-CsXmppAllowedPartnerHistory -First -1 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,XmppFederation.Commands.GetCsXmppAllowedPartnerHistoryCommand'
            try { Get-CsXmppAllowedPartnerHistory -First -1 } catch { $_.Exception.Message | Should -BeLike "*parameter 'First'*" }
        }

        It 'an unreachable central store is StoreIo: the history is not read from the replica' {
            $env:XMPPFED_STORE = Join-Path $store.Root 'not-mounted'
            $null = Get-CsXmppAllowedPartnerHistory -ErrorVariable ev -ErrorAction SilentlyContinue
            @($ev).Count | Should -Be 1
            $ev[0].FullyQualifiedErrorId | Should -BeExactly 'StoreIo,XmppFederation.Commands.GetCsXmppAllowedPartnerHistoryCommand'
        }
    }

    Context 'kept' {
        It 'a new session reads the same history' {
            $child = Invoke-ChildPwsh -Store $store -Script @'
Get-CsXmppAllowedPartnerHistory | ForEach-Object { "ENTRY=$($_.Revision)|$($_.Operation)|$($_.Identity)|$($_.User)" }
'@
            @($child.Lines | Where-Object { $_ -like 'ENTRY=*' }) | Should -Be @(
                "ENTRY=4|Remove|fabrikam.com|$script:User", "ENTRY=3|Set|contoso.com|$script:User",
                "ENTRY=2|Create|fabrikam.com|$script:User", "ENTRY=1|Create|contoso.com|$script:User") -Because ($child.Output + $child.Errors)
        }

        It 'survives the compaction of the log: every change of the partners, in a new session too' -Tag 'FolderOnly' {
            # The log compacts when it holds more than 2 x partners + 1000 records (here 1002):
            # 1010 changes of one partner start generation 2, whose history file carries the rest.
            $limits = 1..1010 | ForEach-Object { 20 + $_ }
            foreach ($limit in $limits) {
                Set-CsXmppAllowedPartner contoso.com -ConnectionLimit $limit
            }
            (Get-CurrentLogFile $store.Central).Name | Should -BeExactly 'partners.2.log'
            Join-Path $store.Central 'history.2.log' | Should -Exist

            $all = @(Get-CsXmppAllowedPartnerHistory)
            $all.Count | Should -Be 1014
            $all.Revision | Should -Be @(1014..1)
            @($all | Select-Object -Last 4 | ForEach-Object { [string]$_.Operation }) | Should -Be @('Remove', 'Set', 'Create', 'Create')
            (Get-CsXmppAllowedPartnerHistory contoso.com -First 1).Changes[0].ToString() | Should -BeExactly 'ConnectionLimit: 1029 → 1030'
            @(Get-CsXmppAllowedPartnerHistory fabrikam.com).Revision | Should -Be @(4, 2)

            $child = Invoke-ChildPwsh -Store $store -Script @'
$h = @(Get-CsXmppAllowedPartnerHistory)
"COUNT=$($h.Count)"
"OLDEST=$($h[-1].Revision)|$($h[-1].Operation)|$($h[-1].Identity)"
'@
            $child.Lines | Should -Contain 'COUNT=1014' -Because ($child.Output + $child.Errors)
            $child.Lines | Should -Contain 'OLDEST=1|Create|contoso.com'
        }
    }

    Context 'display' {
        It 'the default table fits 80 columns: Revision, the UTC time on two lines, User, Operation, Identity, what changed' {
            $text = Get-CsXmppAllowedPartnerHistory | Out-String -Width 80
            $lines = @($text -split '\r?\n' | ForEach-Object TrimEnd | Where-Object { $_ })
            $lines | ForEach-Object { $_.Length | Should -BeLessOrEqual 80 -Because "'$_' must fit in 80 columns" }
            $lines[0] | Should -Match '^Revision\s+At \(UTC\)\s+User\s+Operation\s+Identity\s+Changes$'
            $first = Get-CsXmppAllowedPartnerHistory -First 1
            $lines[2] | Should -Match "^\s+4 $($first.At.ToString('yyyy-MM-dd', [cultureinfo]::InvariantCulture)) +\S+\s+Remove\s+fabrikam\.com\s+Removed$"
            $lines[3].Trim() | Should -BeExactly $first.At.ToString('HH:mm:ss', [cultureinfo]::InvariantCulture)
            $text | Should -Match 'Set\s+contoso\.com\s+Description:'
            $text | Should -Match 'ConnectionLimit: 20 → 40'
            $text | Should -Match 'Create\s+contoso\.com\s+Created'
        }

        It 'Format-List shows every detail: the machine, each change on a line, before and after' {
            $text = Get-CsXmppAllowedPartnerHistory contoso.com -First 1 | Format-List | Out-String -Width 200
            $text | Should -Match 'Revision\s+: 3'
            $text | Should -Match 'At\s+: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC'
            $text | Should -Match "Machine\s+: $([regex]::Escape($script:Machine))"
            $text | Should -Match 'Operation\s+: Set'
            $text | Should -Match "Changes\s+: Description: '' → 'pilot partner'\s+ConnectionLimit: 20 → 40"
            $text | Should -Match 'Before\s+: contoso\.com, revision 1'
            $text | Should -Match 'After\s+: contoso\.com, revision 3'
        }
    }

    Context 'tab completion' {
        It '-Identity completes the identities of partners' {
            $line = 'Get-CsXmppAllowedPartnerHistory -Identity con'
            @((TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText) | Should -Be @('contoso.com')
        }
    }
}
