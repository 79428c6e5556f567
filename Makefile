# husk: `make` builds the static x86_64 binary, `make test` runs every test (root and
# rootless cases, then the init, sandbox, hardening and seccomp suites again against the
# aarch64, armv7 and riscv64 binaries under qemu-user), `make cross` builds those three,
# `make test-engine` runs husk under real podman and docker (root only), `make
# test-machine` boots a kernel with husk as /init (also part of `make test`), `make size`
# prints bytes, `make init-only` builds the init alone (whose init suite `make test` runs
# too).
X86 := x86_64-unknown-linux-musl
ARM := aarch64-unknown-linux-musl
# `make cross`: the other architectures husk is built and tested for (32-bit ARM boards and
# RISC-V), linked with rust-lld as aarch64 is, so no cross compiler is needed. rustup has
# no standard library of theirs to download here, so their core is built from rustup's
# rust-src (-Zbuild-std, which stable cargo allows under RUSTC_BOOTSTRAP=1), with
# compiler_builtins' memcpy and kin in place of musl's (build.rs).
ARMV7 := armv7-unknown-linux-musleabihf
RISCV := riscv64gc-unknown-linux-musl
BUILD_STD = RUSTC_BOOTSTRAP=1 $(CARGO)
BUILD_STD_FLAGS := -Zbuild-std=core,compiler_builtins -Zbuild-std-features=compiler-builtins-mem
BIN := target/$(X86)/release/husk
# `make init-only`: the init alone (no sandbox, landlock or --cgroup), in a target dir of
# its own so it never replaces the full binary.
INIT_DIR := target/init-only
INIT_BIN := $(INIT_DIR)/$(X86)/release/husk
ARM_BIN := target/$(ARM)/release/husk
ARMV7_BIN := target/$(ARMV7)/release/husk
RISCV_BIN := target/$(RISCV)/release/husk
PREFIX ?= /usr/local
DESTDIR ?=
CARGO ?= cargo
# Debian packages the tests and benchmarks use (peers, pty and uid tools, qemu-user, and
# groff-base, with which tests/docs.rs renders husk.1).
TEST_DEBS := qemu-user-static util-linux uidmap busybox-static bsdutils procps iproute2 gcc \
  groff-base
BENCH_DEBS := musl-tools valgrind strace python3 python3-matplotlib tini dumb-init catatonit \
  bubblewrap util-linux gcc
# The benchmark's own C programs (static musl): the floors, the payloads, the uid launcher.
BENCH_C := true floor-init floor-sandbox orphans runas
BENCH_BIN := target/bench
# The container engines `make test-engine` drives (tests/engines.rs), without the
# recommended extras (buildah, criu, apparmor, needrestart...), which the tests do not use.
ENGINE_DEBS := podman runc docker.io catatonit tini
ENGINE_APT_FLAGS := --no-install-recommends
# `make test` boots a kernel with husk as its first process (tests/machine.rs): QEMU (TCG,
# no KVM) without the recommended extras, and xz, which takes the ELF out of the kernel's
# bzImage (booted directly through PVH, that saves about 4 s of BIOS and decompression per
# boot). The kernel is Debian's current package (linux-image-amd64's dependency), fetched
# with apt-get download and unpacked (its vmlinuz only) into target/vm/kernel, not installed.
MACHINE_DEBS := qemu-system-x86 xz-utils cpio
MACHINE_APT_FLAGS := --no-install-recommends
VM_DIR := target/vm
# `make test` runs these suites again against the aarch64, armv7 and riscv64 binaries, each
# under its qemu-user named as a runner (binfmt_misc need not be registered); what qemu-user
# cannot do prints SKIP. CROSS pairs each binary with its runner.
ARM_SUITES := --test init --test sandbox --test hardening --test seccomp
CROSS := $(ARM_BIN):qemu-aarch64-static $(ARMV7_BIN):qemu-arm-static $(RISCV_BIN):qemu-riscv64-static

.PHONY: all build aarch64 cross init-only size-ceiling test test-engine test-machine vm-deps vm-kernel size install demo bench bench-floors deps debs targets clean lint miri

