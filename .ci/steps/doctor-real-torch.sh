#!/usr/bin/env bash
# sadfix doctor against a real torch: Debian's CPU-only python3-torch, used through a venv with
# system site packages. Proves the probe on the real API and that the CPU-only build is
# recognised from torch.version.cuda (Debian's version string carries no +cpu tag).
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! dpkg -s python3-torch python3-venv >/dev/null 2>&1; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y python3-torch python3-venv
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 -m venv --system-site-packages "$work/venv"

status=0
cargo run -q -- doctor --root fixtures/doctor/healthy/SadTalker --python "$work/venv/bin/python" \
    --json >"$work/report.json" || status=$?
if [ "$status" -ne 0 ] && [ "$status" -ne 1 ]; then
    echo "doctor exited $status" >&2
    exit 1
fi

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
print("real torch:", build["summary"], "|", evidence.splitlines()[-1])
PY
