//! The escape battery: from inside a default sandbox every attempt fails with the expected
//! errno, as root and rootless. Attempts are small python3 snippets run on the host's own /
//! (read-only) as the root; each prints "NAME=errno" or "NAME=ok".

mod common;
use common::*;
use std::path::Path;

#[test]
fn status_shows_no_caps_no_new_privs_and_a_filter() {
    as_each_user("status", |u| {
        let out = run(
            husk_as(
                u,
                &[
                    "--rootfs",
                    "/",
                    "--",
                    "/bin/grep",
                    "-E",
                    "^(Cap|NoNewPrivs|Seccomp:)",
                    "/proc/self/status",
                ],
            ),
            10,
        );
        let s = text(&out.stdout);
        for want in [
            "CapInh:\t0000000000000000",
            "CapPrm:\t0000000000000000",
            "CapEff:\t0000000000000000",
            "CapBnd:\t0000000000000000",
            "CapAmb:\t0000000000000000",
            "NoNewPrivs:\t1",
            "Seccomp:\t2",
        ] {
            assert!(
                s.lines().any(|l| l == want),
                "{u:?}: missing {want:?} in:\n{s}"
            );
        }
        // An added capability is really usable by a non-root uid inside (through the ambient
        // set); chroot is checked against the caller's own user namespace.
        let chroot = "import os\ntry:\n    os.chroot('/tmp'); print('chroot=ok')\nexcept OSError as e: print('chroot=' + str(e.errno))";
        expect(
            u,
            &py(
                u,
                &[
                    "--rootfs",
                    "/",
                    "--uid",
                    "1000",
                    "--cap-add",
                    "cap_sys_chroot",
                ],
                chroot,
            ),
            &["chroot=ok"],
        );
        expect(
            u,
            &py(u, &["--rootfs", "/", "--uid", "1000"], chroot),
            &["chroot=1"],
        );
        let raw = "import socket\ntry:\n    socket.socket(socket.AF_INET, socket.SOCK_RAW, 1); print('raw=ok')\nexcept OSError as e: print('raw=' + str(e.errno))";
        expect(
            u,
            &py(u, &["--rootfs", "/", "--cap-add", "NET_RAW"], raw),
            &["raw=ok"],
        );
        expect(
            u,
            &py(
                u,
                &["--rootfs", "/", "--cap-add", "ALL", "--cap-drop", "NET_RAW"],
                raw,
            ),
            &["raw=1"],
        );
    });
}

#[test]
fn seccomp_denies_the_dangerous_calls() {
    let code = format!(
        "{PRELUDE}
sys('keyctl', 250, 0, -3)
sys('add_key', 248, 0, 0, 0, 0, 0)
sys('open_by_handle_at', 304, 0, 0, 0)
sys('bpf', 321, 0, 0, 0)
sys('perf_event_open', 298, 0, 0, -1, -1, 0)
sys('userfaultfd', 323, 0)
sys('kexec_load', 246, 0, 0, 0, 0)
sys('init_module', 175, 0, 0, 0)
sys('x32_getpid', 0x40000000 | 39)
sys('getpid', 39)
"
    );
    as_each_user("seccomp", |u| {
        let out = py(u, &["--rootfs", "/"], &code);
        expect(
            u,
            &out,
            &[
                "keyctl=EPERM",
                "add_key=EPERM",
                "open_by_handle_at=EPERM",
                "bpf=EPERM",
                "perf_event_open=EPERM",
                "userfaultfd=EPERM",
                "kexec_load=EPERM",
                "init_module=EPERM",
                "x32_getpid=EPERM",
                "getpid=ok",
            ],
        );
        // --no-default-seccomp turns it off (keyctl then reaches the kernel).
        let out = py(
            u,
            &["--rootfs", "/", "--no-default-seccomp"],
            &format!("{PRELUDE}\nsys('keyctl', 250, 0, -3)"),
        );
        assert!(!out.contains("keyctl=EPERM"), "{u:?}: {out}");
    });
}

