#!/usr/bin/env bash
# The README's set-up command on the fixture install, then a full patch / re-run / revert round
# trip on a copy: exit codes and the original bytes back.
set -euo pipefail
cd "$(dirname "$0")/../.."

cargo run -q -- scan --root fixtures/installs/standalone
cargo run -q -- patch --force-gpu --dry-run --root fixtures/installs/standalone >/dev/null 2>&1

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r fixtures/installs/standalone "$work/SadTalker"
sadfix() { cargo run -q -- "$@" --root "$work/SadTalker"; }

set +e
sadfix patch --force-gpu --batch-size 4 --check >/dev/null 2>&1; rc=$?
set -e
[ "$rc" = 1 ] || { echo "patch --check before patching: exit $rc, expected 1"; exit 1; }
sadfix patch --force-gpu --batch-size 4 >/dev/null 2>&1
sadfix patch --force-gpu --batch-size 4 --check >/dev/null 2>&1 || { echo "a second patch would still change something"; exit 1; }
PYTHONDONTWRITEBYTECODE=1 python3 -c "import sys; [compile(open(f).read(), f, 'exec') for f in sys.argv[1:]]" "$work/SadTalker/inference.py" "$work/SadTalker/src/gradio_demo.py"
sadfix patch --revert >/dev/null
rm -rf "$work/SadTalker/.sadfix"
diff -r fixtures/installs/standalone "$work/SadTalker"
echo "patch round trip: ok"
