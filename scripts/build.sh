#!/usr/bin/env bash
# Builds the native library (release) for this machine and for Windows (x86_64-pc-windows-gnu,
# see scripts/windows.sh), the .NET layers, and stages the self-contained module folder
# target/XmppFederation/ (manifest, assemblies, format and help files, both native libraries).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$REPO_ROOT/scripts/windows.sh"
"$REPO_ROOT/scripts/setup.sh"

step "cargo build --release (crates from: ${XMPPFED_CARGO_SOURCE:=$(cargo_source)})"
export XMPPFED_CARGO_SOURCE
(cd "$REPO_ROOT" && xcargo build --release --quiet)

win_build_library

step "dotnet build (module and P/Invoke layer)"
dotnet build "$REPO_ROOT/powershell/XmppFederation/XmppFederation.csproj" -c Release --nologo -v quiet \
    -p:XmppFedNativeDir="$NATIVE_DIR" -o "$REPO_ROOT/target/dotnet/XmppFederation"

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
echo "staged: $STAGE_DIR (version $version)"
