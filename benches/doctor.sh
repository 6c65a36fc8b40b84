#!/usr/bin/env bash
# Doctor's wall time beside the bare cost of `import torch; torch.cuda.is_available()` with the
# same interpreter and torch: the fake torch in fixtures/ and, where installed, Debian's real one.
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

# Median wall time of a command over $runs runs, in milliseconds.
median_ms() {
    local times=() start end
    for _ in $(seq "$runs"); do
        start=$(date +%s%N)
        "$@" >/dev/null 2>&1 || true
        end=$(date +%s%N)
        times+=($(((end - start) / 1000000)))
    done
    printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

compare() {
    local label=$1 python=$2
    local bare doctor
    bare=$(median_ms "$python" -c "import torch; torch.cuda.is_available()")
    doctor=$(median_ms "$SADFIX" doctor --root "$install" --python "$python" --json)
    awk -v l="$label" -v b="$bare" -v d="$doctor" -v r="$runs" 'BEGIN {
        printf "%-34s bare %6d ms   doctor %6d ms   ratio %.2fx   (median of %d)\n", l, b, d, d / b, r }'
}

python=$(python3 -c 'import sys; print(sys.executable)')
FAKE_TORCH_MODE=cuda PYTHONPATH="$fake:$fake/packages-pinned" compare "fake torch (cuda mode)" "$python"
if /usr/bin/python3 -c "import torch" 2>/dev/null; then
    compare "Debian python3-torch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)')" /usr/bin/python3
else
    echo "real torch: not installed here (apt-get install python3-torch to compare)"
fi
