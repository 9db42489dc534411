# Get-Help for every cmdlet the module exports, from the module's one help source
# (en-US/XmppFederation.dll-Help.xml): complete, consistent with the cmdlets themselves, and with
# every example running as printed.
param([string] $ModulePath = (Join-Path $PSScriptRoot '../../../target/XmppFederation/XmppFederation.psd1'))

BeforeDiscovery {
    # Discovery runs in its own session state: read the cmdlets and examples from the module here too.
    Import-Module $ModulePath
    # Every exported cmdlet, so that a new one cannot go without help.
    $cmdlets = @((Get-Module XmppFederation).ExportedCmdlets.Keys | Sort-Object)
    $exampleCases = foreach ($cmdlet in $cmdlets) {
        $n = 0
        foreach ($example in (Get-Help $cmdlet -Full).examples.example) {
            $n++
            @{ Cmdlet = $cmdlet; Number = $n; Code = $example.code }
        }
    }
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module $ModulePath
    Set-TestModulePath $ModulePath
    $script:Common = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
}

Describe 'The cmdlets whose help is checked' -ForEach @(@{ Discovered = $cmdlets }) {
    It 'are every cmdlet the module exports: the eleven' {
        $Discovered | Should -Be @((Get-Module XmppFederation).ExportedCmdlets.Keys | Sort-Object)
        $Discovered | Should -Be @('Export-CsXmppAllowedPartner', 'Get-CsXmppAllowedPartner', 'Get-CsXmppAllowedPartnerHistory',
            'Get-CsXmppAllowedPartnerReplicationStatus', 'Import-CsXmppAllowedPartner', 'Initialize-CsXmppAllowedPartnerStore',
            'Invoke-CsXmppAllowedPartnerReplication', 'New-CsXmppAllowedPartner', 'Remove-CsXmppAllowedPartner', 'Set-CsXmppAllowedPartner',
            'Test-CsXmppAllowedPartner')
    }
}

