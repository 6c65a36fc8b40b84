#!/usr/bin/env bash
# `sadfix completions` and `sadfix man` checked by the tools that read them: bash, zsh and fish
# parse the scripts, man renders the page. Installs those tools first where CI lacks them.
set -euo pipefail
cd "$(dirname "$0")/../.."

missing=()
for tool in man zsh fish; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ "${#missing[@]}" -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing ${missing[*]/man/man-db}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]/man/man-db}" >/dev/null
fi

cargo build -q
bin="${CARGO_TARGET_DIR:-$PWD/target}/debug/sadfix"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The issue's own words: the bash script parses and lists every subcommand; the page renders.
"$bin" completions bash >"$work/sadfix.bash"
bash -n "$work/sadfix.bash"
"$bin" man | MANWIDTH=100 man -l - >"$work/sadfix.txt"
grep -q "COMMANDS" "$work/sadfix.txt"
echo "ok: bash -n passes, man -l renders"

# The same checks, with every subcommand and flag taken from the clap definition; with zsh, fish
# and man installed none of them is skipped.
cargo test -q --test completions -- --nocapture 2>&1 | tee "$work/test.log"
if grep -q "not installed" "$work/test.log"; then
    echo "FAIL: a shell or man was not available, so a check was skipped"
    exit 1
fi
echo "completions-man: all checks passed"
