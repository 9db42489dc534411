# Export-CsXmppAllowedPartner in a real pwsh, on a fresh temporary store per test: the list as JSON
# or CSV text, to the pipeline or to a file (PowerShell paths, the format from the extension, UTF-8
# without a byte-order mark, -NoClobber, -Force, -WhatIf), stable from one export to the next.
param([string] $ModulePath = (Join-Path $PSScriptRoot '../../../target/XmppFederation/XmppFederation.psd1'))

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module $ModulePath
    Set-TestModulePath $ModulePath
    $PSDefaultParameterValues = @{ '*-CsXmppAllowedPartner:WarningAction' = 'SilentlyContinue' }
}

Describe 'Export-CsXmppAllowedPartner' {
    BeforeEach {
        $store = New-TestStore
        $null = New-CsXmppAllowedPartner fabrikam.com -AdditionalDomains research.fabrikam2.com, eu.fabrikam2.com -Description 'Contact: Ken Myer, "sales"'
        $null = New-CsXmppAllowedPartner contoso.com -PartnerType PublicVerified
        $null = New-CsXmppAllowedPartner jabber.org -TlsNegotiation NotSupported -SaslNegotiation NotSupported -ConnectionLimit 5
        $null = New-CsXmppAllowedPartner 'bücher.example' -ProxyFqdn proxy.bücher.example
        $work = Join-Path $store.Root 'work'
        $null = New-Item -ItemType Directory -Path $work
        Push-Location $work
    }
    AfterEach {
        Pop-Location
        Remove-TestStore
    }

    Context 'to the pipeline' {
        It 'writes one string: a JSON array, one partner per line, sorted, every property but Revision' {
            $out = @(Export-CsXmppAllowedPartner)
            $out.Count | Should -Be 1
            $out[0] | Should -BeOfType ([string])
            $lines = @($out[0] -split '\n' | Where-Object { $_ })
            $lines[0] | Should -BeExactly '['
            $lines[-1] | Should -BeExactly ']'
            $lines.Count | Should -Be 6
            $lines[1] | Should -BeLike '  {"Identity":"bücher.example","Domain":"bücher.example","AdditionalDomains":`[`],*'
            $out[0] | Should -Not -Match 'Revision'
            $parsed = $out[0] | ConvertFrom-Json
            $parsed.Identity | Should -Be @('bücher.example', 'contoso.com', 'fabrikam.com', 'jabber.org')
            Get-PartnerText $parsed | Should -Be (Get-PartnerText (Get-CsXmppAllowedPartner))
        }

        It '-Format Csv writes a header row and one row per partner, AdditionalDomains as a;b' {
            $text = Export-CsXmppAllowedPartner -Format Csv
            $rows = @($text | ConvertFrom-Csv)
            $rows.Identity | Should -Be @('bücher.example', 'contoso.com', 'fabrikam.com', 'jabber.org')
            ($rows | Where-Object Identity -EQ 'fabrikam.com').AdditionalDomains | Should -BeExactly 'research.fabrikam2.com;eu.fabrikam2.com'
            ($rows | Where-Object Identity -EQ 'fabrikam.com').Description | Should -BeExactly 'Contact: Ken Myer, "sales"'
            @($rows[0].PSObject.Properties.Name) | Should -Be @('Identity', 'Domain', 'AdditionalDomains', 'Description', 'ProxyFqdn', 'PartnerType',
                'TlsNegotiation', 'SaslNegotiation', 'SupportDialbackNegotiation', 'EnableKeepAlive', 'ConnectionLimit')
        }

        It 'is the same text for the same list: a write that changes nothing, or changes and undoes, leaves it as it was' {
            $before = Export-CsXmppAllowedPartner
            Set-CsXmppAllowedPartner contoso.com -ConnectionLimit 99
            Set-CsXmppAllowedPartner contoso.com -ConnectionLimit 20
            Export-CsXmppAllowedPartner | Should -BeExactly $before
            (Get-CsXmppAllowedPartner contoso.com).Revision | Should -Be 6
        }

        It '-Filter exports the partners a wildcard selects' {
            (Export-CsXmppAllowedPartner -Filter '*.org' | ConvertFrom-Json).Identity | Should -Be @('jabber.org')
            @(Export-CsXmppAllowedPartner -Filter 'none*' | ConvertFrom-Json).Count | Should -Be 0
        }

        It 'an empty list is an empty array, or the header row alone' {
            $null = New-TestStore
            (Export-CsXmppAllowedPartner).Trim() | Should -BeExactly '[]'
            (Export-CsXmppAllowedPartner -Format Csv).Trim() | Should -BeExactly 'Identity,Domain,AdditionalDomains,Description,ProxyFqdn,PartnerType,TlsNegotiation,SaslNegotiation,SupportDialbackNegotiation,EnableKeepAlive,ConnectionLimit'
        }

        It '-LocalStore reads this machine''s replica, which has not seen another machine''s change yet' {
            $env:XMPPFED_REPLICA = Join-Path $store.Root 'other-machine-replica'
            $null = New-CsXmppAllowedPartner other-machine.example.com
            $env:XMPPFED_REPLICA = $store.Replica
            (Export-CsXmppAllowedPartner | ConvertFrom-Json).Identity | Should -Contain 'other-machine.example.com'
            (Export-CsXmppAllowedPartner -LocalStore | ConvertFrom-Json).Identity | Should -Not -Contain 'other-machine.example.com'
        }

        It 'changes nothing in the store or the replica' {
            $central = Get-LogHash $store.Central
            $replica = Get-LogHash $store.Replica
            $null = Export-CsXmppAllowedPartner
            Export-CsXmppAllowedPartner -Path (Join-Path $work 'p.json')
            Get-LogHash $store.Central | Should -BeExactly $central
            Get-LogHash $store.Replica | Should -BeExactly $replica
        }
    }

    Context 'to a file' {
        It 'writes the text to -Path, relative to the current location (not the process''s), and nothing to the pipeline' {
            [Environment]::CurrentDirectory | Should -Not -Be $work
            $out = Export-CsXmppAllowedPartner -Path partners.json
            $out | Should -BeNullOrEmpty
            Join-Path $work 'partners.json' | Should -Exist
            Join-Path ([Environment]::CurrentDirectory) 'partners.json' | Should -Not -Exist
            Get-Content -Raw -LiteralPath (Join-Path $work 'partners.json') | Should -BeExactly (Export-CsXmppAllowedPartner)
        }

        It 'takes the format from -Format, else from the extension (<Name>: <Expected>)' -TestCases @(
            @{ Name = 'p.csv'; Format = $null; Expected = 'Csv' }
            @{ Name = 'P.CSV'; Format = $null; Expected = 'Csv' }
            @{ Name = 'p.json'; Format = $null; Expected = 'Json' }
            @{ Name = 'p.txt'; Format = $null; Expected = 'Json' }
            @{ Name = 'p'; Format = $null; Expected = 'Json' }
            @{ Name = 'p.json'; Format = 'Csv'; Expected = 'Csv' }
            @{ Name = 'p.csv'; Format = 'Json'; Expected = 'Json' }
        ) {
            $arguments = @{ Path = $Name }
            if ($Format) { $arguments.Format = $Format }
            Export-CsXmppAllowedPartner @arguments
            Get-Content -Raw -LiteralPath (Join-Path $work $Name) | Should -BeExactly (Export-CsXmppAllowedPartner -Format $Expected)
        }

        It 'writes UTF-8 without a byte-order mark' {
            Export-CsXmppAllowedPartner -Path p.json
            Export-CsXmppAllowedPartner -Path p.csv
            foreach ($name in 'p.json', 'p.csv') {
                $bytes = [System.IO.File]::ReadAllBytes((Join-Path $work $name))
                $bytes[0] | Should -Not -Be 0xEF -Because "$name has no byte-order mark"
                [System.Text.Encoding]::UTF8.GetString($bytes) | Should -BeLike '*bücher.example*'
            }
        }

        It 'replaces an existing file; -NoClobber leaves it and says so (NoClobber)' {
            Set-Content -LiteralPath (Join-Path $work 'p.json') -Value 'old'
            Export-CsXmppAllowedPartner -Path p.json -NoClobber -ErrorVariable ev -ErrorAction SilentlyContinue
            Assert-XmppError $ev -Id NoClobber -Verb Export -Category ResourceExists -Target (Join-Path $work 'p.json')
            $ev[0].Exception.Message | Should -BeLike '*already exists*-NoClobber*'
            (Get-Content -LiteralPath (Join-Path $work 'p.json')) | Should -BeExactly 'old'
            Export-CsXmppAllowedPartner -Path p.json
            (Get-Content -Raw -LiteralPath (Join-Path $work 'p.json')) | Should -BeExactly (Export-CsXmppAllowedPartner)
        }

        It 'replaces a read-only file only with -Force (FileWriteError without)' -Tag 'FolderOnly' {
            $file = Join-Path $work 'p.json'
            Set-Content -LiteralPath $file -Value 'old'
            Set-ItemProperty -LiteralPath $file -Name IsReadOnly -Value $true
            # (root writes a read-only file anyway, on Linux and under Wine, which maps the
            # attribute to the file's mode bits: there only -Force's path is checked.)
            if ([Environment]::UserName -ne 'root') {
                Export-CsXmppAllowedPartner -Path p.json -ErrorVariable ev -ErrorAction SilentlyContinue
                Assert-XmppError $ev -Id FileWriteError -Verb Export -Category WriteError -Target $file
                Get-Content -LiteralPath $file | Should -BeExactly 'old'
            }
            Export-CsXmppAllowedPartner -Path p.json -Force
            Get-Content -Raw -LiteralPath $file | Should -BeExactly (Export-CsXmppAllowedPartner)
        }

        It '-WhatIf prints one "What if:" line naming the file and writes nothing' {
            $child = Invoke-ChildPwsh -Store $store -Script @'
$out = Export-CsXmppAllowedPartner -Path partners.csv -WhatIf -ErrorVariable ev
"OUTPUT=$(@($out).Count)"
"EXISTS=$(Test-Path partners.csv)"
Show-Errors $ev
'@
            $child.WhatIf.Count | Should -Be 1 -Because $child.Output
            $child.WhatIf[0] | Should -BeLike "*Export XMPP allowed partners (Csv)*$(Join-Path $store.Root 'partners.csv')*"
            $child.Lines | Should -Contain 'OUTPUT=0'
            $child.Lines | Should -Contain 'EXISTS=False'
            $child.ErrorLines | Should -BeNullOrEmpty
        }
    }

    Context 'errors' {
        It 'a malformed -Filter is InvalidFilter, and no file is written' {
            Export-CsXmppAllowedPartner -Path p.json -Filter '[abc' -ErrorVariable ev -ErrorAction SilentlyContinue
            Assert-XmppError $ev -Id InvalidFilter -Verb Export -Category InvalidArgument -Target (Join-Path $work 'p.json')
            $ev[0].Exception.Message | Should -BeLike "invalid filter '``[abc'*"
            Join-Path $work 'p.json' | Should -Not -Exist
        }

        It 'a path of another provider is InvalidPath, naming the provider' {
            { Export-CsXmppAllowedPartner -Path 'Env:XMPPFED_EXPORT' } | Should -Throw -ErrorId 'InvalidPath,XmppFederation.Commands.ExportCsXmppAllowedPartnerCommand'
            try { Export-CsXmppAllowedPartner -Path 'Env:XMPPFED_EXPORT' } catch { $_.Exception.Message | Should -BeLike '*Environment provider*file system path*' }
        }

        It 'a folder that does not exist is FileWriteError, naming the file' {
            $file = Join-Path $work 'no-such-folder/p.json'
            Export-CsXmppAllowedPartner -Path $file -ErrorVariable ev -ErrorAction SilentlyContinue
            Assert-XmppError $ev -Id FileWriteError -Verb Export -Category WriteError -Target $file
        }

        It 'an unknown -Format is refused at binding, listing the formats' {
            { Export-CsXmppAllowedPartner -Format Xml } | Should -Throw -ErrorId 'CannotConvertArgumentNoMessage,XmppFederation.Commands.ExportCsXmppAllowedPartnerCommand'
            try { Export-CsXmppAllowedPartner -Format Xml } catch { $_.Exception.Message | Should -BeLike '*Json*Csv*' }
        }
    }

    Context 'declared' {
        It 'supports -WhatIf and -Confirm with a medium confirm impact, and writes strings' {
            $command = Get-Command Export-CsXmppAllowedPartner
            $command.Parameters.Keys | Should -Contain 'WhatIf'
            $attribute = $command.ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0]
            $attribute.ConfirmImpact | Should -Be ([System.Management.Automation.ConfirmImpact]::Medium)
            $command.OutputType.Type | Should -Be ([string])
        }

        It '-Filter completes the identities of partners' {
            $line = 'Export-CsXmppAllowedPartner -Filter con'
            @((TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText) | Should -Be @('contoso.com')
        }
    }
}
