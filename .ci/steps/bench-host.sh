#!/usr/bin/env bash
# End to end for `sadfix bench` on host apps: `--exec` on the host app fixture in each style
# (passed through, logger-prefixed, a log file with --log, captured whole, a new session),
# `--attach` on a generation already running (left running), and Ctrl-C in a shell loop around
# bench (the loop stops, the shell sees the signal). Checks the JSON reports.
set -euo pipefail
cd "$(dirname "$0")/../.."

cargo build -q
bin="${CARGO_TARGET_DIR:-$PWD/target}/debug/sadfix"
host="$PWD/fixtures/host-app/host.py"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -r fixtures/sim-install "$work/sim-install"
export SADTALKER_SIM_SPEED=10 NO_COLOR=1

cd "$work"
"$bin" --root "$work/sim-install" bench --json direct.json >direct.txt 2>&1 || true
for style in passthrough logger setsid captured; do
    "$bin" bench --json "$style.json" --exec -- python3 "$host" --style "$style" --colour \
        >"$style.txt" 2>&1 || true
    echo "ran: --exec $style"
done
"$bin" bench --json logfile.json --log 'host-logs/*.log' --exec -- python3 "$host" --style logfile \
    >logfile.txt 2>&1 || true
echo "ran: --exec logfile --log"

# A generation sadfix did not start, watched for 2 s: it must still be running afterwards.
SADTALKER_SIM_SPEED=4 python3 "$host" --style logfile --log-file server.log >/dev/null &
server=$!
"$bin" bench --attach "$server" --duration 2 --log server.log --json attach.json >attach.txt 2>&1 || true
if kill -0 "$server" 2>/dev/null; then alive=1; else alive=0; fi
wait "$server"
echo "ran: --attach $server (alive afterwards: $alive)"

# Ctrl-C in a shell loop around bench must stop the loop. A terminal sends SIGINT to the whole
# foreground process group (the shell and sadfix); python starts the loop in a group of its own
# (a background job of this script would have SIGINT ignored) and signals that group.
code=$(SADTALKER_SIM_SPEED=1 python3 - "$bin" "$work/sim-install" <<'PY'
import os, signal, subprocess, sys, time
bin, root = sys.argv[1], sys.argv[2]
script = f"for f in 1 2 3; do '{bin}' --root '{root}' bench --json loop.json; echo next $f; done"
with open("loop.txt", "w") as out, open("loop.err", "w") as err:
    shell = subprocess.Popen(["bash", "-c", script], stdout=out, stderr=err, process_group=0)
    for _ in range(300):
        if "running" in open("loop.err").read():
            break
        time.sleep(0.1)
    time.sleep(1.5)
    os.killpg(shell.pid, signal.SIGINT)
    status = shell.wait()
print(128 - status if status < 0 else status)
PY
)
echo "ran: a shell loop around bench, interrupted (exit $code)"

python3 - "$alive" "$code" <<'PY'
import json, sys
alive, loop_code = sys.argv[1] == "1", int(sys.argv[2])

def load(name):
    with open(f"{name}.json") as f:
        return json.load(f)

def check(cond, what):
    if not cond:
        sys.exit(f"FAIL: {what}")
    print(f"ok: {what}")

def table(r):
    return [(s["name"], s["total"]) for s in r["stages"]]

direct = table(load("direct"))
check(len(direct) == 7, f"direct bench: seven stages ({direct})")
for style in ["passthrough", "logger", "setsid", "logfile"]:
    r = load(style)
    check(table(r) == direct, f"--exec {style}: the direct bench's stage table")
    child = r["host"]["sadtalker"]
    check(child is not None and child["batch_size"] == 2, f"--exec {style}: the SadTalker child named, batch size 2")
cap = load("captured")
check(cap["stages"] == [] and cap["overall"]["cpu_mean"] is not None, "--exec captured: no stages seen, whole-run figures there")
check("captures SadTalker's output" in cap["host"]["stages_note"], "--exec captured: the report says why")
check(cap["host"]["sadtalker"]["pid"] > 0, "--exec captured: the SadTalker child named")
att = load("attach")
check(alive, "--attach: the watched generation was left running")
check(att["run"]["ending"]["kind"] == "detached" and att["host"]["kind"] == "attach", "--attach: a report after --duration")
loop = load("loop")
check(loop_code == 130, f"Ctrl-C: the shell loop ended as interrupted (130, got {loop_code})")
check(loop["run"]["ending"]["kind"] == "interrupted", "Ctrl-C: the report of the interrupted run was written")
with open("loop.txt") as f:
    check("next" not in f.read(), "Ctrl-C: the loop did not go on to the next file")
PY
echo "bench-host: all checks passed"
