#!/usr/bin/env python3
"""Cost of following a host's run: `sadfix bench --exec` on a host that keeps a process tree
alive (children in sessions of their own too, found by their SADFIX_RUN marker), prints a line
and appends a line to each of several log files every 50 ms, and does nothing else. What sadfix
itself uses (getrusage, `sadfix_cpu_s` in the JSON) is then the cost of the pipe readers, the
log followers and the process-tree sampling.

Two run lengths; the difference of their CPU times over the difference of their lengths is the
steady cost per second, without sadfix's start-up. Aim: under 1% of one core at the default
250 ms interval.

    cargo build --release
    python3 benches/follow_cost.py [--short 3] [--long 13] [--children 8] [--logs 3] [--interval 250]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

HOST = r'''
import os, subprocess, sys, time
seconds, children, logs, folder = float(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
kids = [subprocess.Popen(["sleep", str(seconds + 5)], start_new_session=(i % 2 == 0)) for i in range(children)]
files = [open(os.path.join(folder, "worker%d.log" % i), "a", buffering=1) for i in range(logs)]
end, n = time.time() + seconds, 0
while time.time() < end:
    n += 1
    print("Face Renderer:: %d%%|#| %d/100000 [00:01<00:02, 9.99it/s]" % (n % 100, n), flush=True)
    for f in files:
        f.write("2026-12-02 10:00:00 INFO [SadTalker] mel:: %d%%|#| %d/100000 [00:01<00:02, 9.99it/s]\n" % (n % 100, n))
    time.sleep(0.05)
for k in kids:
    k.kill()
'''


def run(sadfix, work, seconds, args):
    folder = os.path.join(work, "logs")
    os.makedirs(folder, exist_ok=True)
    report = os.path.join(work, "r%g.json" % seconds)
    subprocess.run([sadfix, "bench", "--interval", str(args.interval), "--json", report,
                    "--log", os.path.join(folder, "*.log"), "--exec", "--",
                    sys.executable, "-c", HOST, str(seconds), str(args.children), str(args.logs), folder],
                   cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(report) as f:
        r = json.load(f)
    return r["wall_s"], r["sadfix_cpu_s"], len(r["host"]["logs_followed"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--short", type=float, default=3)
    ap.add_argument("--long", type=float, default=13)
    ap.add_argument("--children", type=int, default=8)
    ap.add_argument("--logs", type=int, default=3)
    ap.add_argument("--interval", type=int, default=250)
    ap.add_argument("--sadfix", default=os.path.join(ROOT, "target", "release", "sadfix"))
    args = ap.parse_args()
    if not os.path.exists(args.sadfix):
        sys.exit(f"{args.sadfix} not found: run cargo build --release (or pass --sadfix)")
    procs = sum(1 for d in os.listdir("/proc") if d.isdigit())
    with tempfile.TemporaryDirectory(prefix="sadfix-follow-") as work:
        short = run(args.sadfix, work, args.short, args)
        long = run(args.sadfix, work, args.long, args)
    (w1, c1, n1), (w2, c2, _) = short, long
    steady = (c2 - c1) / (w2 - w1)
    print(f"host: {args.children} children (half in sessions of their own), a line on stdout and on each "
          f"of {n1} log files every 50 ms; {procs} processes on this machine; interval {args.interval} ms")
    print(f"  {w1:5.1f} s run: sadfix CPU {c1 * 1000:6.1f} ms ({100 * c1 / w1:.2f}% of one core, start-up included)")
    print(f"  {w2:5.1f} s run: sadfix CPU {c2 * 1000:6.1f} ms ({100 * c2 / w2:.2f}% of one core, start-up included)")
    print(f"  steady cost of following logs, pipes and the process tree: {steady * 1000:.2f} ms per second "
          f"= {100 * steady:.2f}% of one core (aim: < 1%)")


if __name__ == "__main__":
    main()
