#!/usr/bin/env bash
# Runs the store benchmarks (benches/store.rs) and prints their markdown report on stdout
# (progress on stderr). Crates come from crates.io when it is reachable, otherwise from Debian's
# packaged crate sources, as for every script here (see lib.sh).
#   bash scripts/bench.sh                    # full run: N = 100, 10,000, 100,000 (a few minutes)
#   bash scripts/bench.sh > report.md        # keep the report
# Knobs: XMPPFED_BENCH_SIZES=100,10000,100000  XMPPFED_BENCH_COMMITS=150  XMPPFED_BENCH_DIR=<dir>
# (the store and the floor file go into a temporary folder there; default: the system temp dir).
#   bash scripts/bench.sh import             # import/export of the whole list (benches/import.rs),
#                                            # folder and PostgreSQL; XMPPFED_BENCH_SIZES,
#                                            # XMPPFED_BENCH_REPEATS=3
#   bash scripts/bench.sh postgres           # the PostgreSQL central store (benches/postgres.rs):
#                                            # a throwaway cluster (scripts/postgres.sh) is started
#                                            # and stopped; knobs XMPPFED_BENCH_SIZES,
#                                            # XMPPFED_BENCH_COMMITS=100, XMPPFED_BENCH_READS=200
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"
if [ "${1:-}" = import ]; then
    # benches/import.rs: import/export of the whole list, on a folder and on PostgreSQL.
    source "$REPO_ROOT/scripts/postgres.sh"
    trap pg_stop EXIT
    pg_start >&2
    xcargo bench --bench import
elif [ "${1:-}" = postgres ]; then
    source "$REPO_ROOT/scripts/postgres.sh"
    trap pg_stop EXIT
    pg_start >&2
    xcargo bench --bench postgres
else
    xcargo bench --bench store
fi
