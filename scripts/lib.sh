# Shared by the scripts in this folder: where things are, and how to call cargo on this machine.
# Sourced, not run.

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STAGE_DIR="$REPO_ROOT/target/XmppFederation"
NATIVE_DIR="$REPO_ROOT/target/release"

# Cargo resolves crates from crates.io when it can reach it, and otherwise from Debian's packaged
# crate sources (see build/debian-crates.toml). XMPPFED_CRATES=debian|crates-io forces one.
cargo_source() {
    if [ -n "${XMPPFED_CRATES:-}" ]; then
        echo "$XMPPFED_CRATES"
    elif curl -s -m 5 -o /dev/null https://index.crates.io/config.json 2>/dev/null; then
        echo crates-io
    else
        echo debian
    fi
}

xcargo() {
    if [ "${XMPPFED_CARGO_SOURCE:=$(cargo_source)}" = debian ]; then
        cargo --config "$REPO_ROOT/build/debian-crates.toml" "$@"
    else
        cargo "$@"
    fi
}

# The .NET runtime identifier the module's runtimes/<rid>/native folder uses on this machine.
portable_rid() {
    local os arch
    case "$(uname -s)" in
        Linux) os=linux ;;
        Darwin) os=osx ;;
        *) os=win ;;
    esac
    case "$(uname -m)" in
        x86_64 | amd64) arch=x64 ;;
        aarch64 | arm64) arch=arm64 ;;
        *) arch="$(uname -m)" ;;
    esac
    echo "$os-$arch"
}

native_lib_name() {
    case "$(uname -s)" in
        Linux) echo libxmppfed.so ;;
        Darwin) echo libxmppfed.dylib ;;
        *) echo xmppfed.dll ;;
    esac
}

# The crate's version (Cargo.toml [package] version): the one version of the library, the
# assemblies (powershell/Directory.Build.props reads it too) and the module manifest.
crate_version() {
    sed -n 's/^version *= *"\([0-9][0-9.]*\)"$/\1/p' "$REPO_ROOT/Cargo.toml" | head -1
}

step() { printf '\n==> %s\n' "$*"; }
