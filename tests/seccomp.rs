//! The default seccomp filter against Docker's default profile, the capabilities that open
//! its groups, --disable-userns under any filter, and --restrict-af. Each attempt is a step
//! of the probe (tests/probe/probe.rs) printing "NAME=errno" or "NAME=ok".

mod common;
use common::*;
use std::path::{Path, PathBuf};

/// Calls whose outcome the filter decides, each chosen so that the kernel alone would give
/// a different answer (a no-op success, EFAULT, EBADF, EINVAL, ENOTTY, ...).
const PROBES: &[&str] = &[
    "sys clone_newns_fs 56 0x20200 0 0 0 0",
    "sys clone3 435 0 0",
    "sys setns 308 -1 0",
    // With SYS_ADMIN kept, COMMAND sits one user namespace below husk's mounts: the mount
    // calls reach the kernel for a mount namespace of its own.
    "sys unshare_ns 272 0x20000",
    "sys fsopen 430 0 0",
    "sys mount 165 0 0 0 0 0",
    "sys io_uring_setup 425 1 0",
    "sys kcmp 312 pid pid 0 0 0",
    "sys set_mempolicy 238 0 0 0",
    "sys settimeofday 164 1 0",
    "sys iopl 172 0",
    "sys chroot 161 0",
    "sys personality_query 135 0xffffffff",
    "sys personality_linux 135 0",
    "sys personality_no_aslr 135 0x40000",
    "sys tiocsetd 16 0 0x5423 0",
    "sys vsock 41 40 1 0",
    "sys getpid 39",
    // Last: once in a new user namespace, the capabilities over the sandbox are gone.
    "sys unshare_user 272 0x10000000",
];

fn probe(u: User, args: &[&str]) -> String {
    let mut all = vec!["--rootfs", "/"];
    all.extend(args);
    probe_in(u, &all, PROBES)
}

/// Whether the sandboxes and filters these tests need work with the husk under test.
fn runnable(test: &str) -> bool {
    can(Needs::Namespaces, test) && can(Needs::Seccomp, test)
}

for_each_user! {
    fn the_default_filter_denies_what_docker_denies_without_capabilities(u: User) {
        if !runnable("docker groups") {
            return;
        }
        expect(
            u,
            &probe(u, &[]),
            &[
                "unshare_user=EPERM",
                "clone_newns_fs=EPERM",
                "clone3=ENOSYS",
                "setns=EPERM",
                "fsopen=EPERM",
                "mount=EPERM",
                "io_uring_setup=EPERM",
                "kcmp=EPERM",
                "set_mempolicy=EPERM",
                "settimeofday=EPERM",
                "iopl=EPERM",
                "chroot=EPERM",
                "personality_query=ok",
                "personality_linux=ok",
                "personality_no_aslr=EPERM",
                "tiocsetd=EPERM",
                "vsock=EPERM",
                "getpid=ok",
            ],
        );
    }
}

for_each_user! {
    fn a_kept_capability_opens_its_group_and_only_it(u: User) {
        if !runnable("--cap-add groups") {
            return;
        }
        let out = probe(u, &["--cap-add", "SYS_ADMIN"]);
        expect(
            u,
            &out,
            &[
                "unshare_user=ok",
                "clone_newns_fs=EINVAL",
                "setns=EBADF",
                "unshare_ns=ok",
                "fsopen=EFAULT",
                "mount=EFAULT",
                "io_uring_setup=EPERM",
                "kcmp=EPERM",
                "chroot=EPERM",
            ],
        );
        // clone3 reaches the kernel, which faults on the NULL argument.
        assert!(!out.contains("clone3=ENOSYS"), "{u:?}: {out}");
        let out = probe(
            u,
            &[
                "--cap-add",
                "SYS_PTRACE",
                "--cap-add",
                "SYS_TIME",
                "--cap-add",
                "SYS_NICE",
                "--cap-add",
                "SYS_CHROOT",
            ],
        );
        expect(
            u,
            &out,
            &[
                "kcmp=ok",
                "settimeofday=EFAULT",
                "set_mempolicy=ok",
                "chroot=EFAULT",
                "unshare_user=EPERM",
                "mount=EPERM",
            ],
        );
    }
}

