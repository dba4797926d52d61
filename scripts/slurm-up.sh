#!/usr/bin/env bash
# Starts a one-node Slurm cluster on this machine for the job-array tests: installs slurm-wlm and
# munge when missing, writes /etc/slurm/slurm.conf (never over one it did not write), starts munged,
# slurmctld and slurmd when they are not running, and waits until the node is idle and sbatch/srun
# run a job. Records the daemons it started in /run/iml-slurm/started for scripts/slurm-down.sh.
# Idempotent; a no-op (well under 2 s) when the cluster is already up. Needs root. See docs/slurm-local.md.
set -euo pipefail

MARK="# Written by scripts/slurm-up.sh (iml local test cluster); slurm-up.sh may overwrite this file."
CONF=/etc/slurm/slurm.conf
RUN_DIR=/run/iml-slurm
RECORD=$RUN_DIR/started
CLUSTER=iml
PARTITION=local
STATE_DIR=/var/lib/slurm/slurmctld
SPOOL_DIR=/var/lib/slurm/slurmd
LOG_DIR=/var/log/slurm
CTLD_LOG=$LOG_DIR/slurmctld.log
SLURMD_LOG=$LOG_DIR/slurmd.log
WAIT_SECONDS=${SLURM_UP_TIMEOUT:-30}

HOST=$(hostname -s)
CPUS=$(nproc)

fail() {
  echo "slurm-up: $*" >&2
  for log in "$CTLD_LOG" "$SLURMD_LOG"; do
    if [ -s "$log" ]; then
      echo "--- last lines of $log (without the harmless PMIx plugin errors):" >&2
      grep -v -e 'mpi/pmix' -e 'MPI: Cannot create context' "$log" | tail -n 8 >&2
    fi
  done
  exit 1
}

[ "$(id -u)" -eq 0 ] || { echo "slurm-up: must run as root (it installs packages and starts daemons)." >&2; exit 1; }

