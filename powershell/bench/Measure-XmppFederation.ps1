<#
.SYNOPSIS
    The PowerShell benchmark of XmppFederation (issue 14): what an admin feels, as ratios against
    PowerShell's own floor measured in the same run.

.DESCRIPTION
    Start it with powershell/bench/run.sh, which builds the helpers and runs this script in the
    pinned pwsh inside a throw-away sandbox (stores, HOME, XDG folders, TMPDIR). Five measurements:

    1. Per-call overhead: Get -Identity, New, Set and Remove called in a loop, against the trivial
       cmdlets of the bench-only module XmppFederation.BenchFloor (same module shape, no work);
       writers against the trivial cmdlet plus one append + fdatasync of a log-line-sized line on
       the same file system (and the bare append + fdatasync without a cmdlet).
    2. Streaming a large list: Get-CsXmppAllowedPartner | Measure-Object at 10,000 and 100,000
       partners, against the floor cmdlet writing as many prebuilt objects, and against
       Import-Csv of the same list; time to the first object (| Select-Object -First 1) against
       the whole; peak memory of the pipeline in a fresh pwsh against the list held once.
    3. Bulk creation: Import-Csv | New-CsXmppAllowedPartner (every item committed durably), against
       the floor (Import-Csv | the floor's New with one durable append per item) and against the
       script an admin would otherwise write (a list kept in memory, the JSON file rewritten after
       every change; quadratic, so it is measured on a smaller count and per change at full size).
       The same rows through the atomic import, one commit into an empty store: the CSV file
       (Import-CsXmppAllowedPartner -Path) and Import-Csv's objects (Import-Csv |
       Import-CsXmppAllowedPartner), each against Import-Csv | New (the speed-up) and against the
       JSON-file script per change.
    4. Start-up: a fresh pwsh that imports the module and runs the first Get, against the same with
       the floor module; the first Get on a 100,000-partner store; pwsh alone for reference.
    5. Memory: the working set of a fresh pwsh that holds 100,000 partners, per partner.
    6. Get -Identity in steady state, process by process: in each of several fresh pwsh
       processes, 25 untimed rounds, then the median paired ratio of 9 rounds of 2,000 calls
       against the floor Get (one process gives the same ratio round after round, but processes
       differ by about 0.1: memory layout, JIT decisions). Not in the default set; -Sections 6.

    Every figure is a median over repeats; measurements and their baselines are interleaved
    (alternating order) because the machine is shared. Large stores are written directly in the
    log format by the bench_populate helper (examples/bench_populate.rs), not by N commits.
    Benchmarks are not tests: nothing here asserts a time.

.PARAMETER Quick
    Fewer repeats and smaller counts (about 2-3 minutes instead of 5-8).

.PARAMETER Sections
    Which measurements to run, comma-separated (default 1 to 5), e.g. -Sections 2,5 or 6.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $FloorModulePath,
    [Parameter(Mandatory)] [string] $PopulatePath,
    [Parameter(Mandatory)] [string] $WorkDir,
    [switch] $Quick,
    [string] $Sections = '1,2,3,4,5',
    [string] $OutFile
)

Set-StrictMode -Version 3.0
$Run = [int[]]($Sections -split '[, ]+' | Where-Object { $_ })
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

$Repeats = if ($Quick) { 3 } else { 7 }
$CallsPerLoop = if ($Quick) { 100 } else { 300 }
# A read costs a few microseconds, a write an fsync: reads are looped ten times as long, so that a
# loop lasts tens of milliseconds and one garbage collection or JIT step does not decide it.
$GetCallsPerLoop = 10 * $CallsPerLoop
# A fresh pwsh runs the cmdlets' code at the JIT's first tier and recompiles it over its first
# seconds of use; the Get loops are first run untimed for this long, so that the figures are the
# steady state of a working session (two warm-up rounds left them mid-tiering, where the floor
# cmdlet is slower too and the ratio came out 0.1-0.3 lower and varied from run to run).
$GetWarmupSeconds = if ($Quick) { 2 } else { 4 }
# The same holds for the writers, whose calls are ten times slower: PowerShell's JIT kept
# recompiling for the first ~12,000 writer calls of a session (3-5 s), with the floor's writers
# 1.2-1.6x slower meanwhile and the product's more so (it has more code to tier up), so the two
# warm-up rounds measured the warm-up. The writer loops (product and floor alike) run untimed
# for this long before the rounds, and two untimed rounds follow as before.
$WriterWarmupSeconds = if ($Quick) { 5 } else { 8 }
$PerCallStoreSize = 10000
$StreamSizes = @(10000, 100000)
$BulkSizes = if ($Quick) { @(10000) } else { @(10000, 100000) }
$BulkRepeats = if ($Quick) { 1 } else { 3 }
$JsonScriptCount = if ($Quick) { 500 } else { 1000 }
$JsonPerChangeSizes = if ($Quick) { @(10000) } else { @(10000, 100000) }
$MemorySize = 100000
$MemoryRepeats = if ($Quick) { 1 } else { 3 }
$StartupRepeats = if ($Quick) { 5 } else { 9 }
$SteadyProcesses = if ($Quick) { 3 } else { 8 }

Import-Module $ModulePath
Import-Module $FloorModulePath

$results = [System.Collections.Generic.List[object]]::new()
$samples = [ordered]@{}
$runStart = [DateTime]::UtcNow

function Write-Progress2([string] $text) { [Console]::Error.WriteLine(("[{0:HH:mm:ss}] {1}" -f (Get-Date), $text)) }

