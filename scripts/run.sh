#!/usr/bin/env bash
# The main job: build llama-dashboard, find or build llama-server (cached), make sure a demo model
# exists, start the dashboard, which starts llama-server in router mode (startup.autoStart).
# Extra arguments go to llama-dashboard (e.g. --port 3001).
set -euo pipefail
cd "$(dirname "$0")/.."

command -v cargo >/dev/null || { echo "cargo not found: install Rust from https://rustup.rs" >&2; exit 1; }
echo "[run] building llama-dashboard (release)" >&2
cargo build --release --locked
LLAMA_SERVER_BIN="$(bash scripts/setup-llama-server.sh | tail -n 1)"
export LLAMA_SERVER_BIN
echo "[run] llama-server: $LLAMA_SERVER_BIN" >&2
models_dir="${LLAMA_MODELS_DIR:-$(bash scripts/config-value.sh models.directory || true)}"
models_dir="${models_dir:-./models}"
bash scripts/fetch-demo-model.sh "$models_dir"
echo "[run] starting; open the address printed after 'listening on' (default http://127.0.0.1:3000)" >&2
exec ./target/release/llama-dashboard "$@"
