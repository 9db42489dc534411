#!/usr/bin/env bash
# Installs everything building and testing need on a Debian 12 machine of this project's kind
# (see README "Set-up"). Safe to run again: it installs only what is missing.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Debian's packaged Rust crates (the offline crate source), the C test tools, clang's
# libFuzzer for the fuzz targets, and the Windows build and test tools (scripts/windows.sh):
# Debian's rustc 1.96 with the standard library's sources (rustc-web, cargo-web, rust-web-src:
# /usr/bin/rustc and /usr/bin/cargo; the rustup toolchain on PATH is not affected), mingw-w64 and
# Wine 8. PostgreSQL's server (the throwaway test cluster of scripts/postgres.sh), libpq and its
# Rust bindings (pq-sys) for the PostgreSQL kind of central store.
APT_PACKAGES=(
    librust-serde-dev librust-serde-derive-dev librust-serde-json-dev librust-thiserror-dev
    librust-libc-dev librust-cbindgen-dev librust-idna-dev librust-fs2-dev librust-crc32fast-dev
    librust-dirs-dev librust-tempfile-dev librust-proptest+default-dev librust-getrandom-dev
    gcc valgrind curl python3
    clang libclang-rt-14-dev
    rustc-web cargo-web rust-web-src gcc-mingw-w64-x86-64 wine64
    postgresql libpq-dev librust-pq-sys-dev
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
    step "installing Debian packages: ${missing[*]}"
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

for tool in cargo dotnet gcc valgrind python3 /usr/bin/cargo /usr/bin/rustc x86_64-w64-mingw32-gcc /usr/lib/wine/wine64 pg_config; do
    command -v "$tool" >/dev/null || { echo "setup: '$tool' is not installed; see README 'Set-up'" >&2; exit 1; }
done
