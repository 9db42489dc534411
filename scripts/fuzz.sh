#!/usr/bin/env bash
# Coverage-guided fuzzing of xmppfed with clang's libFuzzer on stable Rust (no cargo-fuzz, no
# nightly): builds the fuzz targets in fuzz/, runs each for the given time, then replays every
# saved crash reproducer in fuzz/regressions/<target>/. Exits non-zero if anything crashed.
#
#   scripts/fuzz.sh [seconds-per-target]      default 20; 0 = build and replay only
#
# Environment: FUZZ_TARGETS="domain wildcard ffi" (subset to run), FUZZ_MAX_CRASHES=5 (per target:
# after a crash the fuzzer is restarted until the time is used up or this many crashes were found),
# FUZZ_JOBS_ARGS="..." (extra libFuzzer flags). Installs nothing; see fuzz/README.md.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SECONDS_PER_TARGET="${1:-20}"
case "$SECONDS_PER_TARGET" in
    '' | *[!0-9]*) echo "usage: $0 [seconds-per-target]" >&2; exit 2 ;;
esac
TARGETS="${FUZZ_TARGETS:-domain wildcard ffi}"
MAX_CRASHES="${FUZZ_MAX_CRASHES:-5}"
FUZZ_DIR="$REPO_ROOT/fuzz"
TRIPLE="$(rustc -vV | sed -n 's/^host: //p')"
WORK="$FUZZ_DIR/target/fuzz"          # binaries, growing corpora, new crash artifacts, logs
LIBFUZZER_FLAGS=(-max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1)

# Instrumentation for libFuzzer on stable rustc: the SanitizerCoverage module pass with the
# feedback libFuzzer reads (8-bit edge counters + PC table, comparison tracing for its
# value-profile/CMP dictionary). Overflow checks and debug assertions on, so they crash.
# RUSTFLAGS reach only the target crates because of --target (not build scripts/proc macros,
# which would otherwise fail to link without libFuzzer's __sanitizer_cov_* callbacks).
export RUSTFLAGS="-Cpasses=sancov-module \
-Cllvm-args=-sanitizer-coverage-level=3 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
-Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares \
-Cdebug-assertions -Coverflow-checks -Cforce-frame-pointers=yes --cfg fuzzing"

# --- prerequisites -------------------------------------------------------------------------
CLANG="${CLANG:-}"
if [ -z "$CLANG" ]; then
    for c in clang clang-14; do
        if command -v "$c" >/dev/null 2>&1; then CLANG="$c"; break; fi
    done
fi
if [ -z "$CLANG" ] || ! command -v "$CLANG" >/dev/null 2>&1; then
    echo "error: clang${CLANG:+ ($CLANG)} not found. Install it (Debian 12): apt-get install -y clang libclang-rt-14-dev" >&2
    exit 2
fi
resource_dir="$("$CLANG" -print-resource-dir)"
runtime=""
for f in "$resource_dir/lib/linux/libclang_rt.fuzzer-x86_64.a" \
         "$resource_dir/lib/linux/libclang_rt.fuzzer-$(uname -m).a" \
         "$resource_dir/lib/$TRIPLE/libclang_rt.fuzzer.a"; do
    if [ -f "$f" ]; then runtime="$f"; break; fi
done
if [ -z "$runtime" ]; then
    clang_major="$("$CLANG" -dumpversion | cut -d. -f1)"
    echo "error: libFuzzer runtime (libclang_rt.fuzzer) not found under $resource_dir." >&2
    echo "       Install it (Debian 12): apt-get install -y libclang-rt-${clang_major}-dev" >&2
    exit 2
fi

# --- build ---------------------------------------------------------------------------------
step "cargo build (fuzz/, $TRIPLE, sancov instrumentation)"
export XMPPFED_CARGO_SOURCE="${XMPPFED_CARGO_SOURCE:-$(cargo_source)}"
(cd "$FUZZ_DIR" && xcargo build --release --quiet --target "$TRIPLE" --target-dir "$FUZZ_DIR/target")
staticlib="$FUZZ_DIR/target/$TRIPLE/release/libxmppfed_fuzz.a"
mkdir -p "$WORK/bin"
for t in $TARGETS; do
    # libFuzzer's main() from clang's runtime; entry.c forwards to the Rust target function.
    "$CLANG" -g -fsanitize=fuzzer -DFUZZ_TARGET="xmppfed_fuzz_$t" "$FUZZ_DIR/harness/entry.c" \
        "$staticlib" -lpthread -ldl -lm -o "$WORK/bin/fuzz_$t"
done
echo "built: $(for t in $TARGETS; do printf '%s ' "$WORK/bin/fuzz_$t"; done)"

# The ffi target's stores live here (tmpfs when possible: every commit fsyncs).
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
    XMPPFED_FUZZ_TMP="$(mktemp -d /dev/shm/xmppfed-fuzz.XXXXXX)"
