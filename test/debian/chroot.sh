# chroot.sh - a chroot of another Debian release to build and run bertqa in.
# Source it, then call 'debian_chroot RELEASE': it makes the chroot once
# with debootstrap from Debian's archive (kept in $BERTQA_CHROOT_DIR,
# default /var/cache/bertqa-chroot/RELEASE, outside the work tree; one whose
# making was interrupted is made again), mounts /proc, /sys, /dev/shm and
# /dev/pts, copies this tree (tracked files and untracked, unignored ones,
# as they are now) into its /build/bertqa, and sets $chroot_root.  At exit,
# whatever happens (it sets the shell's EXIT trap), anything still running
# inside (a server a killed test left behind) is stopped and everything
# mounted is unmounted.  Needs root.  'in_chroot COMMAND...' runs a command
# inside, in /build/bertqa, with a clean environment.

chroot_mounts=()

# debootstrap into RELEASE.tmp, renamed into place only when complete.
make_chroot() {
	local release=$1 base=$2 mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
	if ! command -v debootstrap >/dev/null; then
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
	fi
	mkdir -p "$base"
	rm -rf "$base/$release.tmp"
	echo "debootstrap: Debian $release from $mirror into $base/$release"
	if ! debootstrap --variant=minbase "$release" "$base/$release.tmp" "$mirror" \
		>"$base/$release.log" 2>&1; then
		tail -20 "$base/$release.log" >&2
		return 1
	fi
	mv "$base/$release.tmp" "$base/$release"
}

# Stop what still runs inside, then unmount in reverse order.
leave_chroot() {
	local proc
	for proc in /proc/[0-9]*; do
		[ "$(readlink "$proc/root" 2>/dev/null)" = "$chroot_root" ] &&
			kill -KILL "${proc#/proc/}" 2>/dev/null
	done
	for ((i = ${#chroot_mounts[@]} - 1; i >= 0; i--)); do
		umount "${chroot_mounts[i]}" 2>/dev/null || umount -l "${chroot_mounts[i]}"
	done
	chroot_mounts=()
}

# mount ... TARGET, remembered for leave_chroot.
chroot_mount() {
	mount "$@" && chroot_mounts+=("${*: -1}")
}

debian_chroot() {
	local release=$1 base=${BERTQA_CHROOT_DIR:-/var/cache/bertqa-chroot}
	if [ "$(id -u)" != 0 ]; then
		echo "a Debian $release chroot needs root (debootstrap, chroot, mount)" >&2
		return 1
	fi
	chroot_root=$base/$release
	[ -x "$chroot_root/usr/bin/apt-get" ] || make_chroot "$release" "$base" || return 1
	trap leave_chroot EXIT
	trap "exit 130" INT TERM
	chroot_mount -t proc proc "$chroot_root/proc" &&
		chroot_mount -t sysfs sysfs "$chroot_root/sys" &&
		chroot_mount -t tmpfs -o mode=1777 tmpfs "$chroot_root/dev/shm" &&
		chroot_mount -t devpts -o newinstance,ptmxmode=0666 devpts "$chroot_root/dev/pts" || return 1
	cp -L /etc/resolv.conf "$chroot_root/etc/resolv.conf"
	# The archive as the host reads it: a host that accepts a Release file
	# past its Valid-Until date (a snapshot of the archive) lets the chroot too.
	if [ "$(apt-config dump Acquire::Check-Valid-Until)" = 'Acquire::Check-Valid-Until "false";' ]; then
		echo 'Acquire::Check-Valid-Until "false";' >"$chroot_root/etc/apt/apt.conf.d/99check-valid-until"
	else
		rm -f "$chroot_root/etc/apt/apt.conf.d/99check-valid-until"
	fi
	rm -rf "$chroot_root/build/bertqa"
	mkdir -p "$chroot_root/build/bertqa"
	git ls-files -z --cached --others --exclude-standard |
		tar --null --ignore-failed-read -T - -cf - | tar -xf - -C "$chroot_root/build/bertqa"
}

in_chroot() {
	chroot "$chroot_root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		${OPENBLAS_CORETYPE:+OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE} \
		bash -c 'cd /build/bertqa && "$@"' in_chroot "$@"
}
