#!/usr/bin/env bash
# Runs the PowerShell benchmark (Measure-XmppFederation.ps1, issue 14) in the pinned PowerShell
# (.config/dotnet-tools.json) against the staged module (target/XmppFederation; build it first with
# scripts/build.sh) and the bench-only floor module (XmppFederation.BenchFloor, built here into
# target/bench/, never staged into the product module). Prints a markdown report on stdout.
#
#   bash powershell/bench/run.sh -Quick            # about 2-3 minutes
#   bash powershell/bench/run.sh                   # the full run (about 5-8 minutes)
#   bash powershell/bench/run.sh -Quick -OutFile /tmp/bench.json   # raw samples too
#
# Every store, CSV and JSON file lives in a temporary sandbox that is deleted afterwards; pwsh runs
# with HOME, the XDG folders, TMPDIR and the .NET CLI home inside it and with XMPPFED_STORE and
# XMPPFED_REPLICA pointing into it, so the real user's default store is never touched. The
# sandbox is made under XMPPFED_BENCH_DIR (default: the system temp dir): the fsync floor is
# measured on the same file system as the stores.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
source "$repo/scripts/lib.sh"
# XMPPFED_BENCH_MODULE=<path to a staged XmppFederation.psd1> measures another build (e.g. a copy
# of target/XmppFederation kept from before a change).
module="${XMPPFED_BENCH_MODULE:-$STAGE_DIR/XmppFederation.psd1}"
[ -f "$module" ] || { echo "no staged module at $module (run scripts/build.sh)" >&2; exit 1; }

cd "$repo"
step "building the bench helpers (bench_populate, XmppFederation.BenchFloor)" >&2
xcargo build --release --quiet --example bench_populate >&2
populate="$repo/target/release/examples/bench_populate"
floor_dir="$repo/target/bench/XmppFederation.BenchFloor"
dotnet build "$here/XmppFederation.BenchFloor/XmppFederation.BenchFloor.csproj" -c Release --nologo -v quiet \
    -o "$floor_dir" >&2
dotnet tool restore >/dev/null
packages="$(dotnet nuget locals global-packages --list | sed -n 's/^global-packages: *//p')"
packages="${packages%/}"

parent="${XMPPFED_BENCH_DIR:-${TMPDIR:-/tmp}}"
sandbox="$(mktemp -d "$parent/xmppfed-psbench.XXXXXX")"
trap 'rm -rf "$sandbox"' EXIT
pwsh_sandbox "$sandbox" "$packages"
mkdir -p "$sandbox/work"

env "${PWSH_SANDBOX_ENV[@]}" \
    XMPPFED_STORE="$sandbox/work/unused-store" \
    XMPPFED_REPLICA="$sandbox/work/unused-replica" \
    XMPPFED_BENCH_COMMIT="$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$repo" diff --quiet HEAD 2>/dev/null || echo +changes)" \
    bash -c 'dotnet tool restore >/dev/null &&
             exec dotnet tool run pwsh -NoProfile -NonInteractive -File "$1" -ModulePath "$2" -FloorModulePath "$3" -PopulatePath "$4" -WorkDir "$5" "${@:6}"' \
    _ "$here/Measure-XmppFederation.ps1" "$module" "$floor_dir/XmppFederation.BenchFloor.psd1" "$populate" "$sandbox/work" "$@"
