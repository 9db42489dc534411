# How partners look and travel: the default table at 80 and 120 columns, the list view, Lync's
# type name, and round trips through Export-Csv/Import-Csv, ConvertTo-Json and Export-Clixml.
param([string] $ModulePath = (Join-Path $PSScriptRoot '../../../target/XmppFederation/XmppFederation.psd1'))

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module $ModulePath
    Set-TestModulePath $ModulePath
    $PSDefaultParameterValues = @{ '*-CsXmppAllowedPartner:WarningAction' = 'SilentlyContinue' }

    $script:LyncTypeName = 'Microsoft.Rtc.Management.WritableConfig.Settings.XmppFederation.XmppAllowedPartner#Decorated'
    $script:LongIdentity = 'very-long-subdomain-name-for-testing.partners.international-example-corporation.com'

    # The text of one table column: each line's characters from $Start (to $End), trimmed.
    function Get-ColumnText([string[]] $Lines, [int] $Start, [int] $End = -1) {
        @($Lines | ForEach-Object {
                if ($_.Length -le $Start) { '' }
                elseif ($End -lt 0 -or $_.Length -le $End) { $_.Substring($Start).Trim() }
                else { $_.Substring($Start, $End - $Start).Trim() }
            }) -join ''
    }

    function New-SamplePartners {
        $null = New-CsXmppAllowedPartner contoso.com -PartnerType PublicVerified
        $null = New-CsXmppAllowedPartner fabrikam.com -AdditionalDomains research.fabrikam2.com, eu.fabrikam2.com, asia.fabrikam2.com -Description 'Contact: Ken Myer'
        $null = New-CsXmppAllowedPartner $script:LongIdentity -AdditionalDomains a.example.org, b.example.org, c.example.org, d.example.org -ProxyFqdn proxy.example.org
        $null = New-CsXmppAllowedPartner gmail.com -TlsNegotiation Optional -SaslNegotiation NotSupported -EnableKeepAlive $false -ConnectionLimit 5
    }
}

