#!/usr/bin/env bash
# Clones the committed HEAD with core.autocrlf=true (a Windows checkout's usual setting) into a
# temporary folder and checks that every file .gitattributes protects (fuzz corpora and
# regressions, the C header, shell scripts) has exactly its committed bytes. Ends with
# "eol: N passed, M failed".
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
git clone -q --no-local -c core.autocrlf=true "$REPO_ROOT" "$work/checkout"
cd "$work/checkout"
git checkout -q "$(git -C "$REPO_ROOT" rev-parse HEAD)"
passed=0 failed=0
while IFS= read -r f; do
    if cmp -s <(git show "HEAD:$f") "$f"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "changed by a CRLF checkout: $f"
    fi
done < <(git ls-files -- 'fuzz/corpus' 'fuzz/regressions' 'include/xmppfed.h' '*.sh' '.ci/run')
echo "eol: $passed passed, $failed failed"
[ "$failed" = 0 ]
