#!/usr/bin/env bash
# Proves, through sbatch on the local cluster (scripts/slurm-up.sh), the Slurm behaviour that the
# job-array submission relies on, and prints what it measured:
#   (a) a job array and an afterok job that runs after all of its tasks;
#   (b) a failed task: what becomes of the afterok job, each task's state and exit code;
#   (c) scontrol requeue of a running --requeue task: SIGTERM first, then a restart with
#       SLURM_RESTART_COUNT=1;
#   (d) sbatch --parsable output for an array, sbatch's error for an invalid partition;
#   (e) the SIGTERM-to-SIGKILL gap on scancel and on requeue: KillWait or --signal.
# Prints PASS/FAIL per check and "fact:" lines; exits non-zero on any failure. Every wait is
# bounded; the whole run takes about a minute. Keeps its temp directory only when a check fails.
set -uo pipefail

if ! timeout 5 scontrol ping >/dev/null 2>&1; then
  echo "FAIL cluster: slurmctld does not answer 'scontrol ping'; run scripts/slurm-up.sh first." >&2
  exit 1
fi

T=$(mktemp -d /tmp/iml-slurm-smoke.XXXXXX)
chmod 0755 "$T"
failures=0
submitted=()
started_at=$SECONDS

cleanup() {
  if [ ${#submitted[@]} -gt 0 ]; then scancel "${submitted[@]}" >/dev/null 2>&1 || true; fi
  if [ "$failures" -eq 0 ]; then rm -rf "$T"; else echo "(files kept in $T)"; fi
}
trap cleanup EXIT

pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; failures=$((failures + 1)); }
fact() { echo "  fact: $*"; }

# field JOB NAME: the value of NAME= in `scontrol show job -o JOB` (first record).
field() {
  scontrol show job -o "$1" 2>/dev/null | head -n 1 | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1
}
terminal() { # JOB: the job (or array task) has ended
  case "$(field "$1" JobState)" in
    COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|PREEMPTED|BOOT_FAIL|DEADLINE) return 0 ;;
    *) return 1 ;;
  esac
}
# waitfor SECONDS COMMAND...: run COMMAND every 0.2 s until it succeeds; fails after SECONDS.
waitfor() {
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}
submit() { # sbatch ARGS...: prints the job id (sbatch --parsable), remembers it for cleanup
  local out
  out=$(sbatch --parsable "$@") || return 1
  submitted+=("${out%%;*}")
  echo "${out%%;*}"
}
show() { # JOB: the state, reason and exit code of a job or task, as scontrol prints them
  scontrol show job -o "$1" 2>/dev/null | head -n 1 | grep -oE '(JobState|Reason|Dependency|ExitCode|Restarts)=[^ ]*' | tr '\n' ' '
}
all_terminal() { local j; for j in "$@"; do terminal "$j" || return 1; done; }

echo "slurm smoke test in $T ($(sinfo -h -o '%P %D nodes %c CPUs/node %T' | head -n 1))"

# ---------------------------------------------------------------------------------------------
# (a) Job array of 3 tasks, then an afterok job that concatenates what they wrote.
A=$T/a; mkdir -p "$A"
cat >"$A/task.sh" <<'EOF'
#!/bin/bash
#SBATCH -J smoke-a
echo "$SLURM_ARRAY_TASK_ID" >"task.$SLURM_ARRAY_TASK_ID"
sleep 1
date +%s.%N >"end.$SLURM_ARRAY_TASK_ID"
EOF
a_raw=$(sbatch --parsable --array=0-2 -D "$A" -o "$A/slurm-%A_%a.out" "$A/task.sh" 2>&1)
a_rc=$?
if [ $a_rc -ne 0 ]; then
  fail "(a) sbatch --array=0-2 failed (exit $a_rc): $a_raw"