Describe 'Output objects and views' {
    BeforeEach {
        $store = New-TestStore
        New-SamplePartners
    }
    AfterEach { Remove-TestStore }

    Context 'type names' {
        It 'every cmdlet''s partner carries Lync''s type name first, and stays a PartnerData (<Case>)' -TestCases @(
            @{ Case = 'Get'; Command = { Get-CsXmppAllowedPartner contoso.com } }
            @{ Case = 'Get (all)'; Command = { Get-CsXmppAllowedPartner | Select-Object -First 1 } }
            @{ Case = 'New'; Command = { New-CsXmppAllowedPartner new.example.com } }
            @{ Case = 'New -InMemory'; Command = { New-CsXmppAllowedPartner mem.example.com -InMemory } }
            @{ Case = 'Set -PassThru'; Command = { Set-CsXmppAllowedPartner contoso.com -Description x -PassThru } }
            @{ Case = 'Remove -PassThru'; Command = { Remove-CsXmppAllowedPartner gmail.com -PassThru } }
        ) {
            $p = & $Command
            $p.PSTypeNames[0] | Should -BeExactly $script:LyncTypeName
            $p.PSTypeNames | Should -Contain 'XmppFederation.Native.PartnerData'
            $p | Should -BeOfType ([XmppFederation.Native.PartnerData])
        }

        It 'a partner built in the session carries the same names: they belong to the type, not to the cmdlets'' objects' {
            $built = [XmppFederation.Native.PartnerData]::new()
            @($built.PSTypeNames) | Should -Be @($script:LyncTypeName, 'XmppFederation.Native.PartnerData', 'System.Object')
        }

        It 'shows exactly the properties of the .NET type, each with its type' {
            $p = Get-CsXmppAllowedPartner fabrikam.com
            $expected = [XmppFederation.Native.PartnerData].GetProperties() | Sort-Object Name
            $members = @($p | Get-Member -MemberType Properties | Sort-Object Name)
            $members.Name | Should -Be $expected.Name
            foreach ($property in $expected) {
                ($members | Where-Object Name -EQ $property.Name).Definition | Should -BeLike "$($property.PropertyType.FullName) $($property.Name) {get;set;}"
            }
            $p.PSObject.Properties['AdditionalDomains'].Value | Should -Be @('research.fabrikam2.com', 'eu.fabrikam2.com', 'asia.fabrikam2.com')
        }

        It 'a property is set as PowerShell sets a .NET property: converted to its type, or refused naming it' {
            $p = Get-CsXmppAllowedPartner contoso.com
            $p.ConnectionLimit = '30'
            $p.ConnectionLimit | Should -BeOfType ([uint32])
            $p.ConnectionLimit | Should -Be 30
            $p.partnertype = 'Federated'
            $p.PartnerType | Should -Be ([XmppFederation.Native.PartnerType]::Federated)
            { $p.ConnectionLimit = 'many' } | Should -Throw 'Exception setting "ConnectionLimit": "Cannot convert value "many" to type "System.UInt32"*'
            $p.ConnectionLimit | Should -Be 30
            $p | Set-CsXmppAllowedPartner -Confirm:$false
            (Get-CsXmppAllowedPartner contoso.com).ConnectionLimit | Should -Be 30
            (Get-CsXmppAllowedPartner contoso.com).PartnerType | Should -Be 'Federated'
        }
    }

    Context 'the default table' {
        It 'at <Width> columns: every line fits, the four columns are there, no column is lost or cut' -TestCases @(
            @{ Width = 80 }
            @{ Width = 120 }
        ) {
            $partners = @(Get-CsXmppAllowedPartner)
            $lines = @((Get-CsXmppAllowedPartner | Out-String -Width $Width) -split '\r?\n' | ForEach-Object TrimEnd | Where-Object { $_ })
            $lines | ForEach-Object { $_.Length | Should -BeLessOrEqual $Width -Because "'$_' must fit in $Width columns" }
            $header = $lines[0]
            $header | Should -Match '^Identity\s+PartnerType\s+Negotiation\s+AdditionalDomains$'
            $body = $lines | Select-Object -Skip 2
            $negotiation = $header.IndexOf('Negotiation')
            $domains = $header.IndexOf('AdditionalDomains')
            # Each column, read top to bottom, holds every value whole (long ones wrap, none is cut).
            Get-ColumnText $body 0 $header.IndexOf('PartnerType') | Should -BeExactly (($partners.Identity) -join '')
            Get-ColumnText $body $domains | Should -BeExactly (($partners | ForEach-Object { $_.AdditionalDomains }) -join '')
            $negotiationText = Get-ColumnText $body $negotiation $domains
            foreach ($p in $partners) {
                $negotiationText | Should -BeLike "*TLS: $($p.TlsNegotiation)SASL: $($p.SaslNegotiation)Dialback: $($p.SupportDialbackNegotiation)*"
            }
            # The Negotiation column never wraps a value one letter per line.
            $body | ForEach-Object { $_.Length -le $negotiation -or $_.Substring($negotiation).Trim().Length -ne 1 } | Should -Not -Contain $false
        }

        It 'shows objects read back by Import-Clixml the same way' {
            $file = Join-Path $store.Root 'partners.clixml'
            Get-CsXmppAllowedPartner | Export-Clixml -LiteralPath $file
            (Import-Clixml -LiteralPath $file | Out-String -Width 80) | Should -BeExactly (Get-CsXmppAllowedPartner | Out-String -Width 80)
        }
    }

    Context 'the list view' {
        It 'Format-List shows every property, with each additional domain' {
            $text = Get-CsXmppAllowedPartner fabrikam.com | Format-List | Out-String -Width 120
            $names = (Get-CsXmppAllowedPartner fabrikam.com).PSObject.Properties.Name
            $names.Count | Should -Be 12
            foreach ($name in $names) {
                $text | Should -Match "(?m)^$name\s+:"
            }
            $text | Should -Match '(?m)^AdditionalDomains\s+: research\.fabrikam2\.com\r?$'
            $text | Should -Match '(?m)^\s+eu\.fabrikam2\.com\r?$'
            $text | Should -Match '(?m)^Description\s+: Contact: Ken Myer\r?$'
        }
    }
}

