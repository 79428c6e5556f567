//! The sandbox, run as the real binary as root and as an unprivileged user. The host's own
//! / (read-only) and a tiny busybox rootfs built here serve as roots; nothing is downloaded.

mod common;
use common::*;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::Stdio;

fn host_ids(u: User) -> (u32, u32) {
    match (u, is_root()) {
        (User::Root, _) => (0, 0),
        (User::Unprivileged, true) => (NOBODY, NOBODY),
        // SAFETY: getuid/getgid have no preconditions.
        (User::Unprivileged, false) => unsafe { (libc::getuid(), libc::getgid()) },
    }
}

for_each_user! {
    fn rootfs_isolates_ids_pids_hostname_network_and_root(u: User) {
        if !can(Needs::Namespaces, "rootfs basics") {
            return;
        }
        let script = r#"
            set -- $(cat /proc/self/uid_map); echo "uid_map=$1:$2:$3"
            set -- $(cat /proc/self/gid_map); echo "gid_map=$1:$2:$3"
            echo "id=$(id -u):$(id -g)"
            echo "pid=$$ init=$(cat /proc/1/comm)"
            echo "pids=$(ls -d /proc/[0-9]* | sed 's|/proc/||' | sort -n | tail -n 1)"
            echo "hostname=$(cat /proc/sys/kernel/hostname)"
            echo "ifaces=$(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | tr '\n' ,)"
            "$PROBE" loopback
            touch /root-write 2>/dev/null && echo root=rw || echo root=ro
            touch /tmp/x && echo tmp=rw
            test -c /dev/null && test -c /dev/urandom && test -e /dev/pts/ptmx && echo dev=ok
            echo "dumpable=$(grep -c . /proc/1/status 2>/dev/null)"
        "#;
        let mut cmd = husk_as(u, &["--rootfs", "/", "--", "/bin/sh", "-c", script]);
        cmd.env("PROBE", probe());
        let out = run(cmd, 20);
        let s = text(&out.stdout);
        assert_eq!(code(out.status), 0, "{u:?}: {s}{}", text(&out.stderr));
        let (uid, gid) = host_ids(u);
        // As root every id is itself; rootless the caller is 0 inside.
        let count = if u == User::Root { 4294967295u32 } else { 1 };
        for want in [
            format!("uid_map=0:{uid}:{count}"),
            format!("gid_map=0:{gid}:{count}"),
            "id=0:0".into(),
            format!("pid=2 init={}", husk_comm()),
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
    }
}

for_each_user! {
    fn exit_status_and_signals_cross_both_processes(u: User) {
        if !can(Needs::Namespaces, "sandbox status") {
            return;
        }
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
    }
}

for_each_user! {
    fn mount_options_apply_in_order(u: User) {
        if !can(Needs::Namespaces, "mount ops") {
            return;
        }
        let src = scratch().join(format!("bind-src-{u:?}"));
        std::fs::create_dir_all(&src).unwrap();
        std::fs::write(src.join("marker"), "hello").unwrap();
        chmod_tree(&src, 0o777);
        let src = src.to_str().unwrap().to_owned();
        let mut args = HAND_BUILT_ROOT.to_vec();
        args.extend([
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
        ]);
        let script = r#"
            echo "ro=$(cat ro/marker)"; echo x > ro/new 2>/dev/null || echo ro=denied
            echo "pwd=$(pwd) host=$(cat /proc/sys/kernel/hostname) a=$HUSK_A home=${HOME-unset}"
            echo "perms=$(stat -c %a private sticky later)" | tr '\n' ' '; echo
            mkdir /work/new 2>/dev/null || echo work=ro
            test -e /nothing || echo try=skipped
            grep -o ' /work/sticky .*size=1024k' /proc/self/mountinfo | cut -d' ' -f2 | sed 's/^/sized=/'
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
    }
}

for_each_user! {
    fn rw_and_busybox_rootfs(u: User) {
        if !can(Needs::Namespaces, "busybox rootfs") {
            return;
        }
        let root = busybox_root(&format!("bb-{u:?}"));
        let r = root.to_str().unwrap();
        let out = sandbox(
            u,
            &["--rootfs", r],
            "touch /made-inside 2>/dev/null || echo ro; id -u; cat /proc/1/comm",
        );
        assert_eq!(
            text(&out.stdout),
            format!("ro\n0\n{}\n", husk_comm()),
            "{u:?}: {}",
            text(&out.stderr)
        );
        assert!(!root.join("made-inside").exists());
        let out = sandbox(u, &["--rootfs", r, "--rw"], "touch /made-inside");
        assert_eq!(code(out.status), 0, "{}", text(&out.stderr));
        assert!(root.join("made-inside").exists());
    }
}

for_each_user! {
    fn hostile_rootfs_cannot_reach_the_host(u: User) {
        if !can(Needs::Namespaces, "hostile rootfs") {
            return;
        }
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
        // A symlinked /tmp would lead the tmpfs over /dev or /proc/sys.
        for (name, target) in [("proc", "/etc"), ("dev", "../tmp"), ("tmp", "/dev")] {
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
    }
}

for_each_user! {
    fn json_status_and_time_offsets(u: User) {
        let out = run(
            husk_as(u, &["--json-status-fd", "9", "--rootfs", "/", "true"]),
            10,
        );
        assert_eq!(code(out.status), 125);
        assert_eq!(
            text(&out.stderr),
            "husk: --json-status-fd 9: Bad file descriptor\n"
        );
        if !can(Needs::Namespaces, "json status") {
            return;
        }
        let script = format!(
            "{} --json-status-fd 3 --rootfs / -- /bin/sh -c 'exit 6' 3>&1 >/dev/null",
            husk_sh()
        );
        let out = run(command_as(u, Path::new("sh"), &["-c", &script]), 10);
        let s = text(&out.stdout);
        let lines: Vec<&str> = s.lines().collect();
        assert_eq!(lines.len(), 2, "{s}");
        assert!(
            lines[0].starts_with("{ \"child-pid\": ") && lines[0].contains("\"pid-namespace\": "),
            "{s}"
        );
        assert_eq!(lines[1], "{ \"exit-code\": 6 }");
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
    }
}

for_each_user! {
    fn nested_ids_with_uid_and_gid(u: User) {
        if !can(Needs::Namespaces, "--uid") {
            return;
        }
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
    }
}

for_each_user! {
    fn die_with_parent_kills_the_sandbox(u: User) {
        if !can(Needs::Namespaces, "--die-with-parent") {
            return;
        }
        let marker = &format!("987.65{}", u as u8);
        let inner = format!(
            "{} --die-with-parent --rootfs / -- /bin/sleep {marker} & sleep 0.5; kill -9 $$",
            husk_sh()
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
    }
}

for_each_user! {
    fn each_namespace_flag_unshares_its_namespace(u: User) {
        if !can(Needs::Namespaces, "--unshare-*") {
            return;
        }
        for (flag, ns) in [
            ("--unshare-ipc", "ipc"),
            ("--unshare-net", "net"),
            ("--unshare-uts", "uts"),
            ("--unshare-cgroup", "cgroup"),
            ("--unshare-pid", "pid"),
            ("--unshare-time", "time_for_children"),
            ("--unshare-user", "user"),
        ] {
            let host = std::fs::read_link(format!("/proc/self/ns/{ns}")).unwrap();
            let host = host.to_str().unwrap();
            // Rootless, every namespace but the user one needs the user namespace too.
            let mut args = vec![flag];
            if u == User::Unprivileged && flag != "--unshare-user" {
                args.push("--unshare-user");
            }
            let out = sandbox(u, &args, &format!("readlink /proc/self/ns/{ns}"));
            let inside = text(&out.stdout);
            assert!(out.status.success(), "{u:?} {flag}: {}", text(&out.stderr));
            assert_ne!(inside.trim(), host, "{u:?} {flag}");
            // A mount namespace is always made, as bubblewrap's (with the host's tree in it
            // when no mount is asked for).
            let mnt = sandbox(u, &args, "readlink /proc/self/ns/mnt");
            assert_ne!(
                text(&mnt.stdout).trim(),
                std::fs::read_link("/proc/self/ns/mnt")
                    .unwrap()
                    .to_str()
                    .unwrap(),
                "{u:?} {flag}"
            );
        }
        let out = sandbox(
            u,
            &["--unshare-all", "--share-net", "--ro-bind", "/", "/"],
            "readlink /proc/self/ns/net",
        );
        assert_eq!(
            text(&out.stdout).trim(),
            std::fs::read_link("/proc/self/ns/net")
                .unwrap()
                .to_str()
                .unwrap(),
            "{u:?} --share-net"
        );
    }
}

/// Mount options of every mount in the sandbox: (mount point, options).
fn mounts_inside(u: User, args: &[&str]) -> Vec<(String, String)> {
    let out = sandbox(u, args, "cat /proc/self/mountinfo");
    assert!(out.status.success(), "{u:?}: {}", text(&out.stderr));
    text(&out.stdout)
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            (f[4].to_owned(), f[5].to_owned())
        })
        .collect()
}

for_each_user! {
    fn binds_are_nosuid_nodev_and_read_only_on_every_submount(u: User) {
        if !can(Needs::Namespaces, "bind flags") {
            return;
        }
        let mounts = mounts_inside(
            u,
            &[
                "--unshare-all",
                "--ro-bind",
                "/",
                "/",
                "--proc",
                "/proc",
                "--dev",
                "/dev",
            ],
        );
        assert!(mounts.len() > 3, "{mounts:?}");
        for (point, opts) in &mounts {
            let has = |o: &str| opts.split(',').any(|x| x == o);
            assert!(has("nosuid"), "{u:?}: {point} {opts}");
            let fresh_dev = point == "/dev" || point.starts_with("/dev/");
            // /proc's masks are /dev/null binds of husk's own; they are read-only.
            if !fresh_dev && !point.starts_with("/proc/") {
                assert!(has("nodev"), "{u:?}: {point} {opts}");
            }
            let writable_fresh = fresh_dev || point == "/proc";
            if !writable_fresh && !point.starts_with("/proc/") {
                assert!(has("ro"), "{u:?}: {point} {opts} (under --ro-bind)");
            }
        }
        // The staging root and the host's old root are gone.
        assert!(
            !mounts
                .iter()
                .any(|(p, _)| p.contains("oldroot") || p.contains("newroot")),
            "{mounts:?}"
        );
        // --dev-bind keeps device nodes usable.
        let mounts = mounts_inside(
            u,
            &[
                "--unshare-all",
                "--ro-bind",
                "/",
                "/",
                "--dev-bind",
                "/dev/null",
                "/dev/null",
            ],
        );
        let null = mounts.iter().rev().find(|(p, _)| p == "/dev/null").unwrap();
        assert!(!null.1.split(',').any(|o| o == "nodev"), "{u:?}: {null:?}");
    }
}

for_each_user! {
    fn old_root_and_host_knobs_are_out_of_reach(u: User) {
        if !can(Needs::Namespaces, "proc hardening") {
            return;
        }
        // Knobs this kernel lacks cannot be tested; say so instead of passing silently.
        for knob in ["/proc/sysrq-trigger", "/proc/kcore"] {
            if !Path::new(knob).exists() {
                println!("SKIP {knob}: this kernel has no such file");
            }
        }
        let script = r#"
            echo "up=$(cd /..; pwd) root=$(ls /proc/1/root/ 2>/dev/null | wc -l)"
            echo x > /proc/sys/kernel/core_pattern 2>/dev/null && echo sys=written || echo sys=denied
            cat /proc/keys /proc/timer_list 2>/dev/null | wc -l | sed 's/^/masked=/'
            grep -c -e oldroot -e newroot /proc/self/mountinfo | sed 's/^/staging=/'
            if test -e /proc/sysrq-trigger; then echo x > /proc/sysrq-trigger 2>/dev/null && echo sysrq=written || echo sysrq=denied; fi
            if test -e /proc/kcore; then echo "kcore=$(stat -c %s /proc/kcore)"; fi
        "#;
        let out = sandbox(u, &["--rootfs", "/"], script);
        let s = text(&out.stdout);
        let mut wants = vec!["up=/ root=0", "sys=denied", "masked=0", "staging=0"];
        if Path::new("/proc/sysrq-trigger").exists() {
            wants.push("sysrq=denied");
        }
        if Path::new("/proc/kcore").exists() {
            wants.push("kcore=0");
        }
        for want in wants {
            assert!(
                s.lines().any(|l| l.trim() == want),
                "{u:?}: missing {want:?} in:\n{s}{}",
                text(&out.stderr)
            );
        }
    }
}

/// Real root without a user namespace: uid 0 inside is host root, /proc is still fenced.
#[test]
fn host_knobs_are_out_of_reach_of_real_root() {
    if !is_root() {
        println!("SKIP /proc fences for real root: the suite is not running as root");
        return;
    }
    if can(Needs::Namespaces, "/proc fences for real root") {
        let out = sandbox(
            User::Root,
            &["--unshare-pid", "--ro-bind", "/", "/", "--proc", "/proc"],
            "echo x > /proc/sys/kernel/core_pattern 2>/dev/null || echo denied; id -u",
        );
        assert_eq!(text(&out.stdout), "denied\n0\n", "{}", text(&out.stderr));
    }
}

for_each_user! {
    fn process_options(u: User) {
        if !can(Needs::Namespaces, "process options") {
            return;
        }
        let out = sandbox(u, &["--rootfs", "/", "--argv0", "renamed"], "echo $0");
        assert_eq!(text(&out.stdout), "renamed\n");
        let mut cmd = husk_as(
            u,
            &[
                "--rootfs",
                "/",
                "--clearenv",
                "--setenv",
                "ONLY",
                "1",
                "--",
                "/usr/bin/env",
            ],
        );
        cmd.env("HUSK_LEAK", "1");
        // PWD as bubblewrap sets it, last: the directory COMMAND starts in.
        assert_eq!(text(&run(cmd, 10).stdout), "ONLY=1\nPWD=/\n");
        let out = sandbox(
            u,
            &["--rootfs", "/", "--new-session"],
            "set -- $(sed 's/.*) //' /proc/$$/stat); echo \"sid=$4 pid=$$\"",
        );
        assert_eq!(text(&out.stdout), "sid=2 pid=2\n");
        let out = sandbox(
            u,
            &[
                "--unshare-all",
                "--ro-bind",
                "/",
                "/",
                "--dev",
                "/dev",
                "--mqueue",
                "/dev/mqueue",
            ],
            "grep -c ' /dev/mqueue ' /proc/self/mountinfo",
        );
        assert_eq!(text(&out.stdout), "1\n", "{u:?}: {}", text(&out.stderr));
        let script = format!("{} --info-fd 3 --rootfs / -- /bin/true 3>&1", husk_sh());
        let out = run(command_as(u, Path::new("sh"), &["-c", &script]), 10);
        assert!(
            text(&out.stdout).starts_with("{\n    \"child-pid\": "),
            "{}",
            text(&out.stdout)
        );
    }
}

#[test]
fn uid_map_ranges_as_root() {
    if !is_root() {
        println!("SKIP --uid-map as root: the suite is not running as root");
        return;
    }
    if !can(Needs::Namespaces, "--uid-map as root") {
        return;
    }
    {
        let out = sandbox(
            User::Root,
            &[
                "--rootfs",
                "/",
                "--uid-map",
                "0:0:1",
                "--uid-map",
                "1:100000:1000",
                "--gid-map",
                "0:0:1",
                "--gid-map",
                "1:100000:1000",
            ],
            "cat /proc/self/uid_map /proc/self/gid_map | tr -s ' ' | sed 's/^ //'",
        );
        assert_eq!(
            text(&out.stdout),
            "0 0 1\n1 100000 1000\n0 0 1\n1 100000 1000\n",
            "{}",
            text(&out.stderr)
        );
        // Setup runs as the caller, so a map that leaves the caller out is refused clearly.
        let out = sandbox(
            User::Root,
            &[
                "--rootfs",
                "/",
                "--uid-map",
                "1:100000:10",
                "--gid-map",
                "1:100000:10",
            ],
            "true",
        );
        assert_eq!(code(out.status), 125);
        assert!(
            text(&out.stderr).starts_with("husk: --uid-map: "),
            "{}",
            text(&out.stderr)
        );
    }
}

#[test]
fn uid_map_ranges_rootless() {
    if !can(Needs::Namespaces, "rootless --uid-map") {
        return;
    }
    // Rootless ranges go through newuidmap, which needs a subordinate range for the user.
    let subuid = std::fs::read_to_string("/etc/subuid").unwrap_or_default();
    let user = if is_root() {
        "nobody".to_owned()
    } else {
        std::env::var("USER").unwrap_or_default()
    };
    let has_range = subuid
        .lines()
        .any(|l| l.split(':').next() == Some(user.as_str()));
    if !has_range || !Path::new("/usr/bin/newuidmap").exists() {
        println!("SKIP rootless --uid-map: no /etc/subuid range for {user} or no newuidmap (.ci/run sets both up)");
        return;
    }
    let range = subuid
        .lines()
        .find(|l| l.starts_with(&format!("{user}:")))
        .unwrap();
    let start: u32 = range.split(':').nth(1).unwrap().parse().unwrap();
    let (uid, _) = host_ids(User::Unprivileged);
    let own = format!("0:{uid}:1");
    let sub = format!("1:{start}:1000");
    let out = sandbox(
        User::Unprivileged,
        &[
            "--rootfs",
            "/",
            "--uid-map",
            &own,
            "--uid-map",
            &sub,
            "--gid-map",
            &own.replace(
                &uid.to_string(),
                &host_ids(User::Unprivileged).1.to_string(),
            ),
        ],
        "cat /proc/self/uid_map | tr -s ' ' | sed 's/^ //'",
    );
    assert_eq!(
        text(&out.stdout),
        format!("0 {uid} 1\n1 {start} 1000\n"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn joins_a_network_namespace() {
    if !is_root() {
        println!("SKIP --netns: creating a named network namespace needs root");
        return;
    }
    let name = format!("husk-test-{}", std::process::id());
    let ip = |args: &[&str]| {
        std::process::Command::new("ip")
            .args(args)
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    };
    if !can(Needs::Namespaces, "--netns") {
        return;
    }
    if !ip(&["netns", "add", &name]) {
        println!("SKIP --netns: `ip netns add` failed here");
        return;
    }
    let ok = ip(&[
        "link", "add", "husk0h", "type", "veth", "peer", "name", "husk0", "netns", &name,
    ]);
    let path = format!("/run/netns/{name}");
    let out = sandbox(
        User::Root,
        &["--rootfs", "/", "--netns", &path],
        "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | sort | tr '\n' ,",
    );
    ip(&["netns", "delete", &name]);
    assert!(ok, "ip link add dummy failed");
    assert_eq!(text(&out.stdout), "husk0,lo,", "{}", text(&out.stderr));
    println!("SKIP --netns rootless: a namespace made by root cannot be joined without privileges");
}

for_each_user! {
    fn pause_and_implied_user_namespace(u: User) {
        if !can(Needs::Namespaces, "sandbox --pause") {
            return;
        }
        let mut child = husk_as(u, &["--pause", "--rootfs", "/"]).spawn().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(300));
        kill(child.id(), libc::SIGTERM);
        assert_eq!(code(wait_for(&mut child, 10)), 0, "{u:?}");
        // Rootless, any namespace implies a user namespace of the caller's own.
        let out = sandbox(
            u,
            &["--unshare-pid", "--ro-bind", "/", "/", "--proc", "/proc"],
            "cat /proc/1/comm",
        );
        assert_eq!(
            text(&out.stdout),
            format!("{}\n", husk_comm()),
            "{u:?}: {}",
            text(&out.stderr)
        );
    }
}

for_each_user! {
    /// bubblewrap's own commands work unchanged: `--proc` with no `--unshare-*` flag
    /// (rootless, the sandbox's user namespace needs a pid namespace to mount a proc), and
    /// `--unshare-user-try --proc` as root. A mount namespace is always made.
    fn bubblewrap_commands_that_mount_proc_work(u: User) {
        if !can(Needs::Namespaces, "bwrap's --proc") {
            return;
        }
        let out = sandbox(
            u,
            &["--bind", "/", "/", "--tmpfs", "/tmp", "--proc", "/proc"],
            "test -r /proc/self/status && echo proc",
        );
        assert_eq!(text(&out.stdout), "proc\n", "{u:?}: {}", text(&out.stderr));
        let out = sandbox(
            u,
            &["--unshare-user-try", "--proc", "/proc", "--bind", "/", "/"],
            "echo ok",
        );
        assert_eq!(text(&out.stdout), "ok\n", "{u:?}: {}", text(&out.stderr));
        let host = std::fs::read_link("/proc/self/ns/mnt").unwrap();
        let out = sandbox(u, &["--unshare-uts"], "readlink /proc/self/ns/mnt");
        let inside = text(&out.stdout);
        assert!(
            out.status.success() && inside.trim() != host.to_str().unwrap(),
            "{u:?}: no mount namespace of its own: {inside}{}",
            text(&out.stderr)
        );
    }
}

/// A seccomp filter that makes sethostname(2) fail with EPERM, as some container engines'
/// profiles do.
fn no_sethostname_filter() -> &'static Path {
    static PATH: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    PATH.get_or_init(|| deny_one_syscall("no-sethostname", libc::SYS_sethostname, 1))
}

for_each_user! {
    /// Where sethostname is refused (a container's seccomp profile), husk's default name is
    /// not the thing that fails; a name the user asked for is still required.
    fn the_default_hostname_never_fails_a_sandbox(u: User) {
        if !can(Needs::Namespaces, "default hostname") || !can(Needs::Seccomp, "default hostname") {
            return;
        }
        let outer = format!(
            "exec 7<{}; {} --unshare-net --cap-add ALL --no-default-seccomp --add-seccomp-fd 7 -- \"$@\"",
            no_sethostname_filter().display(),
            husk_sh()
        );
        let inner = |extra: &[&str]| {
            let mut all = vec!["-c", outer.as_str(), "sh"];
            let husk = husk();
            all.push(husk.to_str().unwrap());
            all.extend(extra);
            all.extend(["--unshare-uts", "--", "/bin/sh", "-c", "echo ran"]);
            let out = run(command_as(u, Path::new("sh"), &all), 20);
            (text(&out.stdout), text(&out.stderr), code(out.status))
        };
        let (out, err, status) = inner(&[]);
        assert_eq!((out.as_str(), status), ("ran\n", 0), "{u:?}: {err}");
        let (out, err, status) = inner(&["--hostname", "box"]);
        assert_eq!((out.as_str(), status), ("", 125), "{u:?}");
        assert_eq!(err, "husk: --hostname box: Operation not permitted\n", "{u:?}");
    }
}

for_each_user! {
    /// `--cap-add ALL` keeps every capability husk holds, also where root lacks some (this
    /// machine's root has no CAP_SYS_RESOURCE); it used to fail the sandbox with EPERM.
    fn cap_add_all_keeps_what_husk_holds(u: User) {
        if !can(Needs::Namespaces, "--cap-add ALL") {
            return;
        }
        let held = std::fs::read_to_string("/proc/self/status").unwrap();
        let eff = |s: &str| {
            let line = s.lines().find(|l| l.starts_with("CapEff:")).map(str::to_owned);
            u64::from_str_radix(line.unwrap_or_default().trim_start_matches("CapEff:").trim(), 16)
                .unwrap_or(0)
        };
        let out = sandbox(u, &["--unshare-net", "--cap-add", "ALL"], "cat /proc/self/status");
        assert!(out.status.success(), "{u:?}: {}", text(&out.stderr));
        let inside = eff(&text(&out.stdout));
        if u == User::Root {
            assert_eq!(inside, eff(&held), "{u:?}: not all of husk's capabilities");
        } else {
            assert!(inside & 1 << 21 != 0, "{u:?}: no CAP_SYS_ADMIN inside: {inside:x}");
        }
    }
}

/// husk started in a root that lacks /tmp (an image built without it), and one that lacks
/// /dev too: the staging tmpfs goes on a directory that is there (before: `husk: mounting a
/// staging tmpfs on /tmp: No such file or directory`, where bubblewrap fails alike). The
/// root is entered with pivot_root, since a chroot may not make user namespaces.
fn sandbox_in_a_root_without(u: User, missing: &[&str]) {
    let name = format!("no-{}-{u:?}", missing.join("-"));
    let root = busybox_root(&name);
    for dir in missing {
        std::fs::remove_dir(root.join(dir)).unwrap();
    }
    std::fs::copy(husk(), root.join("bin/husk")).unwrap();
    let r = root.to_str().unwrap();
    // The new pid namespace's proc is mounted before the host's tree goes: a user
    // namespace may mount a proc only while another is fully visible.
    let script = format!(
        "busybox mount -o rbind {r} {r} && cd {r} && mkdir old && busybox pivot_root . old && cd / && \
         busybox mount -t proc proc /proc && busybox umount -l /old && busybox rmdir /old && \
         exec /bin/husk --ro-bind / / -- /bin/echo ok"
    );
    let mut args = vec!["-m", "-p", "-f", "sh", "-c", &script];
    if u == User::Unprivileged {
        args.splice(0..0, ["-U", "-r"]);
    }
    let out = run(command_as(u, Path::new("unshare"), &args), 20);
    assert_eq!(
        (code(out.status), text(&out.stdout), text(&out.stderr)),
        (0, "ok\n".into(), String::new()),
        "{u:?} without {missing:?}"
    );
}

for_each_user! {
    fn a_root_without_tmp_still_sandboxes(u: User) {
        if can(Needs::Namespaces, "a root without /tmp") {
            sandbox_in_a_root_without(u, &["tmp"]);
            sandbox_in_a_root_without(u, &["tmp", "dev"]);
        }
    }
}