function Get-Median([double[]] $values) {
    $sorted = [double[]]($values | Sort-Object)
    $n = $sorted.Count
    if ($n -eq 0) { return [double]::NaN }
    if ($n % 2) { return $sorted[($n - 1) / 2] }
    return ($sorted[$n / 2 - 1] + $sorted[$n / 2]) / 2
}

# Wall seconds of one run of $Block; the pipeline thread's CPU seconds are left in $script:LastCpu.
function Measure-Seconds([scriptblock] $Block) {
    [GC]::Collect()
    [GC]::WaitForPendingFinalizers()
    $c0 = [XmppFederation.BenchFloor.Clock]::ThreadCpuSeconds()
    $sw = [System.Diagnostics.Stopwatch]::StartNew()
    $null = & $Block
    $sw.Stop()
    $script:LastCpu = [XmppFederation.BenchFloor.Clock]::ThreadCpuSeconds() - $c0
    $sw.Elapsed.TotalSeconds
}
$script:LastCpu = 0.0

function Add-Result {
    param([string] $Section, [string] $Figure, [double[]] $Values, [string] $Unit, [double] $Scale = 1,
          [string] $Baseline, [double[]] $BaselineValues, [string] $Note = '')
    $median = Get-Median $Values
    $row = [ordered]@{
        Section = $Section; Figure = $Figure; Unit = $Unit; N = $Values.Count
        Median = $median * $Scale
        Baseline = $Baseline
        BaselineMedian = if ($BaselineValues) { (Get-Median $BaselineValues) * $Scale } else { $null }
        Ratio = if ($BaselineValues) { $median / (Get-Median $BaselineValues) } else { $null }
        # Measurement and baseline ran in the same rounds: the median of the per-round ratios is
        # robust to a round that was slow for both (JIT tiering still going on, a burst of load).
        PairedRatio = if ($BaselineValues -and $BaselineValues.Count -eq $Values.Count) {
            Get-Median ([double[]]@(for ($i = 0; $i -lt $Values.Count; $i++) { $Values[$i] / $BaselineValues[$i] }))
        } else { $null }
        Note = $Note
    }
    $results.Add([pscustomobject]$row)
    $samples["$Section | $Figure"] = $Values
    if ($BaselineValues) { $samples["$Section | $Figure | baseline $Baseline"] = $BaselineValues }
    Write-Progress2 ("{0}: {1} = {2:N3} {3}{4}" -f $Section, $Figure, $row.Median, $Unit,
        $(if ($null -ne $row.Ratio) { " ({0:N3}x {1})" -f $row.Ratio, $Baseline } else { '' }))
}

function Use-Store([string] $Name) {
    $env:XMPPFED_STORE = Join-Path $WorkDir "store-$Name"
    if (-not (Test-Path $env:XMPPFED_STORE)) { $null = New-Item -ItemType Directory $env:XMPPFED_STORE }
    $env:XMPPFED_REPLICA = Join-Path $WorkDir "replica-$Name"
}

function New-PopulatedStore([string] $Name, [int] $Count) {
    $dir = Join-Path $WorkDir "store-$Name"
    if (-not (Test-Path $dir)) { $null = & $PopulatePath store $dir $Count; if ($LASTEXITCODE) { throw "bench_populate store failed" } }
    $dir
}

function New-Csv([string] $Name, [int] $Count, [string] $Prefix) {
    $file = Join-Path $WorkDir "$Name.csv"
    if (-not (Test-Path $file)) { $null = & $PopulatePath csv $file $Count $Prefix; if ($LASTEXITCODE) { throw "bench_populate csv failed" } }
    $file
}

# A fresh pwsh (the same executable and pwsh.dll as this one), with the given environment added.
$PwshExe = [Environment]::ProcessPath
$PwshArgs = @()
if ([IO.Path]::GetFileNameWithoutExtension($PwshExe) -eq 'dotnet') { $PwshArgs = @([Environment]::GetCommandLineArgs()[0]) }
function Invoke-FreshPwsh([string] $Command, [hashtable] $Environment = @{}) {
    $psi = [System.Diagnostics.ProcessStartInfo]::new($PwshExe)
    foreach ($a in $PwshArgs + @('-NoProfile', '-NonInteractive', '-Command', $Command)) { $psi.ArgumentList.Add($a) }
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardError = $true
    $psi.UseShellExecute = $false
    foreach ($k in $Environment.Keys) { $psi.Environment[$k] = $Environment[$k] }
    $psi.Environment.Remove('PSModulePath') | Out-Null
    $sw = [System.Diagnostics.Stopwatch]::StartNew()
    $p = [System.Diagnostics.Process]::Start($psi)
    $stdout = $p.StandardOutput.ReadToEndAsync()
    $stderr = $p.StandardError.ReadToEndAsync()
    $p.WaitForExit()
    $sw.Stop()
    if ($p.ExitCode -ne 0 -or $stderr.Result) { throw "fresh pwsh failed ($($p.ExitCode)): $($stderr.Result)`n$Command" }
    [pscustomobject]@{ Seconds = $sw.Elapsed.TotalSeconds; Output = $stdout.Result }
}

# Reading /proc/self/status of the pwsh process; writing 5 to clear_refs resets its peak (VmHWM).
$MemoryProbe = @'
function Get-Mem { $s = Get-Content /proc/self/status -Raw
  [pscustomobject]@{ Rss = [long]([regex]::Match($s, 'VmRSS:\s+(\d+)').Groups[1].Value) * 1024
                     Hwm = [long]([regex]::Match($s, 'VmHWM:\s+(\d+)').Groups[1].Value) * 1024
                     Managed = [GC]::GetTotalMemory($true) } }
