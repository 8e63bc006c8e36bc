#!/usr/bin/env bash
# The fault and load harness of docs/reliability.md, one command:
#   scripts/chaos.sh [--short|--full] [--seed N] [part...]
# --short (the default, and what CI runs) takes a few minutes for every part together; --full gives the
# published figures and takes much longer. Each part is one `node scripts/chaos/<part>.mjs` run that writes
# target/chaos/<part>.json and prints its summary; the script exits non-zero when a part's check failed.
# Everything stays on loopback; every process and temp dir of the run is removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/kill-naming.sh
source scripts/lib/kill-naming.sh

# The parts, in the order they run.
PARTS=(kills storm soak disk churn)

mode=--short
seed=()
chosen=()
while (($#)); do
  case "$1" in
    --short | --full) mode=$1 ;;
    --seed) seed=(--seed "$2"); shift ;;
    -h | --help) sed -n '2,7p' "$0"; exit 0 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *)
      [[ " ${PARTS[*]} " == *" $1 "* ]] || { echo "unknown part '$1' (parts: ${PARTS[*]})" >&2; exit 2; }
      chosen+=("$1")
      ;;
  esac
  shift
done
((${#chosen[@]})) || chosen=("${PARTS[@]}")

# A binary older than the newest commit is rebuilt (the figures must be of the code committed).
fresh() { [[ -x "$1" && $(stat -c %Y "$1") -ge $(git log -1 --format=%ct) ]]; }
if ! fresh target/release/llama-dashboard; then
  echo "== building the release binary"
  cargo build --release --locked
fi
if [[ $mode == --full && " ${chosen[*]} " == *" storm "* ]] && ! fresh target/debug/llama-dashboard; then
  echo "== building the debug binary (the storm runs against both in --full)"
  cargo build --locked
fi

cache="${LLAMA_DASHBOARD_CACHE:-$HOME/.cache/llama-dashboard}"
if [[ -z "${LLAMA_SERVER_BIN:-}" ]]; then
  LLAMA_SERVER_BIN="$(bash scripts/setup-llama-server.sh | tail -n 1)"
fi
if [[ -z "${LLAMA_DASHBOARD_TEST_GGUF:-}" ]]; then
  bash scripts/fetch-demo-model.sh "$cache/test-models" >/dev/null
  LLAMA_DASHBOARD_TEST_GGUF="$(ls "$cache"/test-models/*.gguf | head -n 1)"
fi
[[ -d tests/js/node_modules ]] || (cd tests/js && npm ci --no-audit --no-fund --loglevel=error)
command -v python3 >/dev/null || { echo "python3 is needed for SQLite's integrity_check" >&2; exit 2; }

CHAOS_ROOT="$(mktemp -d /tmp/chaos-XXXXXX)"
CHAOS_BIN="$PWD/target/release/llama-dashboard"
export CHAOS_ROOT CHAOS_BIN LLAMA_SERVER_BIN LLAMA_DASHBOARD_TEST_GGUF
mkdir -p target/chaos

part_pid=""
# Kills what is left of the run: the part running now, then every process whose argv names the run's
# temp dir (llama-dashboard, llama-server, fake backends), each by its pid.
cleanup() {
  [[ -n $part_pid ]] && kill -TERM "$part_pid" 2>/dev/null || true
  [[ -n $part_pid ]] && wait "$part_pid" 2>/dev/null || true
  kill_naming "$CHAOS_ROOT"
  rm -rf "$CHAOS_ROOT"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== chaos ${mode#--}: ${chosen[*]} (commit $(git rev-parse --short HEAD), binary $CHAOS_BIN)"
failed=()
started=$SECONDS
for part in "${chosen[@]}"; do
  echo "== $part"
  node "scripts/chaos/$part.mjs" "$mode" "${seed[@]}" &
  part_pid=$!
  if wait "$part_pid"; then :; else failed+=("$part"); fi
  part_pid=""
done

echo "== chaos ${mode#--} done in $((SECONDS - started)) s; figures in target/chaos/"
if ((${#failed[@]})); then
  echo "FAILED: ${failed[*]}"
  exit 1
fi
echo "every check passed"
