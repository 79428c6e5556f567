#!/bin/sh
# A short tour: husk as PID 1 of a fresh pid namespace (unshare(1)), reaping orphans and
# forwarding a signal, then its exit status. Needs nothing downloaded.
set -u
HUSK=${1:-target/x86_64-unknown-linux-musl/release/husk}
echo "== husk $(stat -c %s "$HUSK") bytes: $(file -b "$HUSK" | cut -d, -f1-4)"
if [ "$(id -u)" = 0 ]; then NS="--pid --fork --mount-proc"; else NS="-Urpf --mount-proc"; fi
echo "== as PID 1 in a new pid namespace: 200 orphans are spawned and reaped"
# shellcheck disable=SC2086
unshare $NS "$HUSK" -- sh -c '
  echo "payload pid $$, parent pid $PPID ($(cat /proc/1/comm))"
  sh -c "i=0; while [ \$i -lt 200 ]; do sleep 0.1 & i=\$((i+1)); done"
  sleep 0.5
  echo "zombies left: $(grep -l "^State:.*Z" /proc/[0-9]*/status 2>/dev/null | wc -l)"
  exit 3'
echo "== exit status passed through: $?"
echo "== SIGTERM forwarded to the payload"
"$HUSK" -- sh -c 'trap "echo payload got SIGTERM; exit 0" TERM; while :; do sleep 1 & wait $!; done' &
sleep 0.3; kill -TERM $!; wait $!
echo "== exit status: $?"
echo
echo "== the sandbox: the host's / read-only as the root, every namespace new"
"$HUSK" --rootfs / -- /bin/sh -c '
  echo "ids inside:      uid=$(id -u) gid=$(id -g)   uid_map: $(cat /proc/self/uid_map | tr -s " ")"
  echo "PID 1:           $(cat /proc/1/comm); processes visible: $(ls -d /proc/[0-9]* | wc -l)"
  echo "hostname:        $(cat /proc/sys/kernel/hostname) (host: '"$(hostname)"')"
  echo "interfaces:      $(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " " | tr "\n" " ")"
  touch /x 2>/dev/null && echo "root:            writable" || echo "root:            read-only"
  touch /tmp/x && echo "/tmp:            writable tmpfs"'
echo "== exit status: $?"