else
    mkdir -p "$WORK/tmp"
    XMPPFED_FUZZ_TMP="$(mktemp -d "$WORK/tmp/run.XXXXXX")"
fi
export XMPPFED_FUZZ_TMP
trap 'rm -rf "$XMPPFED_FUZZ_TMP"' EXIT
export RUST_BACKTRACE=1

failures=0
summary=()

# --- fuzz ----------------------------------------------------------------------------------
if [ "$SECONDS_PER_TARGET" -gt 0 ]; then
    for t in $TARGETS; do
        step "fuzzing $t for ${SECONDS_PER_TARGET}s"
        corpus="$WORK/corpus/$t"          # grows across runs; fuzz/corpus/$t holds the seeds
        artifacts="$WORK/artifacts/$t"
        mkdir -p "$corpus" "$artifacts" "$WORK/logs"
        log="$WORK/logs/$t.log"
        : >"$log"
        runs=0 crashes=0 cov="?" ft="?" execs_per_s="?"
        started=$(date +%s)
        deadline=$((started + SECONDS_PER_TARGET))
        while :; do
            left=$((deadline - $(date +%s)))
            [ "$left" -gt 0 ] || break
            before="$(ls "$artifacts" | wc -l)"
            status=0
            "$WORK/bin/fuzz_$t" "${LIBFUZZER_FLAGS[@]}" ${FUZZ_JOBS_ARGS:-} -max_total_time="$left" \
                -artifact_prefix="$artifacts/" "$corpus" "$FUZZ_DIR/corpus/$t" >>"$log" 2>&1 || status=$?
            # Executions of this run: the final stats, or the last status line after a crash.
            last_run="$(awk '/^INFO: Seed:/{r=0} /^#[0-9]+/{sub(/^#/,"",$1); r=$1+0} /^stat::number_of_executed_units:/{r=$2+0} END{print r+0}' "$log")"
            runs=$((runs + last_run))
            if [ "$status" != 0 ]; then
                crashes=$((crashes + 1))
                new="$(ls -t "$artifacts" | head -n $(( $(ls "$artifacts" | wc -l) - before )) | tr '\n' ' ')"
                echo "  CRASH (exit $status) in $t; artifact(s): ${new:-none}; log: $log"
                grep -E '^(thread .* panicked|invariant violated|==[0-9]+== ERROR|SUMMARY)' "$log" | tail -3 | sed 's/^/    /'
                [ "$crashes" -lt "$MAX_CRASHES" ] || break
            fi
        done
        elapsed=$(( $(date +%s) - started ))
        line="$(grep -E '^#[0-9]+.*cov: [0-9]+ ft: [0-9]+' "$log" | tail -1 || true)"
        if [ -n "$line" ]; then
            cov="$(sed -E 's/.*cov: ([0-9]+).*/\1/' <<<"$line")"
            ft="$(sed -E 's/.*ft: ([0-9]+).*/\1/' <<<"$line")"
        fi
        [ "$elapsed" -gt 0 ] && execs_per_s=$((runs / elapsed))
        corpus_size="$(ls "$corpus" | wc -l)"
        summary+=("$(printf '%-9s runs: %-11s exec/s: %-7s cov: %-6s ft: %-7s corpus: %-6s crashes: %s' \
            "$t" "$runs" "$execs_per_s" "$cov" "$ft" "$corpus_size" "$crashes")")
        echo "${summary[-1]}"
        [ "$crashes" = 0 ] || failures=$((failures + crashes))
    done
    [ "$failures" = 0 ] || echo "new crash inputs are in $WORK/artifacts/<target>/; save a reproducer in fuzz/regressions/<target>/"
fi

# --- replay regressions --------------------------------------------------------------------
step "replaying fuzz/regressions/"
replayed=0 regressed=0
for t in $TARGETS; do
    dir="$FUZZ_DIR/regressions/$t"
    [ -d "$dir" ] || continue
    for f in "$dir"/*; do
        [ -f "$f" ] || continue
        case "$f" in *.md | *.txt) continue ;; esac
        replayed=$((replayed + 1))
        out="$WORK/logs/replay-$t-$(basename "$f").log"
        mkdir -p "$WORK/logs"
        if "$WORK/bin/fuzz_$t" -timeout=10 -rss_limit_mb=2048 "$f" >"$out" 2>&1; then
            echo "  ok     $t/$(basename "$f")"
        else
            regressed=$((regressed + 1))
            echo "  CRASH  $t/$(basename "$f")  ($(grep -m1 -E 'panicked at|invariant violated|ERROR' "$out" | cut -c1-160)); log: $out"
        fi
    done
done
echo "replayed $replayed reproducer(s), $regressed crashed"

step "summary"
for s in "${summary[@]}"; do echo "$s"; done
echo "regressions: $replayed replayed, $regressed crashed"
if [ "$failures" != 0 ] || [ "$regressed" != 0 ]; then
    echo "FAILED: $failures new crash(es) while fuzzing, $regressed regression(s) reproduce"
    exit 1
fi
echo "OK: no crashes"