#[test]
fn tiocsti_and_tioclinux_are_denied_under_a_terminal() {
    as_each_user("TIOCSTI", |u| {
        let code = "import fcntl, errno\nfor name, req in (('sti', 0x5412), ('sti64', 0x5412 | 1 << 32), ('linux', 0x541C)):\n    try:\n        fcntl.ioctl(0, req, b'\\x00'); print(name + '=ok')\n    except OSError as e: print(name + '=' + errno.errorcode[e.errno])";
        let inner = format!(
            "{} --rootfs / -- /usr/bin/python3 -c \"{}\"",
            husk().display(),
            code.replace('"', "\\\"")
        );
        let (mut child, lines) = under_pty(u, &inner);
        let got: Vec<String> = (0..3).map(|_| lines.next(10).trim().to_owned()).collect();
        assert_eq!(got, ["sti=EPERM", "sti64=EPERM", "linux=EPERM"], "{u:?}");
        drop(child.stdin.take());
        wait_for(&mut child, 10);
    });
}

#[test]
fn the_init_and_the_host_are_out_of_reach() {
    as_each_user("init and host", |u| {
        let code = format!(
            "{PRELUDE}
sys('ptrace_attach_pid1', 101, 16, 1, 0, 0)
attempt('write_pid1_mem', lambda: open('/proc/1/mem', 'wb'))
attempt('read_pid1_exe', lambda: os.readlink('/proc/1/exe'))
attempt('mknod', lambda: os.mknod('/tmp/null', 0o20666, os.makedev(1, 3)))
c('remount_root_rw', libc.mount(None, b'/', None, ctypes.c_ulong(0x20 | 0x1000), None))
c('umount_locked_proc', libc.umount2(b'/proc', 2))
attempt('chroot', lambda: os.chroot('/tmp'))
print('pids=' + str(max(int(p) for p in os.listdir('/proc') if p.isdigit())))
"
        );
        let out = py(u, &["--rootfs", "/"], &code);
        expect(
            u,
            &out,
            &[
                "ptrace_attach_pid1=EPERM",
                "write_pid1_mem=EACCES",
                "read_pid1_exe=EACCES",
                "mknod=EPERM",
                "remount_root_rw=EPERM",
                "umount_locked_proc=EPERM",
                "chroot=EPERM",
            ],
        );
        // The classic double-chroot escape, with the privileges of a nested user namespace,
        // and `..` walking: both end at the sandbox's root, where the host's /etc is absent.
        let escape = r#"
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
print('userns=' + str(libc.unshare(0x10000000)))
root = sorted(os.listdir('/'))
os.makedirs('/tmp/jail', exist_ok=True)
os.chroot('/tmp/jail')
for _ in range(64):
    os.chdir('..')
os.chroot('.')
print('escaped=' + str(os.path.exists('/etc/hostname') or sorted(os.listdir('/')) != root))
"#;
        // Nested namespaces and chroot need the capabilities Docker ties them to.
        let mut hand_built = HAND_BUILT_ROOT.to_vec();
        hand_built.extend(["--cap-add", "SYS_ADMIN", "--cap-add", "SYS_CHROOT"]);
        expect(
            u,
            &py(u, &hand_built, escape),
            &["userns=0", "escaped=False"],
        );
        let out = py(
            u,
            &HAND_BUILT_ROOT,
            &format!("{PRELUDE}\nsys('unshare_user', 272, 0x10000000)"),
        );
        expect(u, &out, &["unshare_user=EPERM"]);
        let out = py(
            u,
            &["--rootfs", "/", "--disable-userns"],
            &format!("{PRELUDE}\nsys('unshare_user', 272, 0x10000000)\nsys('clone3', 435, 0, 0)"),
        );
        expect(u, &out, &["unshare_user=EPERM", "clone3=ENOSYS"]);
    });
}

#[test]
fn only_standard_and_kept_descriptors_reach_the_payload() {
    as_each_user("fd hygiene", |u| {
        // The payload tests each descriptor with the `[` builtin, so it opens none itself.
        let probe = "for f in 0 1 2 3 4 5 6 7 8 9; do [ -e /proc/$$/fd/$f ] && printf $f,; done";
        let script = format!(
            "exec 5</etc/hostname 6</etc/hostname; {} --rootfs / \"$@\" -- /bin/sh -c '{probe}'",
            husk().display()
        );
        let out = run(command_as(u, Path::new("sh"), &["-c", &script, "sh"]), 10);
        assert_eq!(text(&out.stdout), "0,1,2,", "{u:?}: {}", text(&out.stderr));
        let out = run(
            command_as(u, Path::new("sh"), &["-c", &script, "sh", "--keep-fd", "6"]),
            10,
        );
        assert_eq!(
            text(&out.stdout),
            "0,1,2,6,",
            "{u:?}: {}",
            text(&out.stderr)
        );
    });
}

