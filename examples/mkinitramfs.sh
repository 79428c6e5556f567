#!/bin/sh
# examples/mkinitramfs.sh HUSK OUT.cpio.gz: an initramfs with husk as /husk and Debian's
# static busybox (/bin/busybox, from busybox-static) with its applets, for husk as the
# kernel's first process (README, "As a machine's init"). Needs cpio and gzip.
set -eu
husk=${1:?usage: mkinitramfs.sh HUSK OUT.cpio.gz}
out=${2:?usage: mkinitramfs.sh HUSK OUT.cpio.gz}
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin"
cp /bin/busybox "$root/bin/busybox"
for applet in $("$root/bin/busybox" --list); do
	[ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
done
cp "$husk" "$root/husk"
case $out in /*) ;; *) out=$PWD/$out ;; esac
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$out"
