# A throwaway PostgreSQL cluster for tests: Debian's server binaries, a temporary folder owned by
# the unprivileged `postgres` system user (the server refuses to run as root), a free loopback
# port, SCRAM authentication with a generated password. Sourced, not run.
#
#   pg_start           starts it; exports XMPPFED_TEST_POSTGRES (a libpq keyword connection string)
#                      and PG_TEST_DIR, PG_TEST_PORT
#   pg_stop            stops it and deletes its folder (safe to call twice; call it from a trap)
#   pg_ctl_test ARGS   runs pg_ctl on the cluster as its owner (tests stop and restart it)

PG_BIN="${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}"

pg_as_owner() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

pg_free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

pg_start() {
    [ -x "$PG_BIN/initdb" ] || { echo "postgres.sh: no PostgreSQL server binaries (apt-get install postgresql; scripts/setup.sh does)" >&2; return 1; }
    PG_TEST_DIR="$(mktemp -d /tmp/xmppfed-pg.XXXXXX)"
    [ "$(id -u)" != 0 ] || chown postgres: "$PG_TEST_DIR"
    chmod 700 "$PG_TEST_DIR"
    local password
    password="$(head -c 18 /dev/urandom | base64 | tr -d '/+=')"
    printf '%s\n' "$password" >"$PG_TEST_DIR/.pwfile"
    [ "$(id -u)" != 0 ] || chown postgres: "$PG_TEST_DIR/.pwfile"
    pg_as_owner "$PG_BIN/initdb" -D "$PG_TEST_DIR/data" -U xmppfed --pwfile="$PG_TEST_DIR/.pwfile" \
        -A scram-sha-256 -E UTF8 --no-sync >"$PG_TEST_DIR/initdb.log" 2>&1 \
        || { cat "$PG_TEST_DIR/initdb.log" >&2; return 1; }
    rm -f "$PG_TEST_DIR/.pwfile"
    PG_TEST_PORT="$(pg_free_port)"
    # fsync stays on: the crash tests count on acknowledged commits being durable.
    pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_TEST_DIR/data" -l "$PG_TEST_DIR/server.log" -w -t 60 \
        -o "-p $PG_TEST_PORT -k $PG_TEST_DIR -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null \
        || { cat "$PG_TEST_DIR/server.log" >&2; return 1; }
    export PG_TEST_DIR PG_TEST_PORT
    export XMPPFED_TEST_POSTGRES="host=127.0.0.1 port=$PG_TEST_PORT dbname=postgres user=xmppfed password=$password"
    # Tests stop and start the server (the outage test): they need to know how.
    export XMPPFED_TEST_POSTGRES_CTL="$REPO_ROOT/scripts/postgres-ctl.sh"
}

pg_ctl_test() {
    pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_TEST_DIR/data" "$@"
}

pg_stop() {
    [ -n "${PG_TEST_DIR:-}" ] && [ -d "$PG_TEST_DIR" ] || return 0
    pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_TEST_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$PG_TEST_DIR"
    PG_TEST_DIR=
}
