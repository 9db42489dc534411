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

# A sandbox for a pwsh that must never reach the real user's data (the Pester suite's run.sh, the
# PowerShell benchmark): makes a home, the XDG folders, TMPDIR and a runtime folder under $1, and
# sets PWSH_SANDBOX_ENV to the `env` arguments that point pwsh there, with no PSModulePath and no
# XMPPFED_* variable, and NuGet packages from $2 (the global cache, where the pinned pwsh is).
pwsh_sandbox() {
    local sandbox="$1" packages="$2" name
    mkdir -p "$sandbox/home/.local/share" "$sandbox/home/.config" "$sandbox/home/.cache" \
             "$sandbox/home/.local/state" "$sandbox/tmp"
    mkdir -m 700 "$sandbox/run"
    PWSH_SANDBOX_ENV=(-u PSModulePath)
    while read -r name; do PWSH_SANDBOX_ENV+=(-u "$name"); done < <(compgen -e | grep '^XMPPFED_' || true)
    PWSH_SANDBOX_ENV+=(
        HOME="$sandbox/home"
        XDG_DATA_HOME="$sandbox/home/.local/share"
        XDG_CONFIG_HOME="$sandbox/home/.config"
        XDG_CACHE_HOME="$sandbox/home/.cache"
        XDG_STATE_HOME="$sandbox/home/.local/state"
        XDG_RUNTIME_DIR="$sandbox/run"
        TMPDIR="$sandbox/tmp"
        DOTNET_CLI_HOME="$sandbox/home"
        NUGET_PACKAGES="$packages"
        DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
        POWERSHELL_TELEMETRY_OPTOUT=1 POWERSHELL_UPDATECHECK=Off
    )
}
