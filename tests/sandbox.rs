//! The sandbox, run as the real binary as root and as an unprivileged user. The host's own
//! / (read-only) and a tiny busybox rootfs built here serve as roots; nothing is downloaded.

mod common;
use common::*;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Stdio;

fn sandbox(u: User, args: &[&str], script: &str) -> std::process::Output {
    let mut all = args.to_vec();
    all.extend(["--", "/bin/sh", "-c", script]);
    run(husk_as(u, &all), 20)
}

/// A busybox root in the scratch directory: /bin/sh and friends, empty /proc /dev /tmp.
fn busybox_root(name: &str) -> PathBuf {
    let root = scratch().join(name);
    let _ = std::fs::remove_dir_all(&root);
    for d in ["bin", "proc", "dev", "tmp", "etc"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    std::fs::copy("/bin/busybox", root.join("bin/busybox")).unwrap();
    for tool in [
        "sh", "cat", "ls", "touch", "mkdir", "id", "echo", "stat", "readlink", "sleep",
    ] {
        symlink("busybox", root.join("bin").join(tool)).unwrap();
    }
    chmod_tree(&root, 0o777);
    root
}

fn chmod_tree(path: &Path, mode: u32) {
    if path.is_symlink() {
        return;
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    if path.is_dir() {
        for e in std::fs::read_dir(path).unwrap().flatten() {
            chmod_tree(&e.path(), mode);
        }
    }
}

fn host_ids(u: User) -> (u32, u32) {
    match (u, is_root()) {
        (User::Root, _) => (0, 0),
        (User::Unprivileged, true) => (NOBODY, NOBODY),
        // SAFETY: getuid/getgid have no preconditions.
        (User::Unprivileged, false) => unsafe { (libc::getuid(), libc::getgid()) },
    }
}

#[test]
fn rootfs_isolates_ids_pids_hostname_network_and_root() {
    as_each_user("rootfs basics", |u| {
        let script = r#"
            set -- $(cat /proc/self/uid_map); echo "uid_map=$1:$2:$3"
            set -- $(cat /proc/self/gid_map); echo "gid_map=$1:$2:$3"
            echo "id=$(id -u):$(id -g)"
            echo "pid=$$ init=$(cat /proc/1/comm)"
            echo "pids=$(ls -d /proc/[0-9]* | sed 's|/proc/||' | sort -n | tail -n 1)"
            echo "hostname=$(cat /proc/sys/kernel/hostname)"
            echo "ifaces=$(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | tr '\n' ,)"
            /usr/bin/python3 -c 'import socket
for fam, addr in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
    s = socket.socket(fam); s.bind((addr, 0)); s.listen()
    socket.create_connection(s.getsockname()[:2]).close()
print("loopback=ok")'
            touch /root-write 2>/dev/null && echo root=rw || echo root=ro
            touch /tmp/x && echo tmp=rw
            test -c /dev/null && test -c /dev/urandom && test -e /dev/pts/ptmx && echo dev=ok
            echo "dumpable=$(grep -c . /proc/1/status 2>/dev/null)"
        "#;
        let out = sandbox(u, &["--rootfs", "/"], script);
        let s = text(&out.stdout);
        assert_eq!(code(out.status), 0, "{u:?}: {s}{}", text(&out.stderr));
        let (uid, gid) = host_ids(u);
        for want in [
            format!("uid_map=0:{uid}:1"),
            format!("gid_map=0:{gid}:1"),
            "id=0:0".into(),
            "pid=2 init=husk".into(),
            "hostname=husk".into(),
            "ifaces=lo,".into(),
            "loopback=ok".into(),
            "root=ro".into(),
            "tmp=rw".into(),
            "dev=ok".into(),
        ] {
            assert!(
                s.lines().any(|l| l.trim() == want),
                "{u:?}: missing {want:?} in:\n{s}"
            );
        }
        let pids: usize = s
            .lines()
            .find_map(|l| l.strip_prefix("pids="))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert!(pids <= 50, "{u:?}: host pids visible (highest pid {pids})");
    });
}

#[test]
fn exit_status_and_signals_cross_both_processes() {
    as_each_user("sandbox status", |u| {
        assert_eq!(code(sandbox(u, &["--rootfs", "/"], "exit 5").status), 5);
        assert_eq!(
            code(sandbox(u, &["--rootfs", "/"], "kill -9 $$").status),
            137
        );
        let mut child = husk_as(u, &["--rootfs", "/", "--", "/bin/sh", "-c", "trap 'echo got TERM; exit 4' TERM; echo ready; while :; do sleep 1 & wait $!; done"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let lines = Lines::new(child.stdout.take().unwrap());
        lines.expect("ready");
        kill(child.id(), libc::SIGTERM);
        assert_eq!(lines.next(10), "got TERM");
        assert_eq!(code(wait_for(&mut child, 10)), 4, "{u:?}");
        let out = run(husk_as(u, &["--rootfs", "/", "--", "/no/such/thing"]), 10);
        assert_eq!(code(out.status), 127);
        assert_eq!(
            text(&out.stderr),
            "husk: /no/such/thing: No such file or directory\n"
        );
    });
}

#[test]
fn mount_options_apply_in_order() {
    let src = scratch().join("bind-src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("marker"), "hello").unwrap();
    chmod_tree(&src, 0o777);
    let src = src.to_str().unwrap().to_owned();
    as_each_user("mount ops", |u| {
        let args = [
            "--unshare-all",
            "--ro-bind",
            "/usr",
            "/usr",
            "--symlink",
            "usr/bin",
            "/bin",
            "--symlink",
            "usr/lib",
            "/lib",
            "--symlink",
            "usr/lib64",
            "/lib64",
            "--proc",
            "/proc",
            "--dev",
            "/dev",
            "--tmpfs",
            "/work",
            "--ro-bind",
            &src,
            "/work/ro",
            "--bind",
            &src,
            "/work/rw",
            "--perms",
            "0700",
            "--dir",
            "/work/private",
            "--perms",
            "01777",
            "--tmpfs",
            "/work/sticky",
            "--bind-try",
            "/does/not/exist",
            "/nothing",
            "--dir",
            "/work/later",
            "--chmod",
            "0750",
            "/work/later",
            "--remount-ro",
            "/work",
            "--hostname",
            "box",
            "--chdir",
            "/work",
            "--setenv",
            "HUSK_A",
            "1",
            "--unsetenv",
            "HOME",
        ];
        let script = r#"
            echo "ro=$(cat ro/marker)"; echo x > ro/new 2>/dev/null || echo ro=denied
            echo "pwd=$(pwd) host=$(cat /proc/sys/kernel/hostname) a=$HUSK_A home=${HOME-unset}"
            echo "perms=$(stat -c %a private sticky later)" | tr '\n' ' '; echo
            mkdir /work/new 2>/dev/null || echo work=ro
            test -e /nothing || echo try=skipped
        "#;
        let out = sandbox(u, &args, script);
        let s = text(&out.stdout);
        assert_eq!(code(out.status), 0, "{u:?}: {s}{}", text(&out.stderr));
        for want in [
            "ro=hello",
            "ro=denied",
            "pwd=/work host=box a=1 home=unset",
            "perms=700 1777 750",
            "work=ro",
            "try=skipped",
        ] {
            assert!(
                s.lines().any(|l| l.trim() == want),
                "{u:?}: missing {want:?} in:\n{s}"
            );
        }
        let out = sandbox(
            u,
            &[
                "--unshare-all",
                "--ro-bind",
                "/usr",
                "/usr",
                "--ro-bind",
                "/nope",
                "/x",
            ],
            "true",
        );
        assert_eq!(code(out.status), 125);
        assert_eq!(
            text(&out.stderr),
            "husk: --ro-bind /nope /x: No such file or directory\n"
        );
    });
}

#[test]
fn rw_and_busybox_rootfs() {
    as_each_user("busybox rootfs", |u| {
        let root = busybox_root(&format!("bb-{u:?}"));
        let r = root.to_str().unwrap();
        let out = sandbox(
            u,
            &["--rootfs", r],
            "touch /made-inside 2>/dev/null || echo ro; id -u; cat /proc/1/comm",
        );
        assert_eq!(
            text(&out.stdout),
            "ro\n0\nhusk\n",
            "{u:?}: {}",
            text(&out.stderr)
        );
        assert!(!root.join("made-inside").exists());
        let out = sandbox(u, &["--rootfs", r, "--rw"], "touch /made-inside");
        assert_eq!(code(out.status), 0, "{}", text(&out.stderr));
        assert!(root.join("made-inside").exists());
    });
}

#[test]
fn hostile_rootfs_cannot_reach_the_host() {
    as_each_user("hostile rootfs", |u| {
        let outside = scratch().join(format!("outside-{u:?}"));
        let _ = std::fs::remove_dir_all(&outside);
        std::fs::create_dir_all(&outside).unwrap();
        chmod_tree(&outside, 0o777);
        let root = busybox_root(&format!("hostile-{u:?}"));
        // Symlinks that point out of the root, by absolute path and by `..`.
        symlink(&outside, root.join("abs")).unwrap();
        symlink(
            "../../../../../../..".to_owned() + outside.to_str().unwrap(),
            root.join("rel"),
        )
        .unwrap();
        let r = root.to_str().unwrap();
        // The symlinks resolve inside the root, where their targets do not exist: refused
        // (125) or created inside, never on the host.
        for op in [
            &["--dir", "/abs/made"][..],
            &["--dir", "/rel/made"],
            &["--tmpfs", "/abs/mnt"],
            &["--symlink", "x", "/rel/link"],
            &["--bind", "/usr", "/abs/usr"],
        ] {
            let mut args = vec!["--rootfs", r, "--rw"];
            args.extend_from_slice(op);
            let out = sandbox(u, &args, "true");
            assert!(
                matches!(code(out.status), 0 | 125),
                "{u:?} {op:?}: {}",
                text(&out.stderr)
            );
            assert_eq!(
                std::fs::read_dir(&outside).unwrap().count(),
                0,
                "{u:?} {op:?}: created on the host"
            );
        }
        for (name, target) in [("proc", "/etc"), ("dev", "../tmp")] {
            let root = busybox_root(&format!("hostile-{name}-{u:?}"));
            std::fs::remove_dir(root.join(name)).unwrap();
            symlink(target, root.join(name)).unwrap();
            let out = sandbox(u, &["--rootfs", root.to_str().unwrap()], "true");
            assert_eq!(code(out.status), 125, "{u:?}");
            assert_eq!(
                text(&out.stderr),
                format!("husk: --rootfs /{name}: is or passes through a symlink (refused)\n")
            );
        }
    });
}

#[test]
fn json_status_and_time_offsets() {
    as_each_user("json status", |u| {
        let script = format!(
            "{} --json-status-fd 3 --rootfs / -- /bin/sh -c 'exit 6' 3>&1 >/dev/null",
            husk().display()
        );
        let out = run(command_as(u, Path::new("sh"), &["-c", &script]), 10);
        let s = text(&out.stdout);
        let lines: Vec<&str> = s.lines().collect();
        assert_eq!(lines.len(), 2, "{s}");
        assert!(
            lines[0].starts_with("{\"child-pid\": ") && lines[0].contains("\"pid-namespace\": "),
            "{s}"
        );
        assert_eq!(lines[1], "{\"exit-code\": 6}");
        let out = run(
            husk_as(u, &["--json-status-fd", "9", "--rootfs", "/", "true"]),
            10,
        );
        assert_eq!(code(out.status), 125);
        assert_eq!(
            text(&out.stderr),
            "husk: --json-status-fd: Bad file descriptor\n"
        );

        let out = sandbox(
            u,
            &[
                "--rootfs",
                "/",
                "--boottime-offset",
                "86400",
                "--monotonic-offset",
                "86400",
            ],
            "cut -d. -f1 /proc/uptime",
        );
        let up: u64 = text(&out.stdout).trim().parse().unwrap_or(0);
        assert!(up >= 86400, "{u:?}: uptime {up} {}", text(&out.stderr));
    });
}

#[test]
fn nested_ids_with_uid_and_gid() {
    as_each_user("--uid", |u| {
        let out = sandbox(
            u,
            &["--rootfs", "/", "--uid", "1234", "--gid", "4321"],
            "id -u; id -g; test -e /dev/pts/ptmx && echo pts",
        );
        assert_eq!(
            text(&out.stdout),
            "1234\n4321\npts\n",
            "{u:?}: {}",
            text(&out.stderr)
        );
    });
}

#[test]
fn die_with_parent_kills_the_sandbox() {
    as_each_user("--die-with-parent", |u| {
        let marker = "987.654";
        let inner = format!(
            "{} --die-with-parent --rootfs / -- /bin/sleep {marker} & sleep 0.5; kill -9 $$",
            husk().display()
        );
        let mut child = command_as(u, Path::new("sh"), &["-c", &inner])
            .spawn()
            .unwrap();
        wait_for(&mut child, 10);
        let running = || {
            std::fs::read_dir("/proc").unwrap().flatten().any(|e| {
                std::fs::read(e.path().join("cmdline"))
                    .is_ok_and(|c| c.windows(marker.len()).any(|w| w == marker.as_bytes()))
            })
        };
        assert!(
            eventually(10, || !running()),
            "{u:?}: sandbox outlived its parent"
        );
    });
}
