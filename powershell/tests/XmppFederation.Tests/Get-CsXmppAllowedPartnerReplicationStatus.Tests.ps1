# Get-CsXmppAllowedPartnerReplicationStatus in a real pwsh, on a fresh temporary store per test:
# this machine's replica against the central store, each side described even when it cannot be
# read. "Another machine" is a child pwsh on the same central store with a replica of its own.
param([string] $ModulePath = (Join-Path $PSScriptRoot '../../../target/XmppFederation/XmppFederation.psd1'))

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module $ModulePath
    Set-TestModulePath $ModulePath
    $PSDefaultParameterValues = @{ '*-CsXmppAllowedPartner:WarningAction' = 'SilentlyContinue' }
    $script:RefreshCmdlet = 'Invoke-CsXmppAllowedPartnerReplication'

    # A partner committed by another machine: a child pwsh with a replica folder of its own.
    function Add-PartnerOnOtherMachine([pscustomobject] $Store, [string] $Identity) {
        $child = Invoke-ChildPwsh -Store (Get-OtherMachineStore $Store) -Script @"
`$null = New-CsXmppAllowedPartner '$Identity' -ErrorVariable ev
Show-Errors `$ev
"@
        $child.ErrorLines | Should -BeNullOrEmpty -Because ($child.Output + $child.Errors)
        $child.ExitCode | Should -Be 0 -Because ($child.Output + $child.Errors)
    }

    # Every property of a status, as one line, for "nothing else changed" comparisons.
    function Format-Status($Status) {
        ($Status.PSObject.Properties | ForEach-Object { "$($_.Name)=$($_.Value)" }) -join '|'
    }
}