function Reset-Peak { [IO.File]::WriteAllText('/proc/self/clear_refs', '5') }
function Clear-Garbage { [GC]::Collect(); [GC]::WaitForPendingFinalizers(); [GC]::Collect() }
'@

$machine = [ordered]@{
    Commit = $env:XMPPFED_BENCH_COMMIT
    PowerShell = $PSVersionTable.PSVersion.ToString()
    Dotnet = [System.Runtime.InteropServices.RuntimeInformation]::FrameworkDescription
    Cpus = [Environment]::ProcessorCount
    LoadAtStart = (Get-Content /proc/loadavg -Raw).Trim()
    Mode = if ($Quick) { 'Quick' } else { 'Full' }
    Repeats = $Repeats
}
Write-Progress2 "machine: $(($machine.GetEnumerator() | ForEach-Object { "$($_.Key)=$($_.Value)" }) -join '; ')"

# ---------------------------------------------------------------------------------------------
# 1. Per-call overhead

$syncFile = Join-Path $WorkDir 'fsync-floor.log'
$memEnv = @{ XMPPFED_STORE = (Join-Path $WorkDir "store-s$MemorySize"); XMPPFED_REPLICA = (Join-Path $WorkDir "replica-s$MemorySize") }

if (1 -in $Run) {
Write-Progress2 "1. per-call overhead: $CallsPerLoop calls per writer loop, $GetCallsPerLoop per Get loop, $Repeats repeats, a store of $PerCallStoreSize partners"
$null = New-PopulatedStore 'percall' $PerCallStoreSize
Use-Store 'percall'
$null = Get-CsXmppAllowedPartner -Identity p0.example.org   # opens the store once, as any session does
$getIds = [string[]](0..($GetCallsPerLoop - 1) | ForEach-Object { "p$(($_ * 7919) % $PerCallStoreSize).example.org" })

function New-Loop([string] $Body) { [scriptblock]::Create("param(`$ids) foreach (`$id in `$ids) { `$null = $Body }") }
$loops = [ordered]@{
    'Get -Identity'   = New-Loop 'Get-CsXmppAllowedPartner -Identity $id'
    'floor Get'       = New-Loop 'Get-BenchFloorPartner -Identity $id'
    'New'             = New-Loop 'New-CsXmppAllowedPartner -Identity $id -Description "created"'
    'floor New'       = New-Loop 'New-BenchFloorPartner -Identity $id -Description "created"'
    'Set'             = New-Loop 'Set-CsXmppAllowedPartner -Identity $id -Description "changed"'
    'floor Set'       = New-Loop 'Set-BenchFloorPartner -Identity $id -Description "changed"'
    'Remove'          = New-Loop 'Remove-CsXmppAllowedPartner -Identity $id'
    'floor Remove'    = New-Loop 'Remove-BenchFloorPartner -Identity $id'
}
$perCall = @{}
$perCallCpu = @{}
foreach ($k in @('Get -Identity', 'floor Get', 'New', 'Set', 'Remove', 'floor New', 'floor Set', 'floor Remove',
                 'floor New + fsync', 'floor Set + fsync', 'floor Remove + fsync', 'fsync alone')) {
    $perCall[$k] = [System.Collections.Generic.List[double]]::new()
    $perCallCpu[$k] = [System.Collections.Generic.List[double]]::new()
}
# Per-call figures: a round's time over the calls of its loop.
$calls = { param($k) if ($k -in 'Get -Identity', 'floor Get') { $GetCallsPerLoop } else { $CallsPerLoop } }
Initialize-BenchFloor -Count 1
$warmup = [System.Diagnostics.Stopwatch]::StartNew()
do {
    $null = & $loops['Get -Identity'] $getIds
    $null = & $loops['floor Get'] $getIds
} while ($warmup.Elapsed.TotalSeconds -lt $GetWarmupSeconds)
# In a store of its own: the warm-up's commits would otherwise bring the per-call store to its
# compaction during the timed rounds.
Use-Store 'writer-warmup'
$warmup.Restart()
for ($w = 0; $warmup.Elapsed.TotalSeconds -lt $WriterWarmupSeconds; $w++) {
    $writeIds = [string[]](0..($CallsPerLoop - 1) | ForEach-Object { "warm$w-$_.example.net" })
    foreach ($who in '', 'floor ') {
        Initialize-BenchFloor -Count 1 -SyncFile $syncFile
        foreach ($writer in 'New', 'Set', 'Remove') { $null = & $loops["$who$writer"] $writeIds }
    }
}
Initialize-BenchFloor -Count 1
Use-Store 'percall'
for ($r = 0; $r -lt $Repeats + 2; $r++) {
    $writeIds = [string[]](0..($CallsPerLoop - 1) | ForEach-Object { "w$r-$_.example.net" })
    $order = if ($r % 2) { @('floor', 'product') } else { @('product', 'floor') }
    $round = @{}
    $roundCpu = @{}
    foreach ($who in $order) {
        if ($who -eq 'product') {
            $round['Get -Identity'] = Measure-Seconds { & $loops['Get -Identity'] $getIds }
            $roundCpu['Get -Identity'] = $script:LastCpu
            $round['New'] = Measure-Seconds { & $loops['New'] $writeIds }
            $roundCpu['New'] = $script:LastCpu
            $round['Set'] = Measure-Seconds { & $loops['Set'] $writeIds }
            $roundCpu['Set'] = $script:LastCpu
            $round['Remove'] = Measure-Seconds { & $loops['Remove'] $writeIds }
            $roundCpu['Remove'] = $script:LastCpu
        } else {
            Initialize-BenchFloor -Count 1
            $round['floor Get'] = Measure-Seconds { & $loops['floor Get'] $getIds }
            $roundCpu['floor Get'] = $script:LastCpu
            $round['floor New'] = Measure-Seconds { & $loops['floor New'] $writeIds }
            $roundCpu['floor New'] = $script:LastCpu
            $round['floor Set'] = Measure-Seconds { & $loops['floor Set'] $writeIds }
            $roundCpu['floor Set'] = $script:LastCpu
            $round['floor Remove'] = Measure-Seconds { & $loops['floor Remove'] $writeIds }
            $roundCpu['floor Remove'] = $script:LastCpu
            Initialize-BenchFloor -Count 1 -SyncFile $syncFile
            $round['floor New + fsync'] = Measure-Seconds { & $loops['floor New'] $writeIds }
            $roundCpu['floor New + fsync'] = $script:LastCpu
            $round['floor Set + fsync'] = Measure-Seconds { & $loops['floor Set'] $writeIds }
            $roundCpu['floor Set + fsync'] = $script:LastCpu
            $round['floor Remove + fsync'] = Measure-Seconds { & $loops['floor Remove'] $writeIds }
            $roundCpu['floor Remove + fsync'] = $script:LastCpu
            Initialize-BenchFloor -Count 1
            $round['fsync alone'] = (Measure-BenchFloorFsync -Path $syncFile -Count $CallsPerLoop | Measure-Object -Sum).Sum
        }
    }
    if ($r -lt 2) { continue }   # two more untimed rounds: the page cache, the stores' first appends
    foreach ($k in $round.Keys) { $perCall[$k].Add($round[$k] / (& $calls $k)) }
    foreach ($k in $roundCpu.Keys) { $perCallCpu[$k].Add($roundCpu[$k] / (& $calls $k)) }
}
Add-Result '1 per call' 'Get -Identity' $perCall['Get -Identity'] 'us' 1e6 'floor Get' $perCall['floor Get']
Add-Result '1 per call (CPU)' 'Get -Identity' $perCallCpu['Get -Identity'] 'us' 1e6 'floor Get' $perCallCpu['floor Get'] 'CPU time of the pipeline thread'
foreach ($w in 'New', 'Set', 'Remove') {
    Add-Result '1 per call' $w $perCall[$w] 'us' 1e6 "floor $w + fsync" $perCall["floor $w + fsync"] "floor $w alone: $('{0:N0}' -f ((Get-Median $perCall["floor $w"]) * 1e6)) us"
}
foreach ($w in 'New', 'Set', 'Remove') {
    Add-Result '1 per call (CPU)' $w $perCallCpu[$w] 'us' 1e6 "floor $w + fsync" $perCallCpu["floor $w + fsync"] 'CPU time of the pipeline thread'
}
Add-Result '1 per call' 'append + fdatasync alone (no cmdlet)' $perCall['fsync alone'] 'us' 1e6 'floor Get' $perCall['floor Get'] 'the fsync floor; ratio against a trivial cmdlet call'
}

