#!/usr/bin/env bash
# End to end for `sadfix tune` on the simulated install, as a new user would run it: the batch
# sweep with out-of-memory above batch 4 and --apply (then --revert), and the dry run of a
# 5-minute clip against a replayed 6 GiB GPU. Checks the JSON, the exit codes, the rewritten
# default and that no generation outlives tune.
set -euo pipefail
cd "$(dirname "$0")/../.."

cargo build -q
bin="${CARGO_TARGET_DIR:-$PWD/target}/debug/sadfix"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -r fixtures/sim-install "$work/sim-install"
cd "$work"
# The interpreter itself, not a version manager's shim, whose start-up varies with the load.
py="$(python3 -c 'import sys; print(sys.executable)')"

code=0
SADTALKER_SIM_SPEED=5 SADTALKER_SIM_OOM_ABOVE=4 "$bin" --root sim-install tune --python "$py" \
    --batch-sizes 1,2,4,8 --parallel 1 --apply --json sweep.json --svg sweep.svg \
    >sweep.txt 2>sweep.err || code=$?
cat sweep.txt
[ "$code" = 0 ] || { echo "FAIL: tune exited $code"; cat sweep.err; exit 1; }
grep -q "<svg" sweep.svg || { echo "FAIL: no SVG"; exit 1; }
# No generation may outlive tune (read /proc: procps is not on every CI image).
python3 - "$work/sim-install/inference.py" <<'PY'
import os, sys
left = []
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        cmd = open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        continue
    if int(pid) != os.getpid() and sys.argv[1] in cmd and "python3 -" not in cmd:
        left.append(f"{pid}: {cmd}")
if left:
    sys.exit("FAIL: a generation outlived tune: " + "; ".join(left))
print("ok: no generation outlived tune")
PY

python3 -c "
import wave
w = wave.open('talk5min.wav', 'wb')
w.setnchannels(1); w.setsampwidth(2); w.setframerate(16000)
w.writeframes(b'\x00\x00' * 16000 * 300)
w.close()"
code=0
SADFIX_GPU_REPLAY="$OLDPWD/fixtures/tune/gpu-6gib.json" "$bin" --root sim-install tune --dry-run \
    --audio talk5min.wav --json dry.json >dry.txt 2>dry.err || code=$?
cat dry.txt
[ "$code" = 1 ] || { echo "FAIL: the dry run exited $code, expected 1 (will not fit)"; cat dry.err; exit 1; }

python3 - <<'PY'
import json, sys

def check(cond, what):
    if not cond:
        sys.exit(f"FAIL: {what}")
    print(f"ok: {what}")

sweep = json.load(open("sweep.json"))
check(set(sweep) == {"schema_version", "device", "preflight", "trials", "recommendation"}, "sweep: the documented keys only")
check(sweep["device"]["device"] == "cpu", f"sweep: the trials are said to have run on the CPU ({sweep['device']})")
status = [(t["batch_size"], t["status"]) for t in sweep["trials"]]
check(status == [(1, "ok"), (2, "ok"), (4, "ok"), (8, "oom")], f"sweep: four trials, 8 out of memory ({status})")
rec = sweep["recommendation"]
check((rec["batch_size"], rec["parallel"], rec["applied"]) == (4, 1, True), f"sweep: batch 4 recommended and applied ({rec})")
check(rec["speedup"] is not None and rec["speedup"] > 1.0, f"sweep: a measured speed-up over batch 2 ({rec['speedup']})")
src = open("sim-install/inference.py").read()
check('"--batch_size", type=int, default=4,' in src, "sweep: the default is now 4")

dry = json.load(open("dry.json"))
check(dry["preflight"]["frames"] == 7500, "dry run: 300 s is 7500 frames")
check(all(b["fits"] is False for b in dry["preflight"]["per_batch"]), "dry run: no batch size fits")
text = open("dry.txt").read()
for needle in ("will NOT fit", "split at", "--offload-frames", "a replayed snapshot"):
    check(needle in text, f"dry run: says {needle!r}")
PY

"$bin" --root sim-install patch --revert >/dev/null
cmp -s sim-install/inference.py "$OLDPWD/fixtures/sim-install/inference.py" \
    || { echo "FAIL: --revert did not restore inference.py"; exit 1; }
echo "ok: sadfix patch --revert restored the original"
echo "tune-sim: all checks passed"
