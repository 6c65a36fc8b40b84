#!/usr/bin/env bash
# sadfix on a real SadTalker: the PyPI package sadtalker-z 0.1.6 in a venv on Debian's CPU-only
# torch, weights written by the package's own classes, driven by an app that imports it
# (fixtures/real-sadtalker/host.py). doctor, scan, patch, bench, tune and patch --compat run on
# that install; every claim is checked from their JSON. The venv, weights and model data are
# cached under ${XDG_CACHE_HOME:-$HOME/.cache}/sadfix-ci/real-sadtalker/<key>, the key being a
# hash of the set-up files only, so a second run skips the set-up. See docs/real-sadtalker.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo="$PWD"
fixture="$repo/fixtures/real-sadtalker"

now() { date +%s.%N; }
since() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$1" "$(now)"; }

# System packages: Debian's CPU torch (far smaller than PyPI's CUDA build; docs/real-sadtalker.md)
# and a system ffmpeg, without which SadTalker's run dies after the Face Renderer.
need=()
for pkg in python3-torch python3-torchvision python3-venv; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
if [ "${#need[@]}" -gt 0 ]; then
    t=$(now)
    echo "installing ${need[*]}"
    apt-get -o DPkg::Lock::Timeout=900 update -qq
    DEBIAN_FRONTEND=noninteractive nice -n 10 apt-get -o DPkg::Lock::Timeout=900 install -y -qq \
        --no-install-recommends "${need[@]}" >/dev/null
    echo "time: apt-get install $(since "$t") s"
fi

# The cache: built in a temporary folder beside it and renamed into place only when complete,
# so an interrupted set-up never leaves a half cache.
setup_files=(setup.sh requirements.txt write_configs.py write_template.py make_weights.py)
key=$(cd "$fixture" && cat "${setup_files[@]}" | sha256sum | cut -c1-16)
cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/sadfix-ci/real-sadtalker"
cache="$cache_root/$key"
mkdir -p "$cache_root"
t=$(now)
if [ -f "$cache/complete" ]; then
    echo "time: set-up cached ($cache) $(since "$t") s"
else
    build=$(mktemp -d "$cache_root/.build-XXXXXX")
    trap 'rm -rf "$build"' EXIT
    bash "$fixture/setup.sh" "$build"
    touch "$build/complete"
    if ! mv -T "$build" "$cache" 2>/dev/null; then
        rm -rf "$build" # another run finished the same key first
    fi
    trap - EXIT
    echo "time: set-up cold ($cache) $(since "$t") s"
    # Older keys of this step only (a changed set-up): each holds about 2 GB.
    find "$cache_root" -mindepth 1 -maxdepth 1 -type d ! -name "$key" ! -name '.build-*' \
        -exec rm -rf {} +
fi

