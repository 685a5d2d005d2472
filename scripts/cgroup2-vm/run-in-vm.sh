#!/bin/bash
# run-in-vm.sh - boot the Debian kernel built by build-vm.sh under QEMU with a
# pure cgroup v2 hierarchy (cgroup_no_v1=all), run COMMAND in it, print its
# output, power off and exit with COMMAND's exit status.
#
# usage: run-in-vm.sh [-i] [-w] [-s DIR]... [--] "COMMAND"
#   -i       interactive: attach the terminal to the guest console
#            (default COMMAND is then "bash -i"; Ctrl-A x kills the VM)
#   -w       share the current directory read-write (same path in the guest)
#   -s DIR   share DIR read-write (same path in the guest); repeatable
#
# The guest sees the host's whole / read-only (9p), with a tmpfs overlay on
# top, so host binaries (/usr/bin/node, bash, ...) run unchanged, and writes
# outside shared directories are discarded at power-off. COMMAND runs as root,
# via bash -c, in the host's current directory, in the root cgroup of a
# cgroup2 mount at /sys/fs/cgroup.
#
# environment: CG2VM_MEM (MiB, default 1024), CG2VM_SMP (default: host cores,
# max 4), CG2VM_CPU (QEMU -cpu model, default max), CG2VM_TIMEOUT (seconds,
# default 900), CG2VM_APPEND (extra kernel arguments), CG2VM_KVM=1 (try KVM;
# does NOT work on PVM hosts), CG2VM_VERBOSE=1 (show kernel messages),
# CG2VM_QEMU_ARGS (extra QEMU arguments, split on blanks; the guest has no
# network unless you add one here), CG2VM_CGROUP=NAME (enable all controllers
# in the root cgroup and run COMMAND in the leaf /NAME, like on a systemd host;
# default: COMMAND stays in the root cgroup, root subtree_control empty),
# CG2VM_INIT=systemd (tsrunc: systemd is PID 1 and runs COMMAND as its only job).
#
# exit status: COMMAND's, or 125 if the VM died before reporting one.
set -euo pipefail

SRC=$(cd "$(dirname "$0")" && pwd)
# tsrunc: the output (kernel, initramfs, runs) lives outside the repo, in $CG2VM_DIR
D=${CG2VM_DIR:-/var/tmp/tsrunc-cg2vm}
mkdir -p "$D"
interactive=0
shares=()
while getopts "iws:h" opt; do
	case $opt in
	i) interactive=1 ;;
	w) shares+=("$PWD") ;;
	s) shares+=("$(cd "$OPTARG" && pwd)") ;;
	*) sed -n '2,/^set -e/p' "$0" | sed 's/^# \{0,1\}//; /^set -e/d' >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
CMD="$*"
if [ -z "$CMD" ]; then
	((interactive)) || { echo "usage: $0 [-i] [-w] [-s DIR]... COMMAND" >&2; exit 2; }
	CMD="bash -i"
fi

KERNEL=$D/vm/vmlinux
[ -f "$KERNEL" ] || KERNEL=$D/vm/vmlinuz
[ -f "$KERNEL" ] && [ -f "$D/vm/initramfs.cpio" ] ||
	{ echo "run $SRC/build-vm.sh first" >&2; exit 2; }

MEM=${CG2VM_MEM:-1024}
SMP=${CG2VM_SMP:-$(nproc)}
((SMP <= 4)) || SMP=4
TIMEOUT=${CG2VM_TIMEOUT:-900}

mkdir -p "$D/runs"
RUN=$(mktemp -d "$D/runs/run.XXXXXX")
trap 'rm -rf "$RUN"' EXIT
printf '%s\n' "$CMD" >"$RUN/cmd"
printf '%s\n' "$PWD" >"$RUN/cwd"
((interactive)) && touch "$RUN/interactive"

if [ "${CG2VM_KVM:-0}" = 1 ]; then
	ACCEL=(-accel kvm -cpu "${CG2VM_CPU:-host}")
