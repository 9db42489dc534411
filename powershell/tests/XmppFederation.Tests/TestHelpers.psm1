# Shared by the *.Tests.ps1 files of this folder (the layout of PowerShell/PowerShell's own
# test/powershell/Modules tests): temporary stores, the store log's fingerprint, and a child pwsh
# whose whole console output can be read (ShouldProcess's "What if:" lines go to the host, not to a
# stream that Pester can capture).
#
# These helpers never call the module's cmdlets themselves (the tests do, so that every call the
# tests make is visible in the test), but for Remove-StoreFolder on Windows, which has the session
# let go of its store first.

Set-StrictMode -Version 3.0

$script:ModulePath = $null
$script:StoreRoots = [System.Collections.Generic.List[string]]::new()
$script:Schemas = [System.Collections.Generic.List[string]]::new()
# The kind of central store New-TestStore makes: Folder, or PostgreSQL (run.sh passes
# PESTER_STORE_KIND, and the throwaway cluster's connection string as PESTER_POSTGRES).
$script:StoreKind = if ($env:PESTER_STORE_KIND) { $env:PESTER_STORE_KIND } else { 'Folder' }
if ($script:StoreKind -notin 'Folder', 'PostgreSQL') {
    throw "PESTER_STORE_KIND must be Folder or PostgreSQL, not '$script:StoreKind'"
}

function Get-TestStoreKind {
    <# The kind of central store this run's tests use: Folder or PostgreSQL. #>
    $script:StoreKind
}

function Get-TestPostgresServer {
    <# The test cluster's connection string (a libpq keyword list), or $null if this run has none. #>
    if ($env:PESTER_POSTGRES) { $env:PESTER_POSTGRES } else { $null }
}

function Invoke-TestPsql {
    <# Runs one SQL statement with psql as the test cluster's owner; returns its rows (unaligned, tuples only). #>
    param([Parameter(Mandatory)] [string] $ConnectionString, [Parameter(Mandatory)] [string] $Sql)
    $rows = & psql -X -q -A -t -v ON_ERROR_STOP=1 $ConnectionString -c $Sql 2>&1
    if ($LASTEXITCODE -ne 0) {
        throw "psql failed ($Sql): $rows"
    }
    $rows
}

function New-TestPostgresStore {
    <#
    A connection string to a fresh, empty schema of the test cluster (its own search_path), so
    that each test has a database store of its own at the cost of one CREATE SCHEMA.
    #>
    $server = Get-TestPostgresServer
    if (-not $server) {
        throw 'PESTER_POSTGRES is not set: run the suite through scripts/test.sh, or start a cluster with scripts/postgres.sh and pass XMPPFED_TEST_POSTGRES to run.sh'
    }
    $schema = 'pester_' + [guid]::NewGuid().ToString('N').Substring(0, 16)
    $null = Invoke-TestPsql $server "CREATE SCHEMA $schema"
    $script:Schemas.Add($schema)
    "$server options='-c search_path=$schema'"
}

function Set-TestModulePath {
    <# The staged module manifest that child sessions import. #>
    param([Parameter(Mandatory)] [string] $Path)
    $script:ModulePath = (Resolve-Path -LiteralPath $Path).ProviderPath
}

