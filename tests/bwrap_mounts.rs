//! Mount options that bubblewrap has too, checked against what bwrap 0.8 does with the
//! same flags (the expected values are its results): the modes of the directories made,
//! --perms and --size, and a new /proc refused beside a masked one.

mod common;
use common::*;
use std::os::unix::fs::PermissionsExt;

/// husk with `args`, as `u`, started by a shell with umask `umask`.
fn husk_with_umask(u: User, umask: &str, args: &[&str]) -> std::process::Output {
    let mut words = vec!["-c", "umask \"$0\"; exec \"$@\"", umask];
    let husk = husk_sh();
    words.extend(husk.split(' '));
    words.extend(args);
    run(command_as(u, std::path::Path::new("sh"), &words), 20)
}

for_each_user! {
/// bwrap makes directories with umask 0: the parents 0755 (without the group's or the
/// others' bits when --perms gives them none), the target its --perms, sticky bit and all;
/// a directory already there keeps its mode. COMMAND still gets the caller's umask, and
/// /dev/shm is 1777 (husk's own: bwrap makes it 0755).
fn made_directories_get_bwraps_modes(u: User) {
    {
        let mut args = vec!["--ro-bind", "/", "/", "--tmpfs", "/tmp", "--dev", "/dev"];
        args.extend([
            "--perms", "1755", "--dir", "/tmp/a/b",
            "--perms", "0700", "--dir", "/tmp/c/d",
            "--perms", "0604", "--dir", "/tmp/e/f",
            "--dir", "/tmp/g/h",
            "--perms", "1777", "--tmpfs", "/tmp/i/j",
            "--perms", "0640", "--tmpfs", "/tmp/k/l",
            "--perms", "0700", "--dir", "/tmp",
            "--",
            "sh", "-c",
            "cd /tmp && stat -c '%n %a' . a a/b c c/d e e/f g g/h i i/j k k/l /dev/shm; umask",
        ]);
        for umask in ["022", "077"] {
            let out = husk_with_umask(u, umask, &args);
            assert_eq!(code(out.status), 0, "{u:?} {umask}: {}", text(&out.stderr));
            let want = format!(
                ". 755\na 755\na/b 1755\nc 700\nc/d 700\ne 705\ne/f 604\ng 755\ng/h 755\n\
                 i 755\ni/j 1777\nk 750\nk/l 640\n/dev/shm 1777\n0{umask}\n"
            );
            assert_eq!(text(&out.stdout), want, "{u:?} umask {umask}");
        }
    }
}
}