all: build

targets:
	@rustup target list --installed | grep -qx $(X86) || rustup target add $(X86)
	@rustup target list --installed | grep -qx $(ARM) || rustup target add $(ARM)
	@rustup component list --installed | grep -q '^rust-src' || rustup component add rust-src

deps:
	@$(MAKE) --no-print-directory debs DEBS="$(TEST_DEBS)"

debs:
	@missing=""; for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_FLAGS) $$missing; \
	  else echo "make deps: missing Debian packages:$$missing (run as root to install)"; fi; \
	fi

# QEMU and xz for the machine suite.
vm-deps:
	@$(MAKE) --no-print-directory debs DEBS="$(MACHINE_DEBS)" APT_FLAGS="$(MACHINE_APT_FLAGS)"

# Debian's kernel in target/vm/kernel/boot/vmlinuz-*, once (nothing to do when one is there).
# apt-get download runs in a directory of _apt's, so that apt's sandbox can write there.
vm-kernel:
	@set -e; if ls $(VM_DIR)/kernel/boot/vmlinuz-* >/dev/null 2>&1; then exit 0; fi; \
	name() { apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/.*Depends: //p' | head -n 1; }; \
	pkg=$$(name); \
	if [ -z "$$pkg" ] && [ "$$(id -u)" = 0 ]; then apt-get update -qq; pkg=$$(name); fi; \
	if [ -z "$$pkg" ]; then echo "make vm-kernel: apt knows no linux-image-amd64 (run apt-get update)"; exit 1; fi; \
	echo "make vm-kernel: $$pkg into $(VM_DIR)/kernel"; \
	tmp=$$(mktemp -d); chmod 755 $$tmp; chown _apt $$tmp 2>/dev/null || true; \
	(cd $$tmp && apt-get download -qq $$pkg) || { rm -rf $$tmp; exit 1; }; \
	mkdir -p $(VM_DIR)/kernel.tmp; \
	dpkg-deb --fsys-tarfile $$tmp/$${pkg}_*.deb | tar -x -C $(VM_DIR)/kernel.tmp --wildcards './boot/vmlinuz-*'; \
	rm -rf $$tmp $(VM_DIR)/kernel; mv $(VM_DIR)/kernel.tmp $(VM_DIR)/kernel

build: targets
	$(CARGO) build --release --target $(X86)

aarch64: targets
	$(CARGO) build --release --target $(ARM)

cross: aarch64
	$(BUILD_STD) build --release --target $(ARMV7) $(BUILD_STD_FLAGS)
	$(BUILD_STD) build --release --target $(RISCV) $(BUILD_STD_FLAGS)

init-only: targets
	CARGO_TARGET_DIR=$(INIT_DIR) $(CARGO) build --release --target $(X86) --no-default-features

size: build init-only
	@stat -c %s $(BIN)
	@printf 'init-only: '; stat -c %s $(INIT_BIN)

# The ceiling every full binary stays under (stripped): `make test` fails past it.
CEILING := 65536
size-ceiling: build cross
	@for b in $(BIN) $(ARM_BIN) $(ARMV7_BIN) $(RISCV_BIN); do \
	  n=$$(stat -c %s $$b); echo "$$b: $$n bytes (ceiling $(CEILING))"; \
	  [ $$n -le $(CEILING) ] || { echo "FAIL $$b is over the $(CEILING)-byte ceiling"; exit 1; }; \
	done

test: deps vm-deps vm-kernel build cross init-only size-ceiling
	$(CARGO) test --release --target $(X86) -- --test-threads=2 --nocapture
	@echo "HUSK_TEST_BIN=$(INIT_BIN) $(CARGO) test ... --test init (the init-only build)"
	HUSK_TEST_BIN=$(CURDIR)/$(INIT_BIN) $(CARGO) test --release --target $(X86) --test init -- --test-threads=2 --nocapture
	@if command -v qemu-aarch64-static >/dev/null; then \
	  echo "CARGO_TARGET_..._RUNNER=qemu-aarch64-static $(CARGO) test --target $(ARM) --lib (the unit tests on aarch64)"; \
	  CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_RUNNER=qemu-aarch64-static \
	    $(CARGO) test --release --target $(ARM) --lib -- --test-threads=2; \
	else echo "SKIP the aarch64 unit tests: qemu-aarch64-static is not installed (make deps installs it)"; fi
	@set -e; for pair in $(CROSS); do bin=$${pair%%:*}; qemu=$${pair##*:}; \
	  if command -v $$qemu >/dev/null; then \
	    echo "HUSK_TEST_BIN=$$bin HUSK_TEST_RUNNER=$$qemu $(CARGO) test ... $(ARM_SUITES)"; \
	    HUSK_TEST_BIN=$(CURDIR)/$$bin HUSK_TEST_RUNNER=$$qemu \
	      $(CARGO) test --release --target $(X86) $(ARM_SUITES) -- --test-threads=2 --nocapture; \
	  else echo "SKIP the suites of $$bin: $$qemu is not installed (make deps installs it)"; fi; \
	done

# The machine suite alone (about 80 s: 20 boots, two at a time). HUSK_MACHINE_SELFTEST=1
# boots tests/machine/fake-husk.sh as /husk instead, to check the harness itself.
test-machine: vm-deps vm-kernel build
	$(CARGO) test --release --target $(X86) --test machine -- --test-threads=2 --nocapture

# The engine suite alone: podman (runc, private storage) and a private dockerd, with husk as
# the init of their containers. HUSK_ENGINES=required turns a missing engine into a failure
# (plain `cargo test` sees no HUSK_ENGINES and skips the suite).
test-engine: deps build
	@$(MAKE) --no-print-directory debs DEBS="$(ENGINE_DEBS)" APT_FLAGS="$(ENGINE_APT_FLAGS)"
	HUSK_ENGINES=required $(CARGO) test --release --target $(X86) --test engines -- --test-threads=1 --nocapture

lint: targets
	@rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt
	@rustup component list --installed | grep -q '^clippy' || rustup component add clippy
	$(CARGO) fmt --check
	$(CARGO) clippy --release --all-targets -- -D warnings
	CARGO_TARGET_DIR=$(INIT_DIR) $(CARGO) clippy --release --no-default-features -- -D warnings
	$(CARGO) clippy --release --target $(ARM) -- -D warnings
	$(BUILD_STD) clippy --release --target $(ARMV7) $(BUILD_STD_FLAGS) -- -D warnings
	$(BUILD_STD) clippy --release --target $(RISCV) $(BUILD_STD_FLAGS) -- -D warnings

# The unit tests under Miri (undefined behaviour checks), on the host's gnu target: Miri
# needs a nightly toolchain, so this is not part of `make test`. The tests leak their argv
# on purpose (husk's own lives as long as the process).
miri:
	@rustup +nightly component list --installed | grep -q '^miri' || rustup +nightly component add miri rust-src
	CARGO_TARGET_DIR=target/miri MIRIFLAGS=-Zmiri-ignore-leaks $(CARGO) +nightly miri test --lib --target x86_64-unknown-linux-gnu

install: build
	install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/husk
	install -D -m 0644 husk.1 $(DESTDIR)$(PREFIX)/share/man/man1/husk.1

demo: build
	sh bench/demo.sh $(BIN)

# Debian's python3, which finds python3-matplotlib (another python3 on PATH may not).
bench: build aarch64
	@$(MAKE) --no-print-directory debs DEBS="$(BENCH_DEBS)"
	@$(MAKE) --no-print-directory bench-floors
	/usr/bin/python3 bench/bench.py $(BIN) $(ARM_BIN)

bench-floors: $(BENCH_C:%=$(BENCH_BIN)/%)

$(BENCH_BIN)/%: bench/%.c
	@mkdir -p $(BENCH_BIN)
	musl-gcc -static -Os -Wall -Wextra -o $@ $<
	strip $@

clean:
	$(CARGO) clean
