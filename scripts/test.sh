#!/usr/bin/env bash
# Runs every test: Rust unit and integration tests (including the header check), the C program
# over the whole ABI under valgrind, the ABI from Python (ctypes), the .NET P/Invoke layer's
# xunit tests, the PowerShell module's Pester suite (in the pinned pwsh, sandboxed), and a short
# fuzz run (XMPPFED_FUZZ_SECONDS per target, default 10). Ends with one line
# "total: N passed, M failed".
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
"$REPO_ROOT/scripts/build.sh"
export XMPPFED_CARGO_SOURCE
logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT
# A test that forgets to name its store must not reach the real user's: the per-user default
# folders (XDG data folders on Linux) point into the temporary folder for every step.
export XDG_DATA_HOME="$logs/xdg-data"
unset XMPPFED_STORE XMPPFED_REPLICA XMPPFED_LOCK_TIMEOUT_MS
passed=0
failed=0

# Adds a runner's counts from its log; a runner that exits non-zero fails the run even if its
# counts could not be read.
count() { passed=$((passed + $1)); failed=$((failed + $2)); }

step "Rust: cargo test --release"
status=0
(cd "$REPO_ROOT" && xcargo test --release 2>&1) | tee "$logs/cargo.log" || status=$?
count "$(grep -Eo '[0-9]+ passed' "$logs/cargo.log" | awk '{s+=$1} END {print s+0}')" \
      "$(grep -Eo '[0-9]+ failed' "$logs/cargo.log" | awk '{s+=$1} END {print s+0}')"
[ "$status" = 0 ] || { echo "cargo test failed" >&2; exit 1; }

step "C: tests/c/run.sh (gcc -Werror, valgrind)"
status=0
"$REPO_ROOT/tests/c/run.sh" "$NATIVE_DIR" 2>&1 | tee "$logs/c.log" || status=$?
read -r p f < <(grep -Eo '^[0-9]+ passed, [0-9]+ failed' "$logs/c.log" | tail -1 | awk '{print $1, $3}')
count "${p:-0}" "${f:-0}"
[ "$status" = 0 ] || { echo "C ABI test failed" >&2; exit 1; }

step "Python: tests/python (the C ABI through ctypes)"
status=0
XMPPFED_LIB="$NATIVE_DIR/$(native_lib_name)" python3 -m unittest discover -s "$REPO_ROOT/tests/python" -v 2>&1 | tee "$logs/python.log" || status=$?
ran="$(sed -nE 's/^Ran ([0-9]+) tests?.*/\1/p' "$logs/python.log")"
bad="$(sed -nE 's/.*FAILED \((failures|errors)=([0-9]+).*/\2/p' "$logs/python.log")"
count "$(( ${ran:-0} - ${bad:-0} ))" "${bad:-0}"
[ "$status" = 0 ] || { echo "Python ctypes test failed" >&2; exit 1; }

step ".NET: dotnet test powershell/tests/XmppFederation.Native.Tests"
status=0
dotnet test "$REPO_ROOT/powershell/tests/XmppFederation.Native.Tests" --nologo -v quiet \
    -p:XmppFedNativeDir="$NATIVE_DIR" 2>&1 | tee "$logs/dotnet.log" || status=$?
line="$(grep -E 'Passed!|Failed!' "$logs/dotnet.log" | tail -1)"
count "$(sed -nE 's/.*Passed: *([0-9]+).*/\1/p' <<<"$line")" "$(sed -nE 's/.*Failed: *([0-9]+).*/\1/p' <<<"$line")"
[ "$status" = 0 ] || { echo "dotnet test failed" >&2; exit 1; }

# run.sh starts pwsh with HOME, XDG_DATA_HOME, XDG_CONFIG_HOME (and the other XDG folders, TMPDIR
# and the .NET CLI home) inside a temporary folder that it deletes afterwards, and with no XMPPFED_*
# variable in the environment: the tests never touch the real user's store.
step "PowerShell: Pester suite powershell/tests/XmppFederation.Tests (pwsh from .config/dotnet-tools.json)"
status=0
"$REPO_ROOT/powershell/tests/XmppFederation.Tests/run.sh" "$STAGE_DIR/XmppFederation.psd1" 2>&1 | tee "$logs/pester.log" || status=$?
read -r p f < <(sed 's/\x1b\[[0-9;]*m//g' "$logs/pester.log" | grep -Eo '^pester: [0-9]+ passed, [0-9]+ failed' | tail -1 | awk '{print $2, $4}') || true
count "${p:-0}" "${f:-0}"
[ "$status" = 0 ] || { echo "Pester tests failed" >&2; exit 1; }

step "Fuzzing: scripts/fuzz.sh ${XMPPFED_FUZZ_SECONDS:=10} (each target, plus every saved regression)"
"$REPO_ROOT/scripts/fuzz.sh" "$XMPPFED_FUZZ_SECONDS"

echo
echo "total: $passed passed, $failed failed"
[ "$failed" = 0 ]
