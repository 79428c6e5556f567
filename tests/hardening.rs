//! The escape battery: from inside a default sandbox every attempt fails with the expected
//! errno, as root and rootless. Attempts are steps of the probe (tests/probe/probe.rs) run
//! on the host's own / (read-only) as the root; each prints "NAME=errno" or "NAME=ok".

mod common;
use common::*;
use std::path::Path;

for_each_user! {
    fn status_shows_no_caps_no_new_privs_and_a_filter(u: User) {
        if !can(Needs::Namespaces, "status") {
            return;
        }
        let s = probe_in(u, &["--rootfs", "/"], &["status"]);
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
        let chroot = ["sys chroot 161 str:/tmp"];
        expect(
            u,
            &probe_in(
                u,
                &[
                    "--rootfs",
                    "/",
                    "--uid",
                    "1000",
                    "--cap-add",
                    "cap_sys_chroot",
                ],
                &chroot,
            ),
            &["chroot=ok"],
        );
        expect(
            u,
            &probe_in(u, &["--rootfs", "/", "--uid", "1000"], &chroot),
            &["chroot=EPERM"],
        );
        // socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)
        let raw = ["sys raw 41 2 3 1"];
        expect(
            u,
            &probe_in(u, &["--rootfs", "/", "--cap-add", "NET_RAW"], &raw),
            &["raw=ok"],
        );
        expect(
            u,
            &probe_in(
                u,
                &["--rootfs", "/", "--cap-add", "ALL", "--cap-drop", "NET_RAW"],
                &raw,
            ),
            &["raw=EPERM"],
        );
    }
}

for_each_user! {
    fn seccomp_denies_the_dangerous_calls(u: User) {
        let steps = [
            "sys keyctl 250 0 -3",
            "sys add_key 248 0 0 0 0 0",
            "sys open_by_handle_at 304 0 0 0",
            "sys bpf 321 0 0 0",
            "sys perf_event_open 298 0 0 -1 -1 0",
            "sys userfaultfd 323 0",
            "sys kexec_load 246 0 0 0 0",
            "sys init_module 175 0 0 0",
            "sys x32_getpid 0x40000027",
            "sys getpid 39",
        ];
        if !can(Needs::Namespaces, "seccomp") || !can(Needs::Seccomp, "seccomp") {
            return;
        }
        let out = probe_in(u, &["--rootfs", "/"], &steps);
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
        let out = probe_in(
            u,
            &["--rootfs", "/", "--no-default-seccomp"],
            &["sys keyctl 250 0 -3"],
        );
        assert!(!out.contains("keyctl=EPERM"), "{u:?}: {out}");
    }
}

for_each_user! {
    fn tiocsti_and_tioclinux_are_denied_under_a_terminal(u: User) {
        if !can(Needs::Namespaces, "TIOCSTI") || !can(Needs::Seccomp, "TIOCSTI") {
            return;
        }
        // ioctl(0, REQUEST, &byte) for TIOCSTI, TIOCSTI with high bits set, TIOCLINUX.
        let inner = format!(
            "{} --rootfs / -- {} 'sys sti 16 0 0x5412 buf:1' 'sys sti64 16 0 0x100005412 buf:1' 'sys linux 16 0 0x541C buf:1'",
            husk_sh(),
            probe_path()
        );
        let (mut child, lines) = under_pty(u, &inner);
        let got: Vec<String> = (0..3).map(|_| lines.next(10).trim().to_owned()).collect();
        assert_eq!(got, ["sti=EPERM", "sti64=EPERM", "linux=EPERM"], "{u:?}");
        drop(child.stdin.take());
        wait_for(&mut child, 10);
    }
}

