#!/usr/bin/env bash
# Doctor's wall time beside the bare cost of `import torch; torch.cuda.is_available()` with the
# same interpreter and torch: the fake torch in fixtures/ and, where installed, Debian's real one;
# then what asking torch why CUDA is unavailable adds inside the probe.
# Usage: benches/doctor.sh [runs]   (SADFIX=path/to/sadfix to skip the release build)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
if [ -z "${SADFIX:-}" ]; then
    cargo build --release -q
    SADFIX=target/release/sadfix
fi
install=fixtures/doctor/healthy/SadTalker
fake=$PWD/fixtures/fake_torch

# Wall time of one run of a command, in milliseconds.
wall_ms() {
    local start end
    start=$(date +%s%N)
    "$@" >/dev/null 2>&1 || true
    end=$(date +%s%N)
    echo $(((end - start) / 1000000))
}

# Median and minimum of a list of numbers.
stats() {
    sort -n | awk '{a[NR]=$1} END {printf "%d %d\n", a[int((NR+1)/2)], a[1]}'
}

# The bare import and doctor, alternated so both see the same machine load.
compare() {
    local label=$1 python=$2 bare=() doctor=()
    for _ in $(seq "$runs"); do
        bare+=("$(wall_ms "$python" -c "import torch; torch.cuda.is_available()")")
        doctor+=("$(wall_ms "$SADFIX" doctor --root "$install" --python "$python" --json)")
    done
    read -r bare_med bare_min < <(printf '%s\n' "${bare[@]}" | stats)
    read -r doc_med doc_min < <(printf '%s\n' "${doctor[@]}" | stats)
    awk -v l="$label" -v b="$bare_med" -v d="$doc_med" -v bm="$bare_min" -v dm="$doc_min" -v r="$runs" 'BEGIN {
        printf "%-32s bare %5d ms (min %5d)   doctor %5d ms (min %5d)   ratio %.2fx median, %.2fx min   (%d runs)\n",
            l, b, bm, d, dm, d / b, dm / bm, r }'
}

python=$(python3 -c 'import sys; print(sys.executable)')
FAKE_TORCH_MODE=cuda PYTHONPATH="$fake:$fake/packages-pinned" compare "fake torch (cuda mode)" "$python"
if /usr/bin/python3 -c "import torch" 2>/dev/null; then
    compare "Debian python3-torch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)')" /usr/bin/python3
    # The probe's own figures: what asking torch why (torch.cuda.init() and the raw device
    # count, only when is_available() is False) adds to the check.
    (cd /tmp && /usr/bin/python3 -c "$(cat "$OLDPWD/src/doctor/probe.py")" cuda) |
        sed -n 's/^SADFIX-PROBE-JSON: //p' | /usr/bin/python3 -c '
import json, sys
r = json.load(sys.stdin)
print("probe on the real torch: import %.0f ms, is_available() %.1f ms, asking why %.1f ms (%s)"
      % (r["import_ms"], r["available_ms"], r.get("why_ms") or 0.0, r["init_error"]))'
else
    echo "real torch: not installed here (apt-get install python3-torch to compare)"
fi
