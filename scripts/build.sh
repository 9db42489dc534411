#!/usr/bin/env bash
# Builds the native library (release) for this machine and for Windows (x86_64-pc-windows-gnu,
# see scripts/windows.sh), the .NET layers, and stages the self-contained module folder
# target/XmppFederation/ (manifest, assemblies, type, format and help files, both native libraries), with
# the Windows PowerShell 5.1 build (netstandard2.0) as a module folder of its own in
# target/XmppFederation/Desktop/ (README "Windows PowerShell 5.1").
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$REPO_ROOT/scripts/windows.sh"
"$REPO_ROOT/scripts/setup.sh"

step "cargo build --release (crates from: ${XMPPFED_CARGO_SOURCE:=$(cargo_source)})"
export XMPPFED_CARGO_SOURCE
(cd "$REPO_ROOT" && xcargo build --release --quiet)

win_build_library

step "dotnet build (module and P/Invoke layer: net10.0 for PowerShell 7.6, netstandard2.0 for Windows PowerShell 5.1)"
dotnet build "$REPO_ROOT/powershell/XmppFederation/XmppFederation.csproj" -f net10.0 -c Release --nologo -v quiet \
    -p:XmppFedNativeDir="$NATIVE_DIR" -o "$REPO_ROOT/target/dotnet/XmppFederation"
dotnet build "$REPO_ROOT/powershell/XmppFederation/XmppFederation.csproj" -f netstandard2.0 -c Release --nologo -v quiet \
    -p:XmppFedNativeDir="$NATIVE_DIR" -o "$REPO_ROOT/target/dotnet/XmppFederation.Desktop"

step "staging $STAGE_DIR"
rm -rf "$STAGE_DIR"
mkdir -p "$STAGE_DIR/runtimes/$(portable_rid)/native" "$STAGE_DIR/runtimes/$WIN_RID/native" "$STAGE_DIR/en-US"
out="$REPO_ROOT/target/dotnet/XmppFederation"
cp "$out/XmppFederation.dll" "$out/XmppFederation.Native.dll" "$STAGE_DIR/"
cp "$REPO_ROOT"/powershell/XmppFederation/module/* "$STAGE_DIR/"
version="$(crate_version)"
[ -n "$version" ] || { echo "build: no version in Cargo.toml" >&2; exit 1; }
sed -i "s/^\( *ModuleVersion *= *\)'[^']*'/\1'$version'/" "$STAGE_DIR/XmppFederation.psd1"
grep -q "ModuleVersion *= *'$version'" "$STAGE_DIR/XmppFederation.psd1" || { echo "build: could not stamp ModuleVersion $version" >&2; exit 1; }
cp "$REPO_ROOT"/powershell/XmppFederation/en-US/* "$STAGE_DIR/en-US/"
cp "$NATIVE_DIR/$(native_lib_name)" "$STAGE_DIR/runtimes/$(portable_rid)/native/"
cp "$WIN_NATIVE_DIR/xmppfed.dll" "$STAGE_DIR/runtimes/$WIN_RID/native/"

# Desktop/: the same module built for netstandard2.0 (Windows PowerShell 5.1, and PowerShell 7,
# where it is tested), a whole module folder that can be installed on its own: its assemblies with
# System.Text.Json and the packages it needs (Windows PowerShell has none of them), its own copies
# of the type, format and help files and the native libraries, and the manifest made from the one above.
desktop="$STAGE_DIR/Desktop"
out="$REPO_ROOT/target/dotnet/XmppFederation.Desktop"
mkdir -p "$desktop/en-US"
cp "$out"/*.dll "$desktop/"
cp "$STAGE_DIR"/XmppFederation.*.ps1xml "$desktop/"
cp "$STAGE_DIR"/en-US/* "$desktop/en-US/"
cp -r "$STAGE_DIR/runtimes" "$desktop/"
sed -e "s/^\( *PowerShellVersion *= *\)'[^']*'/\1'5.1'/" \
    -e "s/^\( *CompatiblePSEditions *= *\).*/\1@('Desktop', 'Core')/" \
    -e "s/'PSEdition_Core'/'PSEdition_Desktop', 'PSEdition_Core', 'Windows'/" \
    -e "s/^\( *# The assemblies target\) .*/\1 netstandard2.0: Windows PowerShell 5.1 (.NET Framework 4.7.2 or later) and PowerShell 7./" \
    "$STAGE_DIR/XmppFederation.psd1" >"$desktop/XmppFederation.psd1"
for line in "PowerShellVersion *= *'5.1'" "CompatiblePSEditions *= *@('Desktop', 'Core')" "'PSEdition_Desktop'" "ModuleVersion *= *'$version'"; do
    grep -q "$line" "$desktop/XmppFederation.psd1" || { echo "build: the Desktop manifest lacks $line" >&2; exit 1; }
done
echo "staged: $STAGE_DIR (version $version; Windows PowerShell 5.1 build in $desktop)"
