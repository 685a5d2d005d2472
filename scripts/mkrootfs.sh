#!/bin/sh
# Make a busybox root filesystem from Debian's busybox-static: /bin/busybox, a symlink per applet,
# a minimal /etc. Installs busybox-static when it is missing. No binary rootfs is committed.
#   scripts/mkrootfs.sh DIR        (default: bundles/busybox/rootfs)
set -eu
dir=${1:-"$(dirname "$0")/../bundles/busybox/rootfs"}
if ! dpkg -s busybox-static >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox-static >/dev/null
fi
bb=/bin/busybox
file "$bb" 2>/dev/null | grep -q 'dynamically' && { echo "mkrootfs: $bb is not static" >&2; exit 1; }
# never recreate a rootfs that has something mounted under it (a leaked mount would be written through)
if [ -d "$dir" ] && grep -q " $(readlink -f "$dir")[/ ]" /proc/self/mountinfo; then
  echo "mkrootfs: $dir has mounts under it; refusing" >&2; exit 1
fi
mkdir -p "$dir/bin" "$dir/etc" "$dir/proc" "$dir/sys" "$dir/dev" "$dir/tmp" "$dir/root" "$dir/home/user" "$dir/mnt" "$dir/run" "$dir/var" "$dir/opt"
chmod 1777 "$dir/tmp"
cp "$bb" "$dir/bin/busybox"
for applet in $("$dir/bin/busybox" --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$dir/bin/$applet"
done
cat > "$dir/etc/passwd" <<'P'
root:x:0:0:root:/root:/bin/sh
user:x:1000:1000:user:/home/user:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
P
cat > "$dir/etc/group" <<'G'
root:x:0:
tty:x:5:
user:x:1000:
nogroup:x:65534:
G
echo "mkrootfs: $(readlink -f "$dir") ready ($(ls "$dir/bin" | wc -l) entries in /bin)"
