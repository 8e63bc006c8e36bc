# Sourced by scripts/chaos.sh and scripts/bench.sh.
# kill_naming DIR: SIGKILLs every process whose command line names DIR (a run's temp dir: the servers,
# llama-servers, fake backends, nginx and LiteLLM it started), each by its pid.
kill_naming() {
  local dir=$1 proc
  for proc in /proc/[0-9]*; do
    if { tr '\0' ' ' <"$proc/cmdline"; } 2>/dev/null | grep -qF "$dir"; then
      kill -KILL "${proc#/proc/}" 2>/dev/null || true
    fi
  done
}