for_each_user! {
    fn the_init_and_the_host_are_out_of_reach(u: User) {
        if !can(Needs::Namespaces, "init and host") {
            return;
        }
        let steps = [
            "sys ptrace_attach_pid1 101 16 1 0 0",
            // openat(AT_FDCWD, "/proc/1/mem", O_WRONLY | O_CREAT | O_TRUNC, 0666)
            "sys write_pid1_mem 257 -100 str:/proc/1/mem 0x241 0o666",
            "sys read_pid1_exe 89 str:/proc/1/exe buf:4096 4096",
            // mknodat(AT_FDCWD, "/tmp/null", S_IFCHR | 0666, makedev(1, 3))
            "sys mknod 259 -100 str:/tmp/null 0o20666 0x103",
            // mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND, NULL)
            "sys remount_root_rw 165 0 str:/ 0 0x1020 0",
            // umount2("/proc", MNT_DETACH)
            "sys umount_locked_proc 166 str:/proc 2",
            "sys chroot 161 str:/tmp",
            "pids",
        ];
        let out = probe_in(u, &["--rootfs", "/"], &steps);
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
        // Nested namespaces and chroot need the capabilities Docker ties them to.
        let mut hand_built = HAND_BUILT_ROOT.to_vec();
        hand_built.extend(["--cap-add", "SYS_ADMIN", "--cap-add", "SYS_CHROOT"]);
        expect(
            u,
            &probe_in(u, &hand_built, &["escape"]),
            &["userns=ok", "escaped=no"],
        );
        if !can(Needs::Seccomp, "init and host (seccomp)") {
            return;
        }
        let out = probe_in(u, &HAND_BUILT_ROOT, &["sys unshare_user 272 0x10000000"]);
        expect(u, &out, &["unshare_user=EPERM"]);
        let out = probe_in(
            u,
            &["--rootfs", "/", "--disable-userns"],
            &["sys unshare_user 272 0x10000000", "sys clone3 435 0 0"],
        );
        expect(u, &out, &["unshare_user=EPERM", "clone3=ENOSYS"]);
    }
}

for_each_user! {
    fn only_standard_and_kept_descriptors_reach_the_payload(u: User) {
        if !can(Needs::Namespaces, "fd hygiene") {
            return;
        }
        // The probe tests each descriptor with fcntl, so it opens none itself.
        let script = format!(
            "exec 5</etc/hostname 6</etc/hostname; {} --rootfs / \"$@\" -- {} fds",
            husk_sh(),
            probe_path()
        );
        let out = run(command_as(u, Path::new("sh"), &["-c", &script, "sh"]), 10);
        assert_eq!(
            text(&out.stdout),
            "fds=0,1,2,\n",
            "{u:?}: {}",
            text(&out.stderr)
        );
        let out = run(
            command_as(u, Path::new("sh"), &["-c", &script, "sh", "--keep-fd", "6"]),
            10,
        );
        assert_eq!(
            text(&out.stdout),
            "fds=0,1,2,6,\n",
            "{u:?}: {}",
            text(&out.stderr)
        );
    }
}

for_each_user! {
    fn kill_all_from_inside_spares_the_host(u: User) {
        if !can(Needs::Namespaces, "kill -1") {
            return;
        }
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
    }
}

for_each_user! {
    fn limits_stop_hogs_and_sleepers(u: User) {
        let sandboxes = can(Needs::Namespaces, "limits in a sandbox");
        if sandboxes {
            // mmap(NULL, 512 MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
            let hog = ["sys hog 9 0 0x20000000 3 0x22 -1 0"];
            expect(
                u,
                &probe_in(u, &["--rlimit", "as=256M", "--rootfs", "/"], &hog),
                &["hog=ENOMEM"],
            );
        }
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
        let out = run(husk_as(u, &["--rlimit", "bogus=1", "true"]), 10);
        assert_eq!(code(out.status), 125);
        if !sandboxes {
            return;
        }
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
        if u == User::Root {
            // nproc counts per host uid, so only rootless has a small, meaningful count.
            println!("SKIP fork bomb as root with uid 0: RLIMIT_NPROC counts every process of host uid 0 (ids_inside_are_host_ids_for_root covers --uid 1000 as root)");
            return;
        }
        let out = probe_in(
            u,
            &["--rlimit", "nproc=40", "--rootfs", "/"],
            &["fork forked 200"],
        );
        let started: usize = out
            .trim()
            .trim_start_matches("forked=")
            .parse()
            .unwrap_or(999);
        assert!(started < 40, "fork bomb not contained: {started} forks");
    }
}

