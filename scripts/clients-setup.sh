#!/bin/bash
# clients-setup.sh - set up Docker, containerd (ctr) and podman to run containers with tsrunc, on a
# fresh Debian 12 machine without systemd and without registry access. Idempotent.
#
#   scripts/clients-setup.sh            (as root; scripts/clients-teardown.sh undoes it)
#
# What it does:
#   * installs what is missing from Debian: docker.io, containerd, podman, conmon, catatonit,
#     tini (docker --init), runc, crun, hyperfine, busybox-static, iptables, uidmap
#   * starts its own containerd and dockerd as plain background processes (start-stop-daemon,
#     pid files), with every socket, state directory and log under one base directory,
#     $TSRUNC_CLIENTS_DIR (default /var/tmp/tsrunc-clients): a dockerd or containerd the machine
#     may already run keeps its sockets, state, cgroups and network untouched
#       containerd: $B/run/containerd.sock, root $B/containerd/root, state $B/containerd/state
#       dockerd:    $B/run/docker.sock, --data-root $B/docker/data, --exec-root $B/docker/exec,
#                   cgroup parent /tsrunc-clients-docker, no iptables, its own bridge tsrunc0
#                   (or --bridge=none when a bridge cannot be made)
#       podman:     containers.conf + storage.conf in $B/podman (storage, tmp_dir, events, network
#                   config all under $B/podman; default network mode none; file locks)
#   * registers tsrunc (this repo's dist/tsrunc, by absolute path) as docker runtime "tsrunc" (plus
#     "crun"), and as podman runtime "tsrunc" (with JSON logs, as podman does for runc)
#   * imports a busybox image made from a busybox rootfs (scripts/mkrootfs.sh $B/rootfs):
#       docker: busybox:tsrunc   ctr (namespace tsrunc-e2e): docker.io/library/busybox:tsrunc
#       podman: localhost/busybox:tsrunc
#   * writes $B/env.sh (source it) and wrappers $B/bin/{docker,ctr,podman} that talk to these
#     daemons/stores, then prints how to use them.
#
# Knobs: TSRUNC_CLIENTS_DIR (base dir), WITH_PODMAN=0, NO_INSTALL=1 (fail instead of apt-get),
#        DOCKER_BRIDGE=none (skip making the tsrunc0 bridge).
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
# the shipped executable by path, as the README tells clients to call it; bin/tsrunc (the launcher,
# ~1.5 ms of /bin/sh per call) only for the sources on Node (TSRUNC_ENGINE=node) or without it
TSRUNC=$REPO/dist/tsrunc
if [[ ${TSRUNC_ENGINE:-} == node || ! -x $TSRUNC ]]; then TSRUNC=$REPO/bin/tsrunc; fi
B=${TSRUNC_CLIENTS_DIR:-/var/tmp/tsrunc-clients}
WITH_PODMAN=${WITH_PODMAN:-1}
NS=tsrunc-e2e                       # containerd namespace for ctr
BRIDGE=${DOCKER_BRIDGE:-tsrunc0}    # dockerd's bridge (never docker0); "none" for no bridge
BRIDGE_CIDR=${DOCKER_BRIDGE_CIDR:-172.31.251.1/24}
DOCKER=/usr/bin/docker              # Debian's CLI (matches dockerd 20.10; /usr/local/bin may hold another)
CTR=/usr/bin/ctr
RUN=$B/run LOGS=$B/logs
CSOCK=$RUN/containerd.sock DSOCK=$RUN/docker.sock
IMG_DOCKER=busybox:tsrunc
IMG_CTR=docker.io/library/busybox:tsrunc
IMG_PODMAN=localhost/busybox:tsrunc
# paths outside $B that the clients create on their own; the ones that did not exist before we
# started are listed in $B/created-outside, and teardown removes them (when empty / unused)
OUTSIDE=(/run/containerd /run/containerd/s /run/containerd/fifo /run/containerd/runc
         /run/containers /run/containers/networks /etc/docker /etc/docker/key.json
         /etc/containers/networks /dev/shm/libpod_lock /run/tsrunc
         /var/lib/containers /var/lib/containers/cache   # podman import's blob-info-cache
         /sys/fs/cgroup/memory/libpod_parent)   # podman's cgroupfs parent (conmon's cgroup)

# the daemons look runc, docker-init, conmon... up in PATH: make sure the system dirs are in it
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin${PATH:+:$PATH}

log() { printf '[clients-setup %(%H:%M:%S)T] %s\n' -1 "$*"; }
die() { log "ERROR: $*"; exit 1; }
[[ $EUID == 0 ]] || die "run as root"
[[ -x $TSRUNC ]] || die "$TSRUNC missing"

