#!/usr/bin/env bash
# Prepare the OCI runtime-tools validation suite for conformance runs.
#
# Idempotent. Does, in order:
#   1. installs the Debian packages needed (Go 1.19, Debian's runtime-tools
#      library snapshot and its dependencies, busybox-static, prove, unshare);
#   2. locates the validation sources (validation/*, cmd/runtimetest, tap-go),
#      which Debian does NOT ship (see docs/conformance.md), and checks them
#      against upstream-manifest.txt;
#   3. builds runtimetest (static) and one <name>.t binary per validation test
#      with GO111MODULE=off against /usr/share/gocode;
#   4. builds rootfs-amd64.tar.gz from Debian's busybox-static.
#
# Everything lands in $TSRUNC_CONFORMANCE_CACHE (default
# /var/cache/tsrunc-conformance), outside the repository:
#   $CACHE/suite/runtimetest
#   $CACHE/suite/rootfs-amd64.tar.gz
#   $CACHE/suite/validation/<name>.t
#
# Source lookup order for the upstream validation sources:
#   $RT_SRC, then conformance/runtime-tools/upstream/ (if someone vendors it
#   there), then $CACHE/upstream/.
# The layout expected is:
#   <src>/runtime-tools/validation/<name>/<name>.go, validation/util/*.go
#   <src>/runtime-tools/cmd/runtimetest/{main.go,rlimit_shim.go,mount/*.go}
#   <src>/tap-go/{tap.go,yaml_json.go}
#
# Usage: conformance/runtime-tools/setup.sh [--force]   (run as root)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${TSRUNC_CONFORMANCE_CACHE:-/var/cache/tsrunc-conformance}"
SUITE="$CACHE/suite"
MANIFEST="$HERE/upstream-manifest.txt"
FORCE=0
[ "${1:-}" = "--force" ] && FORCE=1

