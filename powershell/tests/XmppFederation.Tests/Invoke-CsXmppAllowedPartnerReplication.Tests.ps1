# Invoke-CsXmppAllowedPartnerReplication in a real pwsh, on a fresh temporary store per test: it
# refreshes this machine's replica from the central store now, verifying all of it, and never
# writes the central store. "Another machine" is a child pwsh on the same central store with a
# replica of its own.
param([string] $ModulePath = (Join-Path $PSScriptRoot '../../../target/XmppFederation/XmppFederation.psd1'))

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module $ModulePath
    Set-TestModulePath $ModulePath
    $PSDefaultParameterValues = @{ '*-CsXmppAllowedPartner:WarningAction' = 'SilentlyContinue' }

    # Partners committed by another machine: a child pwsh with a replica folder of its own.
    function Add-PartnerOnOtherMachine([pscustomobject] $Store, [string[]] $Identity) {
        $list = ($Identity | ForEach-Object { "'$_'" }) -join ', '
        $child = Invoke-ChildPwsh -Store (Get-OtherMachineStore $Store) -Script @"
$list | ForEach-Object { `$null = New-CsXmppAllowedPartner `$_ -ErrorVariable +ev }
Show-Errors `$ev
"@
        $child.ErrorLines | Should -BeNullOrEmpty -Because ($child.Output + $child.Errors)
        $child.ExitCode | Should -Be 0 -Because ($child.Output + $child.Errors)
    }

    # Flips one byte of the replica's current log inside the last occurrence of $Text (a letter's
    # case: the line stays valid JSON, only its checksum fails).
    function Set-ReplicaByteFlipped([pscustomobject] $Store, [string] $Text) {
        $log = (Get-CurrentLogFile $Store.Replica).FullName
        $bytes = [System.IO.File]::ReadAllBytes($log)
        $at = [System.Text.Encoding]::UTF8.GetString($bytes).LastIndexOf($Text)
        $at | Should -BeGreaterThan 0 -Because "the replica log must hold '$Text'"
        $bytes[$at] = $bytes[$at] -bxor 0x20
        [System.IO.File]::WriteAllBytes($log, $bytes)
        $log
    }

    # Cuts the replica's current log $Bytes short: a partial copy, its last line incomplete.
    function Set-ReplicaTruncated([pscustomobject] $Store, [int] $Bytes) {
        $log = (Get-CurrentLogFile $Store.Replica).FullName
        $stream = [System.IO.File]::Open($log, [System.IO.FileMode]::Open)
        try { $stream.SetLength($stream.Length - $Bytes) } finally { $stream.Dispose() }
        $log
    }
}

Describe 'Invoke-CsXmppAllowedPartnerReplication' {
    AfterEach { Remove-TestStore }

    Context 'a machine with no replica yet' {
        BeforeEach { $store = New-TestStore -ReplicaMissing }

        It 'makes the replica: a copy of the central store, byte for byte, that -LocalStore reads' {
            Add-PartnerOnOtherMachine $store 'contoso.com', 'fabrikam.com'
            { Get-CsXmppAllowedPartner -LocalStore -ErrorAction Stop } | Should -Throw -ErrorId 'StoreIo,XmppFederation.Commands.GetCsXmppAllowedPartnerCommand'
            $central = Get-LogHash $store.Central
            $out = Invoke-CsXmppAllowedPartnerReplication -ErrorVariable ev
            $out | Should -BeNullOrEmpty
            $ev.Count | Should -Be 0
            Get-LogHash $store.Replica | Should -BeExactly $central
            Get-LogHash $store.Central | Should -BeExactly $central
            (Get-CsXmppAllowedPartner -LocalStore).Identity | Should -Be @('contoso.com', 'fabrikam.com')
            $s = Get-CsXmppAllowedPartnerReplicationStatus
            $s.IsCurrent | Should -BeTrue
            $s.ReplicaRevision | Should -Be 2
            $s.ReplicaError | Should -BeNullOrEmpty
        }

        It 'on a store nobody has written to yet: makes the (empty) replica folder, current, and -LocalStore answers with nothing' {
            Invoke-CsXmppAllowedPartnerReplication
            $store.Replica | Should -Exist
            $s = Get-CsXmppAllowedPartnerReplicationStatus
            $s.IsCurrent | Should -BeTrue
            $s.ReplicaError | Should -BeNullOrEmpty
            $out = Get-CsXmppAllowedPartner -LocalStore -ErrorVariable ev
            $out | Should -BeNullOrEmpty
            $ev.Count | Should -Be 0
            Get-LogHash $store.Central | Should -BeExactly '<no partners.log>'
        }

        # Owners and modes do not apply on Windows (README, threat model): defined elsewhere only,
        # since a skipped test counts as failed (Invoke-Tests.ps1).
        if (-not $IsWindows) {
            It 'makes a private replica folder (the replica is this machine''s own cache)' {
                Add-PartnerOnOtherMachine $store 'contoso.com'
                Invoke-CsXmppAllowedPartnerReplication
                $mode = (Get-Item -LiteralPath $store.Replica).UnixFileMode
                ($mode -band [System.IO.UnixFileMode]'GroupWrite, OtherWrite, OtherRead, OtherExecute') | Should -Be ([System.IO.UnixFileMode]::None)
            }
        }
    }

    Context 'after a commit by another machine' {
        BeforeEach {
            $store = New-TestStore
            $null = New-CsXmppAllowedPartner contoso.com
            Add-PartnerOnOtherMachine $store 'fabrikam.com'
            $stale = Get-CsXmppAllowedPartnerReplicationStatus
            $stale.IsCurrent | Should -BeFalse
        }

        It 'makes this machine''s replica current again, equal to the central file, and writes nothing' {
            $central = Get-LogHash $store.Central
            $out = Invoke-CsXmppAllowedPartnerReplication -ErrorVariable ev
            $out | Should -BeNullOrEmpty
            $ev.Count | Should -Be 0
            $s = Get-CsXmppAllowedPartnerReplicationStatus
            $s.IsCurrent | Should -BeTrue
            $s.CentralRevision | Should -Be 2
            $s.ReplicaRevision | Should -Be 2
            $s.ReplicaUpdated | Should -BeGreaterOrEqual $stale.ReplicaUpdated
            (Get-CsXmppAllowedPartner -LocalStore).Identity | Should -Be @('contoso.com', 'fabrikam.com')
            Get-LogHash $store.Replica | Should -BeExactly $central
            Get-LogHash $store.Central | Should -BeExactly $central -Because 'the central store is only read'
        }

        It '-PassThru writes the status after the refresh: one ReplicationStatus, current' {
            $out = @(Invoke-CsXmppAllowedPartnerReplication -PassThru)
            $out.Count | Should -Be 1
            $out[0] | Should -BeOfType ([XmppFederation.Native.ReplicationStatus])
            $out[0].IsCurrent | Should -BeTrue
            $out[0].CentralRevision | Should -Be 2
            $out[0].ReplicaRevision | Should -Be 2
            $out[0].StoreId | Should -BeExactly $stale.StoreId
            $out[0].CentralStore | Should -BeExactly $store.Central
            $out[0].Replica | Should -BeExactly $store.Replica
            $out[0].ReplicaUpdated.Kind | Should -Be ([System.DateTimeKind]::Utc)
        }

        It '-WhatIf changes nothing: the replica''s bytes, its status and what -LocalStore reads stay as they were' {
            $replica = Get-LogHash $store.Replica
            $central = Get-LogHash $store.Central
            $out = Invoke-CsXmppAllowedPartnerReplication -WhatIf -PassThru
            $out | Should -BeNullOrEmpty
            Get-LogHash $store.Replica | Should -BeExactly $replica
            Get-LogHash $store.Central | Should -BeExactly $central
            $s = Get-CsXmppAllowedPartnerReplicationStatus
            $s.IsCurrent | Should -BeFalse
            $s.ReplicaRevision | Should -Be 1
            (Get-CsXmppAllowedPartner -LocalStore).Identity | Should -Be @('contoso.com')
        }

        It '-WhatIf prints one "What if:" line naming the replica and the central store; without -WhatIf it does not ask' {
            $replica = Get-LogHash $store.Replica
            $child = Invoke-ChildPwsh -Store $store -Script @'
Invoke-CsXmppAllowedPartnerReplication -WhatIf -ErrorVariable ev
Show-Errors $ev
'@
            $child.ErrorLines | Should -BeNullOrEmpty -Because ($child.Output + $child.Errors)
            $child.WhatIf.Count | Should -Be 1 -Because $child.Output
            $child.WhatIf[0] | Should -BeLike "*$($store.Central)*$($store.Replica)*"
            Get-LogHash $store.Replica | Should -BeExactly $replica
            # No prompt by default (a prompt would fail in this non-interactive child).
            $child = Invoke-ChildPwsh -Store $store -Script @'
Invoke-CsXmppAllowedPartnerReplication -ErrorVariable ev
Show-Errors $ev
"CURRENT=$((Get-CsXmppAllowedPartnerReplicationStatus).IsCurrent)"
'@
            $child.ErrorLines | Should -BeNullOrEmpty -Because ($child.Output + $child.Errors)
            $child.Lines | Should -Contain 'CURRENT=True'
            Get-CopyHash $store.Replica | Should -BeExactly (Get-CopyHash $store.Central)
        }

        It 'a second commit by another machine waits for the refresh here as well' {
            Add-PartnerOnOtherMachine $store 'jabber.org'
            (Get-CsXmppAllowedPartnerReplicationStatus).ReplicaRevision | Should -Be 1
            Invoke-CsXmppAllowedPartnerReplication
            (Get-CsXmppAllowedPartner -LocalStore).Identity | Should -Be @('contoso.com', 'fabrikam.com', 'jabber.org')
            (Get-CsXmppAllowedPartnerReplicationStatus).ReplicaRevision | Should -Be 3
        }

        It '-Verbose names the folders and the revision the replica is at' {
            $verbose = @(Invoke-CsXmppAllowedPartnerReplication -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] })
            $text = $verbose.Message -join "`n"
            $text | Should -BeLike "*$($store.Central)*$($store.Replica)*"
            $text | Should -BeLike '*revision 2*'
        }
    }

    Context 'a damaged or partial replica' {
        BeforeEach {
            $store = New-TestStore
            $null = New-CsXmppAllowedPartner contoso.com -Description 'first'
            $null = New-CsXmppAllowedPartner fabrikam.com -Description 'second'
        }

        It 'a flipped byte: -LocalStore fails with StoreCorrupt naming the file; the refresh replaces the copy byte for byte' {
            $log = Set-ReplicaByteFlipped $store 'fabrikam'
            Get-LogHash $store.Replica | Should -Not -BeExactly (Get-LogHash $store.Central)
            $err = { Get-CsXmppAllowedPartner -LocalStore } | Should -Throw -ErrorId 'StoreCorrupt,XmppFederation.Commands.GetCsXmppAllowedPartnerCommand' -PassThru
            $err.CategoryInfo.Category | Should -Be 'InvalidData'
            $err.Exception.Message | Should -BeLike "*$log*"
            $out = Invoke-CsXmppAllowedPartnerReplication -PassThru -ErrorVariable ev
            $ev.Count | Should -Be 0
            $out.IsCurrent | Should -BeTrue
            $out.ReplicaError | Should -BeNullOrEmpty
            Get-CopyHash $store.Replica | Should -BeExactly (Get-CopyHash $store.Central)
            (Get-CsXmppAllowedPartner -LocalStore).Identity | Should -Be @('contoso.com', 'fabrikam.com')
            (Get-CsXmppAllowedPartner fabrikam.com -LocalStore).Description | Should -BeExactly 'second'
        }

        It 'a flipped byte after this session read the replica: -LocalStore fails with StoreCorrupt or answers what it verified, never the damaged bytes; the refresh finds the damage and replaces the copy' {
            (Get-CsXmppAllowedPartner -LocalStore).Identity | Should -Be @('contoso.com', 'fabrikam.com')
            $null = Set-ReplicaByteFlipped $store 'fabrikam'
            $read = try { @(Get-CsXmppAllowedPartner -LocalStore -ErrorAction Stop) } catch { $_ }
            if ($read -is [System.Management.Automation.ErrorRecord]) {
                $read.FullyQualifiedErrorId | Should -BeExactly 'StoreCorrupt,XmppFederation.Commands.GetCsXmppAllowedPartnerCommand'
            }
            else {
                $read.Identity | Should -Be @('contoso.com', 'fabrikam.com')
            }
            Invoke-CsXmppAllowedPartnerReplication
            Get-CopyHash $store.Replica | Should -BeExactly (Get-CopyHash $store.Central)
            (Get-CsXmppAllowedPartner -LocalStore).Identity | Should -Be @('contoso.com', 'fabrikam.com')
        }

        It 'a partial copy (its last line cut): -LocalStore reads the complete lines only; the refresh completes it byte for byte' {
            $null = Set-ReplicaTruncated $store 20
            $partners = @(Get-CsXmppAllowedPartner -LocalStore -ErrorVariable ev)
            $ev.Count | Should -Be 0
            $partners.Identity | Should -Be @('contoso.com')
            $partners[0].Description | Should -BeExactly 'first'
            $s = Get-CsXmppAllowedPartnerReplicationStatus
            $s.IsCurrent | Should -BeFalse
            $s.ReplicaRevision | Should -Be 1
            Invoke-CsXmppAllowedPartnerReplication
            Get-CopyHash $store.Replica | Should -BeExactly (Get-CopyHash $store.Central)
            (Get-CsXmppAllowedPartner -LocalStore).Identity | Should -Be @('contoso.com', 'fabrikam.com')
            (Get-CsXmppAllowedPartnerReplicationStatus).IsCurrent | Should -BeTrue
        }

        It 'a replica folder emptied behind this session''s back: the refresh writes the copy again' {
            (Get-CsXmppAllowedPartner -LocalStore).Count | Should -Be 2
            Remove-Item -LiteralPath (Get-CurrentLogFile $store.Replica).FullName
            Invoke-CsXmppAllowedPartnerReplication
            Get-CopyHash $store.Replica | Should -BeExactly (Get-CopyHash $store.Central)
            (Get-CsXmppAllowedPartner -LocalStore).Identity | Should -Be @('contoso.com', 'fabrikam.com')
        }
    }

    Context 'a central store that cannot be read' {
        BeforeEach {
            $store = New-TestStore
            $null = New-CsXmppAllowedPartner contoso.com
            $null = New-CsXmppAllowedPartner fabrikam.com
            $replica = Get-LogHash $store.Replica
        }

        It 'central folder gone: fails with StoreIo naming the folder; the replica is untouched and -LocalStore still answers' {
            Remove-StoreFolder $store.Central
            $out = Invoke-CsXmppAllowedPartnerReplication -PassThru -ErrorVariable ev -ErrorAction SilentlyContinue
            $out | Should -BeNullOrEmpty
            Assert-XmppError $ev -Id StoreIo -Verb Invoke -Noun CsXmppAllowedPartnerReplication -Category ResourceUnavailable -Target $store.Replica
            $ev[0].Exception.Message | Should -BeLike "*$($store.Central)*"
            { Invoke-CsXmppAllowedPartnerReplication -ErrorAction Stop } | Should -Throw -ErrorId 'StoreIo,XmppFederation.Commands.InvokeCsXmppAllowedPartnerReplicationCommand'
            $store.Central | Should -Not -Exist -Because 'a missing central folder is never created'
            Get-LogHash $store.Replica | Should -BeExactly $replica
            (Get-CsXmppAllowedPartner -LocalStore).Identity | Should -Be @('contoso.com', 'fabrikam.com')
            $s = Get-CsXmppAllowedPartnerReplicationStatus
            $s.CentralError | Should -BeLike "*$($store.Central)*"
            $s.ReplicaRevision | Should -Be 2
        }

        It 'a damaged central log: a session fails with StoreCorrupt naming the file and copies none of it; the replica is untouched' {
            $log = (Get-CurrentLogFile $store.Central).FullName
            $bytes = [System.IO.File]::ReadAllBytes($log)
            $at = [System.Text.Encoding]::UTF8.GetString($bytes).LastIndexOf('fabrikam')
            $bytes[$at] = $bytes[$at] -bxor 0x20
            [System.IO.File]::WriteAllBytes($log, $bytes)
            # This session read the line before it was damaged; an explicit refresh reads the
            # central log whole again and copies nothing that does not verify.
            { Invoke-CsXmppAllowedPartnerReplication -ErrorAction Stop } | Should -Throw -ErrorId 'StoreCorrupt,XmppFederation.Commands.InvokeCsXmppAllowedPartnerReplicationCommand'
            Get-LogHash $store.Replica | Should -BeExactly $replica
            # And in a new session, which reads the central log whole at its first call.
            $child = Invoke-ChildPwsh -Store $store -Script @'
Invoke-CsXmppAllowedPartnerReplication -PassThru
Show-Errors $Error
"MESSAGE=$($Error[0].Exception.Message)"
"LOCAL=$((Get-CsXmppAllowedPartner -LocalStore).Identity -join ',')"
'@
            $child.ErrorLines | Should -Be @("StoreCorrupt,XmppFederation.Commands.InvokeCsXmppAllowedPartnerReplicationCommand|InvalidData|$($store.Replica)") -Because ($child.Output + $child.Errors)
            ($child.Lines | Where-Object { $_ -like 'MESSAGE=*' }) | Should -BeLike "*$log*damaged*"
            $child.Lines | Should -Contain 'LOCAL=contoso.com,fabrikam.com'
            Get-LogHash $store.Replica | Should -BeExactly $replica
        }
    }

    Context 'the cmdlet' {
        It 'declares XmppFederation.Native.ReplicationStatus as its output type (written with -PassThru)' {
            (Get-Command Invoke-CsXmppAllowedPartnerReplication).OutputType.Type | Should -Be ([XmppFederation.Native.ReplicationStatus])
        }

        It 'supports -WhatIf and -Confirm, with a low confirm impact (no prompt by default), and takes -PassThru only' {
            $command = Get-Command Invoke-CsXmppAllowedPartnerReplication
            $attribute = $command.ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0]
            $attribute.SupportsShouldProcess | Should -BeTrue
            $attribute.ConfirmImpact | Should -Be ([System.Management.Automation.ConfirmImpact]::Low)
            $common = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
            @($command.Parameters.Keys | Where-Object { $_ -notin $common }) | Should -Be @('PassThru')
            $command.Parameters['PassThru'].ParameterType | Should -Be ([switch])
        }
    }
}