for_each_user! {
/// A file bound where nothing was gets an empty 0444 file as its mount point, as with
/// bwrap; seen here on the host, through a writable bind.
fn file_mount_points_are_0444(u: User) {
    {
        let dir = scratch().join(format!("mountpoints-{u:?}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        let _cleanup = RemoveOnDrop(dir.clone());
        let d = dir.to_str().unwrap();
        let args = [
            "--ro-bind", "/", "/", "--bind", d, "/mnt",
            "--ro-bind", "/etc/hostname", "/mnt/file",
            "--", "true",
        ];
        let out = husk_with_umask(u, "022", &args);
        assert_eq!(code(out.status), 0, "{u:?}: {}", text(&out.stderr));
        let mode = std::fs::metadata(dir.join("file")).unwrap().permissions().mode();
        assert_eq!(mode & 0o7777, 0o444, "{u:?}");
    }
}
}

for_each_user! {
/// --size as bwrap takes it: bytes from 1 to SIZE_MAX / 2 (tmpfs reads size=0 as no limit
/// at all); K, M and G are husk's own.
fn tmpfs_size_is_positive_and_fits(u: User) {
    {
        for bad in ["0", "0K", "", "-1", " 1", "123bogus", "9223372036854775808", "18446744073709551616"] {
            let out = husk_with_umask(u, "022", &["--size", bad, "--tmpfs", "/tmp", "--", "true"]);
            assert_eq!(
                text(&out.stderr),
                format!("husk: --size {bad}: not a size in bytes\n"),
                "{u:?} {bad:?}"
            );
            assert_eq!(code(out.status), 125, "{u:?} {bad:?}");
        }
        for (size, want) in [("1048576", "1024"), ("9223372036854775807", "")] {
            let args = [
                "--ro-bind", "/", "/", "--size", size, "--tmpfs", "/tmp",
                "--", "df", "--output=size", "--block-size=1K", "/tmp",
            ];
            let out = husk_with_umask(u, "022", &args);
            assert_eq!(code(out.status), 0, "{u:?} {size}: {}", text(&out.stderr));
            let out = text(&out.stdout);
            assert!(out.lines().last().unwrap().trim().ends_with(want), "{u:?} {size}: {out}");
        }
    }
}
}

/// The line husk gives when the kernel refuses a new proc.
const PROC_REFUSED: &str = "husk: --proc /proc: Operation not permitted (this /proc has \
    masked paths, as in a container: run it with systempaths=unconfined, or procMount: \
    Unmasked)\n";

for_each_user! {
/// Inside a container whose /proc has paths masked (Docker and Podman bind /dev/null over
/// /proc/kcore and others), the kernel refuses a new proc to a user namespace
/// (mount_too_revealing): husk's line says so, and what to do. Made here by root with a
/// bind over a /proc file in a new mount namespace (husk as root gets --unshare-user, so
/// that the bind is locked in its namespace as it is in a container's).
fn proc_refused_beside_a_masked_one_says_why(u: User) {
    {
        if !is_root() {
            println!("SKIP {u:?}: masking a /proc file needs root (the suite is not root)");
            return;
        }
        let masked = ["timer_list", "kcore", "sched_debug", "uptime"]
            .iter()
            .map(|f| format!("/proc/{f}"))
            .find(|p| std::path::Path::new(p).exists())
            .unwrap();
        let mut words: Vec<String> = Vec::new();
        if u == User::Unprivileged {
            words.extend(["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups", "--"].map(String::from));
        }
        words.extend(husk_sh().split(' ').map(String::from));
        if u == User::Root {
            words.push("--unshare-user".into());
        }
        words.extend(["--ro-bind", "/", "/", "--unshare-pid", "--proc", "/proc", "--", "true"].map(String::from));
        for mask in [false, true] {
            let script = if mask {
                format!("mount --bind /dev/null {masked} && exec \"$@\"")
            } else {
                "exec \"$@\"".into()
            };
            let mut cmd = std::process::Command::new("unshare");
            cmd.args(["-m", "sh", "-c", &script, "sh"]).args(&words).current_dir(scratch());
            let out = run(cmd, 20);
            if mask {
                assert_eq!(text(&out.stderr), PROC_REFUSED, "{u:?} {masked}");
                assert_eq!(code(out.status), 125, "{u:?}");
            } else {
                assert_eq!(code(out.status), 0, "{u:?}: {}", text(&out.stderr));
            }
        }
    }
}
}

for_each_user! {
/// As bwrap: --perms or --size twice before the option they apply to is refused, and so
/// is --perms before an option that makes no file (bwrap: "--perms must be followed by an
/// option that creates a file"; --size before anything but --tmpfs was refused already).
fn perms_and_size_once_and_only_where_they_apply(u: User) {
    {
        for (args, want) in [
            ("--perms 0640 --perms 0700 --tmpfs /tmp", "husk: --perms 0700: given twice before the option it applies to\n"),
            ("--size 1048576 --perms 0700 --size 2M --tmpfs /tmp", "husk: --size 2M: given twice before the option it applies to\n"),
            ("--perms 0700 --bind /tmp /mnt", "husk: --bind: --perms applies only to --dir, --tmpfs and the data options\n"),
            ("--perms 0700 --ro-bind-try /nope /mnt", "husk: --ro-bind-try: --perms applies only to --dir, --tmpfs and the data options\n"),
            ("--perms 0700 --proc /proc", "husk: --proc: --perms applies only to --dir, --tmpfs and the data options\n"),
            ("--perms 0700 --symlink a /b", "husk: --symlink: --perms applies only to --dir, --tmpfs and the data options\n"),
            ("--perms 0700 --chmod 0755 /tmp", "husk: --chmod: --perms applies only to --dir, --tmpfs and the data options\n"),
        ] {
            let words: Vec<&str> = args.split(' ').chain(["--", "true"]).collect();
            let out = husk_with_umask(u, "022", &words);
            assert_eq!(text(&out.stderr), want, "{u:?} {args}");
            assert_eq!(code(out.status), 125, "{u:?} {args}");
        }
        // One of each, in either order, is what bwrap's tests give.
        for args in ["--perms 01777 --size 1048576 --tmpfs /tmp", "--size 1048576 --perms 01777 --tmpfs /tmp"] {
            let mut words: Vec<&str> = vec!["--ro-bind", "/", "/"];
            words.extend(args.split(' ').chain(["--", "stat", "-c", "%a", "/tmp"]));
            let out = husk_with_umask(u, "022", &words);
            assert_eq!(text(&out.stdout), "1777\n", "{u:?} {args}: {}", text(&out.stderr));
        }
    }
}
}
