#!/usr/bin/env python3
"""Overhead of `sadfix bench`: the simulated generation's wall time bare and under sadfix, and the
CPU time sadfix itself used (getrusage RUSAGE_SELF, reported in the JSON as `sadfix_cpu_s`).

Runs alternate (bare, bench, bare, bench, ...) so that drift in the machine's load hits both.
Aims: under 2% longer, and under 1% of one core for sadfix at the default 250 ms interval.

    cargo build --release
    python3 benches/overhead.py [--runs 5] [--speed 2] [--audio-s 4] [--interval 250] [--sadfix PATH]
"""
import argparse
import json
import math
import os
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import wave

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def make_wav(path, seconds):
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(i / 8))) for i in range(int(16000 * seconds))))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--speed", default="2", help="SADTALKER_SIM_SPEED for the simulated install")
    ap.add_argument("--audio-s", type=float, default=4.0)
    ap.add_argument("--interval", default="250")
    ap.add_argument("--sadfix", default=os.path.join(ROOT, "target", "release", "sadfix"))
    args = ap.parse_args()
    if not os.path.exists(args.sadfix):
        sys.exit(f"{args.sadfix} not found: run cargo build --release (or pass --sadfix)")

    work = tempfile.mkdtemp(prefix="sadfix-overhead-")
    install = os.path.join(work, "sim-install")
    shutil.copytree(os.path.join(ROOT, "fixtures", "sim-install"), install)
    audio = os.path.join(work, "clip.wav")
    make_wav(audio, args.audio_s)
    image = os.path.join(install, "examples", "source_image", "sim_face.png")
    env = dict(os.environ, SADTALKER_SIM_SPEED=args.speed, PYTHONUNBUFFERED="1")
    env.pop("SADTALKER_SIM_FAIL", None)

    bare, under, own_cpu, inside = [], [], [], []
    for i in range(args.runs):
        out = os.path.join(work, f"bare{i}")
        t0 = time.perf_counter()
        subprocess.run([sys.executable, os.path.join(install, "inference.py"), "--driven_audio", audio,
                        "--source_image", image, "--result_dir", out], cwd=install, env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        bare.append(time.perf_counter() - t0)

        report = os.path.join(work, f"bench{i}.json")
        t0 = time.perf_counter()
        subprocess.run([args.sadfix, "--root", install, "bench", "--audio", audio, "--interval", args.interval,
                        "--json", report], cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        under.append(time.perf_counter() - t0)
        with open(report) as f:
            r = json.load(f)
        own_cpu.append(r["sadfix_cpu_s"])
        inside.append(r["wall_s"])
        print(f"run {i + 1}: bare {bare[-1]:.3f} s, under sadfix {under[-1]:.3f} s "
              f"(child wall {r['wall_s']:.3f} s), sadfix CPU {r['sadfix_cpu_s'] * 1000:.1f} ms", flush=True)

    mb, mu = statistics.median(bare), statistics.median(under)
    cpu = statistics.median(own_cpu)
    wall = statistics.median(inside)
    print()
    print(f"simulated generation: {args.audio_s:g} s of audio, SADTALKER_SIM_SPEED={args.speed}, "
          f"interval {args.interval} ms, {args.runs} runs each, medians")
    print(f"  bare:             {mb:.3f} s (spread {min(bare):.3f}-{max(bare):.3f})")
    print(f"  under sadfix:     {mu:.3f} s (spread {min(under):.3f}-{max(under):.3f})")
    print(f"  longer by:        {100 * (mu - mb) / mb:+.2f}%  (aim: < 2%)")
    print(f"  sadfix CPU time:  {cpu * 1000:.1f} ms = {100 * cpu / wall:.2f}% of one core over the run (aim: < 1%)")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