#[test]
fn kill_all_from_inside_spares_the_host() {
    as_each_user("kill -1", |u| {
        let mut canary = command_as(u, Path::new("sleep"), &["30"]).spawn().unwrap();
        let out = run(
            husk_as(
                u,
                &[
                    "--rootfs",
                    "/",
                    "--",
                    "/bin/sh",
                    "-c",
                    "kill -9 -1; sleep 0.2; echo survived",
                ],
            ),
            10,
        );
        assert!(
            canary.try_wait().unwrap().is_none(),
            "{u:?}: the host canary was killed"
        );
        let _ = canary.kill();
        let _ = canary.wait();
        let _ = out;
    });
}

#[test]
fn limits_stop_hogs_and_sleepers() {
    as_each_user("limits", |u| {
        let hog = "try:\n    b = bytearray(512 << 20); print('hog=ok')\nexcept MemoryError: print('hog=denied')";
        expect(
            u,
            &py(u, &["--rlimit", "as=256M", "--rootfs", "/"], hog),
            &["hog=denied"],
        );
        // Limits work in plain init mode too.
        let out = run(
            husk_as(
                u,
                &[
                    "--rlimit",
                    "nofile=32:64",
                    "--",
                    "/bin/sh",
                    "-c",
                    "ulimit -n; ulimit -Hn",
                ],
            ),
            10,
        );
        assert_eq!(text(&out.stdout), "32\n64\n");
        let out = run(
            husk_as(u, &["--time-limit", "0.3", "--", "/bin/sleep", "30"]),
            10,
        );
        assert_eq!(code(out.status), 137);
        assert_eq!(
            text(&out.stderr),
            "husk: --time-limit: time limit reached, killing COMMAND and its descendants\n"
        );
        let out = run(
            husk_as(
                u,
                &[
                    "--time-limit",
                    "0.3",
                    "--rootfs",
                    "/",
                    "--",
                    "/bin/sleep",
                    "30",
                ],
            ),
            10,
        );
        assert_eq!(code(out.status), 137);
        let out = run(husk_as(u, &["--rlimit", "bogus=1", "true"]), 10);
        assert_eq!(code(out.status), 125);
    });
    if is_root() {
        // nproc counts per host uid, so only rootless has a small, meaningful count.
        println!("SKIP fork bomb as root: RLIMIT_NPROC counts every process of host uid 0");
    }
    let bomb = "import os, time\nn = 0\nfor i in range(200):\n    try:\n        pid = os.fork()\n    except OSError:\n        break\n    if pid == 0:\n        time.sleep(2); os._exit(0)\n    n += 1\nprint(f'forked={n}')";
    let out = py(
        User::Unprivileged,
        &["--rlimit", "nproc=40", "--rootfs", "/"],
        bomb,
    );
    let started: usize = out
        .trim()
        .trim_start_matches("forked=")
        .parse()
        .unwrap_or(999);
    assert!(started < 40, "fork bomb not contained: {started} forks");
}

