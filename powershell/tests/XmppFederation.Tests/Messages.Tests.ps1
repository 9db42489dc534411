# What the cmdlets tell an admin besides their output: -Verbose names the store and replica, how
# many partners matched and what was committed; warnings come only from the admin's own choices.
param([string] $ModulePath = (Join-Path $PSScriptRoot '../../../target/XmppFederation/XmppFederation.psd1'))

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module $ModulePath
    Set-TestModulePath $ModulePath

    # The verbose messages a command writes (its other output is dropped).
    function Get-VerboseText([scriptblock] $Command) {
        @(& $Command 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message)
    }

    # The warning messages a command writes.
    function Get-WarningText([scriptblock] $Command) {
        @(& $Command 3>&1 | Where-Object { $_ -is [System.Management.Automation.WarningRecord] } | ForEach-Object Message)
    }
}

Describe '-Verbose' {
    BeforeEach {
        $store = New-TestStore
        $null = New-CsXmppAllowedPartner contoso.com
        $null = New-CsXmppAllowedPartner fabrikam.com
        $null = New-CsXmppAllowedPartner jabber.org
    }
    AfterEach { Remove-TestStore }

    It 'every cmdlet names the central store and the local replica it uses (<Verb>)' -TestCases @(
        @{ Verb = 'New'; Command = { New-CsXmppAllowedPartner new.example.com -Verbose } }
        @{ Verb = 'Get'; Command = { Get-CsXmppAllowedPartner -Verbose } }
        @{ Verb = 'Set'; Command = { Set-CsXmppAllowedPartner contoso.com -Description x -Verbose } }
        @{ Verb = 'Remove'; Command = { Remove-CsXmppAllowedPartner jabber.org -Verbose } }
        @{ Verb = 'Invoke (replication)'; Command = { Invoke-CsXmppAllowedPartnerReplication -Verbose } }
        @{ Verb = 'Get (replication status)'; Command = { Get-CsXmppAllowedPartnerReplicationStatus -Verbose } }
        @{ Verb = 'Get (history)'; Command = { Get-CsXmppAllowedPartnerHistory -Verbose } }
        @{ Verb = 'Export'; Command = { Export-CsXmppAllowedPartner -Verbose } }
        @{ Verb = 'Import'; Command = { Export-CsXmppAllowedPartner | ConvertFrom-Json | Import-CsXmppAllowedPartner -Verbose } }
    ) {
        Get-VerboseText $Command | Should -Contain "Central store: $(Get-TestStoreDisplay $store); local replica: $($store.Replica)"
    }

    It 'Get says how many partners matched, and where: <Case>' -TestCases @(
        @{ Case = 'all'; Command = { Get-CsXmppAllowedPartner -Verbose }; Expected = '3 partner(s) in the central store.' }
        @{ Case = 'filter'; Command = { Get-CsXmppAllowedPartner -Filter '*.org' -Verbose }; Expected = "1 partner(s) matching '*.org' in the central store." }
        @{ Case = 'no match'; Command = { Get-CsXmppAllowedPartner -Filter 'x*' -Verbose }; Expected = "0 partner(s) matching 'x*' in the central store." }
        @{ Case = 'replica'; Command = { Get-CsXmppAllowedPartner -LocalStore -Verbose }; Expected = '3 partner(s) in the local replica.' }
    ) {
        Get-VerboseText $Command | Should -Contain $Expected
    }

    It 'Get -Identity says which revision it found' {
        $revision = (Get-CsXmppAllowedPartner fabrikam.com).Revision
        Get-VerboseText { Get-CsXmppAllowedPartner fabrikam.com -Verbose } | Should -Contain "Found 'fabrikam.com' in the central store (revision $revision)."
    }

    It 'New, Set and Remove say what they committed' {
        $texts = Get-VerboseText { New-CsXmppAllowedPartner new.example.com -Verbose }
        $texts | Should -Contain "Created 'new.example.com': committed as revision $((Get-CsXmppAllowedPartner new.example.com).Revision)."
        $texts = Get-VerboseText { Set-CsXmppAllowedPartner contoso.com -Description changed -Verbose }
        $texts | Should -Contain "Set 'contoso.com': committed as revision $((Get-CsXmppAllowedPartner contoso.com).Revision)."
        $revision = (Get-CsXmppAllowedPartner jabber.org).Revision
        Get-VerboseText { Remove-CsXmppAllowedPartner jabber.org -Verbose } | Should -Contain "Removed 'jabber.org' (last written at revision $revision); the removal is committed."
        Get-VerboseText { New-CsXmppAllowedPartner draft.example.com -InMemory -Verbose } | Should -Contain "Built 'draft.example.com' in memory; nothing was stored (commit it with Set-CsXmppAllowedPartner -Instance)."
    }

    It 'History says how many changes it found; Export what it wrote where; Import what it committed' {
        Get-VerboseText { Get-CsXmppAllowedPartnerHistory -Verbose } | Should -Contain '3 change(s) in the central store''s history.'
        Get-VerboseText { Get-CsXmppAllowedPartnerHistory 'fab*' -Verbose } | Should -Contain "1 change(s) of partners matching 'fab*' in the central store's history."
        $file = Join-Path $store.Root 'p.csv'
        Get-VerboseText { Export-CsXmppAllowedPartner -Path $file -Filter '*.org' -Verbose } | Should -Contain "Exported the central store (partners matching '*.org') as Csv to '$file'."
        Get-VerboseText { Import-CsXmppAllowedPartner -Path $file -Verbose } | Should -Contain 'Nothing to import: 0 added, 0 changed, 0 removed, 1 unchanged (central store at revision 3).'
        $texts = Get-VerboseText { [pscustomobject]@{ Identity = 'new.example.net' } | Import-CsXmppAllowedPartner -Verbose }
        $texts | Should -Contain "Imported into '$(Get-TestStoreDisplay $store)': 1 added, 0 changed, 0 removed, 0 unchanged; committed as revision 4."
    }

    It 'Invoke-CsXmppAllowedPartnerReplication says which revision the replica is at' {
        Get-VerboseText { Invoke-CsXmppAllowedPartnerReplication -Verbose } | Should -Contain "The local replica '$($store.Replica)' is at revision 3."
    }
}