log() { printf '[setup] %s\n' "$*" >&2; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (apt-get, and the suite itself needs root)"
[ "$(uname -m)" = x86_64 ] || log "warning: only tested on x86_64 (rootfs name uses GOARCH)"

# ---------------------------------------------------------------- packages
PKGS=(
  golang-go
  golang-github-opencontainers-runtime-tools-dev
  golang-github-opencontainers-specs-dev
  golang-github-google-uuid-dev
  golang-github-hashicorp-go-multierror-dev
  golang-github-mrunalp-fileutils-dev
  golang-github-sirupsen-logrus-dev
  golang-github-urfave-cli-dev
  golang-gocapability-dev
  golang-golang-x-sys-dev
  busybox-static
  util-linux
  perl
  tar
  gzip
  coreutils
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v go >/dev/null || die "go not found after install"

# ------------------------------------------------------------ sources
SRC=""
for cand in "${RT_SRC:-}" "$HERE/upstream" "$CACHE/upstream"; do
  [ -n "$cand" ] || continue
  if [ -f "$cand/runtime-tools/validation/util/test.go" ] && [ -f "$cand/runtime-tools/cmd/runtimetest/main.go" ] && [ -f "$cand/tap-go/tap.go" ]; then
    SRC="$(cd "$cand" && pwd)"; break
  fi
done
if [ -z "$SRC" ]; then
  cat >&2 <<EOF
[setup] ERROR: runtime-tools validation sources not found.
  Debian's golang-github-opencontainers-runtime-tools-dev ships only the library
  packages (generate, specerror, validate, cgroups, ...), not validation/ or
  cmd/runtimetest, and its source package cannot be fetched here.
  The sources were reconstructed from the search tool's copy of
  github.com/opencontainers/runtime-tools; every file, with the commit it was
  read at, is listed in $MANIFEST.
  Put them at \$RT_SRC or $CACHE/upstream (layout described in this script).
EOF
  exit 2
fi
log "sources: $SRC"

# verify against the manifest (sha256 of every file); warn only, so local
# edits are possible, but make them visible.
if [ -f "$MANIFEST" ]; then
  bad=0
  while read -r rel sum _; do
    case "$rel" in ''|'#'*) continue;; esac
    if [ ! -f "$SRC/$rel" ]; then log "manifest: missing $rel"; bad=1; continue; fi
    got="$(sha256sum "$SRC/$rel" | cut -d' ' -f1)"
    [ "$got" = "$sum" ] || { log "manifest: checksum differs for $rel"; bad=1; }
  done < "$MANIFEST"
  [ "$bad" = 0 ] && log "sources match upstream-manifest.txt"
fi

# ------------------------------------------------------------- GOPATH overlay
# runtime-tools packages = Debian's library snapshot (0.9.0+git20220423.g0105384)
# overlaid with validation/ + cmd/runtimetest; tap-go is not packaged by Debian.
GP="$CACHE/gopath"
RTDIR="$GP/src/github.com/opencontainers/runtime-tools"
stamp_src="$(cd "$SRC" && find . -type f -name '*.go' -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)"
stamp_deb="$(dpkg-query -W -f='${Version}' golang-github-opencontainers-runtime-tools-dev golang-go)"
stamp="$stamp_src $stamp_deb $(sha256sum "$0" | cut -d' ' -f1)"
if [ "$FORCE" = 1 ] || [ ! -f "$SUITE/.stamp" ] || [ "$(cat "$SUITE/.stamp")" != "$stamp" ]; then
  log "building the suite into $SUITE"
  rm -rf "$GP" "$SUITE/validation" "$SUITE/runtimetest"
  mkdir -p "$RTDIR" "$GP/src/github.com/mndrix" "$SUITE/validation"
  cp -a /usr/share/gocode/src/github.com/opencontainers/runtime-tools/. "$RTDIR/"
  cp -a "$SRC/runtime-tools/." "$RTDIR/"
  cp -a "$SRC/tap-go" "$GP/src/github.com/mndrix/tap-go"
  export GOPATH="$GP:/usr/share/gocode" GO111MODULE=off GOCACHE="$CACHE/gocache" GOFLAGS=
  (
    cd "$RTDIR"
    # runtimetest runs inside the busybox rootfs: must be static. Pure Go
    # (CGO_ENABLED=0): a cgo binary starts threads with glibc's clone3, which
    # seccomp profiles of the tests answer with EPERM under crun.
    # Since Go 1.19 package os raises the RLIMIT_NOFILE soft limit to the hard
    # limit at start-up, so runtimetest would never see the soft limit the
    # runtime set (process_rlimits would fail for every runtime). A build
    # overlay replaces os/rlimit.go with a no-op for this binary only.
    ov="$CACHE/overlay"; mkdir -p "$ov"
    cat > "$ov/os_rlimit.go" <<'GOEOF'
//go:build aix || darwin || dragonfly || freebsd || linux || netbsd || openbsd || solaris

package os

// tsrunc conformance overlay: leave RLIMIT_NOFILE exactly as the OCI runtime
// set it (Go >= 1.19 would raise the soft limit to the hard limit here).
GOEOF
    printf '{"Replace":{"%s":"%s"}}\n' "$(go env GOROOT)/src/os/rlimit.go" "$ov/os_rlimit.go" > "$ov/overlay.json"
    CGO_ENABLED=0 go build -overlay "$ov/overlay.json" -tags "netgo osusergo" -o "$SUITE/runtimetest" ./cmd/runtimetest
    for d in validation/*/; do
      n="$(basename "$d")"
      [ "$n" = util ] && continue
      go build -o "$SUITE/validation/$n.t" "./validation/$n"
    done
  )
  echo "$stamp" > "$SUITE/.stamp"
else
  log "suite binaries up to date ($(ls "$SUITE/validation" | wc -l) tests)"
fi

# ------------------------------------------------------------------ rootfs
# Equivalent of upstream's rootfs-amd64.tar.gz: busybox + applet links.
ROOTFS_TAR="$SUITE/rootfs-amd64.tar.gz"
bb_stamp="$(sha256sum /bin/busybox | cut -d' ' -f1)"
if [ "$FORCE" = 1 ] || [ ! -f "$ROOTFS_TAR" ] || [ "$(cat "$SUITE/.rootfs-stamp" 2>/dev/null)" != "$bb_stamp" ]; then
  log "building $ROOTFS_TAR from busybox-static"
  tmp="$(mktemp -d "$CACHE/rootfs.XXXXXX")"
  r="$tmp/rootfs"
  mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,etc,root,home,mnt,run,var/tmp,var/run}
  chmod 1777 "$r/tmp" "$r/var/tmp"
  chmod 0700 "$r/root"
  install -m 0755 /bin/busybox "$r/bin/busybox"
  /bin/busybox --list-full | while read -r p; do
    [ "$p" = bin/busybox ] && continue
    mkdir -p "$r/$(dirname "$p")"
    # relative links, so hooks that run <bundle>/bin/sh on the host work too
    rel="$(dirname "$p" | sed -e 's|[^/]*|..|g')/bin/busybox"
    [ -e "$r/$p" ] || ln -s "$rel" "$r/$p"
  done
  [ -e "$r/bin/sh" ] || die "busybox rootfs lacks /bin/sh"
  cat > "$r/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
  cat > "$r/etc/group" <<'EOF'
root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
uucp:x:10:
nogroup:x:65534:
EOF
  echo "nameserver 127.0.0.1" > "$r/etc/resolv.conf"
  echo "127.0.0.1 localhost" > "$r/etc/hosts"
  echo "oci" > "$r/etc/hostname"
  # upstream's tarball has everything directly at the top level: the tests
  # use Root.Path "." (the bundle dir itself is the rootfs).
  tar --numeric-owner --owner=0 --group=0 --mtime=@0 --sort=name -C "$r" -czf "$ROOTFS_TAR.tmp" .
  mv "$ROOTFS_TAR.tmp" "$ROOTFS_TAR"
  rm -rf "$tmp"
  echo "$bb_stamp" > "$SUITE/.rootfs-stamp"
fi

log "ready: $(ls "$SUITE/validation" | wc -l) tests in $SUITE/validation, runtimetest, $(basename "$ROOTFS_TAR")"