/// A compiled filter that allows everything.
fn allow_all_filter() -> &'static Path {
    static PATH: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    PATH.get_or_init(write_allow_all_filter)
}

fn write_allow_all_filter() -> PathBuf {
    let path = scratch().join("allow.bpf");
    let mut bytes = 0x06u16.to_ne_bytes().to_vec(); // ret ALLOW
    bytes.extend([0, 0]);
    bytes.extend(0x7fff_0000u32.to_ne_bytes());
    std::fs::write(&path, bytes).unwrap();
    path
}

for_each_user! {
    fn disable_userns_holds_under_any_filter(u: User) {
        if !runnable("--disable-userns") {
            return;
        }
        let filter = allow_all_filter();
        let steps = [
            "sys unshare_user 272 0x10000000",
            "sys clone3 435 0 0",
            "sys keyctl 250 0 -3",
        ];
        let out = probe_in(
            u,
            &["--rootfs", "/", "--no-default-seccomp", "--disable-userns"],
            &steps,
        );
        expect(u, &out, &["unshare_user=EPERM", "clone3=ENOSYS"]);
        assert!(
            !out.contains("keyctl=EPERM"),
            "{u:?}: the default filter: {out}"
        );
        let s = probe_with_fd7(u, filter, "--rootfs / --seccomp 7 --disable-userns", &steps);
        expect(u, &s, &["unshare_user=EPERM", "clone3=ENOSYS"]);
        assert!(
            !s.contains("keyctl=EPERM"),
            "{u:?}: the default filter: {s}"
        );
        // Without --disable-userns the user's filter alone decides.
        let out = probe_in(u, &["--rootfs", "/", "--no-default-seccomp"], &steps);
        expect(u, &out, &["unshare_user=ok"]);
    }
}

/// socket(FAMILY, TYPE, 0) for unix stream, inet and inet6 datagram, netlink raw, a unix
/// socketpair, and io_uring_setup with real (zeroed) parameters.
const SOCKETS: [&str; 6] = [
    "sys unix 41 1 1 0",
    "sys inet 41 2 2 0",
    "sys inet6 41 10 2 0",
    "sys netlink 41 16 3 0",
    "sys pair_unix 53 1 1 0 buf:8",
    "sys io_uring_setup 425 4 buf:120",
];

for_each_user! {
    fn restrict_af_limits_socket_families(u: User) {
        if !runnable("--restrict-af") {
            return;
        }
        let snippet = SOCKETS;
        let out = probe_in(
            u,
            &["--rootfs", "/", "--restrict-af", "inet,inet6"],
            &snippet,
        );
        expect(
            u,
            &out,
            &[
                "unix=EAFNOSUPPORT",
                "inet=ok",
                "inet6=ok",
                "netlink=EAFNOSUPPORT",
                "pair_unix=EAFNOSUPPORT",
            ],
        );
        let out = probe_in(u, &["--rootfs", "/"], &snippet);
        expect(
            u,
            &out,
            &["unix=ok", "inet=ok", "netlink=ok", "pair_unix=ok"],
        );
        // Also without the default filter, and `none`.
        let args = [
            "--rootfs",
            "/",
            "--no-default-seccomp",
            "--restrict-af",
            "none",
        ];
        expect(
            u,
            &probe_in(u, &args, &snippet),
            &[
                "unix=EAFNOSUPPORT",
                "inet=EAFNOSUPPORT",
                "pair_unix=EAFNOSUPPORT",
                // io_uring's IORING_OP_SOCKET would make sockets of any family.
                "io_uring_setup=EPERM",
            ],
        );
        let args = ["--rootfs", "/", "--restrict-af", "unix,netlink"];
        expect(
            u,
            &probe_in(u, &args, &snippet),
            &["unix=ok", "netlink=ok", "pair_unix=ok", "inet=EAFNOSUPPORT"],
        );
    }
}

#[test]
fn restrict_af_lists_are_checked() {
    for bad in ["foo", "", "inet,", "unix,ipx", "none,unix"] {
        let out = run(husk_as(User::Root, &["--restrict-af", bad, "true"]), 10);
        assert_eq!(code(out.status), 125, "{bad:?}");
        assert_eq!(
            text(&out.stderr),
            format!("husk: --restrict-af {bad}: not an address family list (see --help)\n")
        );
    }
}
