#!/usr/bin/env bash
# sadfix doctor against a real torch: Debian's CPU-only python3-torch, used through a venv with
# system site packages. Proves the probe on the real API (torch's own reason from
# torch.cuda.init()), that the CPU-only build is recognised from torch.version.cuda (Debian's
# version string carries no +cpu tag), and, with the stub libnvidia-ml.so.1 of fixtures/nvml-stub
# (a test double) playing a driver, that the reinstall names the wheel index of that driver.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! dpkg -s python3-torch python3-venv >/dev/null 2>&1; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y python3-torch python3-venv
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 -m venv --system-site-packages "$work/venv"
cc -shared -fPIC -O1 -Wall -Werror -o "$work/libnvidia-ml.so.1" fixtures/nvml-stub/nvml_stub.c
cargo build -q
# The first import of Debian's torch after the build has pushed it out of the page cache can take
# longer than doctor's default 20 s probe deadline on this 2-core machine; this step checks the
# verdicts on the real API, not the deadline (tests cover that), so warm it and allow more.
/usr/bin/python3 -c "import torch" >/dev/null 2>&1 || true

# doctor [env...]: the JSON report in $work/report.json; exit 0 or 1 (findings) only.
doctor() {
    local status=0
    env "$@" target/debug/sadfix doctor --root fixtures/doctor/healthy/SadTalker \
        --python "$work/venv/bin/python" --timeout 120 --json >"$work/report.json" || status=$?
    if [ "$status" -ne 0 ] && [ "$status" -ne 1 ]; then
        echo "doctor exited $status" >&2
        exit 1
    fi
}

doctor
/usr/bin/python3 - "$work/report.json" <<'PY'
import json, sys

report = json.load(open(sys.argv[1]))
assert report["schema_version"] == 1, report["schema_version"]
checks = {c["id"]: c for c in report["checks"]}
build = checks["torch.build"]
evidence = "\n".join(build["evidence"])
assert build["status"] in ("warn", "fail"), build
assert build["summary"].startswith("CPU-only torch build"), build["summary"]
# Read from the live import, and judged from torch.version.cuda, not from a "+cpu" tag.
assert "torch.version.cuda = None (from import torch)" in evidence, evidence
assert "+cpu" not in build["summary"], build["summary"]
cuda = checks["cuda.available"]
assert cuda["summary"] == "torch.cuda.is_available() is False: torch is a CPU-only build", cuda
# torch's own reason, from torch.cuda.init() in the probe.
reason = "torch.cuda.init(): AssertionError: Torch not compiled with CUDA enabled"
assert reason in cuda["evidence"], cuda["evidence"]
print("real torch:", build["summary"], "|", evidence.splitlines()[-1])
PY

# The stub NVML as a CUDA 12.8 driver with one GPU: the CPU-only fix is the cu128 wheel.
doctor LD_LIBRARY_PATH="$work" NVML_STUB_DRIVER=570.133.07 NVML_STUB_CUDA=12080
/usr/bin/python3 - "$work/report.json" <<'PY'
import json, sys

report = json.load(open(sys.argv[1]))
assert report["gpu_source"] == "nvml", report["gpu_source"]
checks = {c["id"]: c for c in report["checks"]}
build = checks["torch.build"]
assert build["status"] == "fail", build
assert "sadfix NVML stub GPU (test double)" in build["summary"], build["summary"]
fix = build["fix"]
assert fix.endswith("-m pip install --force-reinstall torch torchvision "
                    "--index-url https://download.pytorch.org/whl/cu128"), fix
assert checks["cuda.available"]["fix"] == fix, checks["cuda.available"]
print("real torch + stub NVML (CUDA 12.8 driver):", fix)
PY
