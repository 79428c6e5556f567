//! The default seccomp filter against Docker's default profile, the capabilities that open
//! its groups, --disable-userns under any filter, and --restrict-af. Each attempt is a
//! python3 snippet printing "NAME=errno" or "NAME=ok" (see common::PRELUDE).

mod common;
use common::*;
use std::path::PathBuf;

/// Calls whose outcome the filter decides, each chosen so that the kernel alone would give
/// a different answer (a no-op success, EFAULT, EBADF, EINVAL, ENOTTY, ...).
const PROBES: &str = "
pid = os.getpid()
sys('clone_newns_fs', 56, 0x20000 | 0x200, 0, 0, 0, 0)
sys('clone3', 435, 0, 0)
sys('setns', 308, -1, 0)
# With SYS_ADMIN kept, COMMAND sits one user namespace below husk's mounts: the mount calls
# reach the kernel for a mount namespace of its own.
sys('unshare_ns', 272, 0x20000)
sys('fsopen', 430, 0, 0)
sys('mount', 165, 0, 0, 0, 0, 0)
sys('io_uring_setup', 425, 1, 0)
sys('kcmp', 312, pid, pid, 0, 0, 0)
sys('set_mempolicy', 238, 0, 0, 0)
sys('settimeofday', 164, 1, 0)
sys('iopl', 172, 0)
sys('chroot', 161, 0)
sys('personality_query', 135, 0xffffffff)
sys('personality_linux', 135, 0)
sys('personality_no_aslr', 135, 0x40000)
sys('tiocsetd', 16, 0, 0x5423, 0)
sys('vsock', 41, 40, 1, 0)
sys('getpid', 39)
# Last: once in a new user namespace, the capabilities over the sandbox are gone.
sys('unshare_user', 272, 0x10000000)
";

fn probe(u: User, args: &[&str]) -> String {
    let mut all = vec!["--rootfs", "/"];
    all.extend(args);
    py(u, &all, &format!("{PRELUDE}{PROBES}"))
}

#[test]
fn the_default_filter_denies_what_docker_denies_without_capabilities() {
    as_each_user("docker groups", |u| {
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
    });
}

#[test]
fn a_kept_capability_opens_its_group_and_only_it() {
    as_each_user("--cap-add groups", |u| {
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
    });
}

/// A compiled filter that allows everything.
fn allow_all_filter() -> PathBuf {
    let path = scratch().join("allow.bpf");
    let mut bytes = 0x06u16.to_ne_bytes().to_vec(); // ret ALLOW
    bytes.extend([0, 0]);
    bytes.extend(0x7fff_0000u32.to_ne_bytes());
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn disable_userns_holds_under_any_filter() {
    let filter = allow_all_filter();
    let code = format!(
        "{PRELUDE}sys('unshare_user', 272, 0x10000000)\nsys('clone3', 435, 0, 0)\nsys('keyctl', 250, 0, -3)"
    );
    as_each_user("--disable-userns", |u| {
        let out = py(
            u,
            &["--rootfs", "/", "--no-default-seccomp", "--disable-userns"],
            &code,
        );
        expect(u, &out, &["unshare_user=EPERM", "clone3=ENOSYS"]);
        assert!(
            !out.contains("keyctl=EPERM"),
            "{u:?}: the default filter: {out}"
        );
        let s = py_with_fd7(u, &filter, "--rootfs / --seccomp 7 --disable-userns", &code);
        expect(u, &s, &["unshare_user=EPERM", "clone3=ENOSYS"]);
        assert!(
            !s.contains("keyctl=EPERM"),
            "{u:?}: the default filter: {s}"
        );
        // Without --disable-userns the user's filter alone decides.
        let out = py(u, &["--rootfs", "/", "--no-default-seccomp"], &code);
        expect(u, &out, &["unshare_user=ok"]);
    });
}

#[test]
fn restrict_af_limits_socket_families() {
    let snippet = format!(
        "{PRELUDE}
import socket
for name, family, kind in (('unix', 1, 1), ('inet', 2, 2), ('inet6', 10, 2), ('netlink', 16, 3)):
    c(name, libc.socket(family, kind, 0))
c('pair_unix', libc.socketpair(1, 1, 0, ctypes.byref((ctypes.c_int * 2)())))
sys('io_uring_setup', 425, 4, ctypes.addressof(ctypes.create_string_buffer(120)))
"
    );
    as_each_user("--restrict-af", |u| {
        let out = py(
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
        let out = py(u, &["--rootfs", "/"], &snippet);
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
            &py(u, &args, &snippet),
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
            &py(u, &args, &snippet),
            &["unix=ok", "netlink=ok", "pair_unix=ok", "inet=EAFNOSUPPORT"],
        );
    });
    for bad in ["foo", "", "inet,", "unix,ipx", "none,unix"] {
        let out = run(husk_as(User::Root, &["--restrict-af", bad, "true"]), 10);
        assert_eq!(code(out.status), 125, "{bad:?}");
        assert_eq!(
            text(&out.stderr),
            format!("husk: --restrict-af {bad}: not an address family list (see --help)\n")
        );
    }
}
