#!/usr/bin/env bash
# The pip wheel and the sdist, built and used as a user would: the manylinux wheel (maturin with
# zig, glibc 2.17) and its tag checked by auditwheel; installed with pip into a fresh venv, with
# `uv tool install` and with `pipx`; `sadfix doctor --json` from the venv checked to diagnose that
# venv's Python; the same binary started in a Debian bullseye root (glibc 2.31) where it scans a
# fixture. Prints the wheel's size and tag and the time of each part.
# Cached between runs on one machine (under ${XDG_CACHE_HOME:-$HOME/.cache}/sadfix-ci/):
# wheel/tools (maturin, ziglang, auditwheel, uv, pipx), wheel/target (the release build's
# dependencies) and bullseye/ (the debootstrapped root).
set -euo pipefail
cd "$(dirname "$0")/../.."
clone="$PWD"

cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/sadfix-ci"
cache="$cache_root/wheel"
mkdir -p "$cache"
work="$(mktemp -d)"
chroot_dir=""
cleanup() {
    [ -n "$chroot_dir" ] && rm -rf "$chroot_dir"
    rm -rf "$work"
}
trap cleanup EXIT

step_start=$(date +%s)
part_start=$step_start
part() {
    local now
    now=$(date +%s)
    echo "   ($1: $((now - part_start)) s)"
    part_start=$now
}

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)
echo "sadfix $version"

# --- build tools, pinned, in a cached venv (rebuilt when the pins change) ---
pins="maturin==1.16.0 ziglang==0.17.1 auditwheel==6.8.2 uv==0.13.9 pipx==1.18.4"
tools="$cache/tools"
if [ "$(cat "$tools/pins" 2>/dev/null)" != "$pins" ]; then
    echo "installing the build tools into $tools: $pins"
    rm -rf "$tools"
    python3 -m venv "$tools"
    # shellcheck disable=SC2086
    nice -n 10 "$tools/bin/pip" install -q --disable-pip-version-check $pins
    echo "$pins" >"$tools/pins"
else
    echo "build tools cached in $tools"
fi
part "tools"

# --- the wheel and the sdist ---
dist="$work/dist"
# maturin finds zig as `python3 -m ziglang` on PATH.
PATH="$tools/bin:$PATH" CARGO_TARGET_DIR="$cache/target" nice -n 5 \
    maturin build --release --locked --zig --target x86_64-unknown-linux-gnu \
    --compatibility manylinux2014 --out "$dist"
part "release build (maturin --zig)"
PATH="$tools/bin:$PATH" maturin sdist --out "$dist"
part "sdist"

