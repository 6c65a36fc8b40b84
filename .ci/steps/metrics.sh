#!/usr/bin/env bash
# `--metrics` against the real collector: promtool checks every metrics file sadfix writes, a real
# node_exporter (textfile collector only, on a free loopback port) serves doctor's and bench's
# files from the simulated install, and the scraped values must equal sadfix's own --json. Then a
# real Prometheus scrapes that exporter with docs/fleet's rules loaded and evaluates them, and
# promtool checks and unit-tests those rules; the fleet manifests are parsed and validated.
# Nothing is left running: the exporter and the server are stopped by the trap.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo="$PWD"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/sadfix-ci/metrics"
mkdir -p "$cache"

# Debian's packages; the .debs are kept in the cache. Their services must not start (a system
# node_exporter would sit on :9100 for good): a policy-rc.d refuses while apt runs, where the
# machine has none of its own, and what this step installed is disabled under systemd.
if ! command -v promtool >/dev/null || ! command -v prometheus-node-exporter >/dev/null; then
    [ "$(id -u)" = 0 ] || { echo "FAIL: install prometheus and prometheus-node-exporter (needs root)"; exit 1; }
    own_policy=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        own_policy=1
        trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    mkdir -p "$cache/archives/partial"
    # The cache is under root's home, which apt's download user _apt cannot write.
    apt_get() {
        apt-get -o DPkg::Lock::Timeout=900 -o Dir::Cache::archives="$cache/archives" \
            -o APT::Sandbox::User=root "$@"
    }
    echo "installing prometheus (for promtool) and prometheus-node-exporter"
    apt_get update -qq
    DEBIAN_FRONTEND=noninteractive apt_get install -y -qq --no-install-recommends \
        prometheus prometheus-node-exporter >/dev/null
    [ -z "$own_policy" ] || { rm -f /usr/sbin/policy-rc.d; trap - EXIT; }
    if [ -d /run/systemd/system ]; then
        systemctl disable --now prometheus prometheus-node-exporter >/dev/null 2>&1 || true
    fi
fi
exporter_bin=$(command -v prometheus-node-exporter)
prometheus_bin=$(command -v prometheus || true)

cargo build -q
bin="${CARGO_TARGET_DIR:-$repo/target}/debug/sadfix"
work="$(mktemp -d)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT
cp -r fixtures/sim-install "$work/sim-install"
textfiles="$work/textfiles"
mkdir -p "$textfiles" "$work/other"
py="$(python3 -c 'import sys; print(sys.executable)')"

# run CODES NAME ARGS...: run sadfix; its exit code must be one of CODES (comma-separated).
run() {
    local codes="$1" name="$2" code=0
    shift 2
    "$@" >"$work/$name.out" 2>"$work/$name.err" || code=$?
    if [[ ",$codes," != *",$code,"* ]]; then
        echo "FAIL: $name exited $code, expected $codes"
        cat "$work/$name.out" "$work/$name.err"
        exit 1
    fi
    echo "ok: $name exited $code"
}

start=$(date +%s.%N)
# Into the exporter's directory: doctor with this machine's NVML (none on CI) and a live bench
# of the simulated install. Exit 1 is a finding (no torch here, a CPU-bound simulation).
run 0,1 doctor "$bin" --root "$work/sim-install" doctor --python "$py" --timeout 60 \
    --json --metrics "$textfiles/sadfix-doctor.prom"
cp "$work/doctor.out" "$work/doctor.json"
SADTALKER_SIM_SPEED=10 run 0,1 bench "$bin" --root "$work/sim-install" bench \
    --json "$work/bench.json" --metrics "$textfiles/sadfix-bench.prom"
# Beside it, for promtool only: a replayed GPU snapshot, both traces and a tune preflight.
SADFIX_GPU_REPLAY="$repo/fixtures/doctor/gpu/rtx3090-driver-550.json" run 0,1 doctor-replay \
    "$bin" --root "$work/sim-install" doctor --python "$py" --timeout 60 \
    --metrics "$work/other/doctor-replay.prom"
