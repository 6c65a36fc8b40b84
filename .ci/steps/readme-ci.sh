#!/usr/bin/env bash
# The README's "Use in CI" workflow, run as written: its install line and its sadfix lines are
# taken out of the README (so the section cannot drift from what works) and run in a repository
# laid out like the one it describes, built from the fixtures. Good code and a good trace pass;
# unpatched code fails the gate and a CPU-fallback trace fails the replay.
set -euo pipefail
cd "$(dirname "$0")/../.."
clone="$PWD"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The yaml block of the "## Use in CI" section: the `cargo install` line and every `sadfix` line.
python3 - README.md "$work" <<'PY'
import re, sys
readme, work = sys.argv[1], sys.argv[2]
text = open(readme, encoding="utf-8").read()
try:
    section = text.split("\n## Use in CI\n", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```yaml\n(.*?)```", section, re.S).group(1)
except (IndexError, AttributeError):
    sys.exit(f"FAIL: {readme} has no yaml block under '## Use in CI'")
lines = [l.strip() for l in block.splitlines()]
installs = [l[len("run: "):] for l in lines if l.startswith("run: cargo install ")]
commands = [l for l in lines if l.startswith("sadfix ")]
if len(installs) != 1 or "--git <repo-url>" not in installs[0]:
    sys.exit(f"FAIL: expected one 'run: cargo install ... --git <repo-url>' line, got {installs}")
if not any(" patch " in c and "--check" in c for c in commands) or not any(
        " bench " in c and "--replay" in c for c in commands):
    sys.exit(f"FAIL: expected a patch --check gate and a bench --replay check, got {commands}")
open(f"{work}/install.sh", "w").write(installs[0] + "\n")
open(f"{work}/commands.txt", "w").write("\n".join(commands) + "\n")
PY
mapfile -t commands <"$work/commands.txt"
install="$(cat "$work/install.sh")"
echo "README install line: $install"
printf 'README command: %s\n' "${commands[@]}"

# Install as the README says, from this clone instead of <repo-url>; a debug build into a private
# root reuses the build CI already did.
install="${install/--git <repo-url>/--path $clone} --debug --root $work/cargo"
(cd "$work" && bash -c "$install" 2>"$work/install.err") || { cat "$work/install.err"; exit 1; }
export PATH="$work/cargo/bin:$PATH"
[ "$(command -v sadfix)" = "$work/cargo/bin/sadfix" ] || { echo "FAIL: sadfix not installed"; exit 1; }

# The repository the section describes: vendored SadTalker, a committed trace. The trace is the
# fixtures' synthetic GPU run (written by hand, labelled synthetic in the report), standing in
# for one recorded on a GPU machine.
repo="$work/repo"
layout() { # layout TRACE: a fresh repository with the unpatched install and fixtures/traces/TRACE
    rm -rf "$repo"
    mkdir -p "$repo/vendor" "$repo/ci"
    cp -r fixtures/installs/standalone "$repo/vendor/SadTalker"
    cp -r "fixtures/traces/$1" "$repo/ci/sadfix-trace"
}

expect() { # expect CODE COMMAND [TEXT]: run a README command in the repository, check its exit
    # code and that its stdout shows TEXT
    local want="$1" command="$2" text="${3:-}" code=0
    (cd "$repo" && bash -c "$command") >"$work/out.txt" 2>"$work/err.txt" || code=$?
    if [ "$code" != "$want" ]; then
        echo "FAIL: '$command' exited $code, expected $want"
        cat "$work/out.txt" "$work/err.txt"
        exit 1
    fi
    if [ -n "$text" ] && ! grep -qF -- "$text" "$work/out.txt"; then
        echo "FAIL: '$command' does not show '$text'"
        cat "$work/out.txt"
        exit 1
    fi
    echo "ok: '$command' exits $code${text:+, shows '$text'}"
}

echo "-- fixed code, good trace: every step passes"
layout gpu-synthetic
(cd "$repo" && sadfix patch --root vendor/SadTalker --force-gpu >/dev/null 2>&1)
for command in "${commands[@]}"; do
    expect 0 "$command"
done

echo "-- unpatched code, CPU-fallback trace: each check fails"
layout cpu-fallback
for command in "${commands[@]}"; do
    case "$command" in
    *" patch "*) expect 1 "$command" "-    if torch.cuda.is_available() and not args.cpu:" ;;
    *) expect 1 "$command" "FAIL device.cpu_tells" ;;
    esac
done
echo "readme-ci: all checks passed"
