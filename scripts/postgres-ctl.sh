#!/usr/bin/env bash
# Stops or starts the throwaway test cluster of scripts/postgres.sh (for the outage tests):
#   postgres-ctl.sh stop|start <cluster folder> <port>
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$REPO_ROOT/scripts/postgres.sh"
PG_TEST_DIR="$2"
case "$1" in
    stop) pg_ctl_test -m fast -w stop >/dev/null ;;
    start) pg_ctl_test -l "$PG_TEST_DIR/server.log" -w -t 60 \
        -o "-p $3 -k $PG_TEST_DIR -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null ;;
    *) echo "usage: postgres-ctl.sh stop|start <dir> <port>" >&2; exit 2 ;;
esac
