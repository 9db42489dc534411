#!/usr/bin/env bash
# Builds and stages the module, then opens a PowerShell 7 session with it imported, on the
# embedded default store (or $XMPPFED_STORE). PowerShell comes from NuGet as the `PowerShell`
# .NET tool pinned in .config/dotnet-tools.json.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
"$REPO_ROOT/scripts/build.sh"
cd "$REPO_ROOT"
if ! dotnet tool restore; then
    cat >&2 <<MSG

shell: PowerShell 7.6.9 (the 'PowerShell' .NET tool pinned in .config/dotnet-tools.json) could
not be restored from the configured NuGet source. The module itself is staged at:
  $STAGE_DIR
and can be imported by path in any PowerShell 7.6+ session:
  Import-Module '$STAGE_DIR/XmppFederation.psd1'
MSG
    exit 1
fi
exec dotnet tool run pwsh -NoLogo -NoExit -Command "Import-Module '$STAGE_DIR/XmppFederation.psd1'"
