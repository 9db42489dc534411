#!/usr/bin/env bash
# Runs the Pester suite of this folder in the pinned PowerShell (.config/dotnet-tools.json) against
# a staged module (default: target/XmppFederation/XmppFederation.psd1; build it first with
# scripts/build.sh). Ends with Invoke-Tests.ps1's line "pester: N passed, M failed"; exits non-zero
# on any failure.
#
# The tests must never read or write the real user's data: pwsh runs with HOME, the XDG folders,
# TMPDIR and the .NET CLI home inside a temporary sandbox that is deleted afterwards, and with no
# XMPPFED_* variable in its environment (the tests name their stores inside the session).
# PESTER_ONLY='Completion*,Help*' runs only the test files whose names match (for development).
# PESTER_STORE_KIND=PostgreSQL runs the tests against a PostgreSQL central store (a fresh schema
# of the cluster XMPPFED_TEST_POSTGRES names, per test; scripts/postgres.sh starts one), leaving
# out the tests tagged FolderOnly; the tests that need a database (Initialize's) use it too.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
source "$repo/scripts/lib.sh"
module="$(realpath "${1:-$repo/target/XmppFederation/XmppFederation.psd1}")"
[ -f "$module" ] || { echo "no staged module at $module (run scripts/build.sh)" >&2; exit 1; }

cd "$repo"
# Pester is a PowerShell module packed as a NuGet package: this restore brings it into the cache.
dotnet tool restore >/dev/null
dotnet restore "$repo/powershell/tests/Pester/Pester.Restore.csproj" --nologo -v quiet
packages="$(dotnet nuget locals global-packages --list | sed -n 's/^global-packages: *//p')"
packages="${packages%/}"
pester="$packages/pester/5.7.1/tools/Pester.psd1"
[ -f "$pester" ] || { echo "Pester 5.7.1 not found at $pester after restore" >&2; exit 1; }

sandbox="$(mktemp -d)"
trap 'rm -rf "$sandbox"' EXIT
pwsh_sandbox "$sandbox" "$packages"

status=0
env "${PWSH_SANDBOX_ENV[@]}" \
    XMPPFED_TEST_SANDBOX="$sandbox" \
    PESTER_POSTGRES="${XMPPFED_TEST_POSTGRES:-}" \
    bash -c 'dotnet tool restore >/dev/null &&
             exec dotnet tool run pwsh -NoProfile -NonInteractive -File "$1" -ModulePath "$2" -PesterManifest "$3" -Only "$4"' \
    _ "$here/Invoke-Tests.ps1" "$module" "$pester" "${PESTER_ONLY:-*}" || status=$?
exit "$status"