Describe 'Get-Help <_>' -ForEach $cmdlets {
    BeforeAll {
        $name = $_
        $help = Get-Help $name -Full
        $command = Get-Command $name
        $parameters = @($command.Parameters.Values | Where-Object { $_.Name -notin $script:Common })
    }

    It 'comes from the module''s MAML file, with a synopsis, a description and related links' {
        $help.Synopsis | Should -Not -BeNullOrEmpty
        # Without a help file, PowerShell makes the synopsis from the syntax.
        $help.Synopsis | Should -Not -Match '\[-\w+'
        @($help.description).Count | Should -BeGreaterThan 0
        ($help.description.Text -join ' ').Length | Should -BeGreaterThan 200
        $help.relatedLinks.navigationLink.linkText | Should -Contain 'about_XmppFederation'
        Join-Path (Split-Path $ModulePath) 'en-US/XmppFederation.dll-Help.xml' | Should -Exist
    }

    It 'documents every parameter, and no other' {
        $documented = @($help.parameters.parameter.name | Where-Object { $_ -notin $script:Common })
        # Joined, so that a cmdlet without parameters of its own compares too.
        (@($documented | Sort-Object) -join ', ') | Should -BeExactly (@($parameters.Name | Sort-Object) -join ', ')
        foreach ($p in $help.parameters.parameter) {
            ($p.description.Text -join ' ') | Should -Not -BeNullOrEmpty -Because "-$($p.name) needs a description"
            "$($p.defaultValue)" | Should -Not -BeNullOrEmpty -Because "-$($p.name) needs a default value"
        }
    }

    It 'states each parameter''s facts as the cmdlet has them: required, position, pipeline input, wildcards, type' {
        foreach ($parameter in $parameters) {
            $doc = $help.parameters.parameter | Where-Object name -EQ $parameter.Name
            $sets = @($parameter.ParameterSets.Values)
            $because = "of -$($parameter.Name)"
            $doc.required | Should -Be ("$(@($sets | Where-Object IsMandatory).Count -gt 0)".ToLower()) -Because $because
            $position = @($sets | Where-Object Position -GE 0 | ForEach-Object Position | Select-Object -Unique)
            $doc.position | Should -Be $(if ($position.Count) { "$position" } else { 'named' }) -Because $because
            $byValue = @($sets | Where-Object ValueFromPipeline).Count -gt 0
            $byName = @($sets | Where-Object ValueFromPipelineByPropertyName).Count -gt 0
            $expectedPipeline = if ($byValue -and $byName) { 'True (ByValue, ByPropertyName)' } elseif ($byValue) { 'True (ByValue)' } elseif ($byName) { 'True (ByPropertyName)' } else { 'False' }
            $doc.pipelineInput | Should -Be $expectedPipeline -Because $because
            $wildcards = @($parameter.Attributes | Where-Object { $_ -is [System.Management.Automation.SupportsWildcardsAttribute] }).Count -gt 0
            $doc.globbing | Should -Be "$wildcards".ToLower() -Because $because
            if ($parameter.Name -eq 'AdditionalDomains') {
                # Takes what a PSListModifier takes (a value, a list, @{Add=..}); says so, as Lync does.
                $parameter.ParameterType | Should -Be ([object])
                $doc.type.name | Should -Be 'System.Management.Automation.PSListModifier'
            }
            else {
                $doc.type.name | Should -Be $parameter.ParameterType.FullName -Because $because
            }
        }
    }

    It 'shows one syntax per parameter set, listing that set''s parameters' {
        $syntax = @($help.syntax.syntaxItem)
        $syntax.Count | Should -Be $command.ParameterSets.Count
        foreach ($set in $command.ParameterSets) {
            $names = @($set.Parameters.Name | Where-Object { $_ -notin $script:Common }) | Sort-Object
            $match = @($syntax | Where-Object { (@($_.parameter.name | Where-Object { $_ -notin $script:Common }) | Sort-Object) -join ',' -eq ($names -join ',') })
            $match.Count | Should -Be 1 -Because "the parameter set $($set.Name) ($($names -join ', ')) needs its syntax"
        }
    }

    It 'lists the enum parameters'' values as the cmdlet accepts them' {
        foreach ($parameter in $parameters | Where-Object { $_.ParameterType.IsEnum }) {
            $values = @($help.syntax.syntaxItem[0].parameter | Where-Object name -EQ $parameter.Name).parameterValueGroup.parameterValue
            @($values) | Should -Be ([enum]::GetNames($parameter.ParameterType)) -Because "-$($parameter.Name)"
        }
    }

    It 'describes its input and output types, naming the types the cmdlet declares' {
        $help.inputTypes.inputType.type.name | Should -Not -BeNullOrEmpty
        ($help.inputTypes.inputType.description.Text -join ' ') | Should -Not -BeNullOrEmpty
        ($help.returnValues.returnValue.description.Text -join ' ') | Should -Not -BeNullOrEmpty
        $outputs = ($help.returnValues.returnValue.type.name -join ' ') + ($help.returnValues.returnValue.description.Text -join ' ')
        @($command.OutputType).Count | Should -BeGreaterThan 0
        foreach ($type in $command.OutputType.Name) {
            $outputs | Should -Match ([regex]::Escape($type))
        }
        # Partners carry Lync's type name too, and the help says so.
        if ($command.OutputType.Name -contains 'XmppFederation.Native.PartnerData') {
            $outputs | Should -Match ([regex]::Escape('Microsoft.Rtc.Management.WritableConfig.Settings.XmppFederation.XmppAllowedPartner#Decorated'))
        }
        $expected = if ($name -like '*Replication*') { 'XmppFederation.Native.ReplicationStatus' }
        elseif ($name -like 'Initialize-*') { 'XmppFederation.Native.StoreInitialization' }
        elseif ($name -eq 'Test-CsXmppAllowedPartner') { 'XmppFederation.Native.DomainExplanation' }
        elseif ($name -eq 'Get-CsXmppAllowedPartnerHistory') { 'XmppFederation.Native.HistoryEntry' }
        elseif ($name -eq 'Export-CsXmppAllowedPartner') { 'System.String' }
        elseif ($name -eq 'Import-CsXmppAllowedPartner') { 'XmppFederation.Native.ImportResult' }
        else { 'XmppFederation.Native.PartnerData' }
        $command.OutputType.Name | Should -Contain $expected
    }

    It 'has examples with code and an explanation' {
        @($help.examples.example).Count | Should -BeGreaterOrEqual 3
        foreach ($example in $help.examples.example) {
            $example.code | Should -Match ([regex]::Escape($name) + '|\$p')
            ($example.remarks.Text -join ' ') | Should -Not -BeNullOrEmpty
        }
    }
}

