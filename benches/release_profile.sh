#!/usr/bin/env bash
# What the release profile in Cargo.toml buys for the distributed binary: size of the binary and
# of its wheel (zip of it, as maturin writes it) and `sadfix --version` start-up time, for
# cargo's default release profile ("before") against Cargo.toml's ("after").
# Usage: benches/release_profile.sh [runs]
#   BEFORE=path AFTER=path   use these binaries instead of building them (each build is a full
#                            release build: several minutes on 2 cores)
# Start-up is timed with hyperfine (-N, no shell) when installed, else by a Python loop of
# posix_spawn + waitpid; /bin/true is timed the same way as the floor of starting any process.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-300}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

build() { # $1 = target dir, rest = env assignments overriding the profile
    local dir=$1
    shift
    local start=$(date +%s)
    env "$@" nice -n 5 cargo build --release --locked -q --target-dir "$dir" >&2
    echo "   built in $(($(date +%s) - start)) s" >&2
    echo "$dir/release/sadfix"
}

if [ -z "${BEFORE:-}" ]; then
    echo "building with cargo's default release profile" >&2
    BEFORE=$(build target/profile-default \
        CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
        CARGO_PROFILE_RELEASE_STRIP=none CARGO_PROFILE_RELEASE_PANIC=unwind \
        CARGO_PROFILE_RELEASE_OPT_LEVEL=3)
fi
if [ -z "${AFTER:-}" ]; then
    echo "building with Cargo.toml's release profile" >&2
    AFTER=$(build target)
fi

# Size of a deflated zip holding the binary: what the wheel weighs, give or take its metadata.
zipped() {
    python3 - "$1" <<'PY'
import io, sys, zipfile
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
    z.write(sys.argv[1], "sadfix")
print(len(buf.getvalue()))
PY
}

# Median and minimum start-up in milliseconds of `$1 --version`.
startup() {
    if command -v hyperfine >/dev/null 2>&1; then
        hyperfine -N -w 20 -r "$runs" --export-json "$work/h.json" "$1 --version" >/dev/null 2>&1
        python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; print("%.2f %.2f hyperfine" % (r["median"]*1000, r["min"]*1000))' "$work/h.json"
    else
        python3 - "$1" "$runs" <<'PY'
import os, statistics, sys, time
exe, runs = sys.argv[1], int(sys.argv[2])
devnull = os.open(os.devnull, os.O_WRONLY)
acts = os.posix_spawn_file_actions if hasattr(os, "posix_spawn_file_actions") else None
times = []
for i in range(runs + 20):
    t = time.perf_counter()
    pid = os.posix_spawn(exe, [exe, "--version"], os.environ,
                         file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 1)])
    os.waitpid(pid, 0)
    if i >= 20:
        times.append((time.perf_counter() - t) * 1000)
print(f"{statistics.median(times):.2f} {min(times):.2f} python-loop")
PY
    fi
}

printf '%-8s %12s %12s %14s %10s\n' profile binary_B wheel_B startup_med_ms min_ms
for pair in "before:$BEFORE" "after:$AFTER"; do
    name=${pair%%:*}
    bin=${pair#*:}
    read -r med min how < <(startup "$bin")
    printf '%-8s %12d %12d %14s %10s\n' "$name" "$(stat -c %s "$bin")" "$(zipped "$bin")" "$med" "$min"
done
read -r med min how < <(startup /bin/true)
printf '%-8s %12s %12s %14s %10s\n' "/bin/true" "-" "-" "$med" "$min"
echo "(start-up timed by $how, $runs runs after 20 warm-up; load average $(cut -d' ' -f1-3 /proc/loadavg))"
