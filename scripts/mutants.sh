#!/usr/bin/env bash
# Mutation testing of the pure-logic modules (docs/testing.md): each mutant is a small change to the code
# (an operator flipped, a function made to return a default); the unit tests must fail for it ("caught").
# Runs in a temporary copy (the working tree is never mutated) and writes mutants.out/ there; prints the
# summary and where the lists of missed mutants are. About an hour on 2 cores.
#   scripts/mutants.sh            the whole scope
#   scripts/mutants.sh -f FILE    one file (any cargo-mutants option passes through)
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo-mutants >/dev/null 2>&1; then
  echo "installing cargo-mutants (once)"
  cargo install --locked cargo-mutants
fi

scope=(-f 'src/config/*.rs' -f 'src/gguf/*.rs' -f src/proxy/headers.rs -f src/proxy/incoming.rs -f src/proxy/gate.rs)
if [ $# -gt 0 ]; then scope=("$@"); fi

work="${MUTANTS_DIR:-$(mktemp -d -t llama-dashboard-mutants-XXXXXX)}"
echo "copy under test: $work"
git ls-files -z | tar --null -T - -cf - | tar -xf - -C "$work"
cd "$work"
# --lib: the unit tests are the net measured here (the end-to-end suite is too slow to run per mutant).
cargo mutants --in-place --no-shuffle --timeout 30 -C --lib "${scope[@]}" || true
echo
echo "caught: $(wc -l < mutants.out/caught.txt)  missed: $(wc -l < mutants.out/missed.txt)" \
  "timeout: $(wc -l < mutants.out/timeout.txt)  unviable: $(wc -l < mutants.out/unviable.txt)"
echo "missed mutants: $work/mutants.out/missed.txt"