Describe 'Help facts that matter to an admin' {
    It 'Get -Filter accepts wildcards and Get -Identity does not (Get-Help -Parameter)' {
        Get-Help Get-CsXmppAllowedPartner -Parameter Filter | Out-String | Should -Match 'Accept wildcard characters\?\s+true'
        Get-Help Get-CsXmppAllowedPartner -Parameter Identity | Out-String | Should -Match 'Accept wildcard characters\?\s+false'
    }

    It '-AdditionalDomains shows PSListModifier in the syntax of New and Set, and explains the modifier keys on Set' {
        foreach ($cmdlet in 'New-CsXmppAllowedPartner', 'Set-CsXmppAllowedPartner') {
            Get-Help $cmdlet | Out-String -Width 200 | Should -Match '-AdditionalDomains <PSListModifier>'
        }
        $text = Get-Help Set-CsXmppAllowedPartner -Parameter AdditionalDomains | Out-String
        foreach ($key in '@{Add=', '@{Remove=', '@{Replace=', '$null') {
            $text | Should -BeLike "*$key*"
        }
    }

    It 'New''s documented defaults are the defaults the library applies' {
        $built = New-CsXmppAllowedPartner defaults.example.com -InMemory
        foreach ($name in 'PartnerType', 'TlsNegotiation', 'SaslNegotiation', 'SupportDialbackNegotiation', 'EnableKeepAlive', 'ConnectionLimit') {
            (Get-Help New-CsXmppAllowedPartner -Parameter $name).defaultValue | Should -BeExactly "$($built.$name)" -Because "-$name"
        }
    }

    It 'New -Force says plainly that it moves warnings to the verbose stream, and when New warns' {
        (Get-Help New-CsXmppAllowedPartner -Parameter Force | Out-String) -replace '\s+', ' ' | Should -Match 'warnings to the verbose stream'
        (Get-Help New-CsXmppAllowedPartner -Full | Out-String) -replace '\s+', ' ' | Should -Match 'warning is written only when this command sets at least one of TlsNegotiation, SaslNegotiation and SupportDialbackNegotiation'
    }

    It 'has the reference pages'' examples: <Cmdlet> shows <Code>' -TestCases @(
        @{ Cmdlet = 'New-CsXmppAllowedPartner'; Code = 'New-CsXmppAllowedPartner -Identity "contoso.com" -PartnerType "PublicVerified"' }
        @{ Cmdlet = 'New-CsXmppAllowedPartner'; Code = 'New-CsXmppAllowedPartner -Identity "fabrikam.com" -AdditionalDomains "research.fabrikam2.com"' }
        @{ Cmdlet = 'Get-CsXmppAllowedPartner'; Code = 'Get-CsXmppAllowedPartner' }
        @{ Cmdlet = 'Get-CsXmppAllowedPartner'; Code = 'Get-CsXmppAllowedPartner -Identity "contoso.com"' }
        @{ Cmdlet = 'Get-CsXmppAllowedPartner'; Code = 'Get-CsXmppAllowedPartner -Filter "*.org"' }
        @{ Cmdlet = 'Get-CsXmppAllowedPartner'; Code = 'Get-CsXmppAllowedPartner | Where-Object {$_.SaslNegotiation -eq "Required"}' }
        @{ Cmdlet = 'Set-CsXmppAllowedPartner'; Code = 'Get-CsXmppAllowedPartner | Set-CsXmppAllowedPartner -SaslNegotiation Required' }
        @{ Cmdlet = 'Remove-CsXmppAllowedPartner'; Code = 'Get-CsXmppAllowedPartner | Where-Object {$_.TlsNegotiation -eq "NotSupported"} | Remove-CsXmppAllowedPartner' }
    ) {
        (Get-Help $Cmdlet -Full).examples.example.code | Should -Contain $Code
    }

    It 'the replication status''s help names every property of its object, and says an unreadable side is no error' {
        $text = (Get-Help Get-CsXmppAllowedPartnerReplicationStatus -Full | Out-String) -replace '\s+', ' '
        foreach ($property in [XmppFederation.Native.ReplicationStatus].GetProperties().Name) {
            $text | Should -BeLike "*$property*" -Because "ReplicationStatus.$property needs explaining"
        }
        $text | Should -BeLike '*described in the status, not reported as an error*'
        $text | Should -BeLike '*UTC*'
    }

    It 'Get -LocalStore''s help names the refresh cmdlet and the status cmdlet' {
        $text = (Get-Help Get-CsXmppAllowedPartner -Parameter LocalStore | Out-String) -replace '\s+', ' '
        $text | Should -BeLike '*Invoke-CsXmppAllowedPartnerReplication*'
        $text | Should -BeLike '*Get-CsXmppAllowedPartnerReplicationStatus*'
        (Get-Help Get-CsXmppAllowedPartner -Full).relatedLinks.navigationLink.linkText | Should -Contain 'Invoke-CsXmppAllowedPartnerReplication'
    }

    It 'about_XmppFederation is installed and names every cmdlet and every error id it lists' {
        $about = Get-Help about_XmppFederation | Out-String
        foreach ($cmdlet in (Get-Module XmppFederation).ExportedCmdlets.Keys) {
            $about | Should -BeLike "*$cmdlet*"
        }
        $ids = [regex]::Matches($about, '(?m)^\s{6}(\w+)\s{2,}') | ForEach-Object { $_.Groups[1].Value }
        @($ids).Count | Should -BeGreaterThan 5
        foreach ($id in $ids) {
            [enum]::GetNames([XmppFederation.Native.XmppFedResult]) | Should -Contain $id
        }
    }
}