# ---------------------------------------------------------------------------------------------
# 2. Streaming a large list

if (2 -in $Run) {
foreach ($n in $StreamSizes) {
    Write-Progress2 "2. streaming $n partners, $Repeats repeats"
    $null = New-PopulatedStore "s$n" $n
    $csv = New-Csv "list-$n" $n 'p'
    Use-Store "s$n"
    $null = Get-CsXmppAllowedPartner -Identity p0.example.org   # opens the store (item 4 measures that)
    Initialize-BenchFloor -Count $n
    $t = @{ get = [System.Collections.Generic.List[double]]::new(); floor = [System.Collections.Generic.List[double]]::new()
            csv = [System.Collections.Generic.List[double]]::new(); first = [System.Collections.Generic.List[double]]::new()
            floorFirst = [System.Collections.Generic.List[double]]::new() }
    $tc = @{}; foreach ($k in @($t.Keys)) { $tc[$k] = [System.Collections.Generic.List[double]]::new() }
    for ($r = 0; $r -lt $Repeats + 1; $r++) {
        $round = @{}
        $roundCpu = @{}
        $steps = @(
            { $round.get = Measure-Seconds { $c = (Get-CsXmppAllowedPartner | Measure-Object).Count; if ($c -ne $n) { throw "got $c" } }; $roundCpu.get = $script:LastCpu },
            { $round.floor = Measure-Seconds { $c = (Get-BenchFloorPartner | Measure-Object).Count; if ($c -ne $n) { throw "got $c" } }; $roundCpu.floor = $script:LastCpu },
            { $round.csv = Measure-Seconds { $c = (Import-Csv $csv | Measure-Object).Count; if ($c -ne $n) { throw "got $c" } }; $roundCpu.csv = $script:LastCpu },
            { $round.first = Measure-Seconds { Get-CsXmppAllowedPartner | Select-Object -First 1 }; $roundCpu.first = $script:LastCpu },
            { $round.floorFirst = Measure-Seconds { Get-BenchFloorPartner | Select-Object -First 1 }; $roundCpu.floorFirst = $script:LastCpu }
        )
        if ($r % 2) { [array]::Reverse($steps) }
        foreach ($s in $steps) { . $s }
        if ($r -eq 0) { continue }
        foreach ($k in $round.Keys) { $t[$k].Add($round[$k]); $tc[$k].Add($roundCpu[$k]) }
    }
    Add-Result "2 stream $n" 'Get | Measure-Object' $t.get 's' 1 'floor: prebuilt objects | Measure-Object' $t.floor
    Add-Result "2 stream $n" 'Get | Measure-Object (vs Import-Csv)' $t.get 's' 1 'Import-Csv | Measure-Object' $t.csv
    Add-Result "2 stream $n" 'time to first object (Get | Select-Object -First 1)' $t.first 's' 1 'whole Get | Measure-Object' $t.get `
        "floor's first object: $('{0:N1}' -f ((Get-Median $t.floorFirst) * 1e3)) ms"
    Add-Result "2 stream $n (CPU)" 'Get | Measure-Object' $tc.get 's' 1 'floor: prebuilt objects | Measure-Object' $tc.floor 'CPU time of the pipeline thread'
    Add-Result "2 stream $n (CPU)" 'Get | Measure-Object (vs Import-Csv)' $tc.get 's' 1 'Import-Csv | Measure-Object' $tc.csv 'CPU time of the pipeline thread'
    Add-Result "2 stream $n (CPU)" 'time to first object' $tc.first 's' 1 'whole Get | Measure-Object' $tc.get 'CPU time of the pipeline thread'

    Initialize-BenchFloor -Count 1
    [GC]::Collect()
}

}

# Peak memory of the pipeline, and the list held once, in fresh pwsh processes (5. too).
if (2 -in $Run -or 5 -in $Run) {
Write-Progress2 "2/5. memory at $MemorySize partners in fresh pwsh processes, $MemoryRepeats repeats"
$null = New-PopulatedStore "s$MemorySize" $MemorySize
$productMem = $MemoryProbe + @"
Import-Module '$ModulePath'
Clear-Garbage; `$m0 = Get-Mem
`$null = Get-CsXmppAllowedPartner -Identity p0.example.org
Clear-Garbage; `$m1 = Get-Mem; Reset-Peak
`$c = (Get-CsXmppAllowedPartner | Measure-Object).Count
`$peak = (Get-Mem).Hwm
Clear-Garbage; `$m2 = Get-Mem
`$all = Get-CsXmppAllowedPartner
Clear-Garbage; `$m3 = Get-Mem
[pscustomobject]@{ Count = `$c; Held = `$all.Count; Start = `$m0; Open = `$m1; PipelinePeak = `$peak; AfterPipeline = `$m2; Holding = `$m3 } | ConvertTo-Json -Depth 3 -Compress
"@
# A session that only reads the list into a variable (what item 5 asks), in its own process so
# that the pipeline's garbage does not inflate it.
$sessionMem = $MemoryProbe + @"
Import-Module '$ModulePath'
Clear-Garbage; `$m0 = Get-Mem
`$null = Get-CsXmppAllowedPartner -Identity p0.example.org
Clear-Garbage; `$m1 = Get-Mem
`$all = Get-CsXmppAllowedPartner
Clear-Garbage; `$m2 = Get-Mem
[pscustomobject]@{ Held = `$all.Count; Start = `$m0; Open = `$m1; Holding = `$m2 } | ConvertTo-Json -Depth 3 -Compress
"@
$floorMem = $MemoryProbe + @"
Import-Module '$FloorModulePath'
Clear-Garbage; `$m0 = Get-Mem
Initialize-BenchFloor -Count $MemorySize
Clear-Garbage; `$m1 = Get-Mem; Reset-Peak
`$c = (Get-BenchFloorPartner | Measure-Object).Count
`$peak = (Get-Mem).Hwm
Clear-Garbage; `$m2 = Get-Mem
[pscustomobject]@{ Count = `$c; Start = `$m0; Built = `$m1; PipelinePeak = `$peak; AfterPipeline = `$m2 } | ConvertTo-Json -Depth 3 -Compress
"@
$mem = @{ peak = [System.Collections.Generic.List[double]]::new(); held = [System.Collections.Generic.List[double]]::new()
          session = [System.Collections.Generic.List[double]]::new(); open = [System.Collections.Generic.List[double]]::new()
          managed = [System.Collections.Generic.List[double]]::new(); floorObjects = [System.Collections.Generic.List[double]]::new()
          floorPeak = [System.Collections.Generic.List[double]]::new(); floorSession = [System.Collections.Generic.List[double]]::new() }
for ($r = 0; $r -lt $MemoryRepeats; $r++) {
    $p = (Invoke-FreshPwsh $productMem $memEnv).Output | ConvertFrom-Json
    if ($p.Count -ne $MemorySize -or $p.Held -ne $MemorySize) { throw "memory child read $($p.Count)/$($p.Held)" }
    $mem.peak.Add($p.PipelinePeak - $p.Open.Rss)
    $mem.managed.Add($p.Holding.Managed - $p.AfterPipeline.Managed)
    $q = (Invoke-FreshPwsh $sessionMem $memEnv).Output | ConvertFrom-Json
    if ($q.Held -ne $MemorySize) { throw "memory child read $($q.Held)" }
    $mem.open.Add($q.Open.Rss - $q.Start.Rss)
    $mem.session.Add($q.Holding.Rss - $q.Start.Rss)
    $f = (Invoke-FreshPwsh $floorMem).Output | ConvertFrom-Json
    $mem.floorObjects.Add($f.Built.Managed - $f.Start.Managed)
    $mem.floorSession.Add($f.Built.Rss - $f.Start.Rss)
    $mem.floorPeak.Add($f.PipelinePeak - $f.Built.Rss)
}
$MiB = 1.0 / 1MB
Add-Result "2 memory $MemorySize" 'Get | Measure-Object: peak RSS above the opened session' $mem.peak 'MiB' $MiB 'the list held once ($all = Get: managed heap)' $mem.managed `
    "the floor's pipeline peak over its prebuilt objects: $('{0:N1}' -f ((Get-Median $mem.floorPeak) * $MiB)) MiB"
Add-Result "5 memory $MemorySize" 'session that read all partners ($all = Get): RSS per partner, from Import-Module' $mem.session 'bytes' (1.0 / $MemorySize) `
    'floor: session holding as many prebuilt objects' $mem.floorSession 'includes the native store state (next row)'
Add-Result "5 memory $MemorySize" 'opening the store (first Get -Identity): RSS per partner' $mem.open 'bytes' (1.0 / $MemorySize) -Note 'native store state'
Add-Result "5 memory $MemorySize" 'the list held ($all = Get): managed heap per partner' $mem.managed 'bytes' (1.0 / $MemorySize) 'floor: prebuilt objects, managed heap per object' $mem.floorObjects
}

# ---------------------------------------------------------------------------------------------
# 3. Bulk creation

function Invoke-JsonAdminScript([string] $Csv, [string] $JsonFile) {
    # What an admin would write without the module: the list in memory, the file rewritten per change.
    $partners = [System.Collections.Generic.List[object]]::new()
    foreach ($p in @(Get-Content $JsonFile -Raw | ConvertFrom-Json)) { $partners.Add($p) }
    foreach ($row in Import-Csv $Csv) {
        $partners.Add($row)
        $partners | ConvertTo-Json -Depth 3 | Set-Content -LiteralPath $JsonFile
    }
}

if (3 -in $Run) {
$bulkRun = 0
Write-Progress2 "3. bulk creation: the JSON-file script and the cmdlets on $JsonScriptCount rows, $BulkRepeats repeat(s)"
$csvSmall = New-Csv "new-$JsonScriptCount" $JsonScriptCount 'n'
$b = @{ json = [System.Collections.Generic.List[double]]::new(); cmd = [System.Collections.Generic.List[double]]::new(); floor = [System.Collections.Generic.List[double]]::new() }
for ($r = 0; $r -lt $BulkRepeats; $r++) {
    $jsonFile = Join-Path $WorkDir "admin-$r.json"; Set-Content -LiteralPath $jsonFile '[]'
    $b.json.Add((Measure-Seconds { Invoke-JsonAdminScript $csvSmall $jsonFile }) / $JsonScriptCount)
    Use-Store "bulk$(($bulkRun++))"
    $b.cmd.Add((Measure-Seconds { Import-Csv $csvSmall | New-CsXmppAllowedPartner -WarningAction SilentlyContinue }) / $JsonScriptCount)
    if ((Get-CsXmppAllowedPartner | Measure-Object).Count -ne $JsonScriptCount) { throw 'bulk creation lost partners' }
    Initialize-BenchFloor -Count 1 -SyncFile $syncFile
    $b.floor.Add((Measure-Seconds { Import-Csv $csvSmall | New-BenchFloorPartner }) / $JsonScriptCount)
    Initialize-BenchFloor -Count 1
}
Add-Result '3 bulk' "Import-Csv | New, $JsonScriptCount rows into an empty store, per item" $b.cmd 'ms' 1e3 'JSON-file admin script, same rows' $b.json
Add-Result '3 bulk' "Import-Csv | New, $JsonScriptCount rows, per item (vs floor)" $b.cmd 'ms' 1e3 'floor: Import-Csv | floor New + fsync' $b.floor

foreach ($n in $JsonPerChangeSizes) {
    # The JSON script's cost per change once the file holds n partners: the last changes of n.
    $changes = if ($n -ge 100000) { 3 } else { 20 }
    Write-Progress2 "3. the JSON-file script per change at $n partners ($changes changes, $BulkRepeats repeat(s))"
    $seed = Join-Path $WorkDir "seed-$n.json"
    if (-not (Test-Path $seed)) {
        Import-Csv (New-Csv "list-$n" $n 'p') | Select-Object -First ($n - $changes) | ConvertTo-Json -Depth 3 | Set-Content -LiteralPath $seed
    }
    $tail = Join-Path $WorkDir "tail-$n.csv"
    Import-Csv (New-Csv "list-$n" $n 'p') | Select-Object -Last $changes | Export-Csv -LiteralPath $tail
    $perChange = [System.Collections.Generic.List[double]]::new()
    for ($r = 0; $r -lt $BulkRepeats; $r++) {
        $jsonFile = Join-Path $WorkDir "admin-tail-$n.json"; Copy-Item $seed $jsonFile -Force
        $perChange.Add((Measure-Seconds { Invoke-JsonAdminScript $tail $jsonFile }) / $changes)
    }
    $samples["3 bulk | JSON-file script per change at $n"] = $perChange
    Set-Variable -Name "jsonPerChange$n" -Value $perChange
}

# The atomic import into the store Use-Store just chose (empty): all $Count rows added in one
# commit (revision 0 -> 1), or the run stops.
function Assert-OneImport([object] $Result, [int] $Count) {
    if ($null -eq $Result -or $Result.Added.Count -ne $Count -or $Result.CommittedRevision -ne 1) {
        throw "the import did not add $Count partners in one commit"
    }
    if ((Get-CsXmppAllowedPartner | Measure-Object).Count -ne $Count) { throw 'the import lost partners' }
}

foreach ($n in $BulkSizes) {
    Write-Progress2 "3. bulk creation of $n partners through the cmdlets (Import-Csv | New, the floor, Import -Path, Import-Csv | Import)"
    $csvBig = New-Csv "new-$n" $n 'n'
    $cmd = [System.Collections.Generic.List[double]]::new(); $floor = [System.Collections.Generic.List[double]]::new()
    $import = [System.Collections.Generic.List[double]]::new(); $importPipe = [System.Collections.Generic.List[double]]::new()
    $repeatsHere = if ($n -ge 100000) { 1 } else { $BulkRepeats }   # about 2 minutes each
    for ($r = 0; $r -lt $repeatsHere; $r++) {
        Use-Store "bulk$(($bulkRun++))"
        $cmd.Add((Measure-Seconds { Import-Csv $csvBig | New-CsXmppAllowedPartner -WarningAction SilentlyContinue }) / $n)
        if ((Get-CsXmppAllowedPartner | Measure-Object).Count -ne $n) { throw 'bulk creation lost partners' }
        Initialize-BenchFloor -Count 1 -SyncFile $syncFile
        $floor.Add((Measure-Seconds { Import-Csv $csvBig | New-BenchFloorPartner }) / $n)
        Initialize-BenchFloor -Count 1
        Remove-Item -Recurse -Force $env:XMPPFED_STORE, $env:XMPPFED_REPLICA
        # The same rows through the atomic import (preview, then one commit), each into a fresh
        # empty store: the file itself (bench_populate's CSV is Export-Csv's form, quoted, with a
        # Revision column, which the import ignores: read as is), and Import-Csv's objects.
        Use-Store "bulk$(($bulkRun++))"
        $import.Add((Measure-Seconds { $script:imported = Import-CsXmppAllowedPartner -Path $csvBig -Confirm:$false -WarningAction SilentlyContinue }) / $n)
        Assert-OneImport $script:imported $n
        $script:imported = $null
        Remove-Item -Recurse -Force $env:XMPPFED_STORE, $env:XMPPFED_REPLICA
        Use-Store "bulk$(($bulkRun++))"
        $importPipe.Add((Measure-Seconds { $script:imported = Import-Csv $csvBig | Import-CsXmppAllowedPartner -Confirm:$false -WarningAction SilentlyContinue }) / $n)
        Assert-OneImport $script:imported $n
        $script:imported = $null
        Remove-Item -Recurse -Force $env:XMPPFED_STORE, $env:XMPPFED_REPLICA
    }
    $json = Get-Variable -Name "jsonPerChange$n" -ValueOnly -ErrorAction SilentlyContinue
    if ($json) {
        Add-Result '3 bulk' "Import-Csv | New, $n rows into an empty store, per item" $cmd 'ms' 1e3 "JSON-file admin script, per change at $n" $json `
            "whole run: $('{0:N1}' -f ((Get-Median $cmd) * $n)) s"
    }
    Add-Result '3 bulk' "Import-Csv | New, $n rows, per item (vs floor)" $cmd 'ms' 1e3 'floor: Import-Csv | floor New + fsync' $floor
    foreach ($way in @(@{ Figure = 'Import -Path csv'; Values = $import; Note = "; the CSV read as is (its Revision column ignored)" },
                       @{ Figure = 'Import-Csv | Import'; Values = $importPipe; Note = "; Import-Csv's objects (their Revision property ignored)" })) {
        Add-Result '3 bulk' "$($way.Figure), $n rows into an empty store (one commit), per item" $way.Values 'ms' 1e3 `
            'Import-Csv | New, same rows, per item' $cmd `
            "whole import: $('{0:N1}' -f ((Get-Median $way.Values) * $n)) s, Import-Csv | New: $('{0:N1}' -f ((Get-Median $cmd) * $n)) s$($way.Note)"
        if ($json) {
            Add-Result '3 bulk' "$($way.Figure), $n rows, per item (vs JSON script)" $way.Values 'ms' 1e3 "JSON-file admin script, per change at $n" $json
        }
    }
}
}

