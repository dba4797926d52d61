#!/usr/bin/env bash
# Stops the daemons that scripts/slurm-up.sh started (listed in /run/iml-slurm/started) and no
# others. When that includes slurmctld, it first cancels the jobs still queued or running, so that
# no job's processes outlive the cluster. Idempotent; leaves packages and configuration in place.
set -euo pipefail

RECORD=/run/iml-slurm/started

[ "$(id -u)" -eq 0 ] || { echo "slurm-down: must run as root." >&2; exit 1; }

alive() { # name pid: that process exists, has that name and is not a zombie
  local stat
  stat=$(cat "/proc/$2/stat" 2>/dev/null) || return 1
  [[ "$stat" == "$2 ($1) "[!ZX]* ]]
}
recorded_pid() { awk -v d="$1" '$1 == d {print $2}' "$RECORD" 2>/dev/null | tail -n 1; }

if [ ! -s "$RECORD" ]; then
  echo "slurm-down: nothing to stop (no daemon started by slurm-up.sh is recorded)."
  exit 0
fi

ctld=$(recorded_pid slurmctld)
if [ -n "$ctld" ] && alive slurmctld "$ctld" && timeout 5 scontrol ping >/dev/null 2>&1; then
  jobs=$(timeout 5 squeue -h -o %F -t PD,CF,R,S,RQ,RS,SO 2>/dev/null | sort -u | tr '\n' ' ' || true)
  if [ -n "${jobs// /}" ]; then
    echo "slurm-down: cancelling jobs $jobs" >&2
    # shellcheck disable=SC2086
    scancel $jobs 2>/dev/null || true
    # Running jobs get SIGTERM, then SIGKILL after KillWait (10 s); wait a bounded time for them.
    for _ in $(seq 100); do
      [ -z "$(timeout 5 squeue -h -t R,CG,CF -o %i 2>/dev/null || true)" ] && break
      sleep 0.2
    done
  fi
fi

stopped=()
for d in slurmd slurmctld munged; do
  pid=$(recorded_pid "$d")
  [ -n "$pid" ] || continue
  if alive "$d" "$pid"; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 75); do alive "$d" "$pid" || break; sleep 0.2; done
    if alive "$d" "$pid"; then kill -9 "$pid" 2>/dev/null || true; fi
    stopped+=("$d ($pid)")
  fi
done
rm -f "$RECORD"

if [ ${#stopped[@]} -gt 0 ]; then
  echo "slurm-down: stopped ${stopped[*]}"
else
  echo "slurm-down: nothing to stop (the recorded daemons had already exited)."
fi
