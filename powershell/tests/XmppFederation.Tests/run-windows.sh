#!/usr/bin/env bash
# Runs the Pester suite of this folder on Windows semantics: in a real PowerShell 7.6.9 console
# host for win-x64 (powershell/tests/PwshWindows: pwsh.exe over Microsoft.PowerShell.SDK, with the
# SDK's built-in modules beside it), under Wine in $WINEPREFIX (scripts/windows.sh win_prefix),
# against a staged module that holds runtimes/win-x64/native/xmppfed.dll.
#
#   run-windows.sh [MODULE_PSD1]     (default: target/XmppFederation/XmppFederation.psd1)
#
# PESTER_ONLY='Help*,Get*' runs only the test files whose names match (as run.sh does).
#
# The sandbox is the Wine prefix: it is made fresh for the run (test.sh makes it in its temporary
# folder), so HOME, %APPDATA% and %TEMP% are the prefix's own. Ends with Invoke-Tests.ps1's line
# "pester: N passed, M failed"; exits non-zero on any failure.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
module="$(realpath "${1:-$repo/target/XmppFederation/XmppFederation.psd1}")"
[ -f "$module" ] || { echo "no staged module at $module (run scripts/build.sh)" >&2; exit 1; }
[ -f "$(dirname "$module")/runtimes/win-x64/native/xmppfed.dll" ] || { echo "the staged module has no Windows library" >&2; exit 1; }
: "${WINEPREFIX:?run-windows.sh: set WINEPREFIX to a fresh Wine prefix (scripts/windows.sh win_prefix)}"
wine=/usr/lib/wine/wine64

cd "$repo"
# Pester 5.7.1 into the NuGet cache (as run.sh does), and pwsh.exe with its built-in modules.
dotnet restore "$repo/powershell/tests/Pester/Pester.Restore.csproj" --nologo -v quiet
packages="$(dotnet nuget locals global-packages --list | sed -n 's/^global-packages: *//p')"
packages="${packages%/}"
pester="$packages/pester/5.7.1/tools/Pester.psd1"
[ -f "$pester" ] || { echo "Pester 5.7.1 not found at $pester after restore" >&2; exit 1; }
pwsh_dir="$repo/target/windows/pwsh"
rm -rf "$pwsh_dir"
dotnet publish "$repo/powershell/tests/PwshWindows" -c Release -r win-x64 --self-contained --nologo -v quiet \
    --artifacts-path "$repo/target/windows/dotnet" -o "$pwsh_dir"
cp -r "$packages/microsoft.powershell.sdk/7.6.9/contentFiles/any/any/runtimes/win/lib/net10.0/Modules" "$pwsh_dir/"

# Wine's winepath has printed nothing now and then, right after another Wine program ended (a CI
# run gave pwsh an empty -File); asked again, it answers. An empty answer is never passed on.
windows_path() {
    local path attempt
    for attempt in 1 2 3 4 5; do
        path="$(WINEDEBUG=-all "$wine" winepath -w "$1" 2>/dev/null | tr -d '\r')" || true
        if [ -n "$path" ]; then
            printf '%s\n' "$path"
            return 0
        fi
        sleep "$attempt"
    done
    echo "run-windows.sh: winepath gave no Windows path for $1" >&2
    return 1
}
tests_win="$(windows_path "$here/Invoke-Tests.ps1")"
module_win="$(windows_path "$module")"
pester_win="$(windows_path "$pester")"

unset_args=()
while read -r name; do unset_args+=(-u "$name"); done < <(compgen -e | grep '^XMPPFED_' || true)

# PowerShell's console host needs a terminal (script gives it one and passes its exit code on);
# with W^X the .NET runtime crashes under Wine when Pester is imported.
status=0
env "${unset_args[@]}" -u PSModulePath \
    WINEDEBUG=-all DOTNET_EnableWriteXorExecute=0 \
    POWERSHELL_TELEMETRY_OPTOUT=1 POWERSHELL_UPDATECHECK=Off \
    XMPPFED_TEST_SANDBOX='C:\users' \
    script -qec "$(printf '%q ' "$wine" "$pwsh_dir/pwsh.exe" -NoProfile -NonInteractive -File \
        "$tests_win" -ModulePath "$module_win" -PesterManifest "$pester_win" -Only "${PESTER_ONLY:-*}")" /dev/null || status=$?
exit "$status"