# ---------------------------------------------------------------------------------------------
# 4. Start-up

if (4 -in $Run) {
Write-Progress2 "4. start-up: fresh pwsh processes, $StartupRepeats repeats"
$null = New-PopulatedStore 'startup' 100
$null = New-PopulatedStore "s$MemorySize" $MemorySize
$smallEnv = @{ XMPPFED_STORE = (Join-Path $WorkDir 'store-startup'); XMPPFED_REPLICA = (Join-Path $WorkDir 'replica-startup') }
$startups = [ordered]@{
    'pwsh alone'           = @{ Command = 'exit 0'; Env = @{} }
    'floor'                = @{ Command = "Import-Module '$FloorModulePath'; `$null = Get-BenchFloorPartner -Identity p0.example.org"; Env = @{} }
    'product 100'          = @{ Command = "Import-Module '$ModulePath'; `$null = Get-CsXmppAllowedPartner -Identity p0.example.org"; Env = $smallEnv }
    'product 100000'       = @{ Command = "Import-Module '$ModulePath'; `$null = Get-CsXmppAllowedPartner -Identity p0.example.org"; Env = $memEnv }
}
$st = @{}
foreach ($k in $startups.Keys) { $st[$k] = [System.Collections.Generic.List[double]]::new() }
$null = Invoke-FreshPwsh 'exit 0'   # warm the page cache
for ($r = 0; $r -lt $StartupRepeats; $r++) {
    $keys = @($startups.Keys); if ($r % 2) { [array]::Reverse($keys) }
    foreach ($k in $keys) {
        $st[$k].Add((Invoke-FreshPwsh $startups[$k].Command $startups[$k].Env).Seconds)
    }
}
Add-Result '4 start-up' 'fresh pwsh: Import-Module + first Get -Identity (100 partners)' $st['product 100'] 's' 1 'floor: Import-Module + first floor Get' $st['floor'] `
    "pwsh alone: $('{0:N2}' -f (Get-Median $st['pwsh alone'])) s"
Add-Result '4 start-up' 'fresh pwsh: Import-Module + first Get -Identity (100,000 partners)' $st['product 100000'] 's' 1 'floor: Import-Module + first floor Get' $st['floor']
$above = [double[]]@(for ($i = 0; $i -lt $st['floor'].Count; $i++) { $st['product 100'][$i] - $st['pwsh alone'][$i] })
$floorAbove = [double[]]@(for ($i = 0; $i -lt $st['floor'].Count; $i++) { $st['floor'][$i] - $st['pwsh alone'][$i] })
Add-Result '4 start-up' 'above pwsh alone: Import-Module + first Get (100 partners)' $above 's' 1 'floor above pwsh alone' $floorAbove 'per-round differences'
}

# ---------------------------------------------------------------------------------------------
# 6. Get -Identity in steady state, process by process

if (6 -in $Run) {
Write-Progress2 "6. Get -Identity in steady state: $SteadyProcesses fresh pwsh processes, a store of $PerCallStoreSize partners"
$null = New-PopulatedStore 'percall' $PerCallStoreSize
$steadyEnv = @{ XMPPFED_STORE = (Join-Path $WorkDir 'store-percall'); XMPPFED_REPLICA = (Join-Path $WorkDir 'replica-percall') }
# Prints the median over 9 paired rounds of the product's and the floor's seconds per call.
$steady = @"
Import-Module '$ModulePath'; Import-Module '$FloorModulePath'
`$ids = [string[]](0..1999 | ForEach-Object { "p`$((`$_ * 7919) % $PerCallStoreSize).example.org" })
`$product = [scriptblock]::Create('param(`$ids) foreach (`$id in `$ids) { `$null = Get-CsXmppAllowedPartner -Identity `$id }')
`$floor = [scriptblock]::Create('param(`$ids) foreach (`$id in `$ids) { `$null = Get-BenchFloorPartner -Identity `$id }')
Initialize-BenchFloor -Count 1
for (`$i = 0; `$i -lt 25; `$i++) { & `$product `$ids; & `$floor `$ids }
`$rounds = foreach (`$i in 0..8) {
    `$a = [Diagnostics.Stopwatch]::StartNew(); & `$product `$ids; `$a.Stop()
    `$b = [Diagnostics.Stopwatch]::StartNew(); & `$floor `$ids; `$b.Stop()
    [pscustomobject]@{ Product = `$a.Elapsed.TotalSeconds / 2000; Floor = `$b.Elapsed.TotalSeconds / 2000; Ratio = `$a.Elapsed.TotalSeconds / `$b.Elapsed.TotalSeconds } }
`$mid = @(`$rounds | Sort-Object Ratio)[4]
[pscustomobject]@{ Product = `$mid.Product; Floor = `$mid.Floor } | ConvertTo-Json -Compress
"@
$steadyProduct = [System.Collections.Generic.List[double]]::new()
$steadyFloor = [System.Collections.Generic.List[double]]::new()
for ($i = 0; $i -lt $SteadyProcesses; $i++) {
    $one = (Invoke-FreshPwsh $steady $steadyEnv).Output | ConvertFrom-Json
    $steadyProduct.Add($one.Product)
    $steadyFloor.Add($one.Floor)
}
Add-Result '6 steady state' 'Get -Identity, per process (the round of median ratio)' $steadyProduct 'us' 1e6 'floor Get' $steadyFloor `
    "$SteadyProcesses processes; paired ratios $((@(for ($i = 0; $i -lt $steadyFloor.Count; $i++) { '{0:N2}' -f ($steadyProduct[$i] / $steadyFloor[$i]) }) | Sort-Object) -join ', ')"
}

# ---------------------------------------------------------------------------------------------
# Report

$machine.LoadAtEnd = (Get-Content /proc/loadavg -Raw).Trim()
$machine.Minutes = [math]::Round(([DateTime]::UtcNow - $runStart).TotalMinutes, 1)
$report = [System.Text.StringBuilder]::new()
$null = $report.AppendLine("PowerShell benchmark ($($machine.Mode)): commit $($machine.Commit), pwsh $($machine.PowerShell), $($machine.Dotnet), $($machine.Cpus) CPUs, load $($machine.LoadAtStart) at start, $($machine.LoadAtEnd) at end, $($machine.Minutes) min")
$null = $report.AppendLine()
$null = $report.AppendLine('| section | figure | median | baseline (median) | ratio of medians | median of paired ratios | note |')
$null = $report.AppendLine('|---|---|---:|---|---:|---:|---|')
foreach ($row in $results) {
    $fmt = if ($row.Unit -eq 'bytes' -or $row.Unit -eq 'us') { '{0:N0}' } elseif ($row.Median -lt 1) { '{0:N3}' } else { '{0:N2}' }
    $median = ($fmt -f $row.Median) + " $($row.Unit)"
    $baseline = if ($row.Baseline) { "$($row.Baseline)" + $(if ($null -ne $row.BaselineMedian) { " ($fmt $($row.Unit))" -f $row.BaselineMedian } else { '' }) } else { '' }
    $ratio, $paired = foreach ($x in $row.Ratio, $row.PairedRatio) {
        if ($null -eq $x) { '' } elseif ($x -lt 0.1) { '1/{0:N0}' -f (1 / $x) } else { '{0:N2}x' -f $x }
    }
    # A pipe inside a cell ("Get | Measure-Object") would end the cell: escaped as markdown wants.
    $cells = foreach ($cell in $row.Section, $row.Figure, $median, $baseline, $ratio, $paired, $row.Note) { "$cell".Replace('|', '\|') }
    $null = $report.AppendLine("| $($cells -join ' | ') |")
}
$report.ToString()
if ($OutFile) {
    [ordered]@{ Machine = $machine; Results = $results; Samples = $samples } | ConvertTo-Json -Depth 5 | Set-Content -LiteralPath $OutFile
    Write-Progress2 "raw samples: $OutFile"
}
