#!/usr/bin/env bash
# Runs every test: Rust unit and integration tests (including the header check), the C program
# over the whole ABI under valgrind, the ABI from Python (ctypes), the .NET P/Invoke layer's
# xunit tests, the PowerShell module's Pester suite (in the pinned pwsh, sandboxed), both again
# against the Windows PowerShell 5.1 build (netstandard2.0, run in .NET 10 and pwsh 7.6.9), the C
# and Python store tests and the Pester cmdlet files against PostgreSQL as well as a folder, the Windows
# legs (the Rust tests built for x86_64-pc-windows-gnu, the C program built with mingw, the .NET
# layer's xunit tests published for win-x64, and the Pester suite in a PowerShell 7.6.9 for
# win-x64, against both builds, all run under Wine; see scripts/windows.sh), a check that a checkout with CRLF
# conversion keeps the test corpora byte for byte, and a short fuzz run (XMPPFED_FUZZ_SECONDS per target,
# default 10). Every leg runs even when one fails; each prints its time. Ends with one line
# "total: N passed, M failed" and exits non-zero if any leg failed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$REPO_ROOT/scripts/windows.sh"
source "$REPO_ROOT/scripts/postgres.sh"
"$REPO_ROOT/scripts/build.sh"
export XMPPFED_CARGO_SOURCE
logs="$(mktemp -d)"
# The Wine prefix lives in $logs too; its wineserver is stopped before the folder goes.
# The throwaway PostgreSQL cluster (scripts/postgres.sh) is stopped and deleted the same way.
trap 'pg_stop; if [ -n "${WINEPREFIX:-}" ]; then "$WINESERVER" -k 2>/dev/null || true; fi; rm -rf "$logs"' EXIT
# Interrupted or terminated: exit, so that the EXIT trap above still cleans up (bash does not run
# it when a signal without a trap ends the script).
trap 'exit 130' INT
trap 'exit 143' TERM
# A test that forgets to name its store must not reach the real user's: the per-user default
# folders (XDG data folders on Linux) point into the temporary folder for every step.
export XDG_DATA_HOME="$logs/xdg-data"
unset XMPPFED_STORE XMPPFED_REPLICA XMPPFED_LOCK_TIMEOUT_MS
# A throwaway PostgreSQL cluster on a free loopback port for the PostgreSQL kind of central store:
# its connection string is XMPPFED_TEST_POSTGRES for every leg that tests that kind.
step "PostgreSQL: a throwaway cluster (scripts/postgres.sh)"
pg_start
passed=0
failed=0
failed_legs=()
leg_started=$SECONDS

# Adds a runner's counts from its log.
count() { passed=$((passed + $1)); failed=$((failed + $2)); }

# Starts a leg: its title, and the clock for leg_end.
leg() { step "$*"; leg_started=$SECONDS; }

# Ends a leg: its time, and, if its runner exited non-zero ($2), a failed run (one failure is
# counted if the runner's own counts showed none, e.g. a build error).
leg_end() {
    local name="$1" status="$2" failed_before="$3"
    echo "($name: $((SECONDS - leg_started)) s)"
    if [ "$status" != 0 ]; then
        echo "$name failed (exit status $status)" >&2
        failed_legs+=("$name")
        [ "$failed" -gt "$failed_before" ] || failed=$((failed + 1))
    fi
}

# "passed failed" of a cargo test log: the last "test result" line of each test binary and of the
# doctests (worker processes' own summaries, quoted in a failure's output, are not counted).
cargo_counts() {
    awk '/^ *(Running|Doc-tests) / { p += lp; f += lf; lp = 0; lf = 0 }
         /^test result:/ { match($0, /[0-9]+ passed/); lp = substr($0, RSTART, RLENGTH) + 0
                           match($0, /[0-9]+ failed/); lf = substr($0, RSTART, RLENGTH) + 0 }
         END { print p + lp, f + lf }' "$1"
}