Describe 'Every example runs as printed' {
    BeforeEach {
        $store = New-TestStore
        Push-Location $store.Root
        # The partners the examples talk about, for every cmdlet but New (whose examples create
        # them). partners.csv, made in another store, is what New's Import-Csv example reads.
        # The replication examples add a change made on another machine (below).
        $fixture = {
            $null = New-CsXmppAllowedPartner contoso.com
            $null = New-CsXmppAllowedPartner fabrikam.com -AdditionalDomains research.fabrikam2.com
            $null = New-CsXmppAllowedPartner jabber.org -TlsNegotiation NotSupported -SaslNegotiation NotSupported
            $null = New-CsXmppAllowedPartner example.org -SaslNegotiation Optional -WarningAction SilentlyContinue
            $null = New-CsXmppAllowedPartner old.example.com
        }
        & $fixture
        Get-CsXmppAllowedPartner | Export-Csv -LiteralPath (Join-Path $store.Root 'partners.csv')
        # The remote domains Test's examples read: allowed, a subdomain of a partner, unknown.
        Set-Content -LiteralPath (Join-Path $store.Root 'domains.txt') -Value 'contoso.com', 'research.fabrikam2.com', 'chat.contoso.com', 'unknown.example.net'
        # The file Import's examples read (as Export writes it; partners.csv above is the other).
        Export-CsXmppAllowedPartner -Path (Join-Path $store.Root 'partners.json')
    }
    AfterEach {
        Pop-Location
        Remove-TestStore
    }

    It '<Cmdlet> example <Number>: <Code>' -TestCases $exampleCases {
        if ($Cmdlet -eq 'New-CsXmppAllowedPartner') {
            $store = New-TestStore
        }
        if ($Cmdlet -like '*Replication*') {
            # The replication examples talk about a replica that is behind: another machine (a
            # replica folder of its own, for one command) commits a change.
            $env:XMPPFED_REPLICA = Join-Path $store.Root 'other-machine-replica'
            $null = New-CsXmppAllowedPartner other-machine.example.com
            $env:XMPPFED_REPLICA = $store.Replica
            (Get-CsXmppAllowedPartnerReplicationStatus).IsCurrent | Should -BeFalse
        }
        if ($Cmdlet -eq 'Import-CsXmppAllowedPartner') {
            # The import examples talk about a list that differs from the files: a partner
            # changed since the export and one added (which -RemoveMissing removes).
            Set-CsXmppAllowedPartner contoso.com -ConnectionLimit 40
            $null = New-CsXmppAllowedPartner added.example.net
        }
        if ($Cmdlet -eq 'Get-CsXmppAllowedPartnerHistory') {
            # The history examples talk about changes and removals too.
            Set-CsXmppAllowedPartner contoso.com -ConnectionLimit 40
            Remove-CsXmppAllowedPartner old.example.com
        }
        $before = Get-LogHash $store.Central
        $replicaBefore = Get-LogHash $store.Replica
        $output = & {
            $ErrorActionPreference = 'Stop'
            $WarningPreference = 'SilentlyContinue'
            & ([scriptblock]::Create($Code))
        }
        $after = Get-LogHash $store.Central
        if ($Cmdlet -eq 'Get-CsXmppAllowedPartnerReplicationStatus') {
            @($output).Count | Should -BeGreaterThan 0 -Because 'the example must show the status'
            if ($Code -match '^Get-CsXmppAllowedPartnerReplicationStatus( \| Where-Object \{.*\})?$') {
                $output | ForEach-Object { $_ | Should -BeOfType ([XmppFederation.Native.ReplicationStatus]) }
            }
            $after | Should -BeExactly $before
            Get-LogHash $store.Replica | Should -BeExactly $replicaBefore
        }
        elseif ($Cmdlet -eq 'Invoke-CsXmppAllowedPartnerReplication') {
            $after | Should -BeExactly $before -Because 'the central store is only read'
            if ($Code -match '-WhatIf') {
                Get-LogHash $store.Replica | Should -BeExactly $replicaBefore
                (Get-CsXmppAllowedPartnerReplicationStatus).IsCurrent | Should -BeFalse
            }
            else {
                Get-LogHash $store.Replica | Should -BeExactly $after -Because 'the example must refresh the replica'
                (Get-CsXmppAllowedPartnerReplicationStatus).IsCurrent | Should -BeTrue
            }
        }
        elseif ($Cmdlet -eq 'Initialize-CsXmppAllowedPartnerStore') {
            # The example store exists: Initialize checks it and changes nothing.
            $after | Should -BeExactly $before
            Get-LogHash $store.Replica | Should -BeExactly $replicaBefore
            @($output).Count | Should -Be 1 -Because 'the example must show the store or its version'
            if ($Code -notmatch '\.Version') {
                "$($output.Action)" | Should -BeExactly 'Current'
            }
        }
        elseif ($Cmdlet -eq 'Test-CsXmppAllowedPartner') {
            @($output).Count | Should -BeGreaterThan 0 -Because 'the example must show explanations'
            if ($Code -notmatch '\| (Format|Select)-') {
                $output | ForEach-Object { $_ | Should -BeOfType ([XmppFederation.Native.DomainExplanation]) }
            }
            $after | Should -BeExactly $before -Because 'Test only reads'
            Get-LogHash $store.Replica | Should -BeExactly $replicaBefore
        }
        elseif ($Cmdlet -eq 'Get-CsXmppAllowedPartnerHistory') {
            @($output).Count | Should -BeGreaterThan 0 -Because 'the example must show changes'
            if ($Code -notmatch '\| (Format|Select)-') {
                $output | ForEach-Object { $_ | Should -BeOfType ([XmppFederation.Native.HistoryEntry]) }
            }
            $after | Should -BeExactly $before -Because 'the history is only read'
            Get-LogHash $store.Replica | Should -BeExactly $replicaBefore
        }
        elseif ($Cmdlet -eq 'Export-CsXmppAllowedPartner') {
            if ($Code -notmatch '-Path') {
                @($output).Count | Should -BeGreaterThan 0 -Because 'the example must show the list'
            }
            elseif ($Code -notmatch '-WhatIf') {
                $file = Join-Path $store.Root ([regex]::Match($Code, '-Path (\S+)').Groups[1].Value)
                $file | Should -Exist -Because 'the example must write its file'
            }
            $after | Should -BeExactly $before -Because 'Export only reads'
            Get-LogHash $store.Replica | Should -BeExactly $replicaBefore
        }
        elseif ($Cmdlet -eq 'Import-CsXmppAllowedPartner') {
            @($output).Count | Should -BeGreaterThan 0 -Because 'the example must show what it imported'
            if ($Code -match '-WhatIf') {
                $after | Should -BeExactly $before
            }
            else {
                $after | Should -Not -BeExactly $before -Because 'the example must change the store'
                (Get-CsXmppAllowedPartner contoso.com).ConnectionLimit | Should -Be 20 -Because 'the file''s value is imported'
                if ($Code -match '-RemoveMissing') {
                    (Get-CsXmppAllowedPartner).Identity | Should -Not -Contain 'added.example.net'
                }
            }
        }
        elseif ($Cmdlet -eq 'Get-CsXmppAllowedPartner') {
            if ($Code -notmatch 'Export-Csv') {
                @($output).Count | Should -BeGreaterThan 0 -Because 'the example must show partners'
                $output | ForEach-Object { $_ | Should -BeOfType ([XmppFederation.Native.PartnerData]) }
            }
            $after | Should -BeExactly $before
        }
        elseif ($Code -match '-WhatIf') {
            $after | Should -BeExactly $before
        }
        else {
            $after | Should -Not -BeExactly $before -Because 'the example must change the store'
        }
    }
}
