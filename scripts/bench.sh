#!/usr/bin/env bash
# Runs the store benchmarks (benches/store.rs) and prints their markdown report on stdout
# (progress on stderr). Crates come from crates.io when it is reachable, otherwise from Debian's
# packaged crate sources, as for every script here (see lib.sh).
#   bash scripts/bench.sh                    # full run: N = 100, 10,000, 100,000 (a few minutes)
#   bash scripts/bench.sh > report.md        # keep the report
# Knobs: XMPPFED_BENCH_SIZES=100,10000,100000  XMPPFED_BENCH_COMMITS=150  XMPPFED_BENCH_DIR=<dir>
# (the store and the floor file go into a temporary folder there; default: the system temp dir).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"
xcargo bench --bench store
