#!/usr/bin/env bash
# `sadfix scan` beside `ast-grep run -l python -p 'torch.cuda.is_available()'` on SadTalker's pip
# package tree (the 113 Python files of sadtalker-z 0.1.6 from PyPI as `src/`, plus the
# fixtures' upstream-shaped inference.py), interleaved, median wall and CPU (user + sys) times:
# once with a real interpreter as `python3` on PATH, once with a pyenv shim first on PATH (the
# machine's own ~/.pyenv shims, else a stand-in that costs what a shim costs).
# Usage: benches/scan_vs_astgrep.sh [runs]   (SADFIX=path/to/sadfix to skip the release build)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-15}
if [ -z "${SADFIX:-}" ]; then
    cargo build --release -q
    SADFIX=$PWD/target/release/sadfix
fi
cache=${XDG_CACHE_HOME:-$HOME/.cache}/sadfix-ci/bench-scan
wheel=$cache/sadtalker_z-0.1.6-py3-none-any.whl
if [ ! -f "$wheel" ]; then
    mkdir -p "$cache"
    python3 -m pip download --quiet --no-deps sadtalker-z==0.1.6 -d "$cache"
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m zipfile -e "$wheel" "$work/wheel"
tree=$work/SadTalker
mkdir -p "$tree"
cp -r "$work/wheel/sadtalker" "$tree/src"
cp fixtures/installs/standalone/inference.py "$tree/inference.py"
echo "tree: $(find "$tree" -name '*.py' | wc -l) Python files, $(cat $(find "$tree" -name '*.py') | wc -l) lines (sadtalker-z 0.1.6 + inference.py)"

sg=$(python3 -c "import sysconfig; print(sysconfig.get_path('scripts'))")/ast-grep
[ -x "$sg" ] || sg=$(command -v ast-grep || true)
if [ -z "$sg" ] || [ ! -x "$sg" ]; then
    python3 -m pip install --quiet ast-grep-cli
    sg=$(python3 -c "import sysconfig; print(sysconfig.get_path('scripts'))")/ast-grep
fi
echo "ast-grep: $sg ($("$sg" --version))"

real_python=$(python3 -c 'import sys; print(sys.executable)')
plain=$work/plain-bin
mkdir -p "$plain"
ln -s "$real_python" "$plain/python3"
if [ -x "$HOME/.pyenv/shims/python3" ]; then
    shims=$HOME/.pyenv/shims
    shim_kind="pyenv's own shim ($shims/python3)"
else
    shims=$work/shims
    mkdir -p "$shims"
    printf '#!/usr/bin/env bash\n# stands in for a pyenv shim: a bash start plus pyenv exec\nsleep 0.15\nexec %s "$@"\n' "$real_python" >"$shims/python3"
    chmod +x "$shims/python3"
    shim_kind="a stand-in shim (bash, 150 ms, then $real_python)"
fi

# "wall user sys" of one run, in milliseconds.
timed() {
    local TIMEFORMAT='%3R %3U %3S' t
    t=$( { time "$@" >/dev/null 2>&1; } 2>&1 )
    echo "$t" | awk '{ printf "%.1f %.1f\n", $1 * 1000, ($2 + $3) * 1000 }'
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

compare() {
    local label=$1 path=$2 s_wall=() s_cpu=() g_wall=() g_cpu=() w c
    for _ in $(seq "$runs"); do
        read -r w c < <(PATH=$path timed "$SADFIX" scan --root "$tree")
        s_wall+=("$w"); s_cpu+=("$c")
        read -r w c < <(PATH=$path timed "$sg" run -l python -p 'torch.cuda.is_available()' "$tree")
        g_wall+=("$w"); g_cpu+=("$c")
    done
    local sw sc gw gc
    sw=$(printf '%s\n' "${s_wall[@]}" | median); sc=$(printf '%s\n' "${s_cpu[@]}" | median)
    gw=$(printf '%s\n' "${g_wall[@]}" | median); gc=$(printf '%s\n' "${g_cpu[@]}" | median)
    awk -v l="$label" -v sw="$sw" -v sc="$sc" -v gw="$gw" -v gc="$gc" -v r="$runs" 'BEGIN {
        printf "%s (%d runs, medians):\n  sadfix scan  wall %6.1f ms  CPU %6.1f ms\n  ast-grep     wall %6.1f ms  CPU %6.1f ms\n  sadfix %s on wall (%.2fx), %s on CPU (%.2fx)\n",
            l, r, sw, sc, gw, gc, (sw < gw ? "ahead" : "behind"), sw / gw, (sc < gc ? "ahead" : "behind"), sc / gc }'
}

echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"
compare "python3 on PATH is $real_python" "$plain:/usr/bin:/bin"
compare "python3 on PATH is $shim_kind" "$shims:$plain:/usr/bin:/bin"
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