#[test]
fn landlock_denies_paths_and_ports() {
    as_each_user("landlock", |u| {
        let base = [
            "--landlock-exec",
            "/usr",
            "--landlock-ro",
            "/etc",
            "--landlock-rw",
            "/tmp",
            "--landlock-rw",
            "/dev/null",
        ];
        let mut args = base.to_vec();
        args.extend(["--", "/bin/sh", "-c", "cat /etc/hostname >/dev/null && echo etc=ok; cat /proc/self/status >/dev/null 2>&1 || echo proc=denied; touch /etc/x 2>/dev/null || echo etc-write=denied"]);
        let out = run(husk_as(u, &args), 10);
        assert_eq!(
            text(&out.stdout),
            "etc=ok\nproc=denied\netc-write=denied\n",
            "{u:?}: {}",
            text(&out.stderr)
        );
        // The same inside a sandbox, where the paths are those of the new root.
        let mut args = vec!["--rootfs", "/"];
        args.extend(base);
        args.extend(["--", "/usr/bin/cat", "/proc/self/status"]);
        assert_eq!(code(run(husk_as(u, &args), 10).status), 1, "{u:?}");
        let net = "import socket, errno\nfor name, act in (('bind', lambda s: s.bind(('127.0.0.1', 47321))), ('connect', lambda s: s.connect(('127.0.0.1', 9)))):\n    s = socket.socket()\n    try:\n        act(s); print(name + '=ok')\n    except OSError as e: print(name + '=' + errno.errorcode[e.errno])";
        let out = run(
            husk_as(
                u,
                &[
                    "--landlock-connect",
                    "1",
                    "--landlock-bind",
                    "1",
                    "--",
                    "/usr/bin/python3",
                    "-c",
                    net,
                ],
            ),
            10,
        );
        let s = text(&out.stdout);
        if s.contains("not enforced") || text(&out.stderr).contains("not enforced") {
            println!("SKIP landlock ports: this kernel's landlock has no TCP rules");
        } else {
            assert_eq!(
                s,
                "bind=EACCES\nconnect=EACCES\n",
                "{u:?}: {}",
                text(&out.stderr)
            );
        }
        let out = run(
            husk_as(
                u,
                &[
                    "--landlock-connect",
                    "9",
                    "--",
                    "/usr/bin/python3",
                    "-c",
                    net,
                ],
            ),
            10,
        );
        assert!(
            text(&out.stdout).contains("connect=ECONNREFUSED"),
            "{u:?}: {}",
            text(&out.stdout)
        );
    });
}

/// The cgroup v2 mount point, from mountinfo (the unified tree of a hybrid setup too).
fn cgroup2_root() -> Option<String> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    info.lines()
        .find(|l| l.contains(" - cgroup2 "))
        .map(|l| l.split(' ').nth(4).unwrap().to_owned())
}

#[test]
fn cgroup_placement_limits_and_cleanup() {
    let Some(root) = cgroup2_root() else {
        println!("SKIP --cgroup: no cgroup v2 hierarchy mounted");
        return;
    };
    if !is_root() {
        println!("SKIP --cgroup: the cgroup v2 tree is not delegated to this user");
        return;
    }
    println!("SKIP --cgroup as an unprivileged user: {root} is root's and not delegated to nobody");
    let dir = format!("{root}/husk-test-{}", std::process::id());
    for mode in [&[][..], &["--rootfs", "/"][..]] {
        let mut args = vec!["--cgroup", dir.as_str()];
        args.extend_from_slice(mode);
        args.extend([
            "--",
            "/bin/sh",
            "-c",
            "cat /proc/self/cgroup; setsid sleep 60 & echo $!",
        ]);
        let out = run(husk_as(User::Root, &args), 20);
        let s = text(&out.stdout);
        assert!(out.status.success(), "{mode:?}: {s}{}", text(&out.stderr));
        let expected = if mode.is_empty() {
            format!(
                "0::/{}",
                dir.trim_start_matches(&root).trim_start_matches('/')
            )
        } else {
            "0::/".to_owned()
        };
        assert!(
            s.lines().any(|l| l == expected),
            "{mode:?}: not placed: {s}"
        );
        assert!(!Path::new(&dir).exists(), "{mode:?}: {dir} left behind");
        // The escaped sleeper was killed with the cgroup (cgroup.kill).
        if mode.is_empty() {
            let pid: u32 = s.lines().last().unwrap().parse().unwrap();
            assert!(eventually(5, || !alive(pid)), "leftover {pid} survived");
        }
    }
    let controllers =
        std::fs::read_to_string(format!("{root}/cgroup.subtree_control")).unwrap_or_default();
    for (flag, value, controller) in [
        ("--pids-max", "20", "pids"),
        ("--memory-max", "64M", "memory"),
        ("--cpu-max", "50000/100000", "cpu"),
    ] {
        let out = run(
            husk_as(
                User::Root,
                &["--cgroup", &dir, flag, value, "--", "/bin/true"],
            ),
            10,
        );
        if controllers.split_whitespace().any(|c| c == controller) {
            assert!(out.status.success(), "{flag}: {}", text(&out.stderr));
        } else {
            println!("SKIP {flag} limit: the {controller} controller is not enabled in {root}/cgroup.subtree_control");
            assert_eq!(code(out.status), 125, "{flag}");
            assert!(
                text(&out.stderr).starts_with(&format!("husk: {flag}: ")),
                "{}",
                text(&out.stderr)
            );
        }
        assert!(!Path::new(&dir).exists(), "{flag}: {dir} left behind");
    }
    let out = run(husk_as(User::Root, &["--pids-max", "5", "true"]), 10);
    assert_eq!(
        text(&out.stderr),
        "husk: --memory-max/--pids-max/--cpu-max: need --cgroup DIR\n"
    );
}

