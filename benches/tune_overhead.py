#!/usr/bin/env python3
"""Overhead of `sadfix tune` per trial: everything but the generation itself.

Two figures, both from real runs of the simulated install (fixtures/sim-install):

* outside the generations: the wall time of the whole `sadfix tune` minus the generations' own
  wall times (from its --json), per trial: process start, preflight, the batch-size scan, the
  trial clip, planning, the reports, the joins;
* inside the generations: each trial's wall time against the same generation run bare
  (`python inference.py` at the same batch size on the same clip, the same interpreter),
  alternated so that drift in the machine's load hits both.

Aim: under 2% of a trial for each.

    cargo build --release
    python3 benches/tune_overhead.py [--runs 3] [--speed 4] [--audio-s 4] [--sadfix PATH]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import wave

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BATCHES = [1, 2, 4]


def make_wav(path, seconds):
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"\x00\x01" * int(16000 * seconds))


def bare(install, audio, batch, env, results):
    start = time.monotonic()
    subprocess.run([sys.executable, "inference.py", "--driven_audio", audio, "--batch_size", str(batch),
                    "--size", "256", "--result_dir", results], cwd=install, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.monotonic() - start


def tuned(sadfix, install, audio, env, work, trial_s):
    report = os.path.join(work, "tune.json")
    start = time.monotonic()
    subprocess.run([sadfix, "--root", install, "tune", "--audio", audio, "--batch-sizes",
                    ",".join(map(str, BATCHES)), "--parallel", "1", "--python", sys.executable, "--trial-seconds", str(trial_s),
                    "--json", report], cwd=work, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    total = time.monotonic() - start
    with open(report) as f:
        doc = json.load(f)
    walls = [t["wall_s"] for t in doc["trials"]]
    return total, walls


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    # Speed 4 makes a 4 s trial take about as long as the user's guide has a GPU take for it.
    ap.add_argument("--speed", default="4")
    ap.add_argument("--audio-s", type=float, default=4.0)
    ap.add_argument("--sadfix", default=os.path.join(ROOT, "target", "release", "sadfix"))
    a = ap.parse_args()
    if not os.path.exists(a.sadfix):
        sys.exit(f"{a.sadfix} not found: run cargo build --release, or pass --sadfix PATH")
    work = tempfile.mkdtemp(prefix="sadfix-tune-bench-")
    try:
        install = os.path.join(work, "sim-install")
        shutil.copytree(os.path.join(ROOT, "fixtures", "sim-install"), install)
        audio = os.path.join(work, "clip.wav")
        make_wav(audio, a.audio_s)
        env = dict(os.environ, SADTALKER_SIM_SPEED=a.speed, PYTHONUNBUFFERED="1")
        for var in ("SADTALKER_SIM_FAIL", "SADTALKER_SIM_OOM_ABOVE", "SADTALKER_SIM_CHILD", "SADFIX_GPU_REPLAY"):
            env.pop(var, None)
        outside, inside = [], []
        for run in range(a.runs):
            total, walls = tuned(a.sadfix, install, audio, env, work, a.audio_s)
            per_trial = (total - sum(walls)) / len(walls)
            outside.append(100.0 * per_trial / statistics.mean(walls))
            bare_walls = [bare(install, audio, b, env, os.path.join(work, "bare")) for b in BATCHES]
            inside.append(100.0 * (sum(walls) - sum(bare_walls)) / sum(bare_walls))
            print(f"run {run + 1}: tune {total:.2f} s for {len(walls)} trials of {statistics.mean(walls):.2f} s; "
                  f"outside the generations {per_trial * 1000:.0f} ms per trial ({outside[-1]:.2f}%); "
                  f"generations {sum(walls):.2f} s under tune vs {sum(bare_walls):.2f} s bare ({inside[-1]:+.2f}%)")
        print(f"tune overhead per trial, outside the generations: median {statistics.median(outside):.2f}% (aim < 2%)")
        print(f"tune overhead per trial, inside the generations: median {statistics.median(inside):+.2f}% (aim < 2%)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