cargo build -q
bin="${CARGO_TARGET_DIR:-$repo/target}/debug/sadfix"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The app: its script, the model data beside it (sadtalker/config: sadtalker-z reads it from the
# script's folder), the weights in its working folder and its venv as .venv. Only the script is
# copied; the rest is the cache's, read-only for this step.
app="$work/app"
mkdir -p "$app"
cp "$fixture/host.py" "$app/"
for entry in sadtalker checkpoints gfpgan; do
    ln -s "$cache/app/$entry" "$app/$entry"
done
ln -s "$cache/venv" "$app/.venv"
py="$app/.venv/bin/python"
site=$("$py" -c 'import os, sadtalker; print(os.path.dirname(sadtalker.__file__))')
# sadfix's pattern matcher against tree-sitter's query engine on the package's real code.
t=$(now)
SADFIX_PATTERN_TREE="$site" cargo test -q --test patterns the_walk_matches_what_tree_sitter_matches
echo "time: matcher compared with tree-sitter on $site $(since "$t") s"
cd "$app"
# 0.2 s of audio: 5 frames, so 3 Face Renderer iterations at the package's batch size 2.
"$py" "$fixture/make_inputs.py" face.png talk.wav 0.2

# run NAME CODES ARGS...: run sadfix with ARGS, time it, keep stdout in NAME.out and stderr in
# NAME.err, and fail unless its exit code is one of CODES (comma-separated).
run() {
    local name="$1" codes="$2" code=0 t
    shift 2
    t=$(now)
    "$bin" "$@" >"$work/$name.out" 2>"$work/$name.err" || code=$?
    echo "time: sadfix $name $(since "$t") s (exit $code)"
    if [[ ",$codes," != *",$code,"* ]]; then
        echo "FAIL: sadfix $* exited $code, expected $codes"
        cat "$work/$name.out" "$work/$name.err"
        exit 1
    fi
}

# check NAME: the python block on stdin judges $work/NAME.json (loaded as `doc`).
check() {
    python3 - "$work/$1.json" "$site" "$app" <<<"import json, sys
doc = json.load(open(sys.argv[1]))
site, app = sys.argv[2], sys.argv[3]
$(cat)
print('ok: $1')"
}

# The line of the package's own code that holds TEXT (so the checks follow the real file).
line_of() {
    grep -n -F "$2" "$site/$1" | head -1 | cut -d: -f1
}
device_line=$(line_of aiy.py "self.device = 'cpu'")
batch_line=$(line_of aiy.py "self.batch_size = 2")
export device_line batch_line

run doctor 0,1 doctor --json
cp "$work/doctor.out" "$work/doctor.json"
check doctor <<'PY'
import os
install = doc["install"]
assert install["root"] == site, install
assert install["layout"] == "pip package in site-packages", install
assert install["host"] == app, install
assert doc["python"]["path"] == f"{app}/.venv/bin/python", doc["python"]
checks = {c["id"]: c for c in doc["checks"]}
build = checks["torch.build"]
assert build["summary"].startswith("CPU-only torch build"), build
assert "torch.version.cuda = None (from import torch)" in "\n".join(build["evidence"]), build
cuda = checks["cuda.available"]
assert cuda["summary"].endswith("torch is a CPU-only build"), cuda
assert "Torch not compiled with CUDA enabled" in "\n".join(cuda["evidence"]), cuda
device = checks["code.device_selection"]
assert device["status"] == "fail", device
assert device["summary"] == f"the code is hard-coded to the CPU: aiy.py:{os.environ['device_line']} sets 'cpu'", device
batch = checks["code.batch_size"]
assert f"(aiy.py:{os.environ['batch_line']})" in batch["summary"], batch
# Only what breaks is a finding: basicsr imports torchvision.transforms.functional_tensor, which
# Debian's torchvision 0.14 has; torchaudio is not imported by SadTalker at all.
assert checks["packages.basicsr"]["status"] == "ok", checks["packages.basicsr"]
versions = checks["packages.versions"]
assert "torchaudio" not in versions["summary"] + (versions.get("fix") or ""), versions
assert "-r requirements.txt" not in (versions.get("fix") or ""), versions
for weights in ("weights.checkpoints", "weights.gfpgan"):
    assert not any("SadTalker_V0.0.2_256" in e or "detection_Resnet50" in e
                   for e in checks[weights]["evidence"]), checks[weights]
PY

run scan 0 scan --json
cp "$work/scan.out" "$work/scan.json"
check scan <<'PY'
import os
sites = doc["sites"]
device = [s for s in sites if s["file"] == "aiy.py" and s["kind"] == "device"]
assert [(s["line"], s["family"], s["value"], s["action"]) for s in device] == [
    (int(os.environ["device_line"]), "G", "'cpu'", "rewrite")], device
# face3d's ParametricFaceModel starts on 'cpu' and is moved by its own to(device): report only.
bfm = [s for s in sites if s["file"].endswith("face3d/models/bfm.py") and s["kind"] == "device"]
assert bfm and all(s["action"] != "rewrite" for s in bfm), bfm
batch = [s for s in sites if s["file"] == "aiy.py" and s["kind"] == "batch_size"]
assert [(s["line"], s["family"], s["value"]) for s in batch] == [
    (int(os.environ["batch_line"]), "attribute", "2")], batch
PY

run patch-dry 0 patch --force-gpu --dry-run --json
cp "$work/patch-dry.out" "$work/patch-dry.json"
check patch-dry <<'PY'
import os
assert doc["mode"] == "dry_run" and doc["written"] is False, doc["mode"]
fixes = [f for c in doc["changed"] for f in c["fixes"]]
assert {"file": "aiy.py", "line": int(os.environ["device_line"]), "recipe": "device-hardcoded-cpu",
        "applicability": "unsafe"} in fixes, fixes
assert not any(c["file"].endswith("bfm.py") for c in doc["changed"]), doc["changed"]
batch = [s for s in doc["sites"] if s["file"] == "aiy.py" and s["kind"] == "batch_size"]
assert [(s["line"], s["value"]) for s in batch] == [(int(os.environ["batch_line"]), "2")], batch
PY

# The 3D reconstruction's training options (face3d/options/train_options.py, --batch_size 32)
# are not the Face Renderer's batch size: --batch-size must leave them alone.
run patch-batch 0 patch --batch-size 4 --dry-run --json
cp "$work/patch-batch.out" "$work/patch-batch.json"
check patch-batch <<'PY'
assert not any("face3d" in c["file"] for c in doc["changed"]), doc["changed"]
PY

# patch then --revert on a copy of the package (the cache stays as built): the bytes come back.
cp -r "$site" "$work/sadtalker"
run patch-write 0 --root "$work/sadtalker" patch --force-gpu --python "$py"
grep -q "self.device = \"cuda\"\|self.device = 'cuda'" "$work/sadtalker/aiy.py" ||
    { echo "FAIL: patch --force-gpu left aiy.py's device as it was"; exit 1; }
run patch-revert 0 --root "$work/sadtalker" patch --revert
rm -rf "$work/sadtalker/.sadfix"
diff -r "$site" "$work/sadtalker" >/dev/null || { echo "FAIL: revert did not give back the bytes"; exit 1; }
echo "ok: patch --force-gpu then --revert gives back the package's bytes"

run compat 0,1 patch --compat --dry-run --json
cp "$work/compat.out" "$work/compat.json"
check compat <<'PY'
compat = doc["sites"]
by_recipe = {}
for s in compat:
    if s["kind"] == "compat":
        by_recipe.setdefault(s["recipe"], []).append(s)
# Gates judged on the versions really installed: numpy 1.23.5 needs no numpy fix, and
# face_alignment 1.3.5 lacks LandmarksType._2D.
numpy = by_recipe["numpy-removed-alias"]
assert all(s["action"] == "not_needed" and "numpy 1.23.5" in s["gate"] for s in numpy), numpy
fa = by_recipe["face-alignment-2d"]
assert [s["action"] for s in fa] == ["rewrite"] and "face_alignment 1.3.5" in fa[0]["gate"], fa
assert any(f["recipe"] == "face-alignment-2d" for c in doc["changed"] for f in c["fixes"]), doc["changed"]
PY

# The real run, followed as a host's: 5 frames, batch 2 -> 3 Face Renderer iterations.
export PYTHONUNBUFFERED=1
run bench 0,1 bench --json "$work/bench.json" --exec -- "$py" host.py --audio talk.wav --image face.png
check bench <<'PY'
assert doc["mode"] == "run" and not doc["simulated"], (doc["mode"], doc["simulated"])
assert doc["run"]["failed"] is False and doc["run"]["ending"] == {"kind": "exited", "code": 0}, doc["run"]
stages = {s["name"]: s for s in doc["stages"]}
# landmark Det (preprocess), 3DMM extraction, mel, audio2exp (audio2coeff), Face Renderer.
for name in ("preprocess", "extract_3dmm", "mel", "audio2coeff", "face_renderer", "video_write"):
    assert name in stages, (name, list(stages))
assert (stages["mel"]["done"], stages["mel"]["total"]) == (5, 5), stages["mel"]
render = stages["face_renderer"]
assert (render["done"], render["total"]) == (3, 3), render  # ceil(5 frames / batch 2)
assert render["rate"].endswith("s/it"), render
assert doc["batch_size_inferred"] == 2, doc["batch_size_inferred"]
video = doc["output_video"]
assert video["exists"] and video["path"].endswith(".mp4") and video["path"].startswith(app), video
assert 0.1 < video["duration_s"] < 1.0, video
assert doc["device"]["device"] == "cpu", doc["device"]
assert not any("cpu capabilities" in h for h in doc["device"]["how"]), doc["device"]
assert doc["host"]["kind"] == "exec" and doc["host"]["stages_seen"], doc["host"]
PY
cat "$work/bench.out"

run tune-dry 0,1 tune --dry-run --audio talk.wav --json "$work/tune-dry.json"
check tune-dry <<'PY'
assert doc["trials"] == [] and doc["recommendation"] is None, doc
pre = doc["preflight"]
assert (pre["audio_s"], pre["frames"], pre["size"]) == (0.2, 5, 256), pre
assert pre["gpu_free_mb"] is None, pre  # no GPU here: nothing predicted about its memory
assert [b["batch_size"] for b in pre["per_batch"]] == [1, 2, 4, 8, 16], pre["per_batch"]
PY

run tune 0,1 tune --batch-sizes 1,2 --parallel 1 --audio talk.wav --json "$work/tune.json" \
    --exec -- "$py" host.py --audio '{audio}' --image face.png --batch-size '{batch_size}' \
    --result-dir '{result_dir}'
check tune <<'PY'
trials = doc["trials"]
assert [(t["batch_size"], t["parallel"], t["status"]) for t in trials] == [
    (1, 1, "ok"), (2, 1, "ok")], trials
assert all(t["wall_s"] > 0 and t["render_s_per_frame"] > 0 for t in trials), trials
rec = doc["recommendation"]
assert rec and rec["batch_size"] in (1, 2) and rec["parallel"] == 1, rec
# The package's default (SadTalkerArgs.batch_size = 2) was among the trials: a speed-up is stated.
assert rec["speedup"] is not None and rec["applied"] is False, rec
# The trials ran on the CPU, and the report says so: this is no GPU tuning.
assert doc["device"]["device"] == "cpu", doc["device"]
assert all(t["device"] == "cpu" for t in trials), trials
PY
cat "$work/tune.out"

# fix on a machine where CUDA cannot work (Debian's CPU-only torch, no GPU at all): no code
# change can help, so nothing is planned or written; the environment's fixes are printed, exit 1.
run fix 1 fix --dry-run --json "$work/fix.json"
check fix <<'PY'
import os
assert doc["verdict"] == "environment_only" and doc["cuda"] == "cannot_work", (doc["verdict"], doc["cuda"])
assert doc["applied"] == [] and doc["before"] is None and doc["after"] is None, doc["applied"]
# No NVIDIA GPU on this machine: a CUDA wheel would not help, and the first fix says so.
first = doc["environment_fixes"][0]
assert first["check"] == "cuda.available" and "no NVIDIA GPU" in first["command"], doc["environment_fixes"]
assert not any("pip install" in f["command"] and "torch" in f["command"]
               for f in doc["environment_fixes"]), doc["environment_fixes"]
assert not os.path.exists(os.path.join(site, ".sadfix")), "fix wrote a journal"
PY
cat "$work/fix.out"

# Further checks on the same install go here, each as: run NAME CODES ARGS...; check NAME.

echo "real-sadtalker: all checks passed"