/// A compiled filter: getpid fails with EACCES, everything else is allowed.
fn getpid_filter() -> std::path::PathBuf {
    let path = scratch().join("getpid.bpf");
    let ins: [(u16, u8, u8, u32); 4] = [
        (0x20, 0, 0, 0),                       // ld [nr]
        (0x15, 0, 1, libc::SYS_getpid as u32), // jeq getpid
        (0x06, 0, 0, 0x0005_0000 | 13),        // ret ERRNO(EACCES)
        (0x06, 0, 0, 0x7fff_0000),             // ret ALLOW
    ];
    let mut bytes = Vec::new();
    for (code, jt, jf, k) in ins {
        bytes.extend(code.to_ne_bytes());
        bytes.extend([jt, jf]);
        bytes.extend(k.to_ne_bytes());
    }
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn user_seccomp_filters_replace_or_stack() {
    let filter = getpid_filter();
    as_each_user("--seccomp", |u| {
        let probe = format!("{PRELUDE}\nsys('getpid', 39)\nsys('keyctl', 250, 0, -3)");
        for (flag, keyctl_denied) in [("--seccomp", false), ("--add-seccomp-fd", true)] {
            let script = format!(
                "exec 7<{}; {} --rootfs / {flag} 7 -- /usr/bin/python3 -c \"$1\"",
                filter.display(),
                husk().display()
            );
            let out = run(
                command_as(u, Path::new("sh"), &["-c", &script, "sh", &probe]),
                10,
            );
            let s = text(&out.stdout);
            assert!(
                s.contains("getpid=EACCES"),
                "{u:?} {flag}: {s}{}",
                text(&out.stderr)
            );
            assert_eq!(
                s.contains("keyctl=EPERM"),
                keyctl_denied,
                "{u:?} {flag}: {s}"
            );
        }
    });
}

#[test]
fn setuid_binaries_gain_nothing() {
    if !is_root() {
        println!("SKIP setuid: making a setuid-root probe needs root");
        return;
    }
    let dir = scratch().join("suid");
    std::fs::create_dir_all(dir.join("bin")).unwrap();
    std::fs::write(dir.join("probe.c"), "#include <stdio.h>\n#include <unistd.h>\nint main(void) { printf(\"euid=%d\\n\", (int)geteuid()); return 0; }\n").unwrap();
    let probe = dir.join("bin/probe");
    let built = std::process::Command::new("cc")
        .args(["-static", "-O", "-o"])
        .arg(&probe)
        .arg(dir.join("probe.c"))
        .status();
    if !built.is_ok_and(|s| s.success()) {
        println!("SKIP setuid: no C compiler to build the probe");
        return;
    }
    for d in ["proc", "dev", "tmp"] {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    std::os::unix::fs::chown(&probe, Some(0), Some(0)).unwrap();
    std::fs::set_permissions(&probe, std::os::unix::fs::PermissionsExt::from_mode(0o4755)).unwrap();
    let control = run(command_as(User::Unprivileged, &probe, &[]), 10);
    if text(&control.stdout) != "euid=0\n" {
        println!("SKIP setuid: the probe does not gain root even outside a sandbox here");
        return;
    }
    let root = dir.to_str().unwrap();
    let out = run(
        husk_as(
            User::Root,
            &["--rootfs", root, "--uid", "1000", "--", "/bin/probe"],
        ),
        10,
    );
    assert_eq!(text(&out.stdout), "euid=1000\n", "{}", text(&out.stderr));
    // Even a --dev-bind-style bind without nosuid stays harmless: no_new_privs holds.
    let out = run(
        husk_as(
            User::Root,
            &[
                "--rootfs",
                root,
                "--uid",
                "1000",
                "--cap-add",
                "ALL",
                "--",
                "/bin/probe",
            ],
        ),
        10,
    );
    assert_eq!(text(&out.stdout), "euid=1000\n", "{}", text(&out.stderr));
}