Describe 'Get-CsXmppAllowedPartnerReplicationStatus' {
    AfterEach { Remove-TestStore }

    Context 'a machine with no replica yet' {
        BeforeEach { $store = New-TestStore -ReplicaMissing }

        It 'describes the central store, and says the replica is missing and how to make it: not current' {
            $status = @(Get-CsXmppAllowedPartnerReplicationStatus -ErrorVariable ev)
            $ev.Count | Should -Be 0
            $status.Count | Should -Be 1
            $s = $status[0]
            $s.CentralStore | Should -BeExactly $store.Central
            $s.Replica | Should -BeExactly $store.Replica
            $s.CentralRevision | Should -Be 0        # a store nobody has written to yet
            $s.CentralError | Should -BeNullOrEmpty
            $s.StoreId | Should -BeNullOrEmpty       # it gets one with its first commit
            $s.ReplicaRevision | Should -BeNullOrEmpty
            $s.ReplicaUpdated | Should -BeNullOrEmpty
            $s.IsCurrent | Should -BeFalse
            $s.ReplicaError | Should -BeLike "*no local replica*$($store.Replica)*"
            $s.ReplicaError | Should -BeLike "*$script:RefreshCmdlet*"
        }

        It 'reads only: asking creates no replica folder and writes nothing' {
            $before = Get-LogHash $store.Central
            $null = Get-CsXmppAllowedPartnerReplicationStatus
            $null = Get-CsXmppAllowedPartnerReplicationStatus
            $store.Replica | Should -Not -Exist
            Get-LogHash $store.Central | Should -BeExactly $before
        }

        It 'Get-CsXmppAllowedPartner -LocalStore fails with StoreIo naming the replica folder and Invoke-CsXmppAllowedPartnerReplication' {
            $RefreshCmdlet = $script:RefreshCmdlet
            $out = Get-CsXmppAllowedPartner -LocalStore -ErrorVariable ev -ErrorAction SilentlyContinue
            $out | Should -BeNullOrEmpty
            Assert-XmppError $ev -Id StoreIo -Verb Get -Category ResourceUnavailable -Target ''
            $ev[0].Exception.Message | Should -BeLike "*$($store.Replica)*"
            $ev[0].Exception.Message | Should -BeLike "*$RefreshCmdlet*"
            # -Identity and -Filter say the same.
            $err = { Get-CsXmppAllowedPartner contoso.com -LocalStore -ErrorAction Stop } | Should -Throw -ErrorId 'StoreIo,XmppFederation.Commands.GetCsXmppAllowedPartnerCommand' -PassThru
            $err.Exception.Message | Should -BeLike "*$RefreshCmdlet*"
            $err = { Get-CsXmppAllowedPartner -Filter '*' -LocalStore -ErrorAction Stop } | Should -Throw -ErrorId 'StoreIo,XmppFederation.Commands.GetCsXmppAllowedPartnerCommand' -PassThru
            $err.Exception.Message | Should -BeLike "*$RefreshCmdlet*"
            $store.Replica | Should -Not -Exist
        }

        It 'when another machine has made partners: the central revision and the store''s identity, still no replica' {
            Add-PartnerOnOtherMachine $store 'contoso.com'
            $s = Get-CsXmppAllowedPartnerReplicationStatus
            $s.CentralRevision | Should -Be 1
            $s.StoreId | Should -Match '^[0-9a-f]{32}$'
            $s.ReplicaRevision | Should -BeNullOrEmpty
            $s.IsCurrent | Should -BeFalse
            $s.ReplicaError | Should -BeLike "*$script:RefreshCmdlet*"
            { Get-CsXmppAllowedPartner -LocalStore -ErrorAction Stop } | Should -Throw -ErrorId 'StoreIo,XmppFederation.Commands.GetCsXmppAllowedPartnerCommand'
        }
    }

    Context 'after changes made on this machine' {
        BeforeEach {
            $store = New-TestStore
            $started = [datetime]::UtcNow
            $null = New-CsXmppAllowedPartner contoso.com
            $null = New-CsXmppAllowedPartner fabrikam.com
        }

        It 'is current: equal revisions, the store''s identity, no errors' {
            $s = Get-CsXmppAllowedPartnerReplicationStatus
            $s.CentralStore | Should -BeExactly $store.Central
            $s.Replica | Should -BeExactly $store.Replica
            $s.CentralRevision | Should -Be 2
            $s.ReplicaRevision | Should -Be 2
            $s.IsCurrent | Should -BeTrue
            $s.StoreId | Should -Match '^[0-9a-f]{32}$'
            $s.CentralError | Should -BeNullOrEmpty
            $s.ReplicaError | Should -BeNullOrEmpty
            # The identity is the one the central log's first line names.
            (Get-Content -LiteralPath (Get-CurrentLogFile $store.Central).FullName -TotalCount 1) | Should -BeLike "*`"StoreId`":`"$($s.StoreId)`"*"
        }

        It 'ReplicaUpdated is the replica file''s last write, in UTC, and recent' {
            $s = Get-CsXmppAllowedPartnerReplicationStatus
            $s.ReplicaUpdated | Should -BeOfType ([datetime])
            $s.ReplicaUpdated.Kind | Should -Be ([System.DateTimeKind]::Utc)
            # Whole seconds: the library reports the time to the second.
            $s.ReplicaUpdated | Should -BeGreaterOrEqual $started.AddSeconds(-1)
            $s.ReplicaUpdated | Should -BeLessOrEqual ([datetime]::UtcNow)
            $written = (Get-CurrentLogFile $store.Replica).LastWriteTimeUtc
            $s.ReplicaUpdated | Should -Be $written.AddTicks(-($written.Ticks % [timespan]::TicksPerSecond))
        }

        It 'follows Set and Remove: each is a commit, and the replica stays current' {
            Set-CsXmppAllowedPartner contoso.com -Description 'changed'
            $s = Get-CsXmppAllowedPartnerReplicationStatus
            $s.CentralRevision | Should -Be 3
            $s.ReplicaRevision | Should -Be 3
            $s.IsCurrent | Should -BeTrue
            Remove-CsXmppAllowedPartner fabrikam.com
            $s = Get-CsXmppAllowedPartnerReplicationStatus
            $s.CentralRevision | Should -Be 4
            $s.ReplicaRevision | Should -Be 4
            $s.IsCurrent | Should -BeTrue
        }

        It 'describes the store the session''s $env:XMPPFED_STORE and $env:XMPPFED_REPLICA name, and follows changes to them' {
            $first = Get-CsXmppAllowedPartnerReplicationStatus
            $second = New-TestStore
            $s = Get-CsXmppAllowedPartnerReplicationStatus
            $s.CentralStore | Should -BeExactly $second.Central
            $s.Replica | Should -BeExactly $second.Replica
            $s.CentralRevision | Should -Be 0
            $s.StoreId | Should -BeNullOrEmpty
            $env:XMPPFED_STORE = $store.Central
            $env:XMPPFED_REPLICA = $store.Replica
            Format-Status (Get-CsXmppAllowedPartnerReplicationStatus) | Should -BeExactly (Format-Status $first)
        }

        It 'writes nothing to either folder' {
            $central = Get-LogHash $store.Central
            $replica = Get-LogHash $store.Replica
            $null = Get-CsXmppAllowedPartnerReplicationStatus
            Get-LogHash $store.Central | Should -BeExactly $central
            Get-LogHash $store.Replica | Should -BeExactly $replica
        }
    }

    Context 'a commit by another machine' {
        BeforeEach {
            $store = New-TestStore
            $null = New-CsXmppAllowedPartner contoso.com
            $before = Get-CsXmppAllowedPartnerReplicationStatus
            Add-PartnerOnOtherMachine $store 'fabrikam.com'
        }

        It 'makes this machine''s replica not current: the central revision moves on, the replica''s does not' {
            $s = Get-CsXmppAllowedPartnerReplicationStatus
            $s.IsCurrent | Should -BeFalse
            $s.CentralRevision | Should -Be 2
            $s.ReplicaRevision | Should -Be 1
            $s.ReplicaUpdated | Should -Be $before.ReplicaUpdated
            $s.StoreId | Should -BeExactly $before.StoreId
            $s.CentralError | Should -BeNullOrEmpty
            $s.ReplicaError | Should -BeNullOrEmpty
            # What -LocalStore answers is what the status says: the replica's older list.
            (Get-CsXmppAllowedPartner -LocalStore).Identity | Should -Be @('contoso.com')
            (Get-CsXmppAllowedPartner).Identity | Should -Be @('contoso.com', 'fabrikam.com')
        }

        It 'is current again after the next change made on this machine' {
            $null = New-CsXmppAllowedPartner jabber.org
            $s = Get-CsXmppAllowedPartnerReplicationStatus
            $s.IsCurrent | Should -BeTrue
            $s.CentralRevision | Should -Be 3
            $s.ReplicaRevision | Should -Be 3
            (Get-CsXmppAllowedPartner -LocalStore).Identity | Should -Be @('contoso.com', 'fabrikam.com', 'jabber.org')
        }
    }

    Context 'a side that cannot be read is described, not an error' {
        BeforeEach {
            $store = New-TestStore
            $null = New-CsXmppAllowedPartner contoso.com
            $null = New-CsXmppAllowedPartner fabrikam.com
        }

        It 'the central folder is gone: CentralError names it, CentralRevision is $null, not current; the replica is still described' {
            $current = Get-CsXmppAllowedPartnerReplicationStatus
            Remove-StoreFolder $store.Central
            $status = @(Get-CsXmppAllowedPartnerReplicationStatus -ErrorVariable ev)
            $ev.Count | Should -Be 0
            $status.Count | Should -Be 1
            $s = $status[0]
            $s.CentralStore | Should -BeExactly $store.Central
            $s.CentralError | Should -BeLike "*$($store.Central)*"
            $s.CentralRevision | Should -BeNullOrEmpty
            $s.IsCurrent | Should -BeFalse
            $s.ReplicaRevision | Should -Be 2
            $s.ReplicaUpdated | Should -Be $current.ReplicaUpdated
            $s.StoreId | Should -BeExactly $current.StoreId
            $s.ReplicaError | Should -BeNullOrEmpty
            # And the replica answers.
            (Get-CsXmppAllowedPartner -LocalStore).Identity | Should -Be @('contoso.com', 'fabrikam.com')
            $store.Central | Should -Not -Exist
        }

        It 'a damaged replica: ReplicaError names the file, ReplicaRevision is $null, not current; the central store is still described' {
            # Damaged before this session reads the replica (a session that has read it already
            # keeps what it verified then: see Invoke-CsXmppAllowedPartnerReplication.Tests.ps1).
            $header = Get-Content -LiteralPath (Get-CurrentLogFile $store.Central).FullName -TotalCount 1
            $storeId = [regex]::Match($header, '"StoreId":"([0-9a-f]{32})"').Groups[1].Value
            $storeId | Should -Not -BeNullOrEmpty
            $log = (Get-CurrentLogFile $store.Replica).FullName
            $bytes = [System.IO.File]::ReadAllBytes($log)
            $at = [System.Text.Encoding]::UTF8.GetString($bytes).LastIndexOf('fabrikam')
            $bytes[$at] = $bytes[$at] -bxor 0x20   # 'f' -> 'F': valid JSON, but the line's checksum fails
            [System.IO.File]::WriteAllBytes($log, $bytes)
            $status = @(Get-CsXmppAllowedPartnerReplicationStatus -ErrorVariable ev)
            $ev.Count | Should -Be 0
            $s = $status[0]
            $s.ReplicaError | Should -BeLike "*$log*damaged*"
            $s.ReplicaRevision | Should -BeNullOrEmpty
            $s.ReplicaUpdated | Should -BeNullOrEmpty
            $s.IsCurrent | Should -BeFalse
            $s.CentralRevision | Should -Be 2
            $s.CentralError | Should -BeNullOrEmpty
            $s.StoreId | Should -BeExactly $storeId
            # A new session says the same.
            $child = Invoke-ChildPwsh -Store $store -Script @'
$s = Get-CsXmppAllowedPartnerReplicationStatus -ErrorVariable ev
Show-Errors $ev
"CURRENT=$($s.IsCurrent)"
"REPLICA-REVISION=$($s.ReplicaRevision)"
"REPLICA-ERROR=$($s.ReplicaError)"
'@
            $child.ErrorLines | Should -BeNullOrEmpty -Because ($child.Output + $child.Errors)
            $child.Lines | Should -Contain 'CURRENT=False'
            $child.Lines | Should -Contain 'REPLICA-REVISION='
            ($child.Lines | Where-Object { $_ -like 'REPLICA-ERROR=*' }) | Should -BeLike "*$log*damaged*"
        }

        It 'both sides unreadable: both described, one object, no error' {
            Remove-StoreFolder $store.Central
            Remove-StoreFolder $store.Replica
            $status = @(Get-CsXmppAllowedPartnerReplicationStatus -ErrorVariable ev)
            $ev.Count | Should -Be 0
            $status.Count | Should -Be 1
            $status[0].CentralError | Should -BeLike "*$($store.Central)*"
            $status[0].ReplicaError | Should -BeLike "*$($store.Replica)*"
            $status[0].CentralRevision | Should -BeNullOrEmpty
            $status[0].ReplicaRevision | Should -BeNullOrEmpty
            $status[0].IsCurrent | Should -BeFalse
        }
    }

    Context 'the object it writes' {
        BeforeEach {
            $store = New-TestStore
            $null = New-CsXmppAllowedPartner contoso.com
        }

        It 'declares XmppFederation.Native.ReplicationStatus as its output type, and writes exactly one' {
            (Get-Command Get-CsXmppAllowedPartnerReplicationStatus).OutputType.Type | Should -Be ([XmppFederation.Native.ReplicationStatus])
            $status = @(Get-CsXmppAllowedPartnerReplicationStatus)
            $status.Count | Should -Be 1
            $status[0] | Should -BeOfType ([XmppFederation.Native.ReplicationStatus])
        }

        It 'has typed properties: <Name> is <Type>' -TestCases @(
            @{ Name = 'CentralStore'; Type = [string] }
            @{ Name = 'Replica'; Type = [string] }
            @{ Name = 'StoreId'; Type = [string] }
            @{ Name = 'CentralRevision'; Type = [System.Nullable[uint64]] }
            @{ Name = 'ReplicaRevision'; Type = [System.Nullable[uint64]] }
            @{ Name = 'ReplicaUpdated'; Type = [System.Nullable[datetime]] }
            @{ Name = 'IsCurrent'; Type = [bool] }
            @{ Name = 'CentralError'; Type = [string] }
            @{ Name = 'ReplicaError'; Type = [string] }
        ) {
            [XmppFederation.Native.ReplicationStatus].GetProperty($Name).PropertyType | Should -Be $Type
            $value = (Get-CsXmppAllowedPartnerReplicationStatus).$Name
            if ($null -ne $value) {
                $underlying = [System.Nullable]::GetUnderlyingType($Type)
                $value | Should -BeOfType $(if ($underlying) { $underlying } else { $Type })
            }
        }

        It 'has exactly the documented properties, in that order' {
            (Get-CsXmppAllowedPartnerReplicationStatus).PSObject.Properties.Name |
                Should -Be @('CentralStore', 'Replica', 'StoreId', 'CentralRevision', 'ReplicaRevision', 'ReplicaUpdated', 'IsCurrent', 'CentralError', 'ReplicaError')
        }

        It 'sorts and filters as numbers, Booleans and dates: Where-Object {$_.IsCurrent -eq $False}, revision arithmetic' {
            $s = Get-CsXmppAllowedPartnerReplicationStatus
            @($s | Where-Object { $_.IsCurrent -eq $False }).Count | Should -Be 0
            ($s.CentralRevision - $s.ReplicaRevision) | Should -Be 0
            ([datetime]::UtcNow - $s.ReplicaUpdated) | Should -BeOfType ([timespan])
        }

        It 'takes no parameters but the common ones, and no pipeline input' {
            $common = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
            @((Get-Command Get-CsXmppAllowedPartnerReplicationStatus).Parameters.Keys | Where-Object { $_ -notin $common }) | Should -BeNullOrEmpty
        }

        It '-Verbose names the central store and the replica it describes' {
            $verbose = @(Get-CsXmppAllowedPartnerReplicationStatus -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] })
            ($verbose.Message -join "`n") | Should -BeLike "*$($store.Central)*$($store.Replica)*"
        }
    }
}
