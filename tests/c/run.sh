#!/usr/bin/env bash
# Build tests/c/abi_test.c against the xmppfed shared library and run it under valgrind.
# Usage: tests/c/run.sh [LIBDIR]   (default LIBDIR: <repo>/target/release)
#        tests/c/run.sh --windows LIBDIR   (xmppfed.dll and its import library libxmppfed.dll.a:
#        built with mingw-w64, -Werror too, pthreads linked statically, run under Wine in
#        $WINEPREFIX; no valgrind there)
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