for_each_user! {
    fn landlock_denies_paths_and_ports(u: User) {
        if !can(Needs::Landlock, "landlock") {
            return;
        }
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
        if can(Needs::Namespaces, "landlock in a sandbox") {
            let mut args = vec!["--rootfs", "/"];
            args.extend(base);
            args.extend(["--", "/usr/bin/cat", "/proc/self/status"]);
            assert_eq!(code(run(husk_as(u, &args), 10).status), 1, "{u:?}");
        }
        // Only network rules: executing the probe is not restricted.
        let net = ["bind4 bind 47321", "connect4 connect 9"];
        let mut args = vec!["--landlock-connect", "1", "--landlock-bind", "1", "--"];
        args.push(probe_path());
        args.extend(net);
        let out = run(husk_as(u, &args), 10);
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
        let mut args = vec!["--landlock-connect", "9", "--", probe_path()];
        args.extend(net);
        let out = run(husk_as(u, &args), 10);
        assert!(
            text(&out.stdout).contains("connect=ECONNREFUSED"),
            "{u:?}: {}",
            text(&out.stdout)
        );
    }
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
    if !can(Needs::Clone3, "--cgroup") {
        return;
    }
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
    // A relative DIR is removed too, though the init leaves the directory it was relative to.
    let name = format!("husk-rel-{}", std::process::id());
    let mut rel = husk_as(User::Root, &["--cgroup", &name, "--", "true"]);
    rel.current_dir(&root);
    let out = run(rel, 20);
    assert!(out.status.success(), "relative: {}", text(&out.stderr));
    assert!(
        !Path::new(&root).join(&name).exists(),
        "relative {name} left behind"
    );
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
                text(&out.stderr).starts_with(&format!("husk: {flag} {value} (")),
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
fn getpid_filter() -> &'static Path {
    static PATH: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    PATH.get_or_init(write_getpid_filter)
}

fn write_getpid_filter() -> std::path::PathBuf {
    deny_one_syscall("getpid", libc::SYS_getpid, 13) // EACCES
}