else
  a_id=${a_raw%%;*}; submitted+=("$a_id")
  a_dep=$(submit --dependency=afterok:"$a_id" -J smoke-a-after -D "$A" -o "$A/after.out" \
    --wrap 'date +%s.%N >after.start; cat task.0 task.1 task.2 >all')
  fact "(a) right after submission the afterok job shows: $(show "$a_dep")"
  if waitfor 40 all_terminal "${a_id}_0" "${a_id}_1" "${a_id}_2" "$a_dep"; then
    got=$(tr '\n' ' ' <"$A/all" 2>/dev/null)
    last_end=$(sort -n "$A"/end.* | tail -n 1)
    dep_start=$(cat "$A/after.start" 2>/dev/null || echo 0)
    if [ "$(field "$a_dep" JobState)" = COMPLETED ] && [ "$got" = "0 1 2 " ] \
       && awk -v s="$dep_start" -v e="$last_end" 'BEGIN {exit !(s >= e)}'; then
      pass "(a) array $a_id of 3 tasks wrote 0 1 2; afterok job $a_dep started $(awk -v s="$dep_start" -v e="$last_end" 'BEGIN {printf "%.1f", s - e}') s after the last task ended and concatenated them"
    else
      fail "(a) afterok job $a_dep: $(show "$a_dep"), concatenation '$got'"
    fi
  else
    fail "(a) array $a_id and job $a_dep did not finish within 40 s: $(show "${a_id}_0") / $(show "$a_dep")"
  fi
fi

# ---------------------------------------------------------------------------------------------
# (b) Task 1 of 3 fails: the afterok job must never run; read each task's state and exit code.
B=$T/b; mkdir -p "$B"
cat >"$B/task.sh" <<'EOF'
#!/bin/bash
#SBATCH -J smoke-b
if [ "$SLURM_ARRAY_TASK_ID" = 1 ]; then exit 3; fi
exit 0
EOF
b_id=$(submit --array=0-2 -D "$B" -o "$B/slurm-%A_%a.out" "$B/task.sh")
b_dep=$(submit --dependency=afterok:"$b_id" -J smoke-b-after -D "$B" -o "$B/after.out" --wrap 'touch ran')
if ! waitfor 30 all_terminal "${b_id}_0" "${b_id}_1" "${b_id}_2"; then
  fail "(b) array $b_id did not finish within 30 s"
else
  never() { # the afterok job is cancelled, or pending with reason DependencyNeverSatisfied
    local s r
    s=$(field "$b_dep" JobState); r=$(field "$b_dep" Reason)
    [ "$s" = CANCELLED ] || { [ "$s" = PENDING ] && [ "$r" = DependencyNeverSatisfied ]; }
  }
  waitfor 15 never
  b_dep_show=$(show "$b_dep")
  fact "(b) afterok job $b_dep after task 1 failed: $b_dep_show"
  fact "(b) squeue shows it as: $(squeue -h -j "$b_dep" -o '%i %T %r' 2>/dev/null)"
  for i in 0 1 2; do fact "(b) scontrol show job ${b_id}_$i: $(show "${b_id}_$i")"; done
  fact "(b) squeue -h -t all -j $b_id -o '%i %T %r' (array tasks stay listed for MinJobAge): $(squeue -h -t all -j "$b_id" -o '%i %T %r' 2>/dev/null | tr '\n' ';')"
  fact "(b) scontrol show job $b_id prints one record per task: $(scontrol show job -o "$b_id" 2>/dev/null | wc -l) records"
  fact "(b) each task has its own JobId: $(scontrol show job -o "${b_id}_1" 2>/dev/null | grep -oE '(JobId|ArrayJobId|ArrayTaskId)=[^ ]*' | tr '\n' ' ')"
  if never && [ ! -e "$B/ran" ] \
     && [ "$(field "${b_id}_1" JobState)" = FAILED ] && [ "$(field "${b_id}_1" ExitCode)" = 3:0 ] \
     && [ "$(field "${b_id}_0" JobState)" = COMPLETED ] && [ "$(field "${b_id}_2" ExitCode)" = 0:0 ]; then
    pass "(b) failed task ${b_id}_1 (FAILED, ExitCode=3:0) kept afterok job $b_dep from running: $(field "$b_dep" JobState) $(field "$b_dep" Reason)"
  else
    fail "(b) afterok job $b_dep: $b_dep_show; task 1: $(show "${b_id}_1")"
  fi
  scancel "$b_dep" 2>/dev/null
fi

