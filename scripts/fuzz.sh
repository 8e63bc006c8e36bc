#!/usr/bin/env bash
# Fuzzes the two parsers of untrusted input with cargo-fuzz (libFuzzer + AddressSanitizer), one target
# after the other, one job each: `gguf` (the GGUF header reader and the memory estimate) and `config`
# (the init-file parser, validation, router argv, redaction and the JSON round trip). The checks are in
# fuzz/props.rs; `cargo test --test fuzz_corpus` replays the committed corpus through the same checks.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]     default 600
#
# Environment:
#   FUZZ_TARGETS="gguf config"   which targets, in order
#   FUZZ_SANITIZER=address       or none (faster, catches panics and aborts only)
#   FUZZ_MERGE=1                 afterwards, add the inputs that reach new edges to fuzz/corpus/<target>
#
# New inputs go to fuzz/run/<target> (ignored by git), the log to fuzz/run/<target>.log, crashing inputs
# to fuzz/artifacts/<target>/. Prints the figures per target and exits 1 when a target found a crash,
# a leak, a timeout or an out-of-memory input (or did not run). Works on the stable toolchain:
# RUSTC_BOOTSTRAP=1 lets it take the sanitizer flags cargo-fuzz passes.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_TARGET="${1:-600}"
TARGETS="${FUZZ_TARGETS:-gguf config}"
SANITIZER="${FUZZ_SANITIZER:-address}"
CARGO_FUZZ_VERSION=0.13.2
export RUSTC_BOOTSTRAP=1

if ! [[ "$SECONDS_PER_TARGET" =~ ^[0-9]+$ ]] || [ "$SECONDS_PER_TARGET" -lt 1 ]; then
  echo "usage: scripts/fuzz.sh [SECONDS_PER_TARGET]" >&2
  exit 2
fi

if ! cargo fuzz --version 2>/dev/null | grep -qF "$CARGO_FUZZ_VERSION"; then
  echo "== installing cargo-fuzz $CARGO_FUZZ_VERSION"
  cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
fi

cd fuzz
echo "== building the fuzz targets (sanitizer: $SANITIZER)"
cargo fuzz build --sanitizer "$SANITIZER"
# Both targets run from this one build (cargo fuzz run would rebuild whenever src/ changed meanwhile).
bin_dir="target/$(rustc -vV | sed -n 's/^host: //p')/release"

count() { { find "$@" -maxdepth 1 -type f 2>/dev/null || true; } | wc -l | tr -d ' '; }
# The value of libFuzzer's final `stat::NAME: VALUE` line, or "?".
final_stat() { sed -n "s/^stat::$1: *//p" "$2" | tail -n 1 | grep . || echo "?"; }
# A field (cov, ft, corp, exec/s) of the last status line libFuzzer printed, or "?".
field() { grep -E '^#[0-9]+' "$2" | tail -n 1 | sed -n "s/.* $1: \([^ ]*\).*/\1/p" | grep . || echo "?"; }

failed=0
summary=""
for target in $TARGETS; do
  seeds="corpus/$target"
  work="run/$target"
  log="run/$target.log"
  mkdir -p "$work" "artifacts/$target"
  rm -f "$work"/* "$log"
  artifacts_before="$(count "artifacts/$target")"
  corpus_before="$(count "$seeds")"
  echo
  echo "== fuzzing $target for ${SECONDS_PER_TARGET}s (seeds: $corpus_before files in fuzz/$seeds)"
  started="$(date +%s)"
  set +e
  "$bin_dir/$target" -artifact_prefix="artifacts/$target/" -max_total_time="$SECONDS_PER_TARGET" -max_len=8192 \
    -timeout=10 -rss_limit_mb=2048 -dict="$target.dict" -print_final_stats=1 "$work" "$seeds" 2>&1 |
    tee "$log" | grep --line-buffered -vE '^(INFO|#[0-9]+\s+(NEW|REDUCE))'
  status="${PIPESTATUS[0]}"
  set -e
  elapsed=$(($(date +%s) - started))
  found=$(($(count "artifacts/$target") - artifacts_before))
  corpus_after=$((corpus_before + $(count "$work")))
  verdict="ok"
  if [ "$status" -ne 0 ] || [ "$found" -ne 0 ]; then
    verdict="FAILED (exit $status, $found new file(s) in fuzz/artifacts/$target)"
    failed=1
  fi
  line="$target: ${elapsed}s, $(final_stat number_of_executed_units "$log") executions, $(final_stat average_exec_per_sec "$log") exec/s"
  line+=", cov $(field cov "$log") ft $(field ft "$log"), corpus $corpus_before -> $corpus_after files"
  line+=" (libFuzzer corp $(field corp "$log")), new units $(final_stat new_units_added "$log")"
  line+=", peak RSS $(final_stat peak_rss_mb "$log") MB, crashes $found: $verdict"
  summary+="$line"$'\n'
  if [ "${FUZZ_MERGE:-0}" = "1" ] && [ "$verdict" = "ok" ]; then
    echo "== merging the new inputs of $target that add coverage into fuzz/$seeds"
    # A set cover over edges (not hit counts): the fewest inputs that reach every edge the run reached.
    "$bin_dir/$target" -set_cover_merge=1 -use_counters=0 -max_len=8192 "$seeds" "$work" 2>&1 | tail -n 2
    summary+="  merged: fuzz/$seeds now holds $(count "$seeds") files ($(du -sh "$seeds" | cut -f1))"$'\n'
  fi
done

echo
echo "== figures ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPU, $(rustc --version))"
printf '%s' "$summary"
exit "$failed"
