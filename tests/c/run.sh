#!/usr/bin/env bash
# Build tests/c/abi_test.c against the xmppfed shared library and run it under valgrind.
# Usage: tests/c/run.sh [LIBDIR]   (default LIBDIR: <repo>/target/release)
#        tests/c/run.sh --windows LIBDIR   (xmppfed.dll and its import library libxmppfed.dll.a:
#        built with mingw-w64, -Werror too, pthreads linked statically, run under Wine in
#        $WINEPREFIX; no valgrind there)
# With XMPPFED_TEST_POSTGRES set (scripts/test.sh does), the store checks also run against a
# PostgreSQL central store (Linux only; the Windows build has no PostgreSQL support).
# The last line of output is the test program's "N passed, M failed"; the exit status is
# non-zero on any compile error, failed check, valgrind error or leak.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

if [[ "${1:-}" == --windows ]]; then
    libdir="$(cd "${2:?usage: run.sh --windows LIBDIR}" && pwd)"
    : "${WINEPREFIX:?run.sh --windows: set WINEPREFIX to a Wine prefix (scripts/windows.sh win_prefix)}"
    for f in xmppfed.dll libxmppfed.dll.a; do
        [[ -e "$libdir/$f" ]] || { echo "run.sh: $libdir/$f not found (scripts/build.sh builds it)" >&2; exit 2; }
    done
    work="$(mktemp -d "${TMPDIR:-/tmp}/xmppfed-c-test-windows.XXXXXX")"
    trap 'rm -rf "$work"' EXIT
    cd "$repo"
    x86_64-w64-mingw32-gcc -std=c11 -Wall -Wextra -Werror -pedantic -g -I include "$here/abi_test.c" \
        "$libdir/libxmppfed.dll.a" -static-libgcc -Wl,-Bstatic -lpthread -Wl,-Bdynamic -o "$work/abi_test.exe"
    cp "$libdir/xmppfed.dll" "$work/"   # beside the program: Windows' first place to look
    cd "$work"
    status=0
    WINEDEBUG=-all /usr/lib/wine/wine64 ./abi_test.exe >"$work/stdout" || status=$?
    [[ $status -eq 0 ]] || echo "run.sh: abi_test.exe exited with status $status under Wine" >&2
    cat "$work/stdout"
    exit "$status"
fi

libdir="${1:-$repo/target/release}"
libdir="$(cd "$libdir" && pwd)"

if [[ ! -e "$libdir/libxmppfed.so" ]]; then
    echo "run.sh: $libdir/libxmppfed.so not found (build with: cargo --config build/debian-crates.toml build --release)" >&2
    exit 2
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/xmppfed-c-test.XXXXXX")"
trap 'rm -rf "$work"' EXIT

cd "$repo"
gcc -std=c11 -Wall -Wextra -Werror -pedantic -g -I include "$here/abi_test.c" \
    -L"$libdir" -lxmppfed -Wl,-rpath,"$libdir" -o "$work/abi_test"

# With XMPPFED_TEST_POSTGRES (a throwaway cluster, scripts/postgres.sh), the store-agnostic checks
# run a second time against a PostgreSQL central store: a fresh schema of that cluster.
pg_schema=""
if [[ -n "${XMPPFED_TEST_POSTGRES:-}" ]]; then
    pg_schema="c_abi_$$_$RANDOM"
    psql -X -q -v ON_ERROR_STOP=1 "$XMPPFED_TEST_POSTGRES" -c "CREATE SCHEMA $pg_schema" >/dev/null
    trap 'rm -rf "$work"; psql -X -q "$XMPPFED_TEST_POSTGRES" -c "DROP SCHEMA IF EXISTS $pg_schema CASCADE" >/dev/null 2>&1 || true' EXIT
    export XMPPFED_C_TEST_POSTGRES="$XMPPFED_TEST_POSTGRES options='-c search_path=$pg_schema'"
    echo "run.sh: the store checks run against a folder and against PostgreSQL (schema $pg_schema)"
else
    echo "run.sh: XMPPFED_TEST_POSTGRES is not set: the store checks run against a folder only"
fi

# valgrind's own report goes to a file and the program's stdout (only its summary line) is held
# back, so that the summary stays the last line of the output even when valgrind has something
# to say at exit.
status=0
valgrind --error-exitcode=99 --leak-check=full \
    --show-leak-kinds=definite,indirect,possible \
    --errors-for-leak-kinds=definite,indirect,possible -q \
    --log-file="$work/valgrind.log" \
    "$work/abi_test" >"$work/stdout" || status=$?
if [[ -s "$work/valgrind.log" ]]; then
    cat "$work/valgrind.log" >&2
fi
if [[ $status -ne 0 ]]; then
    echo "run.sh: abi_test exited with status $status (99: valgrind found errors or leaks)" >&2
fi
cat "$work/stdout"
exit "$status"
