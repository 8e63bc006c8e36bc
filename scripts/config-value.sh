#!/usr/bin/env bash
# Prints one key of the init file (dotted path, e.g. models.directory), or nothing when unset.
# The file is $LLAMA_DASHBOARD_CONFIG, else ./llama-router.init.json.
set -euo pipefail
file="${LLAMA_DASHBOARD_CONFIG:-llama-router.init.json}"
[[ -f "$file" ]] || exit 0
python3 - "$file" "$1" <<'PY'
import json, sys
value = json.load(open(sys.argv[1]))
for part in sys.argv[2].split("."):
    value = value.get(part) if isinstance(value, dict) else None
if value is not None:
    print(value)
PY
