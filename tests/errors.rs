//! Every failure is one line naming the option and the value at fault: the options whose
//! failures happen late (in the child, just before exec) included.

mod common;
use common::*;

/// husk's stderr and exit status for `args`, as `u`, with `setup` run by the shell first
/// (to open a descriptor, say).
fn failure(u: User, setup: &str, args: &str) -> (String, i32) {
    let script = format!("{setup} exec {} {args}", husk_sh());
    let out = run(
        command_as(u, std::path::Path::new("sh"), &["-c", &script]),
        20,
    );
    (text(&out.stderr), code(out.status))
}

for_each_user! {
fn late_failures_name_the_option_and_its_value(u: User) {
    {
        let (err, status) = failure(u, "", "--landlock-ro /nope -- true");
        assert_eq!(
            err,
            "husk: --landlock-ro /nope: No such file or directory\n"
        );
        assert_eq!(status, 125);
        let (err, _) = failure(u, "", "--landlock-exec /nope/x --landlock-rw / -- true");
        assert_eq!(
            err,
            "husk: --landlock-exec /nope/x: No such file or directory\n"
        );
        let (err, status) = failure(u, "", "--cgroup /nonexistent/husk-x -- true");
        assert_eq!(
            err,
            "husk: --cgroup /nonexistent/husk-x: No such file or directory\n"
        );
        assert_eq!(status, 125);
        // A file that is no BPF program (3 bytes, not a multiple of an instruction).
        let bpf = "f=bad-$(id -u).bpf; printf abc > $f; exec 7<$f;";
        let (err, _) = failure(u, bpf, "--seccomp 7 --unshare-uts -- true");
        assert_eq!(err, "husk: --seccomp 7: Invalid argument\n");
        let (err, _) = failure(u, bpf, "--add-seccomp-fd 7 --unshare-uts -- true");
        assert_eq!(err, "husk: --add-seccomp-fd 7: Invalid argument\n");
        let (err, _) = failure(u, "", "--keep-fd 9 --unshare-uts -- true");
        assert_eq!(err, "husk: --keep-fd 9: Bad file descriptor\n");
    }
}
}

#[test]
fn rlimit_failures_name_the_limit() {
    // Raising a hard limit needs CAP_SYS_RESOURCE: only the unprivileged user fails.
    let (err, status) = failure(User::Unprivileged, "", "--rlimit nofile=1:99999999 -- true");
    assert_eq!(
        err,
        "husk: --rlimit nofile=1:99999999: Operation not permitted\n"
    );
    assert_eq!(status, 125);
}

for_each_user! {
fn a_failed_exec_is_reported_once_by_the_child(u: User) {
    {
        for args in ["-- /nonexistent", "--unshare-uts -- /nonexistent"] {
            let (err, status) = failure(u, "", args);
            assert_eq!(
                err, "husk: /nonexistent: No such file or directory\n",
                "{args}"
            );
            assert_eq!(status, 127, "{args}");
        }
        let (err, status) = failure(u, "", "-- /");
        assert_eq!(err, "husk: /: Permission denied\n");
        assert_eq!(status, 126);
    }
}
}

for_each_user! {
fn option_errors_are_one_line_with_the_value(u: User) {
    {
        for (args, want) in [
            ("--hostname=box -- true", "husk: --hostname=box: unknown option (see --help)\n"),
            ("--rlimit bogus=1 -- true", "husk: --rlimit bogus=1: expected NAME=SOFT[:HARD] (see setrlimit(2); unlimited, K/M/G accepted)\n"),
            ("-e 300 -- true", "husk: -e 300: not an exit code (0-255)\n"),
            ("-svx true", "husk: -svx: unknown option (see --help)\n"),
            ("--size 1k --dir /d -- true", "husk: --dir: --size applies only to --tmpfs\n"),
            ("--hostname h --tmpfs /t -- true", "husk: --hostname: needs --unshare-uts\n"),
        ] {
            let (err, status) = failure(u, "", args);
            assert_eq!(err, want, "{args}");
            assert_eq!(status, 125, "{args}");
        }
    }
}
}

for_each_user! {
/// `--pause --time-limit`: no COMMAND, so the limit kills the descendants and husk exits
/// 137; it used to kill(0, SIGKILL): its own process group, and with it the shell that
/// started it.
fn time_limit_with_pause_spares_the_caller(u: User) {
    let script = format!("{} --pause --time-limit 0.2; echo status=$?", husk_sh());
    let mut sh = command_as(u, std::path::Path::new("sh"), &["-c", &script]);
    // A group of its own, so that a husk killing its group takes the shell, not the suite.
    std::os::unix::process::CommandExt::process_group(&mut sh, 0);
    let out = run(sh, 20);
    assert_eq!(text(&out.stdout), "status=137\n", "{}", text(&out.stderr));
    assert!(out.status.success());
}
}