# ---------------------------------------------------------------------------------------------
# (c) --requeue + scontrol requeue of a running task: SIGTERM first, restart with
#     SLURM_RESTART_COUNT=1, then it finishes.
C=$T/c; mkdir -p "$C"
cat >"$C/task.sh" <<'EOF'
#!/bin/bash
#SBATCH -J smoke-c
#SBATCH --requeue
run=${SLURM_RESTART_COUNT:-unset}
echo "task $SLURM_ARRAY_TASK_ID run $run"          # to the job's output file
echo "$run" >>"runs.$SLURM_ARRAY_TASK_ID"
date +%s.%N >"start.$SLURM_ARRAY_TASK_ID.$run"
if [ "$SLURM_ARRAY_TASK_ID" = 1 ] && [ "$run" = unset ]; then
  trap 'date +%s.%N >"term.$SLURM_ARRAY_TASK_ID.$run"; exit 143' TERM
  sleep 60 & wait $!                               # a foreground sleep would delay the trap
fi
echo "$run" >"done.$SLURM_ARRAY_TASK_ID"
EOF
c_id=$(submit --array=0-1 -D "$C" -o "$C/slurm-%A_%a.out" "$C/task.sh")
if ! waitfor 20 test -e "$C/start.1.unset"; then
  fail "(c) task ${c_id}_1 did not start within 20 s: $(show "${c_id}_1")"
else
  rq_at=$(date +%s.%N)
  rq_out=$(scontrol requeue "${c_id}_1" 2>&1); rq_rc=$?
  sleep 0.5
  fact "(c) scontrol requeue ${c_id}_1 -> exit $rq_rc, output '${rq_out}'; then: $(show "${c_id}_1") EligibleTime=$(field "${c_id}_1" EligibleTime) (requeued at $(date -d "@${rq_at%.*}" +%H:%M:%S))"
  if waitfor 45 terminal "${c_id}_1"; then
    term_at=$(cat "$C/term.1.unset" 2>/dev/null || echo "")
    restart_at=$(cat "$C/start.1.1" 2>/dev/null || echo "")
    fact "(c) runs of task 1 saw SLURM_RESTART_COUNT = $(tr '\n' ' ' <"$C/runs.1")(first run: unset); final: $(show "${c_id}_1")"
    [ -n "$restart_at" ] && fact "(c) restart began $(awk -v a="$restart_at" -v b="$rq_at" 'BEGIN {printf "%.1f", a - b}') s after the requeue (cred_expire=10, +1)"
    fact "(c) the task's output file after the restart holds: '$(tr '\n' '|' <"$C/slurm-${c_id}_1.out")' (sbatch's default --open-mode=truncate)"
    if [ -n "$term_at" ] && [ "$(cat "$C/done.1" 2>/dev/null)" = 1 ] \
       && [ "$(field "${c_id}_1" JobState)" = COMPLETED ] && [ "$(field "${c_id}_1" Restarts)" = 1 ]; then
      pass "(c) requeued task ${c_id}_1 got SIGTERM $(awk -v a="$term_at" -v b="$rq_at" 'BEGIN {printf "%.1f", a - b}') s after scontrol requeue, restarted with SLURM_RESTART_COUNT=1 and COMPLETED"
    else
      fail "(c) requeued task ${c_id}_1: term marker '${term_at}', done '$(cat "$C/done.1" 2>/dev/null)', $(show "${c_id}_1")"
    fi
  else
    fail "(c) requeued task ${c_id}_1 did not finish within 45 s: $(show "${c_id}_1") EligibleTime=$(field "${c_id}_1" EligibleTime)"
  fi
fi

# ---------------------------------------------------------------------------------------------
# (d) sbatch --parsable for an array; sbatch with an invalid partition; an oversized array.
if [ -n "${a_raw:-}" ]; then
  fact "(d) sbatch --parsable --array=0-2 printed '$a_raw'"
  if [[ "$a_raw" =~ ^[0-9]+$ ]]; then
    pass "(d) sbatch --parsable prints the bare array job id '<id>' (no ';<cluster>' on a single cluster)"
  else
    fail "(d) sbatch --parsable printed '$a_raw', not a bare job id"
  fi
