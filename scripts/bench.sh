#!/usr/bin/env bash
# Every performance claim of docs/benchmarks.md, side by side in one run:
#   scripts/bench.sh [--short] [--out FILE]
# 1. the /v1 proxy against a fast stub upstream: direct, nginx, the bare axum+hyper floor, LiteLLM and
#    llama-dashboard, with each proxy's CPU time per request (examples/proxy_bench);
# 2. the real model (SmolLM2 on llama-server's router): the model's own process, the router, our /v1
#    (bench/router-hop.mjs);
# 3. cold starts: own backend, llama-server by hand, the router's autoload (bench/backend-cold-start.mjs);
# 4. the socket API: round trips, and fan-out to 1,000 clients (bench/socket-bench.mjs).
# It installs what it needs first (nginx-light, LiteLLM in a venv, the e2e suite's npm packages, llama-server
# and the demo model, the release builds), each only when missing. The markdown goes to stdout and to
# --out FILE (default: bench-results.md in a new temp dir, whose path is printed); progress goes to stderr.
# --short: small counts (a smoke run of a few minutes once installed and built); the default: full counts.
# Loopback only. Every process it started is killed on exit, also on an error or Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/kill-naming.sh
source scripts/lib/kill-naming.sh

mode=full
out=""
while (($#)); do
  case "$1" in
    --short) mode=short ;;
    --full) mode=full ;;
    --out)
      [[ $# -ge 2 ]] || { echo "--out needs a file" >&2; exit 2; }
      out=$2
      shift
      ;;
    --out=*) out=${1#--out=} ;;
    -h | --help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "unknown argument $1 (usage: scripts/bench.sh [--short] [--out FILE])" >&2; exit 2 ;;
  esac
  shift
done

CACHE="${LLAMA_DASHBOARD_CACHE:-$HOME/.cache/llama-dashboard}"
LITELLM_VENV="$CACHE/py-litellm"
ROOT_DIR="$PWD"

say() { printf '[bench] %s\n' "$*" >&2; }
step() { printf '\n[bench] == %s\n' "$*" >&2; }

# ---------- the run's temp dir and cleanup ----------

# Everything the benches create lives under RUN_DIR (TMPDIR points there), so the cleanup can find every
# process of the run by the path in its argv, as scripts/chaos.sh does.
RUN_DIR="$(mktemp -d /tmp/llama-dashboard-bench-XXXXXX)"
if [[ -z $out ]]; then
  out="$(mktemp -d /tmp/llama-dashboard-bench-results-XXXXXX)/bench-results.md"
fi
step_pid=""

# Kills the step running now (its whole process group: setsid gave it one), then any process whose argv
# names the run's dir, each by its pid; the dashboard's llama-servers also die with it (pdeathsig).
cleanup() {
  if [[ -n $step_pid ]]; then
    kill -TERM -- "-$step_pid" 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      kill -0 -- "-$step_pid" 2>/dev/null || break
      sleep 0.5
    done
    kill -KILL -- "-$step_pid" 2>/dev/null || true
  fi
  kill_naming "$RUN_DIR"
  rm -rf "$RUN_DIR"
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT TERM HUP

# Runs one bench in its own process group, its stdout (the markdown) to FILE, its progress to our stderr.
run_step() {
  local file=$1
  shift
  TMPDIR="$RUN_DIR" setsid "$@" >"$file" &
  step_pid=$!
  local rc=0
  wait "$step_pid" || rc=$?
  step_pid=""
  return "$rc"
}

as_root() {
  if [[ $EUID -eq 0 ]]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi
}

# ---------- 1. what the benches need ----------

notes=()

install_nginx() {
  step "nginx (the plain reverse proxy to compare with)"
  if [[ -x /usr/sbin/nginx ]]; then
    say "found /usr/sbin/nginx"
    return
  fi
  if ! command -v apt-get >/dev/null; then
    notes+=("nginx is not installed and there is no apt-get here: its column is skipped.")
    return
  fi
  say "apt-get install -y nginx-light"
  if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y nginx-light >&2; then
    say "install failed; apt-get update, then once more"
    as_root apt-get update >&2 || true
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y nginx-light >&2 ||
      notes+=("\`apt-get install nginx-light\` failed: the nginx column is skipped.")
  fi
}

install_litellm() {
  step "LiteLLM proxy server (PyPI, venv at $LITELLM_VENV)"
  local marker="$LITELLM_VENV/.litellm-proxy-installed"
  if [[ -f $marker && -x $LITELLM_VENV/bin/litellm ]]; then
    say "found $LITELLM_VENV/bin/litellm"
    return
  fi
  if ! python3 -m venv "$LITELLM_VENV" >&2; then
    notes+=("\`python3 -m venv\` failed (on Debian: \`apt-get install python3-venv\`): the LiteLLM column is skipped.")
    return
  fi
  say "pip install 'litellm[proxy]' (about 750 MB, a minute or two)"
  if "$LITELLM_VENV/bin/pip" install --progress-bar off 'litellm[proxy]' >&2 && [[ -x $LITELLM_VENV/bin/litellm ]]; then
    touch "$marker"
  else
    notes+=("\`pip install 'litellm[proxy]'\` failed (its output is on stderr above): the LiteLLM column is skipped.")
  fi
}

install_node_modules() {
  step "the end-to-end suite's npm packages (socket.io-client)"
  if [[ -d tests/js/node_modules ]]; then
    say "found tests/js/node_modules"
  else
    (cd tests/js && npm ci --no-audit --no-fund --loglevel=error) >&2
  fi
}

# llama-server and the demo model, as scripts/test.sh finds them (both cached once per machine).
find_real_parts() {
  step "llama-server and the demo model (SmolLM2-135M)"
  if [[ -z ${LLAMA_DASHBOARD_TEST_GGUF:-} ]]; then
    if bash scripts/fetch-demo-model.sh "$CACHE/test-models" >&2; then
      LLAMA_DASHBOARD_TEST_GGUF="$(compgen -G "$CACHE/test-models/*.gguf" | head -n 1 || true)"
    fi
  fi
  if [[ -z ${LLAMA_SERVER_BIN:-} ]]; then
    LLAMA_SERVER_BIN="$(bash scripts/setup-llama-server.sh | tail -n 1)" || LLAMA_SERVER_BIN=""
  fi
  if [[ -x ${LLAMA_SERVER_BIN:-} && -f ${LLAMA_DASHBOARD_TEST_GGUF:-} ]]; then
    say "llama-server: $LLAMA_SERVER_BIN"
    say "model: $LLAMA_DASHBOARD_TEST_GGUF"
    export LLAMA_SERVER_BIN LLAMA_DASHBOARD_TEST_GGUF
    real_parts=yes
  else
    notes+=("No llama-server or no demo model (LLAMA_SERVER_BIN / LLAMA_DASHBOARD_TEST_GGUF): the real-model and cold-start sections are skipped.")
    real_parts=no
  fi
}

build() {
  step "release builds (llama-dashboard, examples/proxy_bench)"
  cargo build --release --locked >&2
  cargo build --release --locked --example proxy_bench >&2
}

# ---------- 2. the benches ----------

# Counts per mode: the stub bench (rounds, c=1, c=32, TTFB; LiteLLM's own smaller ones), the real model's
# interleaved triples, cold-start rounds, and the socket bench (clients, window, round trips).
if [[ $mode == short ]]; then
  STUB=(BENCH_ROUNDS=1 BENCH_C1_N=300 BENCH_C32_N=2000 BENCH_TTFB_N=100
    BENCH_LITELLM_C1_N=50 BENCH_LITELLM_C32_N=200 BENCH_LITELLM_TTFB_N=20)
  HOP=(BENCH_TRIPLES=50 BENCH_WARMUP=5)
  COLD=(BENCH_ROUNDS=2)
  SOCKET=(BENCH_CLIENTS=1000 BENCH_WINDOW_MS=5000 BENCH_RTT_N=500 BENCH_WARMUP=100)
else
  STUB=(BENCH_ROUNDS=3 BENCH_C1_N=2000 BENCH_C32_N=20000 BENCH_TTFB_N=500
    BENCH_LITELLM_C1_N=200 BENCH_LITELLM_C32_N=1000 BENCH_LITELLM_TTFB_N=100)
  HOP=(BENCH_TRIPLES=300 BENCH_WARMUP=10)
  COLD=(BENCH_ROUNDS=5)
  SOCKET=(BENCH_CLIENTS=1000 BENCH_WINDOW_MS=15000 BENCH_RTT_N=2000 BENCH_WARMUP=200)
fi

failed=()
sections=()

# A bench's markdown as a part of ours: its ### titles made bold, no leading or doubled blank lines.
tidy() { sed 's/^### \(.*\)$/**\1**/' | cat -s | sed '/./,$!d'; }

# section TITLE INTRO CMD...: runs CMD as one step; its markdown (### lines made bold) goes under TITLE.
section() {
  local title=$1 intro=$2 file="$RUN_DIR/section-${#sections[@]}.md"
  shift 2
  step "$title"
  local started=$SECONDS
  local rc=0
  run_step "$file" "$@" || rc=$?
  if ((rc == 0)); then
    sections+=("### $title"$'\n\n'"$intro"$'\n\n'"$(tidy <"$file")"$'\n\n'"($((SECONDS - started)) s)")
  else
    failed+=("$title")
    sections+=("### $title"$'\n\n'"**Failed** (exit status $rc; its progress and error went to stderr).")
  fi
}

bench_stub() {
  local litellm=() paths="nginx, bare axum+hyper, LiteLLM" about_litellm=" LiteLLM: its proxy server, default settings (1 worker), a model entry \`openai/stub\` at the stub's /v1, master key on."
  if [[ -f $LITELLM_VENV/.litellm-proxy-installed ]]; then
    litellm=(BENCH_LITELLM="$LITELLM_VENV/bin/litellm")
  else
    paths="nginx, bare axum+hyper" about_litellm=""
  fi
  # proxy_bench's own real-model section is left out: section 2 measures the real model.
  section "1. The /v1 proxy against a fast stub upstream: direct, $paths, llama-dashboard" \
    "Same requests to each path in turn, each round (load generator: Rust, reqwest). The stub answers at once, so this isolates what each proxy adds. nginx: plain reverse proxy, keep-alive upstream pool, no buffering. bare axum+hyper: the least a proxy built on our HTTP stack does (read the body, forward it on a pooled hyper client, stream the answer back; no routing, queue, telemetry or security checks), the floor under our own figures.$about_litellm \"added by X\" is X minus direct; req/s as % of direct; proxy CPU µs/req is the proxy process's CPU time (user + system, all threads and workers) over the c=32 run divided by its requests." \
    env BENCH_STUB_ONLY=1 LLAMA_DASHBOARD_BIN="$ROOT_DIR/target/release/llama-dashboard" \
    "${STUB[@]}" "${litellm[@]}" "$ROOT_DIR/target/release/examples/proxy_bench"
}

bench_real() {
  section "2. A loaded real model: its own llama-server, the native router, llama-dashboard" \
    "SmolLM2-135M Q4_1 on the CPU behind llama-server's router, started by llama-dashboard. The same non-streamed chat request (max_tokens 1, temperature 0), one at a time, interleaved over the three paths (rotating order). Latency: send to last byte." \
    env "${HOP[@]}" node bench/router-hop.mjs
  section "3. Cold starts" \
    "From sending a streamed chat request (max_tokens 1) to its first byte, with the model not running: llama-server started by hand (the floor), our own backend started through /v1, a swap between two backends, and the native router's autoload." \
    env "${COLD[@]}" node bench/backend-cold-start.mjs
}

bench_socket() {
  section "4. The socket API: round trips and fan-out to 1,000 clients" \
    "Socket.IO over loopback (one Node.js process holds every client, so fan-out lag includes its own event loop). CPU from /proc (10 ms ticks)." \
    env "${SOCKET[@]}" BENCH_FORMAT=short node bench/socket-bench.mjs
}

# ---------- 3. the report ----------

machine_line() {
  local cpu mem load git_rev
  cpu="$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1)"
  mem="$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)"
  load="$(cut -d ' ' -f 1-3 /proc/loadavg)"
  git_rev="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  if [[ -n "$(git status --porcelain -- src Cargo.toml Cargo.lock 2>/dev/null)" ]]; then git_rev+=" with uncommitted changes"; fi
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), commit $git_rev; $(nproc) CPUs (${cpu:-unknown}), $mem RAM, load average at start $load."
}

versions_line() {
  local v=() x
  v+=("node $(node --version)")
  if [[ -x /usr/sbin/nginx ]]; then x="$(/usr/sbin/nginx -v 2>&1 | sed 's/^nginx version: //')"; v+=("$x"); fi
  if [[ -f $LITELLM_VENV/.litellm-proxy-installed ]]; then
    x="$("$LITELLM_VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("litellm"))' 2>/dev/null || echo '?')"
    v+=("LiteLLM $x")
  fi
  if [[ ${real_parts:-no} == yes ]]; then
    x="$(timeout 20 "$LLAMA_SERVER_BIN" --version 2>&1 | sed -n 's/^version: //p' | head -n 1 || true)"
    v+=("llama-server ${x:-?}")
  fi
  local line="Versions:" sep=" "
  for x in "${v[@]}"; do line+="$sep$x"; sep=", "; done
  echo "$line."
}

# ---------- main ----------

started=$SECONDS
say "mode: $mode; results go to $out"
install_nginx
install_litellm
install_node_modules
find_real_parts
build
header="$(machine_line)"
step "benchmarks ($mode)"
bench_stub
if [[ $real_parts == yes ]]; then bench_real; fi
bench_socket

{
  echo "## llama-dashboard benchmarks (scripts/bench.sh, $mode mode)"
  echo
  echo "$header $(versions_line)"
  echo "Everything runs on this one machine over loopback: load generators, proxies and upstreams share its CPUs."
  for note in "${notes[@]}"; do echo; echo "Note: $note"; done
  for s in "${sections[@]}"; do echo; echo "$s"; done
  echo
  echo "Whole run, installs and builds included: $((SECONDS - started)) s; load average at the end $(cut -d ' ' -f 1-3 /proc/loadavg)."
} >"$out.tmp"
mv "$out.tmp" "$out"
cat "$out"
say "results written to $out"
if ((${#failed[@]})); then
  say "failed: ${failed[*]}"
  exit 1
fi
