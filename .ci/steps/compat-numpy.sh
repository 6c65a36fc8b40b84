#!/usr/bin/env bash
# The meaning of `sadfix patch --compat`'s numpy group, not only its syntax: the fixture's
# numpy code (POS/align_img/trans_params, the np.hsplit consumer, calculate_points) is run
# unpatched with numpy 1.23.5 (what SadTalker gives on its pin: the reference), then patched
# with numpy 1.23.5, 1.26 and 2.x, each in a throwaway venv with wheels only. On 1.23.5 the
# patched values must be bit-identical to the reference; on 1.26 and 2.x every integer, shape,
# dtype and image call must be identical and every float equal to 1e-9 relative (their bundled
# LAPACK rounds np.linalg.lstsq differently in the last digits, patched or not). The patched
# code must raise no DeprecationWarning. As a control, the unpatched code must fail on numpy
# 2.x (otherwise this check could not tell).
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v python3 >/dev/null || ! python3 -m pip --version >/dev/null 2>&1; then
    echo "compat-numpy: python3 with pip not found; skipped"
    exit 0
fi
if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    if command -v apt-get >/dev/null; then
        apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y python3-venv
    else
        echo "compat-numpy: python3 has no venv module; skipped"
        exit 0
    fi
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r fixtures/compat/SadTalker "$work/original"
cp -r fixtures/compat/SadTalker "$work/patched"
# The numpy 2.4 metadata makes every numpy gate hold; nothing else is read from it.
PYTHONPATH="$PWD/fixtures/compat/packages-new" cargo run -q -- \
    --root "$work/patched" patch --compat --python "$(command -v python3)" >"$work/diff.txt"
grep -q 'reshape(-1)' "$work/diff.txt"

venv() {  # venv NAME NUMPY_SPEC
    python3 -m venv "$work/$1"
    "$work/$1/bin/python" -m pip install -q --disable-pip-version-check --only-binary :all: "$2"
}
venv ref "numpy==1.23.5"
venv np126 "numpy==1.26.*"
venv np2 "numpy>=2.4,<3"

"$work/ref/bin/python" fixtures/compat/check_numpy.py "$work/original" "$work/ref.json"
"$work/ref/bin/python" fixtures/compat/check_numpy.py "$work/patched" "$work/np123.json"
"$work/np126/bin/python" fixtures/compat/check_numpy.py "$work/patched" "$work/np126.json"
"$work/np2/bin/python" fixtures/compat/check_numpy.py "$work/patched" "$work/np2.json"
if "$work/np2/bin/python" fixtures/compat/check_numpy.py "$work/original" "$work/control.json" 2>"$work/control.err"; then
    echo "compat-numpy: the unpatched code ran on numpy 2.x; the check proves nothing" >&2
    exit 1
fi
echo "control: unpatched on numpy 2.x fails with: $(tail -n 1 "$work/control.err")"

python3 - "$work" <<'PY'
import json, sys

work = sys.argv[1]
ref = json.load(open(work + "/ref.json"))


def close(a, b):
    # The values are repr() of floats (or of ints in the image calls).
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(close(x, y) for x, y in zip(a, b))
    if a == b:
        return True
    try:
        x, y = float(a), float(b)
    except (TypeError, ValueError):
        return False
    if "." not in a + b:
        return False  # integers must match exactly
    return abs(x - y) <= 1e-9 * max(abs(x), abs(y), 1.0)


for name, exact in (("np123", True), ("np126", False), ("np2", False)):
    got = json.load(open("%s/%s.json" % (work, name)))
    assert got["deprecations"] == [], (name, got["deprecations"])
    worst = 0.0
    for key in ref:
        if key in ("numpy", "deprecations"):
            continue
        same = got[key] == ref[key] if exact or "dtype" in key else close(got[key], ref[key])
        assert same, "%s (numpy %s) differs in %s:\n%s\n%s" % (name, got["numpy"], key, got[key], ref[key])
        if isinstance(ref[key], list) and key != "image_calls":
            for x, y in zip(got[key], ref[key]):
                worst = max(worst, abs(float(x) - float(y)) / max(abs(float(y)), 1.0))
    count = sum(len(v) for k, v in ref.items() if isinstance(v, list))
    print("patched on numpy %s vs unpatched on numpy %s: %d values, %s" % (
        got["numpy"], ref["numpy"], count,
        "bit-identical" if worst == 0.0 else "largest relative difference %.1e" % worst))
PY