fi
bad_out=$(sbatch --parsable -p no-such-partition --array=0-1 -o /dev/null --wrap true 2>&1); bad_rc=$?
fact "(d) sbatch -p no-such-partition -> exit $bad_rc, output '$bad_out'"
if [ $bad_rc -ne 0 ] && [[ "$bad_out" == *"Invalid partition name specified"* ]]; then
  pass "(d) an invalid partition is refused at submission (exit $bad_rc)"
else
  fail "(d) an invalid partition gave exit $bad_rc: $bad_out"
fi
gone_out=$(scontrol show job 99999999 2>&1); gone_rc=$?
fact "(d) scontrol show job of an unknown (or already purged, after MinJobAge) job -> exit $gone_rc, output '$gone_out'"
big_out=$(sbatch --parsable --array=0-10001 -o /dev/null --wrap true 2>&1); big_rc=$?
fact "(d) sbatch --array=0-10001 (MaxArraySize=10001) -> exit $big_rc, output '$big_out'"
if [ $big_rc -eq 0 ]; then submitted+=("${big_out%%;*}"); scancel "${big_out%%;*}" 2>/dev/null; fi

# ---------------------------------------------------------------------------------------------
# (e) The SIGTERM-to-SIGKILL gap on scancel and on scontrol requeue, for tasks submitted with
#     --signal=B:TERM@4 (KillWait is 10): the script records when SIGTERM came and keeps writing
#     a heartbeat every 0.1 s until SIGKILL stops it.
E=$T/e; mkdir -p "$E"
cat >"$E/task.sh" <<'EOF'
#!/bin/bash
#SBATCH --requeue
#SBATCH --signal=B:TERM@4
run=${SLURM_RESTART_COUNT:-0}
tag=$SLURM_JOB_NAME.$run
[ "$run" = 0 ] || exit 0
trap 'date +%s.%N >"term.$tag"' TERM
touch "started.$tag"
while :; do date +%s.%N >>"beat.$tag"; sleep 0.1; done
EOF
e_cancel=$(submit --array=0 -J cancel -D "$E" -o /dev/null "$E/task.sh")
e_requeue=$(submit --array=0 -J requeue -D "$E" -o /dev/null "$E/task.sh")
if waitfor 20 test -e "$E/started.cancel.0" -a -e "$E/started.requeue.0"; then
  sleep 0.5
  scancel "${e_cancel}_0"
  scontrol requeue "${e_requeue}_0"
  killed() { [ -e "$E/term.cancel.0" ] && [ -e "$E/term.requeue.0" ] \
    && [ "$(stat -c %Y "$E/beat.cancel.0")" -lt $(($(date +%s) - 1)) ] \
    && [ "$(stat -c %Y "$E/beat.requeue.0")" -lt $(($(date +%s) - 1)) ]; }
  if waitfor 25 killed; then
    for k in cancel requeue; do
      gap=$(awk -v t="$(cat "$E/term.$k.0")" -v b="$(tail -n 1 "$E/beat.$k.0")" 'BEGIN {printf "%.1f", b - t}')
      eval "gap_$k=$gap"
      fact "(e) $k: the batch script got SIGTERM, then kept running ${gap} s until SIGKILL"
    done
    # shellcheck disable=SC2154
    if awk -v a="$gap_cancel" -v b="$gap_requeue" 'BEGIN {exit !(a > 8 && a < 12 && b > 8 && b < 12)}'; then
      pass "(e) KillWait (10 s) sets the SIGTERM-to-SIGKILL gap on scancel ($gap_cancel s) and requeue ($gap_requeue s); --signal=B:TERM@4 does not"
    else
      fail "(e) gaps: scancel $gap_cancel s, requeue $gap_requeue s (KillWait is 10, --signal=B:TERM@4)"
    fi
  else
    fail "(e) the tasks were not killed within 25 s: $(show "${e_cancel}_0") / $(show "${e_requeue}_0")"
  fi
else
  fail "(e) the tasks did not start within 20 s"
fi

echo "slurm smoke: $([ "$failures" -eq 0 ] && echo "all checks passed" || echo "$failures check(s) FAILED") in $((SECONDS - started_at)) s"
[ "$failures" -eq 0 ]