function New-TestStore {
    <#
    A fresh, empty central store folder and replica folder under the temporary folder. Unless
    -NoSessionVariables, it points $env:XMPPFED_STORE and $env:XMPPFED_REPLICA at them inside this
    session, the way a user would. -CentralMissing names a central folder that does not exist;
    -ReplicaMissing names a replica folder that does not exist (a machine with no replica yet).
    -Kind PostgreSQL (the default when the run's PESTER_STORE_KIND says so) makes the central store
    a fresh schema of the test cluster instead of a folder: Central is then its connection string.
    #>
    param([switch] $NoSessionVariables, [switch] $CentralMissing, [switch] $ReplicaMissing,
        [ValidateSet('Folder', 'PostgreSQL')] [string] $Kind = $script:StoreKind)
    $root = Join-Path ([System.IO.Path]::GetTempPath()) ("xmppfed-pester-" + [guid]::NewGuid().ToString('N').Substring(0, 12))
    $central = Join-Path $root 'central'
    $replica = Join-Path $root 'replica'
    $null = New-Item -ItemType Directory -Path $root
    if (-not $ReplicaMissing) {
        $null = New-Item -ItemType Directory -Path $replica
    }
    $script:StoreRoots.Add($root)
    if ($Kind -eq 'PostgreSQL') {
        # A fresh schema: the central store; Log names no file (a database has none).
        if ($CentralMissing) {
            throw '-CentralMissing is a folder store''s case'
        }
        $central = New-TestPostgresStore
    }
    elseif (-not $CentralMissing) {
        $null = New-Item -ItemType Directory -Path $central
    }
    $store = [pscustomobject]@{
        Root    = $root
        Central = $central
        Replica = $replica
        Log     = if ($Kind -eq 'Folder') { Join-Path $central 'partners.1.log' } else { $null }   # the first generation of the store's log
        Kind    = $Kind
    }
    if (-not $NoSessionVariables) {
        $env:XMPPFED_STORE = $central
        $env:XMPPFED_REPLICA = $replica
    }
    $store
}

function Get-TestStoreDisplay {
    <#
    How the library names -Store's central store in messages: a folder's full path, or a database
    as postgresql://user@host:port/dbname (never with its password).
    #>
    param([Parameter(Mandatory)] [pscustomobject] $Store)
    if ($Store.Kind -eq 'Folder') {
        return (Resolve-Path -LiteralPath $Store.Central).ProviderPath
    }
    $keywords = @{}
    foreach ($m in [regex]::Matches($Store.Central, "(\w+)=('[^']*'|\S+)")) {
        $keywords[$m.Groups[1].Value] = $m.Groups[2].Value   # a later keyword wins, as in libpq
    }
    "postgresql://$($keywords.user)@$($keywords.host):$($keywords.port)/$($keywords.dbname)"
}

function Get-OtherMachineStore {
    <#
    The same central store as another machine sees it: -Store's central folder with a replica
    folder of its own (<root>/<Name>-replica, not created: the library makes it on the first
    commit), for Invoke-ChildPwsh. A commit made there does not touch -Store's replica.
    #>
    param([Parameter(Mandatory)] [pscustomobject] $Store, [string] $Name = 'other-machine')
    [pscustomobject]@{
        Root    = $Store.Root
        Central = $Store.Central
        Replica = Join-Path $Store.Root "$Name-replica"
        Log     = $Store.Log
    }
}

function Get-LogFile {
    <#
    The store log files (partners.<generation>.log, and a version-1 partners.log) in a folder, or
    under it with -Recurse. Matched by name here, not with -Filter: Wine's file-name wildcards do not
    match 'partners.*.log', so on Windows semantics a -Filter would silently find nothing.
    #>
    param([Parameter(Mandatory)] [string] $Folder, [switch] $Recurse)
    Get-ChildItem -LiteralPath $Folder -File -Recurse:$Recurse -ErrorAction SilentlyContinue |
        Where-Object { $_.Name -match '^partners(\.[1-9]\d*)?\.log$' }
}

function Get-CurrentLogFile {
    <# The newest generation's log file (partners.<n>.log with the highest n) of a store or replica folder, or $null. #>
    param([Parameter(Mandatory)] [string] $Folder)
    Get-LogFile $Folder |
        Where-Object { $_.Name -match '^partners\.(\d+)\.log$' } |
        Sort-Object { [long]($_.Name -replace '^partners\.(\d+)\.log$', '$1') } |
        Select-Object -Last 1
}

function Remove-StoreFolder {
    <#
    Deletes a store's central or replica folder, the way a share that goes away or a folder an
    admin deletes does. On Linux the session's open store goes on holding its files. On Windows a
    file that is open cannot leave its folder (Wine, like SMB shares and FAT, keeps it "delete
    pending", still readable and writable, and Wine cannot report that state), so there the session
    first lets go of its store: its handle is replaced by one on a scratch folder and collected.
    The next cmdlet opens the store again, as a new command in a long-lived session does.
    #>
    param([Parameter(Mandatory)] [string] $Path)
    if ($IsWindows) {
        $saved = $env:XMPPFED_STORE, $env:XMPPFED_REPLICA
        $scratch = Join-Path ([System.IO.Path]::GetTempPath()) ("xmppfed-pester-scratch-" + [guid]::NewGuid().ToString('N').Substring(0, 12))
        $env:XMPPFED_STORE = Join-Path $scratch 'central'
        $env:XMPPFED_REPLICA = Join-Path $scratch 'replica'
        $null = New-Item -ItemType Directory -Path $env:XMPPFED_STORE
        $null = Get-CsXmppAllowedPartnerReplicationStatus -ErrorAction SilentlyContinue
        [GC]::Collect()
        [GC]::WaitForPendingFinalizers()
        [GC]::Collect()
        $env:XMPPFED_STORE, $env:XMPPFED_REPLICA = $saved
        $script:StoreRoots.Add($scratch)
    }
    Remove-Item -LiteralPath $Path -Recurse -Force
}

function Remove-TestStore {
    <# Deletes every folder New-TestStore made and clears the session's store variables. #>
    foreach ($root in $script:StoreRoots) {
        if (Test-Path -LiteralPath $root) {
            if ($IsWindows) {
                # The module keeps the session's store open between cmdlets, and a Windows file
                # that is open cannot leave its folder (where deletes are not POSIX-style: SMB
                # shares, FAT, Wine): such folders stay in the temporary folder (under run-windows.sh
                # a fresh Wine prefix, removed after the run).
                Remove-Item -LiteralPath $root -Recurse -Force -ErrorAction SilentlyContinue
            }
            else {
                Remove-Item -LiteralPath $root -Recurse -Force
            }
        }
    }
    $script:StoreRoots.Clear()
    foreach ($schema in $script:Schemas) {
        $null = Invoke-TestPsql (Get-TestPostgresServer) "DROP SCHEMA IF EXISTS $schema CASCADE"
    }
    $script:Schemas.Clear()
    Remove-Item Env:XMPPFED_STORE, Env:XMPPFED_REPLICA -ErrorAction SilentlyContinue
}

function Get-LogHash {
    <#
    The names and SHA-256 of a store folder's log files (partners.<generation>.log), or
    '<no partners.log>' when there is none: equal values before and after a command mean it did
    not touch the store. For a PostgreSQL store (-Folder is its connection string) the same for
    its log table: every commit's number and the MD5 of its change, or '<no partners.log>' when
    it has no commit (or no schema).
    #>
    param([Parameter(Mandatory)] [string] $Folder)
    if ($Folder -like 'host=*') {
        if ((Invoke-TestPsql $Folder "SELECT to_regclass('xmppfed_log') IS NULL") -eq 't') {
            return '<no partners.log>'
        }
        $log = Invoke-TestPsql $Folder "SELECT coalesce(string_agg(seq || '=' || md5(change::text), ',' ORDER BY seq), '') FROM xmppfed_log"
        if (-not $log) {
            return '<no partners.log>'
        }
        return "xmppfed_log: $log"
    }
    $logs = @(Get-LogFile $Folder | Sort-Object Name)
    if ($logs.Count -eq 0) {
        return '<no partners.log>'
    }
    ($logs | ForEach-Object { "$($_.Name)=$((Get-FileHash -LiteralPath $_.FullName -Algorithm SHA256).Hash)" }) -join "`n"
}

function Get-PartnerText {
    <#
    Partners' properties as comparable text, one line per partner sorted by Identity (Revision
    aside: a copy, an import or a round trip is a new commit).
    #>
    param([object[]] $Partners)
    @($Partners | Sort-Object Identity | ForEach-Object {
            "$($_.Identity)|$($_.Domain)|$(@($_.AdditionalDomains) -join ',')|$($_.Description)|$($_.ProxyFqdn)|" +
            "$([string]$_.PartnerType)|$([string]$_.TlsNegotiation)|$([string]$_.SaslNegotiation)|" +
            "$($_.SupportDialbackNegotiation)|$($_.EnableKeepAlive)|$($_.ConnectionLimit)"
        })
}

function Get-CopyHash {
    <#
    The SHA-256 of a folder's newest log file, whatever its name: a replica is a byte-for-byte
    copy of the central generation, but its files are numbered by a local counter (a repaired copy
    is written under the next number). '<no partners.log>' when there is none.
    #>
    param([Parameter(Mandatory)] [string] $Folder)
    $log = Get-CurrentLogFile $Folder
    if (-not $log) {
        return '<no partners.log>'
    }
    (Get-FileHash -LiteralPath $log.FullName -Algorithm SHA256).Hash
}

function Get-DefaultStoreRoot {
    <#
    The per-user data folders the library uses when no store is named: <XDG data home>/xmppfed on
    Linux; on Windows %APPDATA%\xmppfed (the store) and %LOCALAPPDATA%\xmppfed (the replicas).
    #>
    if ($IsWindows) {
        return @((Join-Path $env:APPDATA 'xmppfed'), (Join-Path $env:LOCALAPPDATA 'xmppfed'))
    }
    $dataHome = if ($env:XDG_DATA_HOME) { $env:XDG_DATA_HOME } else { Join-Path $HOME '.local/share' }
    Join-Path $dataHome 'xmppfed'
}

function Get-DefaultStoreFingerprint {
    <#
    Every partners.log under the default data folders with its hash, as one string: equal values
    before and after a command mean it wrote nothing to the default store or its replicas.
    #>
    $roots = @(Get-DefaultStoreRoot | Where-Object { Test-Path -LiteralPath $_ })
    if ($roots.Count -eq 0) {
        return '<no default store folder>'
    }
    $logs = @($roots | ForEach-Object { Get-LogFile $_ -Recurse } | Sort-Object FullName)
    if ($logs.Count -eq 0) {
        return '<no partners.log in the default store folder>'
    }
    ($logs | ForEach-Object { "$($_.FullName)=$((Get-FileHash -LiteralPath $_.FullName -Algorithm SHA256).Hash)" }) -join "`n"
}

function Get-ChildPwshCommand {
    <# The program and leading arguments that start this same PowerShell (pwsh or dotnet pwsh.dll). #>
    $process = [Environment]::ProcessPath
    if ([System.IO.Path]::GetFileNameWithoutExtension($process) -eq 'dotnet') {
        # Run as a .NET tool (`dotnet tool run pwsh`): the host is dotnet, PowerShell is pwsh.dll.
        , @($process, (Join-Path $PSHOME 'pwsh.dll'))
    }
    else {
        , @($process)
    }
}

function Invoke-ChildPwsh {
    <#
    Runs -Script in a new, non-interactive pwsh that imports the staged module and, like a user,
    sets $env:XMPPFED_STORE and $env:XMPPFED_REPLICA to -Store's folders inside its session (they
    are removed from the child's process environment). Returns ExitCode, Output (stdout: the
    host's whole console output, including "What if:" lines), Errors (stderr), Lines (stdout
    lines), WhatIf (the "What if:" lines) and ErrorLines (what the child's Show-Errors printed,
    without the "ERROR " prefix). With -NoImport the child does not import the module: the
    script finds it (or not) as PowerShell does, through $env:PSModulePath.
    #>
    param(
        [Parameter(Mandatory)] [pscustomobject] $Store,
        [Parameter(Mandatory)] [string] $Script,
        [int] $TimeoutSeconds = 120,
        [switch] $NoImport
    )
    if (-not $script:ModulePath) {
        throw 'Set-TestModulePath was not called'
    }
    $quote = { param($s) "'" + ($s -replace "'", "''") + "'" }
    $preamble = @(
        '$ErrorActionPreference = ''Continue'''
        '$PSStyle.OutputRendering = ''PlainText'''
        "`$env:XMPPFED_STORE = $(& $quote $Store.Central)"
        "`$env:XMPPFED_REPLICA = $(& $quote $Store.Replica)"
        $(if (-not $NoImport) { "Import-Module $(& $quote $script:ModulePath) -ErrorAction Stop" })
        # Prints each error as "ERROR <FullyQualifiedErrorId>|<Category>|<TargetObject>".
        'function Show-Errors($records) { foreach ($r in $records) { "ERROR $($r.FullyQualifiedErrorId)|$($r.CategoryInfo.Category)|$($r.TargetObject)" } }'
    ) -join "`n"
    $encoded = [Convert]::ToBase64String([System.Text.Encoding]::Unicode.GetBytes($preamble + "`n" + $Script))

    $command = Get-ChildPwshCommand
    $start = [System.Diagnostics.ProcessStartInfo]::new($command[0])
    foreach ($argument in @($command | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-OutputFormat', 'Text', '-EncodedCommand', $encoded)) {
        $start.ArgumentList.Add($argument)
    }
    $start.UseShellExecute = $false
    $start.RedirectStandardInput = $true
    $start.RedirectStandardOutput = $true
    $start.RedirectStandardError = $true
    $start.WorkingDirectory = $Store.Root
    # Only the child's own session names the store, as when a user types it.
    [void] $start.Environment.Remove('XMPPFED_STORE')
    [void] $start.Environment.Remove('XMPPFED_REPLICA')
    $start.Environment['NO_COLOR'] = '1'

    # Under Wine, starting a process now and then fails with "Internal error" before the child
    # runs any code (seen once in this session's runs): the start is tried again, never the
    # child's work, so a failure of the module still fails the test.
    $process = $null
    for ($attempt = 1; -not $process; $attempt++) {
        try {
            $process = [System.Diagnostics.Process]::Start($start)
        }
        catch [System.ComponentModel.Win32Exception] {
            if (-not $IsWindows -or $attempt -ge 3) {
                throw
            }
            Start-Sleep -Milliseconds 200
        }
    }
    try {
        $process.StandardInput.Close()
        $stdout = $process.StandardOutput.ReadToEndAsync()
        $stderr = $process.StandardError.ReadToEndAsync()
        if (-not $process.WaitForExit($TimeoutSeconds * 1000)) {
            $process.Kill($true)
            throw "child pwsh did not finish within $TimeoutSeconds s (a prompt?)"
        }
        $process.WaitForExit()
        $output = $stdout.GetAwaiter().GetResult()
        $lines = @($output -split '\r?\n')
        [pscustomobject]@{
            ExitCode = $process.ExitCode
            Output   = $output
            Errors   = $stderr.GetAwaiter().GetResult()
            Lines    = $lines
            WhatIf   = @($lines | Where-Object { $_ -like 'What if:*' })
            ErrorLines = @($lines | Where-Object { $_ -like 'ERROR *' } | ForEach-Object { $_.Substring(6) })
        }
    }
    finally {
        $process.Dispose()
    }
}

function Assert-XmppError {
    <#
    -Errors holds exactly one error record, a cmdlet's error with the library's stable id:
    FullyQualifiedErrorId "<Id>,XmppFederation.Commands.<Verb><Noun>Command" (the noun is
    CsXmppAllowedPartner unless -Noun names another), the given category and target object.
    #>
    param(
        [AllowNull()] [AllowEmptyCollection()] [object[]] $Errors,
        [Parameter(Mandatory)] [string] $Id,
        [Parameter(Mandatory)] [ValidateSet('New', 'Get', 'Set', 'Remove', 'Invoke', 'Initialize', 'Test', 'Export', 'Import')] [string] $Verb,
        [ValidateSet('CsXmppAllowedPartner', 'CsXmppAllowedPartnerReplication', 'CsXmppAllowedPartnerReplicationStatus', 'CsXmppAllowedPartnerStore', 'CsXmppAllowedPartnerHistory')] [string] $Noun = 'CsXmppAllowedPartner',
        [Parameter(Mandatory)] [System.Management.Automation.ErrorCategory] $Category,
        [Parameter(Mandatory)] [AllowEmptyString()] [string] $Target
    )
    @($Errors).Count | Should -Be 1 -Because "exactly one error was expected, got: $(@($Errors) -join ' / ')"
    $record = @($Errors)[0]
    $record | Should -BeOfType System.Management.Automation.ErrorRecord
    $record.FullyQualifiedErrorId | Should -BeExactly "$Id,XmppFederation.Commands.${Verb}${Noun}Command"
    $record.CategoryInfo.Category | Should -Be $Category
    "$($record.TargetObject)" | Should -BeExactly $Target
}

function Invoke-WithPromptHost {
    <#
    Runs -Script in a new runspace of this process whose host answers every confirmation prompt
    (ShouldProcess with -Confirm, ShouldContinue) with the choice numbered -Answer (0: Yes), as an
    admin at a console would, after running -OnPrompt in another new runspace: what another admin
    does while this one reads the prompt. Both runspaces import the staged module and use the
    store the session's $env:XMPPFED_STORE and $env:XMPPFED_REPLICA name (they are process-wide).
    Returns Output (the script's output), Errors (its error records), Prompts (each prompt's
    caption and message, as "caption|message") and PromptErrors (errors of -OnPrompt).
    #>
    param(
        [Parameter(Mandatory)] [string] $Script,
        [string] $OnPrompt = '',
        [int] $Answer = 0
    )
    if (-not $script:ModulePath) {
        throw 'Set-TestModulePath was not called'
    }
    if (-not ('XmppFederationTests.PromptHost' -as [type])) {
        Add-Type -TypeDefinition @"
using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Management.Automation.Runspaces;
using System.Security;

namespace XmppFederationTests
{
    public sealed class PromptHost : PSHost
    {
        private readonly PromptUI ui;
        public PromptHost(string onPrompt, int answer) { ui = new PromptUI(onPrompt, answer); }
        public List<string> Prompts { get { return ui.Prompts; } }
        public List<string> PromptErrors { get { return ui.PromptErrors; } }
        public override string Name { get { return "XmppFederationTestsPromptHost"; } }
        public override Version Version { get { return new Version(1, 0); } }
        public override Guid InstanceId { get; } = Guid.NewGuid();
        public override PSHostUserInterface UI { get { return ui; } }
        public override CultureInfo CurrentCulture { get { return CultureInfo.InvariantCulture; } }
        public override CultureInfo CurrentUICulture { get { return CultureInfo.InvariantCulture; } }
        public override void SetShouldExit(int exitCode) { }
        public override void EnterNestedPrompt() { throw new NotSupportedException(); }
        public override void ExitNestedPrompt() { throw new NotSupportedException(); }
        public override void NotifyBeginApplication() { }
        public override void NotifyEndApplication() { }
    }

    public sealed class PromptUI : PSHostUserInterface
    {
        private readonly string onPrompt;
        private readonly int answer;
        public PromptUI(string onPrompt, int answer) { this.onPrompt = onPrompt; this.answer = answer; }
        public List<string> Prompts { get; } = new List<string>();
        public List<string> PromptErrors { get; } = new List<string>();
        public override PSHostRawUserInterface RawUI { get { return null; } }
        public override int PromptForChoice(string caption, string message, Collection<ChoiceDescription> choices, int defaultChoice)
        {
            Prompts.Add(caption + "|" + message);
            if (!string.IsNullOrEmpty(onPrompt))
            {
                using (var ps = PowerShell.Create(RunspaceMode.NewRunspace))
                {
                    ps.AddScript(onPrompt).Invoke();
                    foreach (var e in ps.Streams.Error) { PromptErrors.Add(e.FullyQualifiedErrorId + ": " + e); }
                }
            }
            return answer;
        }
        public override Dictionary<string, PSObject> Prompt(string caption, string message, Collection<FieldDescription> descriptions) { throw new NotSupportedException(); }
        public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName) { throw new NotSupportedException(); }
        public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName, PSCredentialTypes allowedCredentialTypes, PSCredentialUIOptions options) { throw new NotSupportedException(); }
        public override string ReadLine() { throw new NotSupportedException(); }
        public override SecureString ReadLineAsSecureString() { throw new NotSupportedException(); }
        public override void Write(string value) { }
        public override void Write(ConsoleColor foregroundColor, ConsoleColor backgroundColor, string value) { }
        public override void WriteLine(string value) { }
        public override void WriteErrorLine(string value) { }
        public override void WriteDebugLine(string message) { }
        public override void WriteProgress(long sourceId, ProgressRecord record) { }
        public override void WriteVerboseLine(string message) { }
        public override void WriteWarningLine(string message) { }
    }
}
"@
    }
    $import = "Import-Module '$($script:ModulePath -replace "'", "''")' -ErrorAction Stop"
    $promptHost = [XmppFederationTests.PromptHost]::new($(if ($OnPrompt) { "$import`n$OnPrompt" } else { '' }), $Answer)
    $runspace = [runspacefactory]::CreateRunspace($promptHost)
    $runspace.Open()
    try {
        $ps = [powershell]::Create()
        $ps.Runspace = $runspace
        $null = $ps.AddScript("$import`n$Script")
        $output = $ps.Invoke()
        [pscustomobject]@{
            Output       = @($output)
            Errors       = @($ps.Streams.Error)
            Prompts      = @($promptHost.Prompts)
            PromptErrors = @($promptHost.PromptErrors)
        }
    }
    finally {
        $ps.Dispose()
        $runspace.Dispose()
    }
}

Export-ModuleMember -Function Get-TestStoreDisplay, Get-TestStoreKind, Get-TestPostgresServer, Invoke-TestPsql, New-TestPostgresStore, Set-TestModulePath, New-TestStore, Get-OtherMachineStore, Get-LogFile, Get-CurrentLogFile, Remove-StoreFolder, Remove-TestStore, Get-LogHash, Get-CopyHash, Get-PartnerText,
    Get-DefaultStoreRoot, Get-DefaultStoreFingerprint, Get-ChildPwshCommand, Invoke-ChildPwsh, Assert-XmppError, Invoke-WithPromptHost
