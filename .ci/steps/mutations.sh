#!/usr/bin/env bash
# The property test on mutated fixtures with a larger budget and another seed than the plain
# `cargo test` run: never a panic, never a file written that does not parse, a second patch a
# no-op, revert exact. Failing inputs are left under target/tmp/mutations-failed/.
set -euo pipefail
cd "$(dirname "$0")/../.."
SADFIX_MUTATIONS="${SADFIX_MUTATIONS:-8}" SADFIX_MUTATION_SEED="${SADFIX_MUTATION_SEED:-29}" \
    cargo test -q --test mutations
