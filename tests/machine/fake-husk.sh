#!/bin/sh
# A busybox sh stand-in for husk's machine mode, for checking the harness alone:
# `HUSK_MACHINE_SELFTEST=1 cargo test --release --test machine` puts this at /husk in the
# initramfs instead of the husk under test, so every case of tests/machine.rs runs against
# something that does what the spec says (roughly: --rootfs is a plain chroot, the restart
# limit ignores the 60 s window, signals that arrive between restarts are not seen). It is
# not husk and is never installed; it only proves that the payloads, the console parsing,
# the deadlines and the QEMU plumbing can pass.
b=/bin/busybox
grace=2 on_exit=poweroff restart=no rootfs= cgroup= mem= pids= cpu= bad=
while [ $# -gt 0 ]; do
    case "$1" in
    --machine) shift ;;
    --grace) grace=$2; shift 2 ;;
    --on-exit) on_exit=$2; shift 2 ;;
    --restart) restart=$2; shift 2 ;;
    --rootfs) rootfs=$2; shift 2 ;;
    --cgroup) cgroup=$2; shift 2 ;;
    --memory-max) mem=$2; shift 2 ;;
    --pids-max) pids=$2; shift 2 ;;
    --cpu-max) cpu=$2; shift 2 ;;
    --) shift; break ;;
    -*) bad="husk: $1: unknown option (see --help)"; break ;;
    *) break ;;
    esac
done

mounted() { $b grep -q "^[^ ]* $1 " /proc/mounts; }
[ -e /proc/self/stat ] || $b mount -t proc proc /proc
mounted /sys || $b mount -t sysfs sysfs /sys
mounted /dev || $b mount -t devtmpfs devtmpfs /dev
$b mkdir -p /dev/pts /dev/shm /run /sys/fs/cgroup
mounted /dev/pts || $b mount -t devpts devpts /dev/pts
mounted /dev/shm || $b mount -t tmpfs tmpfs /dev/shm
mounted /run || $b mount -t tmpfs tmpfs /run
mounted /sys/fs/cgroup || $b mount -t cgroup2 cgroup2 /sys/fs/cgroup
for c in $($b cat /sys/fs/cgroup/cgroup.controllers); do
    echo "+$c" >/sys/fs/cgroup/cgroup.subtree_control
done
[ -e /proc/self/fd/1 ] || exec </dev/console >/dev/console 2>&1
exec 3<&0 # for COMMAND's stdin (sh gives background jobs /dev/null)
# Ctrl-Alt-Del as SIGINT to pid 1: reboot(LINUX_REBOOT_CMD_CAD_OFF).
/probe "sys cad 169 0xfee1dead 0x28121969 0" >/dev/null

sig=
for s in TERM INT USR2 PWR; do trap "sig=$s" $s; done

others() { # any process left but this one and the kernel's?
    for d in /proc/[0-9]*; do
        [ "$d" = /proc/1 ] && continue
        { read -r l <"$d/stat"; } 2>/dev/null || continue
        set -- $l
        [ "$4" != 0 ] && [ "$4" != 2 ] && [ "$3" != Z ] && return 0
    done
    return 1
}

start() {
    if [ -n "$cgroup" ]; then
        $b mkdir -p "$cgroup"
        [ -n "$mem" ] && echo "$mem" >"$cgroup/memory.max"
        [ -n "$pids" ] && echo "$pids" >"$cgroup/pids.max"
        [ -n "$cpu" ] && echo "${cpu%/*} ${cpu#*/}" >"$cgroup/cpu.max"
    fi
    (
        exec 0<&3 3<&-
        [ -n "$cgroup" ] && echo 0 >"$cgroup/cgroup.procs"
        if [ -n "$rootfs" ]; then exec $b chroot "$rootfs" "$@"; fi
        exec "$@"
    ) &
    child=$!
}

if [ -n "$bad" ]; then
    echo "$bad"
    st=125
elif [ $# = 0 ]; then
    echo "husk: COMMAND: missing (see --help)"
    st=125
else
    restarts=0 delay=1 stop=
    while :; do
        if [ -z "$rootfs" ] && [ ! -x "$1" ]; then
            echo "husk: $1: No such file or directory"
            st=127
        else
            start "$@"
            while :; do
                wait $child
                st=$?
                if [ -n "$sig" ]; then
                    sig= stop=1
                    kill -TERM $child 2>/dev/null && continue
                fi
                break
            done
        fi
        echo "husk: $1 exited with status $st"
        [ -n "$stop" ] && break
        case "$restart:$st" in always:* | on-failure:[1-9]*) ;; *) break ;; esac
        [ $restarts -ge 5 ] && break
        restarts=$((restarts + 1))
        echo "husk: restarting $1 ($restarts)"
        $b sleep $delay
        delay=$((delay * 2))
    done
fi

kill -TERM -1 2>/dev/null
i=0
while [ $i -lt $((grace * 10)) ] && others; do
    $b sleep 0.1
    i=$((i + 1))
done
kill -KILL -1 2>/dev/null
$b sync
case "$on_exit" in
reboot) $b reboot -f ;;
halt) $b halt -f ;;
*) $b poweroff -f ;;
esac
while :; do $b sleep 60; done
