#!/bin/sh
# Smoke test of the aarch64 binary under qemu-user: exit status, death by signal, the 127
# path, and signal forwarding. The payloads are the host's own programs (qemu-user hands
# execve of a host binary to the kernel).
set -u
BIN=${HUSK_ARM_BIN:-target/aarch64-unknown-linux-musl/release/husk}
QEMU=$(command -v qemu-aarch64-static || command -v qemu-aarch64 || true)
if [ -z "$QEMU" ]; then
    echo "SKIP aarch64 smoke test: qemu-aarch64-static is not installed (make deps installs it)"
    exit 0
fi
pass=0 fail=0
check() { # name expected actual
    if [ "$2" = "$3" ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL aarch64 $1: want $2, got $3"; fi
}
run() { timeout -s KILL 20 "$QEMU" "$BIN" "$@"; }

run -- sh -c 'exit 3'; check "exit status" 3 $?
run -- sh -c 'kill -TERM $$'; check "death by signal" 143 $?
run -- /nonexistent 2>/dev/null; check "not found" 127 $?
run -e 4 -- sh -c 'exit 4'; check "-e remap" 0 $?

out=$(mktemp)
"$QEMU" "$BIN" -- sh -c 'trap "echo got-usr1" USR1; trap "exit 7" TERM; echo ready; while :; do sleep 1 & wait $!; done' >"$out" &
pid=$!
i=0; while ! grep -q ready "$out" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
kill -USR1 $pid; sleep 0.3; kill -TERM $pid
wait $pid; check "forwarded SIGTERM" 7 $?
grep -q got-usr1 "$out"; check "forwarded SIGUSR1" 0 $?
rm -f "$out"

echo "aarch64: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