# PID 1 here reaps orphans late, so an exited daemon can linger as a zombie: skip those.
alive() { # name pid: that process exists, has that name and is not a zombie
  local stat
  stat=$(cat "/proc/$2/stat" 2>/dev/null) || return 1
  [[ "$stat" == "$2 ($1) "[!ZX]* ]]
}
live_pid() { # name: the newest live process of that name
  local p found=""
  for p in $(pgrep -x "$1"); do if alive "$1" "$p"; then found=$p; fi; done
  [ -n "$found" ] && echo "$found"
}
running() { live_pid "$1" >/dev/null; }
node_state() { sinfo -h -n "$HOST" -o %T 2>/dev/null | head -n 1; }
ours_conf() { [ -f "$CONF" ] && grep -qxF "$MARK" "$CONF"; }
recorded_pid() { awk -v d="$1" '$1 == d {print $2}' "$RECORD" 2>/dev/null | tail -n 1; }
prune_record() { # keep only entries whose process still runs
  local name pid keep=""
  while read -r name pid; do
    if [ -n "$name" ] && alive "$name" "$pid"; then keep+="$name $pid"$'\n'; fi
  done <"$RECORD"
  printf '%s' "$keep" >"$RECORD"
}
stop_pid() { # name pid: SIGTERM, then SIGKILL after 15 s
  kill "$2" 2>/dev/null || return 0
  for _ in $(seq 75); do alive "$1" "$2" || return 0; sleep 0.2; done
  kill -9 "$2" 2>/dev/null || true
}
waitfor() { # seconds command...: run the command every 0.2 s until it succeeds
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}
ctld_wait() { # seconds: until slurmctld answers a ping; gives up early once no slurmctld runs
  local deadline=$((SECONDS + $1)) gone=0
  until scontrol ping >/dev/null 2>&1; do
    if running slurmctld; then gone=0; else gone=$((gone + 1)); fi
    [ "$gone" -lt 5 ] && [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

# The configuration this script wants; cheap to build, and compared with the file on every run.
mem_mb=$(awk '/^MemTotal:/ {print int($2 / 1024)}' /proc/meminfo)
real_mem=$((mem_mb * 9 / 10))
want_conf() {
  cat <<EOF
$MARK
# A one-node cluster for tests; see docs/slurm-local.md in the iml repository.
ClusterName=$CLUSTER
SlurmctldHost=$HOST
AuthType=auth/munge
CredType=cred/munge
# A requeued job waits cred_expire+1 seconds before it may start again (default 120, minimum 5).
AuthInfo=cred_expire=10
SlurmUser=slurm
SlurmctldPort=6817
SlurmdPort=6818
StateSaveLocation=$STATE_DIR
SlurmdSpoolDir=$SPOOL_DIR
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=$CTLD_LOG
SlurmdLogFile=$SLURMD_LOG
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/pgid
TaskPlugin=task/none
MpiDefault=none
SchedulerType=sched/backfill
# Start batch jobs within about a second of submission (the default delay is up to 3 s).
SchedulerParameters=batch_sched_delay=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
# No mail on this machine; without this slurmctld logs "Configured MailProg is invalid".
MailProg=/bin/true
ReturnToService=2
SlurmdTimeout=300
SlurmctldTimeout=120
InactiveLimit=0
# SIGTERM, then SIGKILL KillWait seconds later (scancel, scontrol requeue, time limit).
KillWait=10
# Finished jobs stay visible to squeue/scontrol for 10 minutes (no sacct without slurmdbd).
MinJobAge=600
JobRequeue=1
MaxArraySize=10001
MaxJobCount=20000
NodeName=$HOST CPUs=$CPUS RealMemory=$real_mem State=UNKNOWN
PartitionName=$PARTITION Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF
}
conf_current() { [ -f "$CONF" ] && [ "$(want_conf)" = "$(cat "$CONF")" ]; }

# Fast path: our configuration as it should be, all three daemons up, the node usable.
if conf_current && running munged && running slurmctld && running slurmd; then
  state=$(node_state || true)
  case "$state" in
    idle|mixed|allocated|completing)
      echo "slurm: cluster $CLUSTER, node $HOST ($CPUS CPUs) $state (already up)"
      exit 0 ;;
  esac
fi

# Refuse to touch a configuration that this script did not write.
if [ -f "$CONF" ] && ! ours_conf; then
  echo "slurm-up: $CONF exists and was not written by this script, so this machine may belong to a real cluster; refusing to overwrite it (move it away to use the local test cluster)." >&2
  exit 1
fi

# Which daemons are up now: any that are up at the end but not now were started by this run
# (also by a package's postinst, on machines where apt-get starts services).
declare -A was_running=()
for d in munged slurmctld slurmd; do
  if running "$d"; then was_running[$d]=1; fi
done

# 1. Packages.
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null \
   || ! command -v munged >/dev/null || ! command -v sbatch >/dev/null; then
  echo "slurm-up: installing slurm-wlm and munge ..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || fail "apt-get update failed."
  apt-get install -y -qq --no-install-recommends slurm-wlm munge >/tmp/iml-slurm-apt.log 2>&1 \
    || { tail -n 20 /tmp/iml-slurm-apt.log >&2; fail "apt-get install slurm-wlm munge failed (log above)."; }
fi
id slurm >/dev/null 2>&1 || useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin slurm
id munge >/dev/null 2>&1 || fail "the munge user is missing although the munge package is installed."

# 2. Configuration. When it changes under slurmctld/slurmd that this script started, restart them.
mkdir -p /etc/slurm "$RUN_DIR"
touch "$RECORD"
prune_record
if ! conf_current; then
  want_conf >"$CONF.iml-new"
  chmod 0644 "$CONF.iml-new"
  mv "$CONF.iml-new" "$CONF"
  for d in slurmd slurmctld; do
    pid=$(recorded_pid "$d")
    if [ -n "$pid" ]; then
      echo "slurm-up: slurm.conf changed; restarting $d (pid $pid), which slurm-up.sh had started." >&2
      stop_pid "$d" "$pid"
      unset "was_running[$d]"
    fi
  done
  prune_record
  if running slurmctld; then scontrol reconfigure >/dev/null 2>&1 || true; fi
fi

# 3. Directories, ownership, the munge key (the munge package creates one; make one if it is missing).
install -d -o munge -g munge -m 0755 /run/munge
install -d -o munge -g munge -m 0700 /etc/munge /var/lib/munge /var/log/munge
if [ ! -s /etc/munge/munge.key ]; then
  runuser -u munge -- mungekey --create --keyfile=/etc/munge/munge.key
fi
chown munge:munge /etc/munge/munge.key
chmod 0400 /etc/munge/munge.key
install -d -o slurm -g slurm -m 0755 "$LOG_DIR" "$STATE_DIR"
install -d -o root -g root -m 0755 "$SPOOL_DIR"
touch "$CTLD_LOG" "$SLURMD_LOG"
chown slurm:slurm "$CTLD_LOG"

# 4. munged, as the munge user.
if ! running munged; then
  runuser -u munge -- /usr/sbin/munged || fail "munged did not start (see /var/log/munge/munged.log)."
fi
waitfor 10 sh -c 'munge -n | unmunge' \
  || fail "munge does not work: 'munge -n | unmunge' fails (see /var/log/munge/munged.log)."

# 5. slurmctld. It keeps its saved state (job ids, remembered jobs) across restarts; if it cannot
# come up with that state, the state is moved aside and slurmctld starts clean (-c).
if ! running slurmctld; then
  slurmctld || true
  if ! ctld_wait 15; then
    pid=$(live_pid slurmctld || true)
    if [ -n "$pid" ]; then stop_pid slurmctld "$pid"; fi
    stale="$STATE_DIR.stale-$(date +%Y%m%d-%H%M%S)"
    echo "slurm-up: slurmctld did not answer; moving its saved state to $stale and starting it clean." >&2
    mv "$STATE_DIR" "$stale"
    install -d -o slurm -g slurm -m 0755 "$STATE_DIR"
    slurmctld -c || true
  fi
fi
ctld_wait 15 || fail "slurmctld does not answer 'scontrol ping'."

# 6. slurmd.
slurmd_started_at=""
if ! running slurmd; then
  slurmd_started_at=$(date +%s)
  slurmd || fail "slurmd did not start."
fi
for d in munged slurmctld slurmd; do
  if [ -z "${was_running[$d]:-}" ] && running "$d" && [ -z "$(recorded_pid "$d")" ]; then
    echo "$d $(live_pid "$d")" >>"$RECORD"
  fi
done

# 7. Wait for the node; resume it if a previous run left it DOWN or DRAINED.
node_ready() {
  local s
  s=$(node_state)
  case "$s" in
    idle|mixed|allocated|completing) return 0 ;;
    down*|drain*|fail*)
      scontrol update nodename="$HOST" state=resume >/dev/null 2>&1 || true
      return 1 ;;
    *) return 1 ;;
  esac
}
deadline=$((SECONDS + WAIT_SECONDS))
until node_ready; do
  running slurmd || fail "slurmd exited before node $HOST became usable."
  [ "$SECONDS" -lt "$deadline" ] \
    || fail "node $HOST is not usable after ${WAIT_SECONDS}s: $(sinfo -h -N -n "$HOST" -o '%T %E' 2>&1 | head -n 1)."
  sleep 0.2