Describe 'Round trips' {
    BeforeEach {
        $store = New-TestStore
        New-SamplePartners
        $original = Get-PartnerText (Get-CsXmppAllowedPartner)
        $file = Join-Path $store.Root 'partners.out'
    }
    AfterEach { Remove-TestStore }

    It 'Export-Csv writes AdditionalDomains as domains separated by ";" and Booleans as True/False' {
        Get-CsXmppAllowedPartner | Export-Csv -LiteralPath $file
        $rows = @(Import-Csv -LiteralPath $file)
        $rows.Count | Should -Be 4
        ($rows | Where-Object Identity -EQ 'fabrikam.com').AdditionalDomains | Should -BeExactly 'research.fabrikam2.com;eu.fabrikam2.com;asia.fabrikam2.com'
        ($rows | Where-Object Identity -EQ 'contoso.com').AdditionalDomains | Should -BeExactly ''
        ($rows | Where-Object Identity -EQ 'gmail.com').EnableKeepAlive | Should -BeExactly 'False'
        Get-Content -LiteralPath $file -Raw | Should -Not -Match 'System\.Collections'
    }

    It 'Import-Csv | New-CsXmppAllowedPartner recreates every partner in another store' {
        Get-CsXmppAllowedPartner | Export-Csv -LiteralPath $file
        $null = New-TestStore
        $created = @(Import-Csv -LiteralPath $file | New-CsXmppAllowedPartner -ErrorVariable ev)
        $ev | Should -BeNullOrEmpty
        $created.Count | Should -Be 4
        Get-PartnerText (Get-CsXmppAllowedPartner) | Should -Be $original
    }

    It 'Import-Csv | New-CsXmppAllowedPartner takes each row''s own values, not the row before''s' {
        Set-Content -LiteralPath $file -Value @(
            'Identity,Description,EnableKeepAlive,AdditionalDomains'
            'one.example.com,first,False,x.example.com;y.example.com'
        )
        $null = New-TestStore
        $null = Import-Csv -LiteralPath $file | New-CsXmppAllowedPartner
        # A second object without those properties gets the defaults.
        $null = [pscustomobject]@{ Identity = 'two.example.com' } | New-CsXmppAllowedPartner
        @([pscustomobject]@{ Identity = 'three.example.com'; Description = 'third' }, [pscustomobject]@{ Identity = 'four.example.com' }) | New-CsXmppAllowedPartner | Out-Null
        $one = Get-CsXmppAllowedPartner one.example.com
        $one.Description | Should -BeExactly 'first'
        $one.EnableKeepAlive | Should -BeFalse
        @($one.AdditionalDomains) | Should -Be @('x.example.com', 'y.example.com')
        (Get-CsXmppAllowedPartner two.example.com).EnableKeepAlive | Should -BeTrue
        (Get-CsXmppAllowedPartner three.example.com).Description | Should -BeExactly 'third'
        (Get-CsXmppAllowedPartner four.example.com).Description | Should -BeExactly ''
    }

    It 'a Boolean parameter takes the text <Text> (as Import-Csv gives it)' -TestCases @(
        @{ Text = 'True'; Expected = $true }
        @{ Text = 'false'; Expected = $false }
        @{ Text = 'FALSE'; Expected = $false }
    ) {
        (New-CsXmppAllowedPartner text.example.com -EnableKeepAlive $Text -SupportDialbackNegotiation $Text -InMemory).EnableKeepAlive | Should -Be $Expected
        (Set-CsXmppAllowedPartner contoso.com -EnableKeepAlive $Text -PassThru).EnableKeepAlive | Should -Be $Expected
    }

    It 'refuses any other text for a Boolean parameter, naming the parameter' {
        $err = { New-CsXmppAllowedPartner text.example.com -EnableKeepAlive 'yes' } | Should -Throw -ErrorId 'ParameterArgumentTransformationError,XmppFederation.Commands.NewCsXmppAllowedPartnerCommand' -PassThru
        $err.Exception.Message | Should -Match 'EnableKeepAlive'
        $err.Exception.Message | Should -Match "'yes' is not a Boolean value"
        Get-CsXmppAllowedPartner text.example.com -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'ConvertTo-Json | ConvertFrom-Json | New-CsXmppAllowedPartner recreates every partner' {
        $json = Get-CsXmppAllowedPartner | ConvertTo-Json
        ($json | ConvertFrom-Json | Where-Object Identity -EQ 'fabrikam.com').AdditionalDomains | Should -Be @('research.fabrikam2.com', 'eu.fabrikam2.com', 'asia.fabrikam2.com')
        $null = New-TestStore
        $null = $json | ConvertFrom-Json | New-CsXmppAllowedPartner -ErrorVariable ev
        $ev | Should -BeNullOrEmpty
        Get-PartnerText (Get-CsXmppAllowedPartner) | Should -Be $original
    }

    It 'Export-Clixml / Import-Clixml keeps every property and the type names' {
        Get-CsXmppAllowedPartner | Export-Clixml -LiteralPath $file
        $back = @(Import-Clixml -LiteralPath $file)
        $back[0].PSTypeNames | Should -Contain "Deserialized.$script:LyncTypeName"
        $back[0].PSTypeNames | Should -Contain 'Deserialized.XmppFederation.Native.PartnerData'
        Get-PartnerText $back | Should -Be $original
    }

    It 'Import-Clixml | Set-CsXmppAllowedPartner writes the objects back; Import-Clixml | New-CsXmppAllowedPartner fills another store' {
        Get-CsXmppAllowedPartner | Export-Clixml -LiteralPath $file
        Import-Clixml -LiteralPath $file | Set-CsXmppAllowedPartner -ErrorVariable ev
        $ev | Should -BeNullOrEmpty
        Get-PartnerText (Get-CsXmppAllowedPartner) | Should -Be $original
        $null = New-TestStore
        $null = Import-Clixml -LiteralPath $file | New-CsXmppAllowedPartner -ErrorVariable ev
        $ev | Should -BeNullOrEmpty
        Get-PartnerText (Get-CsXmppAllowedPartner) | Should -Be $original
    }
}