mkdir -p "$B" "$RUN" "$LOGS" "$B/bin" "$B/containerd" "$B/docker" "$B/podman"
chmod 711 "$B"

record_outside() {   # note which client-made paths outside $B do not exist yet (first run only)
  [[ -e $B/created-outside ]] && return 0
  local p
  for p in "${OUTSIDE[@]}"; do [[ -e $p ]] || echo "$p"; done >"$B/created-outside"
}

# ---------------------------------------------------------------- packages
install_packages() {
  local want=(docker.io containerd runc crun tini busybox-static iptables hyperfine jq)
  [[ $WITH_PODMAN == 1 ]] && want+=(podman conmon catatonit uidmap)
  local missing=() p
  for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  ((${#missing[@]})) || { log "packages: all present"; return 0; }
  [[ ${NO_INSTALL:-0} == 1 ]] && die "missing packages: ${missing[*]}"
  log "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # without systemd the maintainer scripts must not start the daemons: policy-rc.d says no
  local policy=/usr/sbin/policy-rc.d made_policy=0
  if [[ ! -e $policy ]]; then printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod 755 "$policy"; made_policy=1; fi
  { apt-get install -y -q "${missing[@]}" >>"$LOGS/apt.log" 2>&1 ||
      { apt-get update -q >>"$LOGS/apt.log" 2>&1 && apt-get install -y -q "${missing[@]}" >>"$LOGS/apt.log" 2>&1; }; } ||
    { [[ $made_policy == 1 ]] && rm -f "$policy"; die "apt-get install failed, see $LOGS/apt.log"; }
  [[ $made_policy == 1 ]] && rm -f "$policy"
  return 0
}

# ---------------------------------------------------------------- helpers
pid_running() {   # exists and is not a zombie (PID 1 may reap orphans lazily)
  local st
  read -r st </proc/"$1"/stat 2>/dev/null || return 1
  st=${st##*) }; [[ ${st%% *} != Z ]]
}
pid_of() {        # pid_of NAME EXE: the pid in $RUN/NAME.pid iff alive and running EXE
  local f=$RUN/$1.pid pid
  [[ -s $f ]] || return 1
  read -r pid <"$f"
  [[ -n $pid ]] && pid_running "$pid" || return 1
  [[ $(readlink /proc/"$pid"/exe 2>/dev/null) == "$2" ]] || return 1
  echo "$pid"
}
wait_for() {      # wait_for SECONDS CMD...
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do ((SECONDS < deadline)) || return 1; sleep 0.2; done
}
write_if_changed() {   # write_if_changed FILE (content on stdin); returns 0 when it changed
  local tmp; tmp=$(mktemp "$1.XXXX")
  cat >"$tmp"
  if cmp -s "$tmp" "$1"; then rm -f "$tmp"; return 1; fi
  chmod 644 "$tmp"; mv "$tmp" "$1"; log "wrote $1"; return 0
}
containerd_up() { [[ -S $CSOCK ]] && timeout 5 "$CTR" --address "$CSOCK" version; }
dockerd_up() { [[ -S $DSOCK ]] && timeout 10 "$DOCKER" -H "unix://$DSOCK" info; }

# ---------------------------------------------------------------- containerd
start_containerd() {
  write_if_changed "$B/containerd/config.toml" <<EOF || true
# written by tsrunc scripts/clients-setup.sh: a private containerd, nothing shared with the machine's
version = 2
root = "$B/containerd/root"
state = "$B/containerd/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$CSOCK"
[ttrpc]
  address = "$CSOCK.ttrpc"
[debug]
  address = "$RUN/containerd-debug.sock"
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$B/containerd/opt"
EOF
  local pid
  if pid=$(pid_of containerd /usr/bin/containerd); then
    wait_for 20 containerd_up || die "our containerd (pid $pid) does not answer; run clients-teardown.sh"
    log "containerd already running (pid $pid)"
    return
  fi
  rm -f "$CSOCK" "$CSOCK.ttrpc"
  log "starting containerd"
  start-stop-daemon --start --background --make-pidfile --pidfile "$RUN/containerd.pid" \
    --output "$LOGS/containerd.log" --exec /usr/bin/containerd -- \
    --config "$B/containerd/config.toml" --log-level info
  wait_for 30 containerd_up || die "containerd did not come up, see $LOGS/containerd.log"
  log "containerd up (pid $(cat "$RUN/containerd.pid")), socket $CSOCK"
}

# ---------------------------------------------------------------- dockerd
make_bridge() {   # our own bridge, so that a machine dockerd's docker0 is never touched
  [[ $BRIDGE == none ]] && return 1
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link add "$BRIDGE" type bridge 2>/dev/null || return 1
    echo "$BRIDGE" >"$B/bridge-made"
    log "made bridge $BRIDGE ($BRIDGE_CIDR)"
  fi
  ip addr show dev "$BRIDGE" | grep -q "inet ${BRIDGE_CIDR}" || ip addr add "$BRIDGE_CIDR" dev "$BRIDGE" 2>/dev/null || true
  ip link set "$BRIDGE" up 2>/dev/null || true
}

write_daemon_json() {
  local bridge=none
  if make_bridge; then bridge=$BRIDGE; fi
  write_if_changed "$B/docker/daemon.json" <<EOF
{
  "runtimes": {
    "tsrunc": { "path": "$TSRUNC" },
    "crun": { "path": "/usr/bin/crun" }
  },
  "default-runtime": "runc",
  "bridge": "$bridge",
  "iptables": false,
  "ip-masq": false,
  "userland-proxy": false,
  "cgroup-parent": "/tsrunc-clients-docker",
  "exec-opts": ["native.cgroupdriver=cgroupfs"],
  "storage-driver": "overlay2",
  "log-driver": "json-file",
  "pidfile": "$B/docker/dockerd.pid",
  "data-root": "$B/docker/data",
  "exec-root": "$B/docker/exec",
  "hosts": ["unix://$DSOCK"],
  "containerd": "$CSOCK",
  "containerd-namespace": "moby"
}
EOF
}

start_dockerd() {
  local changed=0 pid
  write_daemon_json && changed=1
  if pid=$(pid_of dockerd /usr/sbin/dockerd); then
    # runtimes are reloaded on SIGHUP; the rest of daemon.json never changes between runs
    ((changed)) && { kill -HUP "$pid"; log "SIGHUP dockerd $pid (daemon.json changed)"; sleep 1; }
    wait_for 40 dockerd_up || die "our dockerd (pid $pid) does not answer; run clients-teardown.sh"
    log "dockerd already running (pid $pid)"
    return
  fi
  rm -f "$DSOCK"
  log "starting dockerd"
  start-stop-daemon --start --background --make-pidfile --pidfile "$RUN/dockerd.pid" \
    --output "$LOGS/dockerd.log" --exec /usr/sbin/dockerd -- --config-file "$B/docker/daemon.json"
  wait_for 10 test -s "$RUN/dockerd.pid" || die "no dockerd pid file"
  read -r pid <"$RUN/dockerd.pid"
  local deadline=$((SECONDS + 60))
  until dockerd_up >/dev/null 2>&1; do
    pid_running "$pid" || { tail -20 "$LOGS/dockerd.log" >&2; die "dockerd died, see $LOGS/dockerd.log"; }
    ((SECONDS < deadline)) || die "dockerd did not come up, see $LOGS/dockerd.log"
    sleep 0.3
  done
  log "dockerd up (pid $pid), socket $DSOCK"
}

# ---------------------------------------------------------------- podman
write_podman_conf() {
  [[ $WITH_PODMAN == 1 ]] || return 0
  local P=$B/podman nofile nproc
  mkdir -p "$P/storage" "$P/runroot" "$P/tmp" "$P/networks" "$P/volumes"
  nofile=$(ulimit -Hn) nproc=$(ulimit -Hu)
  # CAP_SYS_RESOURCE may be missing from the bounding set (it is on these VMs): podman's default
  # nofile=1048576 then cannot be set, so pin nofile to the current hard limit; podman lowers
  # its own NPROC to 32768
  [[ $nofile == unlimited || $nofile -gt 1048576 ]] && nofile=1048576
  [[ $nproc == unlimited || $nproc -gt 32768 ]] && nproc=32768
  write_if_changed "$P/storage.conf" <<EOF || true
# written by tsrunc scripts/clients-setup.sh (CONTAINERS_STORAGE_CONF)
[storage]
driver = "overlay"
graphroot = "$P/storage"
runroot = "$P/runroot"
EOF
  write_if_changed "$P/containers.conf" <<EOF || true
# written by tsrunc scripts/clients-setup.sh (CONTAINERS_CONF)
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
init_path = "/usr/bin/catatonit"
# no network set-up by default: a machine podman's bridge and firewall stay untouched
netns = "none"

[network]
network_config_dir = "$P/networks"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$P/events.log"
tmp_dir = "$P/tmp"
static_dir = "$P/storage/libpod"
volume_path = "$P/volumes"
lock_type = "file"
# podman passes --log/--log-format=json only to runtimes whose name is listed here
runtime_supports_json = ["crun", "runc", "kata", "runsc", "krun", "tsrunc"]

[engine.runtimes]
tsrunc = ["$TSRUNC"]
EOF
}

# ---------------------------------------------------------------- wrappers and env
write_env() {
  write_if_changed "$B/env.sh" <<EOF || true
# source me: talk to the tsrunc client daemons/stores set up by scripts/clients-setup.sh
export TSRUNC_CLIENTS_DIR=$B
export TSRUNC=$TSRUNC
export DOCKER_HOST=unix://$DSOCK
export CONTAINERD_ADDRESS=$CSOCK
export CONTAINERD_NAMESPACE=$NS
export CONTAINERS_CONF=$B/podman/containers.conf
export CONTAINERS_STORAGE_CONF=$B/podman/storage.conf
EOF
  write_if_changed "$B/bin/docker" <<EOF || true
#!/bin/sh
exec $DOCKER -H unix://$DSOCK "\$@"
EOF
  write_if_changed "$B/bin/ctr" <<EOF || true
#!/bin/sh
exec $CTR --address $CSOCK --namespace $NS "\$@"
EOF
  write_if_changed "$B/bin/podman" <<EOF || true
#!/bin/sh
CONTAINERS_CONF=$B/podman/containers.conf CONTAINERS_STORAGE_CONF=$B/podman/storage.conf exec /usr/bin/podman "\$@"
EOF
  chmod 755 "$B/bin/docker" "$B/bin/ctr" "$B/bin/podman"
}

# ---------------------------------------------------------------- images
build_images() {
  local tar=$B/images/busybox-rootfs.tar save=$B/images/busybox-image.tar sha cur
  mkdir -p "$B/images"
  if [[ ! -x $B/rootfs/bin/busybox || ! -s $tar ]]; then
    "$REPO/scripts/mkrootfs.sh" "$B/rootfs" >/dev/null
    # reproducible: same content -> same sha256 -> no re-import
    tar --numeric-owner --sort=name --mtime=@0 -C "$B/rootfs" -cf "$tar.tmp" . && mv "$tar.tmp" "$tar"
    log "busybox rootfs tarball $tar"
  fi
  sha=$(sha256sum "$tar" | cut -d' ' -f1)
  cur=$("$B/bin/docker" image inspect -f '{{index .Config.Labels "tsrunc.rootfs.sha256"}}' "$IMG_DOCKER" 2>/dev/null || true)
  if [[ $cur != "$sha" ]]; then
    "$B/bin/docker" import --change 'CMD ["sh"]' --change "LABEL tsrunc.rootfs.sha256=$sha" - "$IMG_DOCKER" <"$tar" >/dev/null
    rm -f "$save"
    log "docker import -> $IMG_DOCKER"
  fi
  if [[ ! -s $save ]]; then
    "$B/bin/docker" save -o "$save.tmp" "$IMG_DOCKER" && mv "$save.tmp" "$save"
  fi
  cur=$("$B/bin/ctr" images ls -q 2>/dev/null | grep -x "$IMG_CTR" || true)
  if [[ -z $cur || $save -nt $B/images/ctr-imported ]]; then
    "$B/bin/ctr" images import "$save" >>"$LOGS/import.log" 2>&1 || die "ctr images import failed, see $LOGS/import.log"
    touch "$B/images/ctr-imported"
    log "ctr images import -> $IMG_CTR (namespace $NS)"
  fi
  if [[ $WITH_PODMAN == 1 ]]; then
    cur=$("$B/bin/podman" image inspect -f '{{index .Labels "tsrunc.rootfs.sha256"}}' "$IMG_PODMAN" 2>/dev/null || true)
    if [[ $cur != "$sha" ]]; then
      "$B/bin/podman" import --change 'CMD ["sh"]' --change "LABEL tsrunc.rootfs.sha256=$sha" "$tar" "$IMG_PODMAN" >>"$LOGS/import.log" 2>&1 ||
        die "podman import failed, see $LOGS/import.log"
      log "podman import -> $IMG_PODMAN"
    fi
  fi
}

main() {
  record_outside
  install_packages
  [[ -f $REPO/dist/src/cli/main.js ]] || (cd "$REPO" && npm run build >/dev/null)
  start_containerd
  start_dockerd
  write_podman_conf
  write_env
  build_images
  cat <<EOF
[clients-setup] ready. tsrunc: $TSRUNC
  source $B/env.sh          (or use the wrappers in $B/bin)
  docker: $B/bin/docker run --rm --runtime tsrunc $IMG_DOCKER echo hi
  ctr:    $B/bin/ctr run --rm --runc-binary $TSRUNC --runc-root $B/ctr-runc $IMG_CTR demo echo hi
  podman: $B/bin/podman --runtime tsrunc run --rm $IMG_PODMAN echo hi     (or --runtime $TSRUNC)
  logs:   $LOGS   teardown: $REPO/scripts/clients-teardown.sh
EOF
}

main "$@"