else
	ACCEL=(-accel tcg,thread=multi -cpu "${CG2VM_CPU:-max}")
fi

LOGLEVEL="quiet loglevel=1"
[ "${CG2VM_VERBOSE:-0}" = 1 ] && LOGLEVEL="loglevel=7"

FS=(
	-fsdev "local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap"
	-device "virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot"
	-fsdev "local,id=cg2run,path=$RUN,security_model=passthrough,multidevs=remap"
	-device "virtio-9p-pci,fsdev=cg2run,mount_tag=cg2run"
)
share_arg=
for i in "${!shares[@]}"; do
	FS+=(-fsdev "local,id=share$i,path=${shares[$i]},security_model=passthrough,multidevs=remap"
		-device "virtio-9p-pci,fsdev=share$i,mount_tag=share$i")
	share_arg+="${share_arg:+,}share$i:${shares[$i]}"
done

APPEND="console=ttyS0 $LOGLEVEL panic=-1 mitigations=off cryptomgr.notests=1"
APPEND+=" systemd.unified_cgroup_hierarchy=1 cgroup_no_v1=all"
APPEND+=" cg2vm.run=$RUN${share_arg:+ cg2vm.shares=$share_arg}"
APPEND+=" cg2vm.moddir=$D/build/kernel/lib/modules"
[ -n "${CG2VM_CGROUP:-}" ] && APPEND+=" cg2vm.cgroup=$CG2VM_CGROUP"
[ -n "${CG2VM_INIT:-}" ] && APPEND+=" cg2vm.init=$CG2VM_INIT"
APPEND+=" ${CG2VM_APPEND:-}"

QEMU=(
	qemu-system-x86_64 -M q35 "${ACCEL[@]}" -smp "$SMP" -m "$MEM"
	-nographic -no-reboot -nic none
	-bios /usr/share/qemu/qboot.rom
	-kernel "$KERNEL" -initrd "$D/vm/initramfs.cpio" -append "$APPEND"
	-device virtio-rng-pci
	"${FS[@]}"
)
# extra QEMU arguments, e.g. CG2VM_QEMU_ARGS="-nic user,model=virtio-net-pci"
read -r -a extra <<<"${CG2VM_QEMU_ARGS:-}"
QEMU+=("${extra[@]}")

now_us() { local t=$EPOCHREALTIME; echo "${t/./}"; }
secs() { printf '%d.%03d' $(($1 / 1000000)) $(($1 % 1000000 / 1000)); }

t0=$(now_us)
if ((interactive)); then
	timeout --foreground "$TIMEOUT" "${QEMU[@]}" || true
else
	t_start=
	# strip the serial console's \r; turn the guest's marker lines into
	# timing notes on stderr; everything else (but the kernel's final
	# "reboot: Power down") goes to stdout
	timeout "$TIMEOUT" "${QEMU[@]}" </dev/null 2>&1 |
		while IFS= read -r line || [ -n "$line" ]; do
			line=${line%$'\r'}
			case "$line" in
			*"=== cg2vm: command start"*)
				t_start=$(now_us)
				l=${line#*command start }; echo "cg2vm: qemu start -> command start: $(secs $((t_start - t0)))s ${l% ===}" >&2
				;;
			*"=== cg2vm: exit code"*)
				t=$(now_us)
				l=${line#*=== cg2vm: }; echo "cg2vm: command ran $(secs $((t - ${t_start:-$t0})))s, ${l% ===}" >&2
				;;
			*"] reboot: Power down") ;;
			*) printf '%s\n' "$line" ;;
			esac
		done || true
fi
echo "cg2vm: total wall time $(secs $(($(now_us) - t0)))s" >&2

if [ -s "$RUN/rc" ]; then
	exit "$(cat "$RUN/rc")"
fi
echo "cg2vm: the VM stopped without reporting an exit status (panic/timeout?)" >&2
exit 125
