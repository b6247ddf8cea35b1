#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for the tests of `executor: slurm` (tests/slurm/).
# Installs Debian's slurm-wlm and munge when missing, writes a slurm.conf for this host (CPUs and
# memory read from `slurmd -C`), starts munged, slurmctld and slurmd, and waits until the node is
# idle. Idempotent: with everything up and the node idle it returns at once. Needs root (or sudo
# without a password). Prints the plugins it settled on.
#
# Process tracking and memory: cgroup (v1 or v2, whichever the kernel mounts) when slurmd can use
# it in this container, so `--mem` is a hard limit and a job over it ends OUT_OF_MEMORY; else
# linuxproc with the accounting poller killing jobs over their memory (OverMemoryKill).
set -euo pipefail

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }
conf_dir=/etc/slurm
conf=$conf_dir/slurm.conf
log_dir=/var/log/slurm

node_idle() {
  local state
  state=$(timeout 5 sinfo -h -N -o '%T' 2>/dev/null | head -n1) || return 1
  [ "$state" = idle ] || [ "$state" = mixed ] || [ "$state" = allocated ]
}

if command -v sinfo >/dev/null 2>&1 && [ -f "$conf" ] && pgrep -x slurmctld >/dev/null && pgrep -x slurmd >/dev/null && node_idle; then
  echo "slurm: already up ($(sinfo -h -N -o '%N %T %c CPUs %m MB'))"
  exit 0
fi

missing=()
for pkg in slurm-wlm munge; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
if [ ${#missing[@]} -gt 0 ]; then
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq -o DPkg::Lock::Timeout=300 "${missing[@]}" >/dev/null
fi

# munge: a key readable only by munge, its socket folder, and the daemon.
as_root mkdir -p /etc/munge /run/munge /var/log/munge /var/lib/munge
if [ ! -s /etc/munge/munge.key ]; then as_root dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none; fi
as_root chown -R munge:munge /etc/munge /run/munge /var/log/munge /var/lib/munge
as_root chmod 0700 /etc/munge
as_root chmod 0400 /etc/munge/munge.key
if ! pgrep -x munged >/dev/null; then as_root runuser -u munge -- /usr/sbin/munged; fi
for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done

host=$(hostname -s)
# "NodeName=vm CPUs=2 Boards=1 SocketsPerBoard=1 CoresPerSocket=2 ThreadsPerCore=1 RealMemory=24105"
hw=$(slurmd -C | head -n1 | sed -e 's/^NodeName=[^ ]* //' -e 's/ Boards=[0-9]*//')
total_mb=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$hw")
# Leave the machine a quarter of its memory (at least 1 GB) for the runner and everything else.
node_mb=$((total_mb - (total_mb / 4 > 1024 ? total_mb / 4 : 1024)))
hw=$(sed "s/RealMemory=[0-9]*/RealMemory=$node_mb/" <<<"$hw")

cgroup_plugin=
if [ -d /sys/fs/cgroup/memory ] && [ -w /sys/fs/cgroup/memory ]; then cgroup_plugin=cgroup/v1
elif [ -f /sys/fs/cgroup/cgroup.controllers ] && grep -qw memory /sys/fs/cgroup/cgroup.controllers; then cgroup_plugin=cgroup/v2
fi

write_conf() { # $1: cgroup or linuxproc
  local proctrack task acct_params
  if [ "$1" = cgroup ]; then
    proctrack=proctrack/cgroup task=task/cgroup acct_params=NoShared
  else
    proctrack=proctrack/linuxproc task=task/none acct_params=OverMemoryKill
  fi
  as_root mkdir -p "$conf_dir" "$log_dir" /var/lib/slurm/slurmctld /var/lib/slurm/slurmd
  as_root tee "$conf" >/dev/null <<EOF
# Written by tests/support/slurm-single-node.sh for the tests of evidence's executor: slurm.
ClusterName=evidence-test
SlurmctldHost=$host
AuthType=auth/munge
SlurmUser=root
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmdSpoolDir=/var/lib/slurm/slurmd
StateSaveLocation=/var/lib/slurm/slurmctld
SlurmctldLogFile=$log_dir/slurmctld.log
SlurmdLogFile=$log_dir/slurmd.log
ProctrackType=$proctrack
TaskPlugin=$task
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=task=1
JobAcctGatherParams=$acct_params
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1024
ReturnToService=2
SchedulerType=sched/backfill
# Finished jobs stay visible to scontrol this long: the runner reads their state there (no slurmdbd).
MinJobAge=300
# Seconds between SIGTERM and SIGKILL when a job is cancelled or over its time.
KillWait=2
MessageTimeout=5
InactiveLimit=0
MpiDefault=none
NodeName=$host $hw State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
  if [ "$1" = cgroup ]; then
    as_root tee "$conf_dir/cgroup.conf" >/dev/null <<EOF
CgroupPlugin=$cgroup_plugin
ConstrainCores=yes
ConstrainRAMSpace=yes
ConstrainSwapSpace=yes
EOF
  fi
}

# By the pid files the daemons write (this script's slurm.conf names them), never by name.
stop_daemons() {
  local pids=()
  for f in /run/slurmd.pid /run/slurmctld.pid; do
    if [ -s "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null; then pids+=("$(cat "$f")"); fi
  done
  [ ${#pids[@]} = 0 ] && return 0
  as_root kill "${pids[@]}" 2>/dev/null || true
  for _ in $(seq 50); do
    local alive=0
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break
    sleep 0.1
  done
}

start_daemons() {
  as_root /usr/sbin/slurmctld
  as_root /usr/sbin/slurmd
  for _ in $(seq 100); do
    state=$(timeout 5 sinfo -h -N -o '%T' 2>/dev/null | head -n1 || true)
    case "$state" in idle | mixed | allocated) return 0 ;; down* | drain*) as_root scontrol update nodename="$host" state=resume >/dev/null 2>&1 || true ;; esac
    pgrep -x slurmd >/dev/null || return 1
    sleep 0.2
  done
  return 1
}

# A job that memory limits can reach: cgroup first, linuxproc when slurmd cannot use cgroups here
# (or when SLURM_TRACKING=linuxproc asks for it, to try that setup on a machine that has cgroups).
stop_daemons
mode=linuxproc
if [ -n "$cgroup_plugin" ] && [ "${SLURM_TRACKING:-}" != linuxproc ]; then
  write_conf cgroup
  if start_daemons && timeout 20 srun -n1 --mem=16 true 2>/dev/null; then mode=cgroup; else stop_daemons; fi
fi
if [ "$mode" = linuxproc ]; then
  as_root rm -f "$conf_dir/cgroup.conf"
  write_conf linuxproc
  start_daemons || { echo "slurm: the node did not come up; see $log_dir/slurmd.log and slurmctld.log" >&2; exit 1; }
fi
echo "slurm: up with $mode process tracking ($(sinfo -h -N -o '%N %T %c CPUs %m MB'))"