wheel=$(ls "$dist"/*.whl)
sdist=$(ls "$dist"/*.tar.gz)
case "$(basename "$wheel")" in
    "sadfix-$version-py3-none-manylinux2014_x86_64.manylinux_2_17_x86_64.whl") ;;
    *) echo "FAIL: unexpected wheel name $(basename "$wheel")"; exit 1 ;;
esac
# auditwheel reads the binary's symbol versions and libraries: the tag must be what they allow.
"$tools/bin/auditwheel" show "$wheel" | tee "$work/audit.txt"
tr '\n' ' ' <"$work/audit.txt" >"$work/audit-line.txt"
grep -q 'consistent with the following platform tag: "manylinux_2_17_x86_64"' \
    "$work/audit-line.txt" || {
    echo "FAIL: auditwheel does not find the wheel consistent with manylinux_2_17_x86_64"
    exit 1
}
# The sdist carries what a source build needs: the crate, its lock file and the recipes.
tar -tzf "$sdist" >"$work/sdist.txt"
for member in Cargo.toml Cargo.lock pyproject.toml src/main.rs patches/batch-size.yaml; do
    grep -qx "sadfix-$version/$member" "$work/sdist.txt" || {
        echo "FAIL: the sdist lacks $member"
        exit 1
    }
done
echo "wheel: $(basename "$wheel"), $(stat -c %s "$wheel") bytes"
echo "sdist: $(basename "$sdist"), $(stat -c %s "$sdist") bytes"
part "checks"

# --- pip into a fresh venv: the venv's Python is the one doctor diagnoses ---
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q --disable-pip-version-check --no-index "$wheel"
got=$("$work/venv/bin/sadfix" --version)
[ "$got" = "sadfix $version" ] || { echo "FAIL: --version says '$got'"; exit 1; }
# From another directory, with no venv activated: only the executable's place says which venv.
status=0
(cd "$work" && env -u VIRTUAL_ENV -u CONDA_PREFIX "$work/venv/bin/sadfix" doctor --json \
    --root "$clone/fixtures/installs/standalone" >"$work/doctor.json") || status=$?
python3 - "$work/doctor.json" "$work/venv/bin/python" "$status" <<'PY'
import json, sys
path, expected, status = sys.argv[1], sys.argv[2], int(sys.argv[3])
report = json.load(open(path))
python = report.get("python") or {}
if status not in (0, 1):
    sys.exit(f"FAIL: doctor exited {status}")
if python.get("source") != "sadfix_venv" or python.get("path") != expected:
    sys.exit(f"FAIL: doctor chose {python} instead of {expected} (sadfix_venv)")
print(f"ok: doctor chose {python['path']} ({python['source']}: {python['reason']}), "
      f"Python {python.get('version')}")
PY
part "pip install + doctor"

# --- uv tool install and pipx install from the local wheel: their own tool environments ---
UV_TOOL_DIR="$work/uv-tools" UV_TOOL_BIN_DIR="$work/uv-bin" UV_PYTHON_DOWNLOADS=never \
    UV_CACHE_DIR="$cache/uv-cache" \
    "$tools/bin/uv" tool install -q --offline --python "$(command -v python3)" "$wheel"
[ "$("$work/uv-bin/sadfix" --version)" = "sadfix $version" ]
echo "ok: uv tool install: $("$work/uv-bin/sadfix" --version)"
PIPX_HOME="$work/pipx" PIPX_BIN_DIR="$work/pipx-bin" PIPX_MAN_DIR="$work/pipx-man" \
    "$tools/bin/pipx" install --quiet --python "$(command -v python3)" \
    --pip-args="--no-index" "$wheel" >/dev/null
[ "$("$work/pipx-bin/sadfix" --version)" = "sadfix $version" ]
echo "ok: pipx install: $("$work/pipx-bin/sadfix" --version)"
# A tool environment holds sadfix alone: doctor must not take its Python for SadTalker's.
(cd "$work" && env -u VIRTUAL_ENV -u CONDA_PREFIX "$work/uv-bin/sadfix" doctor --json \
    --root "$clone/fixtures/installs/standalone" >"$work/doctor-uv.json") || true
python3 -c '
import json, sys
p = json.load(open(sys.argv[1])).get("python") or {}
if p.get("source") == "sadfix_venv":
    sys.exit(f"FAIL: doctor under uv tool chose the tool environment: {p}")
print("ok: under uv tool, doctor chose", p.get("path"), "(" + str(p.get("source")) + ")")
' "$work/doctor-uv.json"
part "uv tool + pipx"

# --- the same binary in Debian bullseye (glibc 2.31) ---
bullseye="$cache_root/bullseye"
if [ ! -x "$bullseye/bin/sh" ]; then
    if ! command -v debootstrap >/dev/null 2>&1; then
        apt-get -o DPkg::Lock::Timeout=900 update -qq
        DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -qq \
            debootstrap >/dev/null
    fi
    echo "debootstrap bullseye into $bullseye"
    building=$(mktemp -d "$cache_root/bullseye.tmp.XXXXXX")
    nice -n 10 debootstrap --variant=minbase bullseye "$building/root" \
        http://deb.debian.org/debian >"$building/log" 2>&1 || {
        tail -20 "$building/log"
        rm -rf "$building"
        echo "FAIL: debootstrap bullseye"
        exit 1
    }
    rm -rf "$bullseye"
    mv "$building/root" "$bullseye"
    rm -rf "$building"
else
    echo "bullseye root cached in $bullseye"
fi
chroot_dir=$(mktemp -d "$bullseye/tmp/sadfix-check.XXXXXX")
inside="/tmp/$(basename "$chroot_dir")"
cp "$work/venv/bin/sadfix" "$chroot_dir/sadfix"
cp -r fixtures/installs/standalone "$chroot_dir/standalone"
echo "bullseye: $(chroot "$bullseye" ldd --version | head -1)"
got=$(chroot "$bullseye" "$inside/sadfix" --version)
[ "$got" = "sadfix $version" ] || { echo "FAIL: in bullseye --version says '$got'"; exit 1; }
chroot "$bullseye" "$inside/sadfix" scan --json --root "$inside/standalone" >"$work/scan.json"
python3 -c '
import json, sys
doc = json.load(open(sys.argv[1]))
sites = doc.get("sites") or []
if not sites:
    sys.exit(f"FAIL: scan in bullseye found no site: {doc}")
print(f"ok: in bullseye, sadfix scan found {len(sites)} sites in the fixture install")
' "$work/scan.json"
part "bullseye"

echo "wheel size: $(stat -c %s "$wheel") bytes ($(basename "$wheel"))"
echo "wheel tag: $(basename "$wheel" .whl | cut -d- -f3-)"
echo "wheel: all checks passed in $(($(date +%s) - step_start)) s"
