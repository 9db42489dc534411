<#
.SYNOPSIS
Runs every *.Tests.ps1 of this folder with Pester against a staged XmppFederation module.

.DESCRIPTION
Prints Pester's normal output, then one line "pester: N passed, M failed" (skipped and not-run
tests, and failed blocks or containers, count as failed). Exits 1 on any failure.

Start it through run.sh next to it: that restores Pester, and runs this script in a pwsh whose
HOME and XDG folders are a temporary sandbox, so that no test can reach the real user's store.
This script refuses to run outside such a sandbox (XMPPFED_TEST_SANDBOX must contain HOME).

.PARAMETER ModulePath
The staged module manifest, e.g. target/XmppFederation/XmppFederation.psd1.

.PARAMETER PesterManifest
Pester.psd1 of Pester 5.7.1 in the NuGet cache (<global-packages>/pester/5.7.1/tools/Pester.psd1).

.PARAMETER Only
Wildcard patterns of test file names to run (e.g. 'Completion*'); default: every *.Tests.ps1.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $PesterManifest,
    [string[]] $Only = @('*')
)

$ErrorActionPreference = 'Stop'

function Stop-Run([string] $Message) {
    [Console]::Error.WriteLine("Invoke-Tests: $Message")
    exit 2
}

$sandbox = $env:XMPPFED_TEST_SANDBOX
if (-not $sandbox -or -not [System.IO.Path]::GetFullPath($HOME).StartsWith([System.IO.Path]::GetFullPath($sandbox) + [System.IO.Path]::DirectorySeparatorChar)) {
    Stop-Run "refusing to run: HOME ($HOME) is not inside a test sandbox (XMPPFED_TEST_SANDBOX); start the tests with run.sh so they cannot touch the real user's store"
}
if ($env:XMPPFED_STORE -or $env:XMPPFED_REPLICA) {
    Stop-Run 'refusing to run: XMPPFED_STORE or XMPPFED_REPLICA is set in the environment'
}

Import-Module $PesterManifest -Force
$pester = Get-Module Pester
if ($pester.Version -ne [version]'5.7.1') {
    Stop-Run "expected Pester 5.7.1, loaded $($pester.Version) from $($pester.Path)"
}
$ModulePath = (Resolve-Path -LiteralPath $ModulePath).ProviderPath

# pwsh -File passes a list as one comma-separated string.
$Only = @($Only | ForEach-Object { $_ -split ',' } | Where-Object { $_ })
$containers = @(Get-ChildItem -LiteralPath $PSScriptRoot -Filter '*.Tests.ps1' | Sort-Object Name |
        Where-Object { $name = $_.Name; @($Only | Where-Object { $name -like $_ }).Count -gt 0 } |
        ForEach-Object { New-PesterContainer -Path $_.FullName -Data @{ ModulePath = $ModulePath } })

$config = New-PesterConfiguration
$config.Run.Container = $containers
$config.Run.PassThru = $true
$config.Output.Verbosity = 'Detailed'
$config.Should.ErrorAction = 'Stop'
# Against a PostgreSQL central store (PESTER_STORE_KIND, see TestHelpers.psm1) the tests of a
# folder's own files (log files, a missing folder) do not apply: they are tagged FolderOnly.
$kind = if ($env:PESTER_STORE_KIND) { $env:PESTER_STORE_KIND } else { 'Folder' }
if ($kind -ne 'Folder') {
    $config.Filter.ExcludeTag = 'FolderOnly'
}

$result = Invoke-Pester -Configuration $config

# Tests left out on purpose (FolderOnly, against another kind of store) are not failures; any
# other test that did not run is.
$excluded = @($result.Tests | Where-Object { $_.Result -eq 'NotRun' -and $kind -ne 'Folder' -and $_.Tag -contains 'FolderOnly' }).Count
$failed = $result.FailedCount + $result.SkippedCount + $result.NotRunCount - $excluded + $result.InconclusiveCount +
    $result.FailedBlocksCount + $result.FailedContainersCount
"pester: central store kind $kind$(if ($excluded) { "; $excluded FolderOnly test(s) left out" })"

if ($result.TotalCount -eq 0) {
    # A suite that ran nothing proves nothing.
    $failed += 1
}
"pester: $($result.PassedCount) passed, $failed failed"
if ($failed -ne 0) {
    exit 1
}
exit 0
