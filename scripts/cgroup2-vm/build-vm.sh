#!/bin/bash
# build-vm.sh - fetch a Debian kernel + busybox-static (Debian packages only)
# and build the kernel/initramfs pair used by run-in-vm.sh.
#
# Output (in the directory of this script):
#   build/kernel/lib/modules/<kver>   all modules of that kernel (+ modules.dep),
#                       mounted at /lib/modules/<kver> in the guest
#   vm/vmlinux          uncompressed kernel (booted via PVH: no decompression
#                       under TCG); falls back to vm/vmlinuz if extraction fails
#   vm/initramfs.cpio   busybox + virtio/9p/overlay modules + guest/init
#   vm/kernel-version
#
# Environment:
#   KPKG=linux-image-6.1.0-NN-amd64   pick a kernel package (default: whatever
#                                     linux-image-amd64 currently depends on)
#   EXTRA_MODULES="virtio_blk ext4"   more modules for the initramfs (loaded
#                                     at boot, dependencies are added)
set -euo pipefail

SRC=$(cd "$(dirname "$0")" && pwd)
# tsrunc: the output (kernel, initramfs, runs) lives outside the repo, in $CG2VM_DIR
D=${CG2VM_DIR:-/var/tmp/tsrunc-cg2vm}
mkdir -p "$D"
cd "$D"

# host tools: qemu (TCG) + firmware, xz to unpack the kernel image
need_pkgs=()
command -v qemu-system-x86_64 >/dev/null || need_pkgs+=(qemu-system-x86)
command -v xz >/dev/null || need_pkgs+=(xz-utils)
if ((${#need_pkgs[@]})); then
	apt-get install -y --no-install-recommends "${need_pkgs[@]}"
fi

# --- fetch the .debs (apt-get download: no installation into /boot) -------
KPKG=${KPKG:-$(apt-cache depends linux-image-amd64 |
	awk '/Depends: linux-image-[0-9]/ {print $2; exit}')}
[ -n "$KPKG" ] || { echo "cannot resolve kernel package" >&2; exit 1; }
mkdir -p debs
(
	cd debs
	for p in "$KPKG" busybox-static; do
		ls "${p}"_*.deb >/dev/null 2>&1 ||
			apt-get download -o APT::Sandbox::User=root "$p"
	done
)
KDEB=$(ls -t debs/"${KPKG}"_*.deb | head -1)
BDEB=$(ls -t debs/busybox-static_*.deb | head -1)
echo "kernel:  $KDEB"
echo "busybox: $BDEB"

rm -rf build vm
mkdir -p build/kernel build/busybox vm
dpkg-deb -x "$KDEB" build/kernel
dpkg-deb -x "$BDEB" build/busybox
KVER=$(ls build/kernel/lib/modules)
MODDIR=build/kernel/lib/modules/$KVER
echo "$KVER" >vm/kernel-version
# modules.dep for the guest's (busybox) modprobe; the guest sees this tree
# through the host-root share and bind-mounts it at /lib/modules/$KVER
build/busybox/bin/busybox depmod -b "$D/build/kernel" "$KVER"

# --- kernel: unpack the xz payload of the bzImage into an ELF vmlinux -----
VMLINUZ=build/kernel/boot/vmlinuz-$KVER
off=$(LC_ALL=C grep -aboP '\xfd7zXZ\x00' "$VMLINUZ" | head -1 | cut -d: -f1 || true)
if [ -n "$off" ] &&
	xz -dc --single-stream < <(tail -c +$((off + 1)) "$VMLINUZ") >vm/vmlinux 2>/dev/null &&
	[ "$(head -c4 vm/vmlinux | od -An -c | tr -d ' ')" = '177ELF' ]; then
	echo "vmlinux: extracted ($(du -h vm/vmlinux | cut -f1))"
else
	echo "vmlinux: extraction failed, using compressed bzImage" >&2
	rm -f vm/vmlinux
	cp "$VMLINUZ" vm/vmlinuz
fi

# --- initramfs -------------------------------------------------------------
IR=build/initramfs
mkdir -p $IR/bin $IR/modules $IR/proc $IR/sys $IR/dev $IR/tmp
cp build/busybox/bin/busybox $IR/bin/busybox
for applet in $($IR/bin/busybox --list); do
	[ "$applet" = busybox ] || ln -sf busybox "$IR/bin/$applet"
done

# modules (+ their dependencies, dependencies first)
WANT="virtio_pci virtio-rng 9pnet_virtio 9p overlay ${EXTRA_MODULES:-}"
declare -A done_mod=()
modfile() { find "$MODDIR" -name "$(echo "$1" | sed 's/[-_]/[-_]/g').ko" | head -1; }
add_mod() {
	local name=${1//-/_} f dep
	[ -n "${done_mod[$name]:-}" ] && return
	done_mod[$name]=1
	f=$(modfile "$1")
	[ -n "$f" ] || { echo "module $1 not found" >&2; exit 1; }
	for dep in $(tr '\0' '\n' <"$f" | sed -n 's/^depends=//p' | tr ',' ' '); do
		add_mod "$dep"
	done
	cp "$f" "$IR/modules/$name.ko"
	echo "$name" >>"$IR/modules.load"
}
: >"$IR/modules.load"
for m in $WANT; do add_mod "$m"; done
echo "modules: $(tr '\n' ' ' <$IR/modules.load)"

cp "$SRC/guest/init" $IR/init
cp "$SRC/guest/stage2" $IR/stage2
chmod 0755 $IR/init

# uncompressed: unpacking gzip under TCG costs more than copying the bytes
(cd $IR && find . | LC_ALL=C sort | ../busybox/bin/busybox cpio -o -H newc 2>/dev/null) \
	>vm/initramfs.cpio
echo "initramfs: vm/initramfs.cpio ($(du -h vm/initramfs.cpio | cut -f1))"
echo "done: kernel $KVER"
