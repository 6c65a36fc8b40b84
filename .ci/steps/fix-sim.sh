#!/usr/bin/env bash
# End to end for `sadfix fix` through the built binary, as a new user would run it, on the
# simulated install with the fake torch and the stub NVML (test doubles; the reports say
# SIMULATED): (1) CUDA works but the code picks the CPU: patched, measured faster, kept;
# (2) the forced GPU run crashes: rolled back, install byte-identical; (3) a CPU-only torch:
# nothing changed, the wheel command for the driver printed, exit 1; and --dry-run writes nothing.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo="$PWD"

cargo build -q
bin="${CARGO_TARGET_DIR:-$PWD/target}/debug/sadfix"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cc -shared -fPIC -O1 -o "$work/libnvidia-ml.so.1" "$repo/fixtures/nvml-stub/nvml_stub.c"
mkdir "$work/holders"
# The interpreter itself, not a version manager's shim, whose start-up varies with the load.
py="$(python3 -c 'import sys; print(sys.executable)')"
export LD_LIBRARY_PATH="$work" NVML_STUB_PROCESSES=holders:2900 NVML_STUB_HOLDERS="$work/holders"
export PYTHONPATH="$repo/fixtures/fake_torch:$repo/fixtures/fake_torch/packages-pinned"
# PYTHONDONTWRITEBYTECODE: the fake torch is imported from the clone; no bytecode written into it.
export SADTALKER_SIM_SPEED=10 SADTALKER_SIM_VIDEO=placeholder NO_COLOR=1 PYTHONDONTWRITEBYTECODE=1

# The simulated install with its device choice hard-coded to the CPU (SadTalker family G).
fresh() {
    rm -rf "$work/sim-install" "$work/original"
    cp -r "$repo/fixtures/sim-install" "$work/sim-install"
    python3 - "$work/sim-install/inference.py" <<'PY'
import sys
path = sys.argv[1]
text = open(path).read()
choice = '    if torch.cuda.is_available() and not args.cpu:\n        args.device = "cuda"\n    else:\n        args.device = "cpu"\n'
assert choice in text, "the fixture's device choice moved"
open(path, "w").write(text.replace(choice, '    args.device = "cpu"\n'))
PY
    cp -r "$work/sim-install" "$work/original"
}

run_fix() {
    local mode="$1" out="$2"; shift 2
    local code=0
    FAKE_TORCH_MODE="$mode" "$bin" --root "$work/sim-install" fix --python "$py" --json "$work/$out.json" "$@" \
        >"$work/$out.txt" 2>"$work/$out.err" </dev/null || code=$?
    cat "$work/$out.txt"
    echo "$code"
}

check() { if eval "$1"; then echo "ok: $2"; else echo "FAIL: $2"; exit 1; fi; }
same() { diff -r "$work/original" "$work/sim-install" >/dev/null; }

fresh
code=$(run_fix cuda dry --dry-run | tail -1)
check '[ "$code" = 0 ]' "dry run exits 0 ($code)"
check same "dry run: the install is unchanged"
check '[ ! -e "$work/sim-install/.sadfix" ] && ! grep -q "measuring" "$work/dry.err"' "dry run: nothing measured, no journal"

cd "$work"
code=$(run_fix cuda kept --yes --svg "$work/kept.svg" | tail -1)
check '[ "$code" = 0 ]' "case 1: fix exits 0 ($code)"
check 'grep -q "now on the GPU: Face Renderer" kept.txt' "case 1: the verdict line names the speed-up"
check 'grep -q "args.device = \"cuda\"" sim-install/inference.py' "case 1: the device choice is patched"
check 'grep -q "before: cpu" kept.svg && grep -q "after: cuda" kept.svg' "case 1: the SVG has both timelines"
python3 - <<'PY'
import json, sys
doc = json.load(open("kept.json"))
def check(cond, what):
    if not cond:
        sys.exit(f"FAIL: case 1: {what}")
    print(f"ok: case 1: {what}")
check(doc["schema_version"] == 1 and doc["verdict"] == "fixed", "verdict fixed")
check(doc["simulated"] is True, "labelled simulated")
check(doc["before"]["bench"]["device"]["device"] == "cpu", "before on the CPU")
check(doc["after"]["bench"]["device"]["device"] == "cuda", "after on the GPU")
check(doc["speedup"]["face_renderer"] > 2.0, f"Face Renderer {doc['speedup']['face_renderer']:.1f}x faster")
PY
"$bin" --root sim-install patch --revert >/dev/null
rm -rf sim-install/.sadfix  # `patch --revert` keeps its (now empty) state folder
check same "case 1: one sadfix patch --revert restores the install"

fresh
code=$(SADTALKER_SIM_FAIL=cuda-crash run_fix cuda crash --yes | tail -1)
check '[ "$code" = 4 ]' "case 2: a fix that crashes the run exits 4 ($code)"
check 'grep -q "rolled back: run.succeeded failed" crash.txt' "case 2: says which check failed"
check 'grep -q "CUDNN_STATUS_NOT_INITIALIZED" crash.txt' "case 2: shows the output lines"
check same "case 2: the install is byte-identical"

fresh
code=$(run_fix cpu-only cpu --yes | tail -1)
check '[ "$code" = 1 ]' "case 3: a CPU-only torch exits 1 ($code)"
check 'grep -q "pip install --force-reinstall torch torchvision --index-url https://download.pytorch.org/whl/cu124" cpu.txt' "case 3: the wheel for the stub's driver (CUDA 12.4)"
check same "case 3: nothing changed"
echo "fix-sim: all checks passed"
