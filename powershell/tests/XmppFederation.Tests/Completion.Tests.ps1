# Tab completion in a real pwsh (TabExpansion2, what the console's Tab key calls): -Identity and
# -Filter complete existing identities from the store the session uses; Boolean parameters offer
# $true and $false.
param([string] $ModulePath = (Join-Path $PSScriptRoot '../../../target/XmppFederation/XmppFederation.psd1'))

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module $ModulePath
    Set-TestModulePath $ModulePath

    # The completion texts TabExpansion2 offers with the cursor at the end of $Line.
    function Get-Completion([string] $Line) {
        @((TabExpansion2 -inputScript $Line -cursorColumn $Line.Length).CompletionMatches | ForEach-Object CompletionText)
    }
}

Describe 'Tab completion' {
    BeforeEach {
        $store = New-TestStore
        'contoso.com', 'contoso.net', 'cantoso.com', 'fabrikam.com', 'bücher.example' |
            ForEach-Object { [pscustomobject]@{ Identity = $_ } } | New-CsXmppAllowedPartner -Force | Out-Null
    }
    AfterEach { Remove-TestStore }

    It 'completes <Line> with <Expected>' -TestCases @(
        @{ Line = 'Get-CsXmppAllowedPartner -Identity con'; Expected = @('contoso.com', 'contoso.net') }
        @{ Line = 'Get-CsXmppAllowedPartner con'; Expected = @('contoso.com', 'contoso.net') }
        @{ Line = 'Get-CsXmppAllowedPartner -Identity CONTOSO.N'; Expected = @('contoso.net') }
        @{ Line = 'Get-CsXmppAllowedPartner -Identity c'; Expected = @('cantoso.com', 'contoso.com', 'contoso.net') }
        @{ Line = 'Get-CsXmppAllowedPartner -Identity bü'; Expected = @('bücher.example') }
        @{ Line = 'Get-CsXmppAllowedPartner -Filter fab'; Expected = @('fabrikam.com') }
        @{ Line = 'Set-CsXmppAllowedPartner -Identity fab'; Expected = @('fabrikam.com') }
        @{ Line = 'Set-CsXmppAllowedPartner fab'; Expected = @('fabrikam.com') }
        @{ Line = 'Remove-CsXmppAllowedPartner -Identity cant'; Expected = @('cantoso.com') }
        @{ Line = 'Remove-CsXmppAllowedPartner cant'; Expected = @('cantoso.com') }
        @{ Line = "Get-CsXmppAllowedPartner 'con"; Expected = @("'contoso.com'", "'contoso.net'") }
        @{ Line = 'Remove-CsXmppAllowedPartner -Identity "fa'; Expected = @('"fabrikam.com"') }
    ) {
        Get-Completion $Line | Should -Be $Expected
    }

    It 'offers nothing, and no file names, when no identity begins with the text (<Line>)' -TestCases @(
        @{ Line = 'Get-CsXmppAllowedPartner -Identity zz' }
        @{ Line = 'Get-CsXmppAllowedPartner -Filter *.co' }
    ) {
        # A file whose name begins with the text: PowerShell's fallback would offer it.
        Push-Location $store.Root
        try {
            $null = New-Item -ItemType File -Path (Join-Path $store.Root 'zz-file.txt'), (Join-Path $store.Root '_.co-file.txt')
            Get-Completion $Line | Should -BeNullOrEmpty
        }
        finally {
            Pop-Location
        }
    }

    It 'does not complete -Identity of New (it names a partner that does not exist yet)' {
        Get-Completion 'New-CsXmppAllowedPartner -Identity con' | Should -Not -Contain 'contoso.com'
    }

    It 'follows the session''s $env:XMPPFED_STORE' {
        Get-Completion 'Get-CsXmppAllowedPartner fab' | Should -Be @('fabrikam.com')
        $other = New-TestStore
        $null = New-CsXmppAllowedPartner fabrikam.org
        Get-Completion 'Get-CsXmppAllowedPartner fab' | Should -Be @('fabrikam.org')
    }

    It 'with -LocalStore reads the replica, which answers while the central store is unreachable' {
        $env:XMPPFED_STORE = Join-Path $store.Root 'not-mounted'
        Get-Completion 'Get-CsXmppAllowedPartner -Identity con' | Should -BeNullOrEmpty
        Get-Completion 'Get-CsXmppAllowedPartner -LocalStore -Identity con' | Should -Be @('contoso.com', 'contoso.net')
        Get-Completion 'Get-CsXmppAllowedPartner -LocalStore -Filter fab' | Should -Be @('fabrikam.com')
    }

    It 'offers at most 100 identities, the first ones in order' {
        1..150 | ForEach-Object { [pscustomobject]@{ Identity = 'p{0:d3}.example.org' -f $_ } } | New-CsXmppAllowedPartner -Force | Out-Null
        $offered = Get-Completion 'Get-CsXmppAllowedPartner p'
        $offered.Count | Should -Be 100
        $offered | Should -Be @(1..100 | ForEach-Object { 'p{0:d3}.example.org' -f $_ })
    }

    It 'offers $true and $false for <Parameter> of <Verb>' -TestCases @(
        @{ Verb = 'New'; Parameter = 'SupportDialbackNegotiation' }
        @{ Verb = 'New'; Parameter = 'EnableKeepAlive' }
        @{ Verb = 'Set'; Parameter = 'SupportDialbackNegotiation' }
        @{ Verb = 'Set'; Parameter = 'EnableKeepAlive' }
    ) {
        Get-Completion "$Verb-CsXmppAllowedPartner x.com -$Parameter " | Should -Be @('$true', '$false')
        (Get-Completion "$Verb-CsXmppAllowedPartner x.com -$Parameter `$f")[0] | Should -BeExactly '$false'
    }
}