done

# 8. Jobs that slurmctld's saved state says are running, but whose processes died with the
# previous slurmd (the machine or session stopped without slurm-down.sh): Slurm itself only notices
# that after a reboot, so they would hold their CPUs for ever. Requeue them (cancel if not allowed).
if [ -n "$slurmd_started_at" ]; then
  while read -r id start; do
    [ -n "$id" ] || continue
    started=$(date -d "$start" +%s 2>/dev/null || echo "$slurmd_started_at")
    if [ "$started" -lt "$slurmd_started_at" ] && ! scontrol listpids "$id" >/dev/null 2>&1; then
      if scontrol requeue "$id" >/dev/null 2>&1; then
        echo "slurm-up: job $id was left RUNNING by a previous run with no process left; requeued it." >&2
      else
        scancel "$id" 2>/dev/null || true
        echo "slurm-up: job $id was left RUNNING by a previous run with no process left; cancelled it (not requeueable)." >&2
      fi
    fi
  done < <(squeue -h -t RUNNING -w "$HOST" -o '%A %S' 2>/dev/null)
fi

# 9. One job through srun and one through sbatch (not when jobs fill the node: they would wait).
idle_cpus=$(sinfo -h -n "$HOST" -o %C 2>/dev/null | cut -d/ -f2)
if [ "${idle_cpus:-0}" -gt 0 ]; then
  timeout 20 srun -N1 -n1 -t 1 -J slurm-up-check true >/dev/null 2>&1 || fail "a test job through srun did not run."
  job=$(sbatch --parsable -N1 -n1 -t 1 -o /dev/null -e /dev/null -J slurm-up-check --wrap true 2>&1) \
    || fail "sbatch refused a test job: $job"
  batch_done() { scontrol show job "$job" 2>/dev/null | grep -q 'JobState=COMPLETED'; }
  waitfor 20 batch_done \
    || fail "test batch job $job did not complete: $(scontrol show job "$job" 2>&1 | grep -o 'JobState=[^ ]* Reason=[^ ]*')."
fi

echo "slurm: cluster $CLUSTER, node $HOST ($CPUS CPUs) $(node_state)"