for_each_user! {
    fn user_seccomp_filters_replace_or_stack(u: User) {
        let filter = getpid_filter();
        if !can(Needs::Namespaces, "--seccomp") || !can(Needs::Seccomp, "--seccomp") {
            return;
        }
        let steps = ["sys getpid 39", "sys keyctl 250 0 -3"];
        for (flag, keyctl_denied) in [("--seccomp", false), ("--add-seccomp-fd", true)] {
            let s = probe_with_fd7(u, filter, &format!("--rootfs / {flag} 7"), &steps);
            assert!(s.contains("getpid=EACCES"), "{u:?} {flag}: {s}");
            assert_eq!(
                s.contains("keyctl=EPERM"),
                keyctl_denied,
                "{u:?} {flag}: {s}"
            );
        }
    }
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
    if !can(Needs::Namespaces, "setuid") {
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

/// Looks at /proc and at the directory swapped with it, each resolved once (cd), so the
/// probe does not race itself: a proc there must have /proc/sys read-only and timer_list
/// masked. Opening with `<>` checks writability without writing.
const SWAP_PROBE: &str = r#"r=none
for d in /proc /other; do
  cd $d 2>/dev/null || continue
  [ -e sys/kernel ] || continue
  if ( : 3<>sys/kernel/core_pattern ) 2>/dev/null || ( : 3<>sys/net/ipv4/ping_group_range ) 2>/dev/null || ! [ -c timer_list ]; then r="EXPOSED $d"; break; fi
  r=hardened
done
echo $r
"#;

for_each_user! {
    /// The rootfs owner exchanges DIR/proc with DIR/other in a loop while husk builds the
    /// root. Before, 20-27 of 100 sandboxes got a /proc whose host-wide knobs were writable;
    /// now each either refuses to start (125, /proc not in place after the pivot) or gets a
    /// hardened /proc.
    fn proc_hardening_survives_a_swapping_rootfs_owner(u: User) {
        if !can(Needs::Namespaces, "proc swap race") {
            return;
        }
        let root = busybox_root(&format!("swap-{u:?}"));
        std::fs::create_dir_all(root.join("other")).unwrap();
        std::fs::write(root.join("probe.sh"), SWAP_PROBE).unwrap();
        chmod_tree(&root, 0o777);
        let root_arg = root.to_str().unwrap();
        let swap = format!("swap {root_arg} proc other 60");
        let mut swapper = command_as(User::Unprivileged, probe(), &[&swap])
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(200));
        let (mut hardened, mut refused, mut none, mut exposed) = (0, 0, 0, Vec::new());
        for _ in 0..200 {
            let out = run(
                husk_as(u, &["--rootfs", root_arg, "--", "/bin/sh", "/probe.sh"]),
                10,
            );
            let s = text(&out.stdout);
            match (code(out.status), s.trim()) {
                (125, _) => refused += 1,
                (0, "hardened") => hardened += 1,
                (0, "none") => none += 1,
                _ => exposed.push(format!("{s}{}", text(&out.stderr))),
            }
        }
        let _ = swapper.kill();
        let _ = swapper.wait();
        println!(
            "{u:?}: proc swap race: {hardened} hardened, {refused} refused, {none} saw no proc"
        );
        assert!(exposed.is_empty(), "{u:?}: {exposed:?}");
        assert!(refused + none > 0, "{u:?}: the swapper never raced husk");
    }
}

for_each_user! {
    /// /dev's nodes are the host's inodes: COMMAND may use them but must not change them
    /// (before, `chmod 600 /dev/full` inside changed the host's node as root, and `touch
    /// /dev/null` its times, rootless too).
    fn host_device_nodes_cannot_be_changed(u: User) {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        if !can(Needs::Namespaces, "device nodes") {
            return;
        }
        let before: Vec<_> = ["/dev/null", "/dev/full"]
            .iter()
            .map(|p| std::fs::metadata(p).unwrap())
            .map(|m| (m.mode(), m.mtime_nsec(), m.ctime_nsec(), m.uid()))
            .collect();
        let out = sandbox(
            u,
            &["--rootfs", "/"],
            "chmod 600 /dev/full 2>/dev/null; touch /dev/null /dev/full 2>/dev/null; chown 0 /dev/full 2>/dev/null; echo x >/dev/null && head -c 4 /dev/zero | wc -c",
        );
        let after: Vec<_> = ["/dev/null", "/dev/full"]
            .iter()
            .map(|p| std::fs::metadata(p).unwrap())
            .map(|m| (m.mode(), m.mtime_nsec(), m.ctime_nsec(), m.uid()))
            .collect();
        if before != after {
            // Put the host's /dev/full back before failing (a broken husk did change it).
            let mode = std::fs::Permissions::from_mode(0o666);
            let _ = std::fs::set_permissions("/dev/full", mode);
        }
        assert_eq!(before, after, "{u:?}: the host's device nodes changed");
        assert_eq!(
            text(&out.stdout).trim(),
            "4",
            "{u:?}: {}",
            text(&out.stderr)
        );
        let out = run(
            husk_as(
                u,
                &[
                    "--unshare-all",
                    "--dev",
                    "/dev",
                    "--chmod",
                    "600",
                    "/dev/full",
                    "true",
                ],
            ),
            10,
        );
        assert_eq!(
            text(&out.stderr),
            "husk: --chmod /dev/full: Read-only file system\n",
            "{u:?}"
        );
    }
}

for_each_user! {
    /// --chdir through a descriptor (the CVE-2024-21626 class): a directory fd the caller
    /// leaked, or husk's own cgroup directory, must not become COMMAND's working directory.
    /// Before, `--chdir /proc/self/fd/N` put COMMAND's cwd on the host.
    fn chdir_cannot_reach_a_descriptor(u: User) {
        if !can(Needs::Namespaces, "--chdir /proc/self/fd") {
            return;
        }
        for extra in [&[][..], &["--keep-fd", "5"][..]] {
            let script = format!(
                "exec 5</tmp; {} --rootfs / {} --chdir /proc/self/fd/5 -- /bin/pwd",
                husk_sh(),
                extra.join(" ")
            );
            let out = run(command_as(u, Path::new("sh"), &["-c", &script]), 10);
            assert_eq!(
                code(out.status),
                125,
                "{u:?} {extra:?}: {}",
                text(&out.stdout)
            );
            assert!(
                text(&out.stderr).starts_with("husk: --chdir /proc/self/fd/5: "),
                "{u:?}: {}",
                text(&out.stderr)
            );
        }
        // An ordinary --chdir still works, also through a symlink inside the root.
        let out = run(
            husk_as(u, &["--rootfs", "/", "--chdir", "/usr/../etc", "/bin/pwd"]),
            10,
        );
        assert_eq!(text(&out.stdout), "/etc\n", "{u:?}: {}", text(&out.stderr));
    }
}

/// Nor may husk's own cgroup directory.
#[test]
fn chdir_cannot_reach_the_cgroup_descriptor() {
    let Some(root) = cgroup2_root() else {
        println!("SKIP --chdir into the --cgroup descriptor: no cgroup v2 hierarchy");
        return;
    };
    if !is_root() {
        println!("SKIP --chdir into the --cgroup descriptor: needs root");
        return;
    }
    if !can(Needs::Namespaces, "--chdir into the --cgroup descriptor")
        || !can(Needs::Clone3, "--chdir into the --cgroup descriptor")
    {
        return;
    }
    let dir = format!("{root}/husk-chdir-{}", std::process::id());
    let out = run(
        husk_as(
            User::Root,
            &[
                "--cgroup",
                &dir,
                "--rootfs",
                "/",
                "--chdir",
                "/proc/self/fd/3",
                "/bin/pwd",
            ],
        ),
        10,
    );
    assert_eq!(code(out.status), 125, "{}", text(&out.stdout));
    assert!(!Path::new(&dir).exists(), "{dir} left behind");
}

for_each_user! {
    /// A `--keep-fd` that is not open is refused before husk opens anything of its own (before,
    /// COMMAND got husk's internal pipe as that number).
    fn keep_fd_must_be_open(u: User) {
        let out = run(
            husk_as(
                u,
                &[
                    "--rootfs",
                    "/",
                    "--keep-fd",
                    "7",
                    "--",
                    "/bin/ls",
                    "-l",
                    "/proc/self/fd/7",
                ],
            ),
            10,
        );
        assert_eq!(code(out.status), 125, "{u:?}: {}", text(&out.stdout));
        assert_eq!(
            text(&out.stderr),
            "husk: --keep-fd 7: Bad file descriptor\n"
        );
    }
}

for_each_user! {
    /// The sandbox dies with its monitor (`kill -9` of the host-side husk left the inner init
    /// and COMMAND running), and with --die-with-parent with the monitor's parent, even when
    /// that parent is killed during start-up (before, 10 of 100 survived).
    fn the_sandbox_dies_with_its_monitor_and_parent(u: User) {
        if !can(Needs::Namespaces, "sandbox outliving its monitor") {
            return;
        }
        // --uid changes ids, which clears the parent-death signal: it must be set again.
        for (i, extra) in [&[][..], &["--uid", "1000"][..]].into_iter().enumerate() {
            let marker = format!("31.{}{}{i}", std::process::id(), u as u8);
            let mut args = vec!["--rootfs", "/"];
            args.extend(extra);
            args.extend(["--", "/bin/sleep", &marker]);
            let mut monitor = husk_as(u, &args).spawn().unwrap();
            // Started: the monitor, the inner init and COMMAND all carry the marker.
            assert!(
                eventually(5, || with_marker(&marker).len() == 3),
                "{u:?}: never started"
            );
            let inner = children_of(monitor.id());
            assert_eq!(inner.len(), 1, "{u:?}");
            kill(monitor.id(), libc::SIGKILL);
            monitor.wait().unwrap();
            assert!(
                eventually(5, || with_marker(&marker).is_empty() && !alive(inner[0])),
                "{u:?} {extra:?}: the sandbox outlived its monitor"
            );
        }

        let marker = format!("32.{}{}", std::process::id(), u as u8);
        let script = format!(
            "{} --die-with-parent --rootfs / -- /bin/sleep {marker}; :",
            husk_sh()
        );
        for i in 0..100u64 {
            let mut parent = command_as(u, Path::new("/bin/sh"), &["-c", &script])
                .spawn()
                .unwrap();
            // The parent dies at some point of the sandbox's start-up: once the monitor has
            // cloned the inner init (before that, a parent already dead when husk arms its
            // parent-death signal is indistinguishable from a parent that is PID 1).
            let comm = |p: &u32| std::fs::read_to_string(format!("/proc/{p}/comm"));
            let husk = husk_comm();
            let started = eventually(5, || {
                children_of(parent.id()).iter().any(|p| {
                    comm(p).is_ok_and(|c| c.trim_end() == husk) && !children_of(*p).is_empty()
                })
            });
            assert!(started, "{u:?}: the sandbox never started");
            std::thread::sleep(std::time::Duration::from_micros(i * 97 % 3000));
            let _ = parent.kill();
            let _ = parent.wait();
        }
        assert!(
            eventually(5, || with_marker(&marker).is_empty()),
            "{u:?}: sandboxes outlived their killed parent: {:?}",
            with_marker(&marker)
                .iter()
                .map(|p| std::fs::read_to_string(format!("/proc/{p}/stat")).unwrap_or_default())
                .collect::<Vec<_>>()
        );
    }
}

/// As root, the ids inside are the host's ids: `--uid 1000` is uid 1000 for every check on
/// the host (before, it was host uid 0 with another name: it read /etc/shadow, and nproc
/// counted root's processes).
#[test]
fn ids_inside_are_host_ids_for_root() {
    if !is_root() {
        println!("SKIP --uid as the host's uid: needs root");
        return;
    }
    if !can(Needs::Namespaces, "--uid as the host's uid") {
        return;
    }
    let probe = "id -u; stat -c %u /etc/shadow; cat /etc/shadow >/dev/null 2>&1 || echo shadow=denied; grep '^Uid' /proc/self/status | cut -f2";
    let out = sandbox(User::Root, &["--rootfs", "/", "--uid", "1000"], probe);
    assert_eq!(
        text(&out.stdout),
        "1000\n0\nshadow=denied\n1000\n",
        "{}",
        text(&out.stderr)
    );
    // The host sees uid 1000 too: nproc counts uid 1000's processes, so a fork bomb stops.
    let out = probe_in(
        User::Root,
        &["--rlimit", "nproc=40", "--rootfs", "/", "--uid", "1000"],
        &["fork forked 200"],
    );
    let started: usize = out
        .trim()
        .trim_start_matches("forked=")
        .parse()
        .unwrap_or(999);
    assert!(
        started < 40,
        "fork bomb as --uid 1000 not contained: {started} forks"
    );
}

for_each_user! {
    /// husk's own writes to a closed pipe (--info-fd, stderr) raise SIGPIPE at husk: that signal
    /// is not COMMAND's to receive (before, it was forwarded and COMMAND died of it).
    fn husks_own_sigpipe_is_not_forwarded(u: User) {
        use std::os::unix::io::AsRawFd;
        use std::os::unix::process::CommandExt;
        let cases: [(&[&str], i32); 2] = [(&["--info-fd", "3", "--rootfs", "/"], 3), (&["-v"], 2)];
        for (args, target) in cases {
            if args.contains(&"--rootfs") && !can(Needs::Namespaces, "own SIGPIPE in a sandbox") {
                continue;
            }
            let (reader, writer) = std::io::pipe().unwrap();
            drop(reader);
            let mut all = args.to_vec();
            all.extend(["--", "/bin/sh", "-c", "sleep 0.3; echo alive"]);
            let mut cmd = husk_as(u, &all);
            let w = writer.as_raw_fd();
            // SAFETY: dup2 is async-signal-safe.
            unsafe {
                cmd.pre_exec(move || {
                    libc::dup2(w, target);
                    Ok(())
                });
            }
            let out = run(cmd, 10);
            assert_eq!(
                (code(out.status), text(&out.stdout).as_str()),
                (0, "alive\n"),
                "{u:?} {args:?}"
            );
        }
    }
}

for_each_user! {
    /// The faults the command-line fuzzer found (tests/fuzz.rs runs the generator itself): each
    /// now gets one line and 125, at once.
    fn parser_faults_found_by_fuzzing(u: User) {
        let fifo = scratch().join(format!("netns-fifo-{u:?}"));
        let _ = std::fs::remove_file(&fifo);
        assert!(std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        let fifo = fifo.to_str().unwrap().to_owned();
        let cases: [(&[&str], String); 5] = [
            (
                // U+009B, a C1 control (CSI), is C2 9B in UTF-8.
                &["--unshare-uts", "--hostname", "a\u{9b}b", "true"],
                "husk: --hostname a\\xc2\\x9bb: control characters are not allowed\n".into(),
            ),
            (&["--netns", &fifo, "true"], format!("husk: --netns {fifo}: Invalid argument\n")),
            (
                &["--unshare-uts", "--hostname", "a\nb", "true"],
                "husk: --hostname a\\nb: control characters are not allowed\n".into(),
            ),
            (
                &["--ro-bind", "/no\nsuch\x1b", "/x", "true"],
                "husk: --ro-bind /no\\nsuch\\x1b /x: No such file or directory\n".into(),
            ),
            (
                &["--time-limit", "18446744073709551", "true"],
                "husk: --time-limit 18446744073709551: not a number of seconds (0.001 to 4294967295)\n".into(),
            ),
        ];
        for (args, want) in cases {
            // The binds are made inside the new namespaces.
            if args[0] == "--ro-bind" && !can(Needs::Namespaces, "parser faults (--ro-bind)") {
                continue;
            }
            let out = run(husk_as(u, args), 5);
            assert_eq!(
                (code(out.status), text(&out.stderr)),
                (125, want),
                "{u:?} {args:?}"
            );
        }
    }
}

for_each_user! {
    /// With a terminal, COMMAND in a sandbox gets the foreground through both husk processes
    /// (before, its first read from the terminal stopped it for good), and Ctrl-C reaches it.
    fn sandbox_command_gets_the_terminal(u: User) {
        use std::io::Write;
        if !can(Needs::Namespaces, "terminal foreground") {
            return;
        }
        let inner = format!(
            "{} --rootfs / -- /bin/sh -c 'read x; echo got=$x; trap \"echo int; exit 7\" INT; echo ready; sleep 10 & wait'",
            husk_sh()
        );
        let (mut child, lines) = under_pty(u, &inner);
        let mut stdin = child.stdin.take().unwrap();
        let mut child = KillOnDrop(child);
        std::thread::sleep(std::time::Duration::from_millis(300));
        stdin.write_all(b"hello\n").unwrap();
        lines.expect("got=hello");
        lines.expect("ready");
        stdin.write_all(b"\x03").unwrap();
        // The terminal echoes ^C on the same line.
        while !lines.next(10).trim_end().ends_with("int") {}
        drop(stdin);
        wait_for(&mut child.0, 10);
    }
}

for_each_user! {
    /// Host sockets under a bound root: --rootfs covers /run (and /var/run) with a tmpfs, so a
    /// server socket there (tmux's, docker.sock, D-Bus) is not reachable; with a shared
    /// network the host's abstract sockets and, always, processes outside the sandbox are out
    /// of reach of COMMAND's signals (landlock scopes, ABI 6).
    fn host_sockets_and_processes_are_out_of_reach(u: User) {
        use std::os::linux::net::SocketAddrExt;
        use std::os::unix::fs::PermissionsExt;
        if !can(Needs::Namespaces, "host sockets") {
            return;
        }
        let dir = format!("/run/husk-test-{}-{u:?}", std::process::id());
        let _cleanup = RemoveOnDrop(dir.clone().into());
        let _listener = if is_root() {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
            Some(std::os::unix::net::UnixListener::bind(format!("{dir}/sock")).unwrap())
        } else {
            println!("SKIP a socket under /run: needs root to make one");
            None
        };
        let name = format!("husk-test-{}-{u:?}", std::process::id());
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(&name).unwrap();
        let _abstract = std::os::unix::net::UnixListener::bind_addr(&addr).unwrap();
        let run_sock = format!("exists run {dir}/sock");
        let abstract_sock = format!("abstract abstract {name}");
        // kill(1, 0): the inner init is outside COMMAND's landlock domain.
        let steps = [&run_sock, &abstract_sock, "sys signal 62 1 0"];
        let out = probe_in(u, &["--rootfs", "/", "--share-net"], &steps);
        expect(u, &out, &["run=no"]);
        if landlock_abi() >= 6 {
            expect(u, &out, &["abstract=EPERM", "signal=EPERM"]);
        } else {
            println!("SKIP landlock scopes: this kernel's landlock ABI is below 6");
        }
    }
}

for_each_user! {
    /// `..` in a destination is resolved inside the root by openat2, which fails with EAGAIN
    /// when any rename on the machine races it: husk retries (before, the sandbox failed at
    /// random with "Resource temporarily unavailable").
    fn dotdot_destinations_survive_renames_elsewhere(u: User) {
        if !can(Needs::Namespaces, "`..` under renames") {
            return;
        }
        let churn = scratch().join(format!("churn-{u:?}"));
        std::fs::create_dir_all(&churn).unwrap();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let renamer = {
            let stop = stop.clone();
            let (a, b) = (churn.join("a"), churn.join("b"));
            std::fs::write(&a, "").unwrap();
            std::thread::spawn(move || {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let _ = std::fs::rename(&a, &b);
                    let _ = std::fs::rename(&b, &a);
                }
            })
        };
        let args = [
            "--unshare-all",
            "--ro-bind",
            "/",
            "/",
            "--tmpfs",
            "/tmp",
            "--dir",
            "/tmp/a/../b/../c/../d",
            "--tmpfs",
            "/tmp/x/y/../../z/..",
            "true",
        ];
        for _ in 0..150 {
            let out = run(husk_as(u, &args), 10);
            assert_eq!(code(out.status), 0, "{u:?}: {}", text(&out.stderr));
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        renamer.join().unwrap();
    }
}

for_each_user! {
    /// An environment over the limits of --setenv's fixed buffers gets a message that says them.
    fn setenv_limits_are_named(u: User) {
        if !can(Needs::Namespaces, "--setenv limits") {
            return;
        }
        let mut cmd = husk_as(u, &["--rootfs", "/", "--setenv", "A", "B", "true"]);
        for i in 0..2100 {
            cmd.env(format!("HUSK_FILL_{i}"), "x");
        }
        let out = run(cmd, 10);
        assert_eq!(
            (code(out.status), text(&out.stderr)),
            (
                125,
                "husk: --setenv: environment too large (max 2048 variables, 32 KiB of --setenv text)\n".into()
            ),
            "{u:?}"
        );
    }
}

/// newuidmap's own complaint is folded into husk's one line (before, it was a second line
/// of its own on stderr).
#[test]
fn newuidmap_errors_are_one_line() {
    if !Path::new("/usr/bin/newuidmap").exists() {
        println!("SKIP newuidmap message: no newuidmap (Debian's uidmap)");
        return;
    }
    if !can(Needs::Namespaces, "newuidmap message") {
        return;
    }
    let out = run(
        husk_as(
            User::Unprivileged,
            &[
                "--uid-map",
                "0:65534:1",
                "--uid-map",
                "1:100000:65536",
                "--",
                "/bin/true",
            ],
        ),
        10,
    );
    let err = text(&out.stderr);
    assert_eq!(code(out.status), 125);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("husk: --uid-map (newuidmap): newuidmap: "),
        "{err}"
    );
}

for_each_user! {
    /// With `--cap-add SYS_ADMIN` COMMAND must still not undo husk's mounts (before, as root it
    /// unmounted the /proc/sys mask and remounted / read-write: host root with a writable
    /// core_pattern and /etc).
    fn sys_admin_cannot_undo_husks_mounts(u: User) {
        if !can(Needs::Namespaces, "SYS_ADMIN and husk's mounts") {
            return;
        }
        let steps = [
            // umount2("/proc/sys", MNT_DETACH)
            "sys umount_proc_sys 166 str:/proc/sys 2",
            // mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND, NULL)
            "sys remount_root_rw 165 0 str:/ 0 0x1020 0",
            // openat(AT_FDCWD, ..., O_RDWR)
            "sys write_core_pattern 257 -100 str:/proc/sys/kernel/core_pattern 2",
        ];
        let out = probe_in(u, &["--rootfs", "/", "--cap-add", "SYS_ADMIN"], &steps);
        expect(u, &out, &["umount_proc_sys=EPERM", "remount_root_rw=EPERM"]);
        // Read-only as root; rootless the file is not the caller's to begin with.
        let want = if u == User::Root { "EROFS" } else { "EACCES" };
        expect(u, &out, &[&format!("write_core_pattern={want}")]);
    }
}