run 0 bench-gpu "$bin" bench --replay fixtures/traces/gpu-synthetic --metrics "$work/other/gpu.prom"
run 1 bench-cpu "$bin" bench --replay fixtures/traces/cpu-fallback --metrics "$work/other/cpu.prom"
SADFIX_GPU_REPLAY="$repo/fixtures/tune/gpu-6gib.json" run 0 tune-dry \
    "$bin" --root "$work/sim-install" tune --dry-run --metrics "$work/other/tune.prom"
for file in "$textfiles"/*.prom "$work"/other/*.prom; do
    promtool check metrics <"$file" || { echo "FAIL: promtool check metrics $(basename "$file")"; cat "$file"; exit 1; }
    echo "ok: promtool check metrics $(basename "$file")"
done
left=$(find "$textfiles" "$work/other" -name '*.tmp')
[ -z "$left" ] || { echo "FAIL: temporary files left: $left"; exit 1; }

# A free loopback port, asked of the kernel; retried if another process takes it first.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# wait_http URL PID: until URL answers, or PID has died, for 15 s.
wait_http() {
    for _ in $(seq 150); do
        kill -0 "$2" 2>/dev/null || return 1
        python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}
for attempt in 1 2 3; do
    port=$(free_port)
    "$exporter_bin" --web.listen-address="127.0.0.1:$port" --collector.disable-defaults \
        --collector.textfile --collector.textfile.directory="$textfiles" \
        --web.disable-exporter-metrics >"$work/exporter.log" 2>&1 &
    exporter=$!
    pids+=("$exporter")
    if wait_http "http://127.0.0.1:$port/metrics" "$exporter"; then break; fi
    [ "$attempt" = 3 ] && { echo "FAIL: node_exporter did not start"; cat "$work/exporter.log"; exit 1; }
done
echo "ok: node_exporter $("$exporter_bin" --version 2>&1 | head -1 | cut -d' ' -f3) on 127.0.0.1:$port"
python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' \
    "http://127.0.0.1:$port/metrics" >"$work/scrape.txt"

python3 - "$work" <<'PY'
import json, re, sys
work = sys.argv[1]

def check(cond, what):
    if not cond:
        sys.exit(f"FAIL: {what}")
    print(f"ok: {what}")

LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?')
samples = []
for line in open(f"{work}/scrape.txt"):
    if line.startswith("#") or not line.strip():
        continue
    m = LINE.match(line.rstrip("\n"))
    if m is None:
        sys.exit(f"FAIL: a scraped line does not parse: {line.strip()}")
    unescape = lambda v: re.sub(r"\\(.)", lambda e: "\n" if e.group(1) == "n" else e.group(1), v)
    labels = {k: unescape(v) for k, v in LABEL.findall(m.group(2) or "")}
    samples.append((m.group(1), labels, float(m.group(3))))

def find(name, **labels):
    return [s for s in samples if s[0] == name and all(s[1].get(k) == v for k, v in labels.items())]

def value(name, **labels):
    found = find(name, **labels)
    if len(found) != 1:
        sys.exit(f"FAIL: {name} {labels}: {len(found)} samples")
    return found[0][2]

check(value("node_textfile_scrape_error") == 0, "node_exporter read the textfiles without error")
mtimes = {s[1]["file"] for s in find("node_textfile_mtime_seconds")}
check(mtimes == {f"{work}/textfiles/sadfix-doctor.prom", f"{work}/textfiles/sadfix-bench.prom"} or
      mtimes == {"sadfix-doctor.prom", "sadfix-bench.prom"}, f"both files served ({sorted(mtimes)})")

doctor = json.load(open(f"{work}/doctor.json"))
scale = {"ok": 0, "pass": 0, "warn": 1, "fail": 2, "timeout": 3, "skip": -1, "interrupted": -2}
for c in doctor["checks"]:
    if value("sadfix_doctor_check_status", check=c["id"]) != scale[c["status"]]:
        sys.exit(f"FAIL: {c['id']} is {c['status']} in the JSON")
check(len(find("sadfix_doctor_check_status")) == len(doctor["checks"]),
      f"doctor: all {len(doctor['checks'])} checks scraped with the JSON's status")
check(value("sadfix_doctor_duration_seconds") == doctor["elapsed_ms"] / 1000, "doctor: duration equals elapsed_ms")
p = doctor["platform"]
telemetry = find("sadfix_doctor_gpu_telemetry_info")[0][1]
check(telemetry["source"] == doctor["gpu_source"].split(":")[0] and
      telemetry["failure"] == (p["nvml_failure"] or "none"),
      f"doctor: GPU facts from {telemetry['source']} ({telemetry['failure']})")
if p["torch"]:
    check(find("sadfix_torch_build_info")[0][1]["version"] == p["torch"]["version"], "doctor: torch build info")
else:
    check(not find("sadfix_torch_build_info"), "doctor: no torch here, no torch build info")
check(value("sadfix_last_run_timestamp_seconds", command="doctor") > 1.7e9, "doctor: last run timestamp")

bench = json.load(open(f"{work}/bench.json"))
run = find("sadfix_bench_run_info")[0][1]
check(run["source"] == "live" and run["simulated"] == "true", "bench: a live run of the simulated install, labelled so")
check(find("sadfix_bench_device_info")[0][1]["device"] == bench["device"]["device"],
      f"bench: device {bench['device']['device']}")
check(value("sadfix_bench_wall_seconds") == bench["wall_s"], "bench: wall time equals the JSON's")
for stage in bench["stages"]:
    if value("sadfix_bench_stage_seconds", stage=stage["name"]) != stage["duration_s"]:
        sys.exit(f"FAIL: stage {stage['name']}")
check(len(find("sadfix_bench_stage_seconds")) == len(bench["stages"]) == 7,
      "bench: every stage's seconds equal the JSON's")
check(value("sadfix_bench_run_failed") == int(bench["run"]["failed"]), "bench: run_failed")
PY

# Prometheus scrapes the exporter with the fleet rules loaded, if it starts within the step's
# minute: the rules must evaluate without error against real series.
promtool check rules docs/fleet/sadfix-rules.yaml
promtool test rules docs/fleet/sadfix-rules.test.yaml
if [ -n "$prometheus_bin" ]; then
    prom_port=$(free_port)
    cat >"$work/prometheus.yml" <<EOF
global: { scrape_interval: 1s, evaluation_interval: 1s }
rule_files: ["$repo/docs/fleet/sadfix-rules.yaml"]
scrape_configs:
  - job_name: node
    static_configs: [{ targets: ["127.0.0.1:$port"] }]
EOF
    "$prometheus_bin" --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
        --web.listen-address="127.0.0.1:$prom_port" >"$work/prometheus.log" 2>&1 &
    server=$!
    pids+=("$server")
    wait_http "http://127.0.0.1:$prom_port/-/ready" "$server" \
        || { echo "FAIL: prometheus did not start"; tail -20 "$work/prometheus.log"; exit 1; }
    python3 - "http://127.0.0.1:$prom_port" <<'PY'
import json, sys, time, urllib.parse, urllib.request
base = sys.argv[1]

def get(path, **query):
    url = f"{base}{path}?{urllib.parse.urlencode(query)}"
    return json.load(urllib.request.urlopen(url, timeout=5))["data"]

deadline = time.time() + 30
while time.time() < deadline:
    result = get("/api/v1/query", query='sadfix_doctor_checks{status="fail"}')["result"]
    groups = get("/api/v1/rules")["groups"]
    rules = [r for g in groups for r in g["rules"]]
    if result and rules and all(r.get("lastEvaluation", "").startswith("20") for r in rules):
        break
    time.sleep(0.5)
else:
    sys.exit("FAIL: prometheus did not scrape sadfix's series and evaluate the rules within 30 s")
bad = [(r["name"], r.get("lastError")) for r in rules if r["health"] != "ok"]
if bad:
    sys.exit(f"FAIL: rules with errors: {bad}")
print(f"ok: prometheus scraped sadfix's series and evaluated {len(rules)} rules without error")
PY
fi

# The fleet manifests: YAML that parses, Kubernetes objects valid against the API schemas
# (kubernetes-validate from PyPI, in a cached venv), shell that parses, and the copies quoted in
# docs/fleet.md equal to the files.
venv="$cache/venv"
if [ ! -x "$venv/bin/kubernetes-validate" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q kubernetes-validate==1.37.0
fi
"$venv/bin/python" - "$repo/docs" <<'PY'
import pathlib, re, sys, yaml
docs = pathlib.Path(sys.argv[1])
for path in sorted((docs / "fleet").glob("*.yaml")):
    docs_in = list(yaml.safe_load_all(path.read_text()))
    assert docs_in and all(d for d in docs_in), path
    print(f"ok: {path.name} parses ({len(docs_in)} document(s))")
text = (docs / "fleet.md").read_text()
quoted = re.findall(r"```\w*\n((?:#![^\n]*\n)?# (docs/fleet/\S+)\n.*?)```", text, re.S)
assert quoted, "fleet.md quotes no file"
for body, name in quoted:
    if (docs.parent / name).read_text() != body:
        sys.exit(f"FAIL: docs/fleet.md's copy of {name} differs from the file")
    print(f"ok: docs/fleet.md quotes {name} as it is")
PY
"$venv/bin/kubernetes-validate" --strict -k 1.31.0 docs/fleet/k8s-*.yaml
for script in docs/fleet/*.sh; do
    sh -n "$script" && echo "ok: $script parses"
done
# The Slurm health check with a stand-in scontrol that logs its calls (a test double: no Slurm
# here), on the simulated install with the fake torch and a replayed GPU: a CPU-only torch on a
# GPU node drains the node; CUDA working again resumes it.
mkdir -p "$work/stub-bin" "$work/slurm-textfile"
cat >"$work/stub-bin/scontrol" <<EOF
#!/bin/sh
echo "\$*" >>"$work/scontrol.log"
[ "\$1" = show ] && cat "$work/node-state"
exit 0
EOF
chmod +x "$work/stub-bin/scontrol"
healthcheck() { # MODE NODE-STATE: run the health check with the fake torch in MODE
    echo "$2" >"$work/node-state"
    : >"$work/scontrol.log"
    env PATH="$work/stub-bin:$PATH" SADFIX="$bin" SADTALKER="$work/sim-install" \
        TEXTFILE="$work/slurm-textfile" FAKE_TORCH_MODE="$1" \
        PYTHONPATH="$repo/fixtures/fake_torch:$repo/fixtures/fake_torch/packages-pinned" \
        SADFIX_GPU_REPLAY="$repo/fixtures/doctor/gpu/rtx3090-driver-550.json" \
        sh docs/fleet/slurm-healthcheck.sh
}
healthcheck cpu-only "NodeName=n1 State=IDLE"
grep -q "State=DRAIN Reason=sadfix: torch cannot use the GPU" "$work/scontrol.log" \
    || { echo "FAIL: a CPU-only torch did not drain the node"; cat "$work/scontrol.log"; exit 1; }
echo "ok: slurm health check drains a GPU node whose torch is CPU-only"
promtool check metrics <"$work/slurm-textfile/sadfix-doctor.prom"
healthcheck cuda "NodeName=n1 State=DRAIN Reason=sadfix: torch cannot use the GPU"
grep -q "State=RESUME" "$work/scontrol.log" \
    || { echo "FAIL: working CUDA did not resume the node"; cat "$work/scontrol.log"; exit 1; }
echo "ok: slurm health check resumes the node it drained once CUDA works"
end=$(date +%s.%N)
echo "metrics: all checks passed in $(python3 -c "print(f'{$end - $start:.1f}')") s (after the install)"
