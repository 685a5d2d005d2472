#!/bin/bash
# clients-teardown.sh - undo scripts/clients-setup.sh: remove the containers and images it (and the
# e2e tests) made in its own daemons and stores, stop ONLY the containerd/dockerd whose pid files
# it wrote (and whose /proc/PID/exe matches), unmount whatever is left under the base dir, remove
# its cgroups, bridge and base dir. Anything else on the machine (another dockerd, containerd or
# podman, their sockets, state, cgroups and network) is left alone.
#
#   scripts/clients-teardown.sh        (as root; TSRUNC_CLIENTS_DIR as for setup)
#   KEEP_BASE=1 scripts/clients-teardown.sh   keeps the base dir (logs) after stopping everything
set -uo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
TSRUNC=$REPO/bin/tsrunc
B=${TSRUNC_CLIENTS_DIR:-/var/tmp/tsrunc-clients}
RUN=$B/run
NS=tsrunc-e2e
log() { printf '[clients-teardown %(%H:%M:%S)T] %s\n' -1 "$*"; }
[[ $EUID == 0 ]] || { log "run as root"; exit 1; }
[[ -d $B ]] || { log "$B does not exist: nothing to do"; exit 0; }
[[ -f $B/env.sh || -d $B/run ]] || { log "$B does not look like a clients-setup.sh base dir; refusing"; exit 1; }