Describe 'Negotiation warnings' {
    BeforeEach { $store = New-TestStore }
    AfterEach { Remove-TestStore }

    It 'New with the defaults (TLS and SASL Required, dialback on) writes no warning' {
        Get-WarningText { New-CsXmppAllowedPartner contoso.com } | Should -BeNullOrEmpty
        Get-WarningText { New-CsXmppAllowedPartner draft.example.com -InMemory -Description x -PartnerType Federated } | Should -BeNullOrEmpty
    }

    It 'New that chooses <Case> itself is told that dialback will not be used' -TestCases @(
        @{ Case = 'dialback on'; Splat = @{ SupportDialbackNegotiation = $true } }
        @{ Case = 'TLS Required'; Splat = @{ TlsNegotiation = 'Required' } }
        @{ Case = 'SASL Required'; Splat = @{ SaslNegotiation = 'Required' } }
    ) {
        $warnings = @(Get-WarningText { New-CsXmppAllowedPartner contoso.com @Splat })
        $warnings.Count | Should -Be 1
        $warnings[0] | Should -BeLike 'contoso.com: TLS and SASL are both Required, so dialback negotiation will not be used*'
    }

    It 'New -Force writes the warning to the verbose stream instead' {
        $out = New-CsXmppAllowedPartner contoso.com -SupportDialbackNegotiation $true -Force -Verbose 3>&1 4>&1
        @($out | Where-Object { $_ -is [System.Management.Automation.WarningRecord] }).Count | Should -Be 0
        @($out | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message) | Should -Contain (
            'WARNING (DialbackNotUsed): contoso.com: TLS and SASL are both Required, so dialback negotiation will not be used even though SupportDialbackNegotiation is True')
        @($out | Where-Object { $_ -is [XmppFederation.Native.PartnerData] }).Count | Should -Be 1
    }

    It 'Set warns about a combination only when it sets a negotiation setting' {
        $null = New-CsXmppAllowedPartner contoso.com -TlsNegotiation Optional -WarningAction SilentlyContinue
        Get-WarningText { Set-CsXmppAllowedPartner contoso.com -Description 'unrelated' } | Should -BeNullOrEmpty
        Get-WarningText { Get-CsXmppAllowedPartner contoso.com | Set-CsXmppAllowedPartner } | Should -BeNullOrEmpty
        $warnings = @(Get-WarningText { Set-CsXmppAllowedPartner contoso.com -SaslNegotiation Optional })
        $warnings.Count | Should -Be 1
        $warnings[0] | Should -BeLike 'contoso.com: SaslNegotiation is Optional but TlsNegotiation is Optional*'
    }

    It 'an invalid combination is refused whoever chose it' {
        $null = New-CsXmppAllowedPartner contoso.com -SupportDialbackNegotiation $false -TlsNegotiation NotSupported -ErrorVariable ev -ErrorAction SilentlyContinue
        Assert-XmppError $ev -Id InvalidNegotiation -Verb New -Category InvalidArgument -Target 'contoso.com'
    }
}