# Runs a leg's command ("$@" after the first three arguments) with its output in $logs/<log>.log,
# and counts the last line "<prefix>N passed, M failed" it printed (colours and CRs removed; the
# prefix is an extended regular expression, '' for none).
run_counted() {
    local name="$1" log="$logs/$2.log" prefix="$3" status=0 before=$failed p f
    shift 3
    "$@" 2>&1 | tee "$log" || status=$?
    read -r p f < <(sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g' "$log" | tr -d '\r' | grep -Eo "^${prefix}[0-9]+ passed, [0-9]+ failed" | tail -1 | sed -E 's/^(.*[^0-9])?([0-9]+) passed, ([0-9]+) failed$/\2 \3/') || true
    count "${p:-0}" "${f:-0}"
    leg_end "$name" "$status" "$before"
}

leg "Rust: cargo test --release"
status=0 before=$failed
(cd "$REPO_ROOT" && xcargo test --release 2>&1) | tee "$logs/cargo.log" || status=$?
read -r p f < <(cargo_counts "$logs/cargo.log")
count "$p" "$f"
leg_end "cargo test" "$status" "$before"

leg "C: tests/c/run.sh (gcc -Werror, valgrind)"
run_counted "C ABI test" c '' "$REPO_ROOT/tests/c/run.sh" "$NATIVE_DIR"

leg "Python: tests/python (the C ABI through ctypes)"
status=0 before=$failed
XMPPFED_LIB="$NATIVE_DIR/$(native_lib_name)" python3 -m unittest discover -s "$REPO_ROOT/tests/python" -v 2>&1 | tee "$logs/python.log" || status=$?
ran="$(sed -nE 's/^Ran ([0-9]+) tests?.*/\1/p' "$logs/python.log")"
bad="$(sed -nE 's/.*FAILED \((failures|errors)=([0-9]+).*/\2/p' "$logs/python.log")"
count "$(( ${ran:-0} - ${bad:-0} ))" "${bad:-0}"
leg_end "Python ctypes test" "$status" "$before"

leg ".NET: dotnet test powershell/tests/XmppFederation.Native.Tests"
status=0 before=$failed
dotnet test "$REPO_ROOT/powershell/tests/XmppFederation.Native.Tests" --nologo -v quiet \
    -p:XmppFedNativeDir="$NATIVE_DIR" 2>&1 | tee "$logs/dotnet.log" || status=$?
line="$(grep -E 'Passed!|Failed!' "$logs/dotnet.log" | tail -1)" || true
count "$(sed -nE 's/.*Passed: *([0-9]+).*/\1/p' <<<"$line")" "$(sed -nE 's/.*Failed: *([0-9]+).*/\1/p' <<<"$line")"
leg_end "dotnet test" "$status" "$before"

leg ".NET: the same tests against the Windows PowerShell 5.1 build of the layer (netstandard2.0, in .NET 10)"
status=0 before=$failed
dotnet test "$REPO_ROOT/powershell/tests/XmppFederation.Native.Tests" --nologo -v quiet \
    --artifacts-path "$REPO_ROOT/target/dotnet/xunit-netstandard2.0" \
    -p:XmppFedNativeDir="$NATIVE_DIR" -p:XmppFedNativeTarget=netstandard2.0 2>&1 | tee "$logs/dotnet-netstandard.log" || status=$?
line="$(grep -E 'Passed!|Failed!' "$logs/dotnet-netstandard.log" | tail -1)" || true
count "$(sed -nE 's/.*Passed: *([0-9]+).*/\1/p' <<<"$line")" "$(sed -nE 's/.*Failed: *([0-9]+).*/\1/p' <<<"$line")"
leg_end "dotnet test (netstandard2.0)" "$status" "$before"

# run.sh starts pwsh with HOME, XDG_DATA_HOME, XDG_CONFIG_HOME (and the other XDG folders, TMPDIR
# and the .NET CLI home) inside a temporary folder that it deletes afterwards, and with no XMPPFED_*
# variable in the environment: the tests never touch the real user's store.
leg "PowerShell: Pester suite powershell/tests/XmppFederation.Tests (pwsh from .config/dotnet-tools.json)"
run_counted "Pester tests" pester 'pester: ' "$REPO_ROOT/powershell/tests/XmppFederation.Tests/run.sh" "$STAGE_DIR/XmppFederation.psd1"

# The cmdlet behaviour files again, against a PostgreSQL central store (a fresh schema of the
# throwaway cluster per test; the FolderOnly tests, about a folder's own files, are left out).
# The replica, help, formatting, completion and module files stay folder-only: they test the
# module and the replica files, not the kind of central store, and would add about 2 minutes.
leg "PowerShell: Pester (New, Get, Set, Remove, Messages) against a PostgreSQL central store"
run_counted "Pester tests (PostgreSQL)" pester-postgres 'pester: ' \
    env PESTER_STORE_KIND=PostgreSQL PESTER_ONLY='New-*,Get-CsXmppAllowedPartner.Tests.ps1,Set-*,Remove-*,Messages*' \
    "$REPO_ROOT/powershell/tests/XmppFederation.Tests/run.sh" "$STAGE_DIR/XmppFederation.psd1"

leg "PowerShell: Pester suite against the Windows PowerShell 5.1 build (target/XmppFederation/Desktop, in pwsh 7.6.9)"
run_counted "Pester tests (Desktop build)" pester-desktop 'pester: ' "$REPO_ROOT/powershell/tests/XmppFederation.Tests/run.sh" "$STAGE_DIR/Desktop/XmppFederation.psd1"

leg "Checkout with CRLF conversion: scripts/check-eol.sh"
run_counted "CRLF checkout" eol 'eol: ' "$REPO_ROOT/scripts/check-eol.sh"

# The Windows legs run in a fresh Wine prefix inside $logs: its per-user folders (AppData, Temp)
# are this run's, like the sandboxed XDG folders above.
leg "Windows: a fresh Wine prefix"
win_prefix "$logs/wine"
leg_end "Wine prefix" 0 "$failed"

leg "Windows: cargo test --release --target $WIN_TRIPLE (under Wine)"
status=0 before=$failed
(cd "$REPO_ROOT" && wcargo test --release --no-fail-fast 2>&1) | tee "$logs/cargo-windows.log" || status=$?
read -r p f < <(cargo_counts "$logs/cargo-windows.log")
count "$p" "$f"
leg_end "cargo test (Windows)" "$status" "$before"

leg "Windows: tests/c/run.sh --windows (mingw -Werror, under Wine)"
run_counted "C ABI test (Windows)" c-windows '' "$REPO_ROOT/tests/c/run.sh" --windows "$WIN_NATIVE_DIR"

leg "Windows: xunit tests of the .NET layer (self-contained win-x64, under Wine)"
run_counted "xunit tests (Windows)" xunit-windows 'xunit-windows: ' "$REPO_ROOT/powershell/tests/XmppFederation.Native.Tests/run-windows.sh" "$WIN_NATIVE_DIR"

leg "Windows: the same xunit tests against the Windows PowerShell 5.1 build of the layer (netstandard2.0; win-x64, under Wine)"
run_counted "xunit tests (Windows, netstandard2.0)" xunit-windows-netstandard 'xunit-windows: ' \
    "$REPO_ROOT/powershell/tests/XmppFederation.Native.Tests/run-windows.sh" "$WIN_NATIVE_DIR" netstandard2.0

leg "Windows: Pester suite in PowerShell 7.6.9 for win-x64 (under Wine)"
run_counted "Pester tests (Windows)" pester-windows 'pester: ' "$REPO_ROOT/powershell/tests/XmppFederation.Tests/run-windows.sh" "$STAGE_DIR/XmppFederation.psd1"

# The Desktop build on Windows loads xmppfed.dll as Windows PowerShell 5.1 would (LoadLibraryExW
# before the first call, [DllImport] bound by name), here in PowerShell 7.6.9 for win-x64.
leg "Windows: Pester suite against the Windows PowerShell 5.1 build, in PowerShell 7.6.9 for win-x64 (under Wine)"
run_counted "Pester tests (Windows, Desktop build)" pester-windows-desktop 'pester: ' \
    "$REPO_ROOT/powershell/tests/XmppFederation.Tests/run-windows.sh" "$STAGE_DIR/Desktop/XmppFederation.psd1"

leg "Fuzzing: scripts/fuzz.sh ${XMPPFED_FUZZ_SECONDS:=10} (each target, plus every saved regression)"
status=0
"$REPO_ROOT/scripts/fuzz.sh" "$XMPPFED_FUZZ_SECONDS" || status=$?
leg_end "fuzzing" "$status" "$failed"

echo
[ "${#failed_legs[@]}" = 0 ] || echo "failed: ${failed_legs[*]}"
echo "total: $passed passed, $failed failed"
[ "$failed" = 0 ] && [ "${#failed_legs[@]}" = 0 ]