pid_running() {
  local st
  read -r st </proc/"$1"/stat 2>/dev/null || return 1
  st=${st##*) }; [[ ${st%% *} != Z ]]
}
our_pid() {   # our_pid NAME EXE
  local f=$RUN/$1.pid pid
  [[ -s $f ]] || return 1
  read -r pid <"$f"
  [[ -n $pid ]] && pid_running "$pid" && [[ $(readlink /proc/"$pid"/exe 2>/dev/null) == "$2" ]] || return 1
  echo "$pid"
}
stop_one() {  # stop_one NAME EXE
  local pid
  if ! pid=$(our_pid "$1" "$2"); then
    log "$1: not running (or not ours)"; rm -f "$RUN/$1.pid"; return
  fi
  log "$1: stopping pid $pid"
  start-stop-daemon --stop --quiet --pidfile "$RUN/$1.pid" --exec "$2" --retry TERM/30/KILL/5 --remove-pidfile ||
    log "$1: start-stop-daemon returned $?"
  pid_running "$pid" && log "$1: WARNING pid $pid still alive" || log "$1: stopped"
}

D=(/usr/bin/docker -H "unix://$RUN/docker.sock")
C=(/usr/bin/ctr --address "$RUN/containerd.sock" --namespace "$NS")
P=(env CONTAINERS_CONF="$B/podman/containers.conf" CONTAINERS_STORAGE_CONF="$B/podman/storage.conf" /usr/bin/podman)

# ---- podman: its store is ours alone, so everything in it is ours
podman_ids=()
if [[ -f $B/podman/containers.conf && -x /usr/bin/podman ]]; then
  mapfile -t podman_ids < <("${P[@]}" ps -aq --no-trunc 2>/dev/null)
  ((${#podman_ids[@]})) && { log "podman: removing ${#podman_ids[@]} containers"; "${P[@]}" rm -f -t 0 -a >/dev/null 2>&1; }
  "${P[@]}" rmi -a -f >/dev/null 2>&1
  "${P[@]}" system reset -f >/dev/null 2>&1 || true    # unmounts its overlay layers
fi

# ---- dockerd: ours alone as well
if our_pid dockerd /usr/sbin/dockerd >/dev/null; then
  ids=$("${D[@]}" ps -aq 2>/dev/null)
  [[ -n $ids ]] && { log "docker: removing containers"; "${D[@]}" rm -f $ids >/dev/null 2>&1; }
  "${D[@]}" image rm -f busybox:tsrunc >/dev/null 2>&1
fi
stop_one dockerd /usr/sbin/dockerd

# ---- containerd: tasks, containers and images of our namespace (and docker's leftovers)
if our_pid containerd /usr/bin/containerd >/dev/null; then
  for ns in "$NS" moby; do
    CN=(/usr/bin/ctr --address "$RUN/containerd.sock" --namespace "$ns")
    for c in $("${CN[@]}" containers ls -q 2>/dev/null); do
      log "ctr[$ns]: removing container $c"
      "${CN[@]}" tasks kill -a -s SIGKILL "$c" >/dev/null 2>&1; sleep 0.3
      "${CN[@]}" tasks delete -f "$c" >/dev/null 2>&1
      "${CN[@]}" containers delete "$c" >/dev/null 2>&1
    done
    "${CN[@]}" images ls -q 2>/dev/null | xargs -r "${CN[@]}" images rm >/dev/null 2>&1
  done
fi
stop_one containerd /usr/bin/containerd

# ---- containerd shims and containers whose daemons are gone (only those with our bundles/roots)
for p in /proc/[0-9]*; do
  exe=$(readlink "$p/exe" 2>/dev/null) || continue
  [[ $exe == /usr/bin/containerd-shim-runc-v2 ]] || continue
  tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -q -- "-address $RUN/containerd.sock" || continue
  log "killing leftover shim ${p#/proc/}"; kill -KILL "${p#/proc/}" 2>/dev/null
done
for root in "$B/docker/exec/runtime-tsrunc/moby" "$B/ctr-runc/$NS" "$B/ctr-runc"; do
  [[ -d $root ]] || continue
  for id in $(ls "$root" 2>/dev/null); do
    [[ -f $root/$id/state.json ]] && "$TSRUNC" --root "$root" delete --force "$id" >/dev/null 2>&1 && log "tsrunc: deleted leftover $id in $root"
  done
done

# ---- mounts left under the base dir (deepest first)
mapfile -t mnts < <(awk -v b="$B" '$5 == b || index($5, b "/") == 1 {print $5}' /proc/self/mountinfo | sort -r)
for m in "${mnts[@]}"; do
  umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null && log "unmounted $m"
done

# ---- cgroups: docker's parent, ctr's namespace, podman's containers (empty dirs only)
for ctl in /sys/fs/cgroup/*/ /sys/fs/cgroup/unified/; do
  for top in tsrunc-clients-docker "$NS"; do
    [[ -d $ctl$top ]] && find "$ctl$top" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
  for id in "${podman_ids[@]}"; do
    for d in "${ctl}libpod_parent/libpod-$id" "${ctl}libpod_parent/libpod-conmon-$id"; do
      [[ -d $d ]] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
    done
  done
done

# ---- network
if [[ -s $B/bridge-made ]]; then
  br=$(cat "$B/bridge-made")
  ip link del "$br" 2>/dev/null && log "removed bridge $br"
fi

# ---- paths outside $B the clients made (listed at setup when they did not exist): remove when
#      nothing but empty dirs and lock files are left in them
# the seccomp filters tsrunc compiled for the clients' containers (podman uses the default root):
# a cache, removed whoever made the directory
rm -rf /run/tsrunc/.seccomp-cache
if [[ -s $B/created-outside ]]; then
  tac "$B/created-outside" | while read -r p; do
    [[ -e $p ]] || continue
    if [[ $p == /sys/fs/cgroup/memory/* ]]; then   # a cgroup: in every hierarchy, empty ones only
      rel=${p#/sys/fs/cgroup/memory/}
      for ctl in /sys/fs/cgroup/*/; do
        [[ -d $ctl$rel ]] && find "$ctl$rel" -depth -type d -exec rmdir {} \; 2>/dev/null
      done
      [[ -e $p ]] && log "left cgroup $rel (in use)" || log "removed cgroup $rel"
    elif [[ -d $p ]]; then
      find "$p" -depth \( -type f \( -size 0 -name '*.lock' -o -name blob-info-cache-v1.boltdb \) -delete \) -o \( -type d -empty -delete \) 2>/dev/null
      [[ -e $p ]] && log "left $p (not empty)" || log "removed $p"
    elif [[ -f $p ]]; then   # /etc/docker/key.json (dockerd 20.10's trust key), /dev/shm/libpod_lock
      rm -f "$p" && log "removed $p"
    fi
  done
fi

if [[ ${KEEP_BASE:-0} == 1 ]]; then
  log "kept $B"
elif grep -q " $B[/ ]" /proc/self/mountinfo; then
  log "WARNING: mounts remain under $B; not removing it"
  exit 1
else
  rm -rf "$B" && log "removed $B"
fi
log "done"
