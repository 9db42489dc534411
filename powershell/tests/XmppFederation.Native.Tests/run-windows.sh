#!/usr/bin/env bash
# Runs this project's xunit tests on Windows semantics: published as a self-contained win-x64
# program (xunit.v3 tests are their own runner) with the Windows library in
# runtimes/win-x64/native/, run under Wine in $WINEPREFIX (scripts/windows.sh win_prefix).
#
#   run-windows.sh WIN_NATIVE_DIR [netstandard2.0]
#
# WIN_NATIVE_DIR is the folder holding xmppfed.dll; netstandard2.0 tests that build of the .NET
# layer (Windows PowerShell 5.1's, here in .NET 10 for win-x64) instead of the net10.0 one.
#
# Each test method runs in its own process: the .NET runtime under Wine 8 can die with an internal
# error after some tests (seen after one that deletes a folder whose files are open), and a crash
# must fail that test, not hide the results of the others. Ends with the line
# "xunit-windows: N passed, M failed"; exits non-zero if any test failed or a process died.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
native_dir="$(cd "${1:?usage: run-windows.sh WIN_NATIVE_DIR [netstandard2.0]}" && pwd)"
layer_target="${2:-}"
case "$layer_target" in
    "") out="$repo/target/windows/xunit" artifacts="$repo/target/windows/dotnet" ;;
    netstandard2.0) out="$repo/target/windows/xunit-$layer_target" artifacts="$repo/target/windows/dotnet-$layer_target" ;;
    *) echo "run-windows.sh: unknown build of the layer '$layer_target' (only netstandard2.0)" >&2; exit 2 ;;
esac
: "${WINEPREFIX:?run-windows.sh: set WINEPREFIX to a Wine prefix (scripts/windows.sh win_prefix)}"

# Its own artifacts folder, so that the Linux build's obj/ and bin/ are not switched to win-x64.
rm -rf "$out"
dotnet publish "$here" -c Release -r win-x64 --self-contained --nologo -v quiet \
    --artifacts-path "$artifacts" -o "$out" \
    -p:XmppFedNativeDir="$native_dir" -p:XmppFedNativeFile=xmppfed.dll -p:XmppFedNativeRid=win-x64 \
    ${layer_target:+-p:XmppFedNativeTarget="$layer_target"}

# DOTNET_EnableWriteXorExecute=0: with W^X the runtime crashes under Wine (see README "Windows").
run() {
    (cd "$out" && WINEDEBUG=-all DOTNET_EnableWriteXorExecute=0 timeout 300 \
        /usr/lib/wine/wine64 ./XmppFederation.Native.Tests.exe -noColor "$@")
}

mapfile -t tests < <(run -list tests | tr -d '\r' | grep -E '^[A-Za-z_][A-Za-z0-9_.]*$' | sort -u)
[ "${#tests[@]}" -gt 0 ] || { echo "run-windows.sh: the test program listed no tests" >&2; exit 1; }

# A process that exits before the runner prints its banner never ran the test: Wine 8 sometimes
# fails to start the .NET runtime (about one process in 1,500 here, exit status 1 and no output).
# Such a start is tried again, at most twice, and said so; a process that died after the runner
# started is the test's failure (DIED below), never retried.
run_test() {
    local t="$1" attempt
    for attempt in 1 2 3; do
        status=0
        log="$(run -method "$t" 2>&1)" || status=$?
        if [ "$status" = 0 ] || grep -q 'xUnit.net v3 In-Process Runner' <<<"$log" || [ "$attempt" = 3 ]; then
            return
        fi
        echo "RETRY $t: the process exited with status $status before the test runner started"
    done
}

passed=0 failed=0
for t in "${tests[@]}"; do
    run_test "$t"
    summary="$(tr -d '\r' <<<"$log" | grep -Eo 'Total: [0-9]+, Errors: [0-9]+, Failed: [0-9]+, Skipped: [0-9]+' | tail -1)" || true
    if [ -z "$summary" ]; then
        failed=$((failed + 1))
        echo "DIED  $t (exit status $status):"
        tr -d '\r' <<<"$log" | grep -v '^\s*at ' | tail -8 | sed 's/^/    /'
        continue
    fi
    read -r total errors bad skipped < <(sed -E 's/[^0-9]+/ /g' <<<"$summary")
    passed=$((passed + total - errors - bad - skipped))
    failed=$((failed + errors + bad))
    if [ "$((errors + bad))" -gt 0 ] || [ "$status" != 0 ]; then
        [ "$((errors + bad))" -gt 0 ] || failed=$((failed + 1))
        echo "FAIL  $t"
        tr -d '\r' <<<"$log" | grep -v '^\s*at \|^xUnit.net\|Discover\|Starting:\|Finished:' | sed 's/^/    /'
    else
        echo "ok    $t"
    fi
done
echo "xunit-windows: $passed passed, $failed failed"
[ "$failed" = 0 ]
