//! bubblewrap as the reference: COMMAND's environment after `--setenv`, `--unsetenv` and
//! `--clearenv`, and the `--json-status-fd` / `--info-fd` records. Each case has its expected
//! text, and where bwrap is installed (and runs as this user) its output must be the same.

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The installed bwrap, if any.
fn bwrap() -> Option<PathBuf> {
    ["/usr/bin/bwrap", "/usr/local/bin/bwrap", "/bin/bwrap"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// bwrap, if it is installed and makes a sandbox as `u` here; else None, with a SKIP line.
fn bwrap_for(u: User, test: &str) -> Option<PathBuf> {
    let Some(b) = bwrap() else {
        println!("SKIP {test} ({u:?}) against bwrap: bwrap is not installed; expected text only");
        return None;
    };
    let out = run(command_as(u, &b, &["--ro-bind", "/", "/", "true"]), 10);
    if !out.status.success() {
        println!(
            "SKIP {test} ({u:?}) against bwrap: bwrap cannot run here as this user ({}); expected text only",
            text(&out.stderr).trim_end()
        );
        return None;
    }
    Some(b)
}

/// `program OPTIONS` from / with exactly the environment `A=1 B=2 C=3 PATH=... PWD=/`.
fn in_known_env(u: User, program: &Path, args: &[&str]) -> Command {
    let mut cmd = command_as(u, program, args);
    cmd.env_clear()
        .envs([
            ("A", "1"),
            ("B", "2"),
            ("C", "3"),
            ("PATH", "/usr/bin:/bin"),
            ("PWD", "/"),
        ])
        .current_dir("/");
    cmd
}

/// The environment `env` prints in a sandbox of `program` (husk or bwrap) after `opts`.
fn env_after(u: User, program: &Path, opts: &[&str]) -> Output {
    let mut args = vec!["--ro-bind", "/", "/"];
    args.extend(opts);
    args.extend(["--", "/usr/bin/env"]);
    run(in_known_env(u, program, &args), 10)
}

for_each_user! {
    /// In the order given, as bubblewrap's setenv(3)/unsetenv(3)/clearenv(3) calls on its own
    /// environment: a variable set again keeps its place, a new one goes last, --clearenv
    /// drops what came before it, and PWD is set last, to the directory COMMAND starts in.
    fn setenv_unsetenv_clearenv_give_bwraps_environment(u: User) {
        if !can(Needs::Namespaces, "environment as bwrap") {
            return;
        }
        let path = "PATH=/usr/bin:/bin";
        let cases: [(&[&str], String); 9] = [
            (&[], format!("A=1\nB=2\nC=3\n{path}\nPWD=/\n")),
            (
                &["--setenv", "A", "x", "--setenv", "D", "4", "--setenv", "B", "y"],
                format!("A=x\nB=y\nC=3\n{path}\nPWD=/\nD=4\n"),
            ),
            (
                &["--setenv", "A", "1", "--clearenv", "--setenv", "Z", "1", "--unsetenv", "NOPE"],
                "Z=1\nPWD=/\n".into(),
            ),
            (&["--clearenv"], "PWD=/\n".into()),
            (
                &["--setenv", "PWD", "/x", "--unsetenv", "B", "--setenv", "B", "5", "--setenv", "B", "6"],
                format!("A=1\nC=3\n{path}\nPWD=/\nB=6\n"),
            ),
            (
                &["--unsetenv", "A", "--setenv", "A", "2", "--setenv", "E", ""],
                format!("B=2\nC=3\n{path}\nPWD=/\nA=2\nE=\n"),
            ),
            (
                &["--unsetenv", "PWD", "--chdir", "/usr/."],
                format!("A=1\nB=2\nC=3\n{path}\nPWD=/usr/.\n"),
            ),
            (
                &["--clearenv", "--setenv", "PWD", "q", "--chdir", "/usr"],
                "PWD=/usr\n".into(),
            ),
            (
                &["--clearenv", "--setenv", "V", "a=b c", "--clearenv", "--setenv", "W", "1"],
                "W=1\nPWD=/\n".into(),
            ),
        ];
        let reference = bwrap_for(u, "environment as bwrap");
        for (opts, want) in &cases {
            let out = env_after(u, &husk(), opts);
            assert_eq!(
                (code(out.status), text(&out.stdout), text(&out.stderr)),
                (0, want.clone(), String::new()),
                "husk {opts:?}"
            );
            if let Some(b) = &reference {
                let out = env_after(u, b, opts);
                assert_eq!(text(&out.stdout), *want, "bwrap {opts:?}: {}", text(&out.stderr));
            }
        }
    }
}

for_each_user! {
    /// setenv(3) and unsetenv(3) refuse an empty name or one with '=', and so bwrap fails; husk
    /// refuses both options alike (before, `--unsetenv A=B` was accepted and did nothing).
    fn unsetenv_of_a_bad_name_is_refused(u: User) {
        let reference = bwrap();
        for (opt, name) in [("--unsetenv", "A=B"), ("--unsetenv", ""), ("--setenv", "A=B")] {
            let mut opts = vec![opt, name];
            if opt == "--setenv" {
                opts.push("1");
            }
            let out = env_after(u, &husk(), &opts);
            assert_eq!(
                (code(out.status), text(&out.stdout), text(&out.stderr)),
                (125, String::new(), format!("husk: {opt} {name}: not a variable name\n")),
            );
            if let Some(b) = &reference {
                let out = env_after(u, b, &opts);
                assert!(!out.status.success() && out.stdout.is_empty(), "bwrap {opts:?}");
            }
        }
    }
}

/// Single-quoted for sh.
fn quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', "'\\''"))
}

/// What `program ... --json-status-fd 3 --info-fd 4 OPTS -- COMMAND` writes on fd 3 and fd 4,
/// each with its pid and namespace ids replaced by N, and its exit status.
fn records(u: User, program: &Path, opts: &[&str], command: &[&str]) -> (String, String, i32) {
    static COUNT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let base = scratch().join(format!("records-{u:?}-{n}"));
    let (json, info) = (base.with_extension("json"), base.with_extension("info"));
    let mut words = vec![husk_sh()];
    if program != husk() {
        words = vec![quote(program.to_str().unwrap())];
    }
    words.extend(["--json-status-fd", "3", "--info-fd", "4"].map(String::from));
    words.extend(
        opts.iter()
            .chain(["--"].iter())
            .chain(command)
            .map(|w| quote(w)),
    );
    let script = format!(
        "exec {} 3>{} 4>{}",
        words.join(" "),
        json.display(),
        info.display()
    );
    let out = run(command_as(u, Path::new("/bin/sh"), &["-c", &script]), 10);
    let read = |p: &Path| {
        let s = std::fs::read_to_string(p).unwrap_or_default();
        let _ = std::fs::remove_file(p);
        s.lines()
            .map(|line| {
                if line.contains("exit-code") {
                    return line.to_owned();
                }
                let mut shape = String::new();
                for c in line.chars() {
                    match (c.is_ascii_digit(), shape.ends_with('N')) {
                        (true, true) => {}
                        (true, false) => shape.push('N'),
                        (false, _) => shape.push(c),
                    }
                }
                shape
            })
            .map(|l| l + "\n")
            .collect::<String>()
    };
    (read(&json), read(&info), code(out.status))
}

/// bwrap's --info-fd text for these namespace keys.
fn info_shape(keys: &[&str]) -> String {
    let mut s = String::from("{\n    \"child-pid\": N");
    for k in keys {
        s += &format!(",\n    \"{k}-namespace\": N");
    }
    s + "\n}\n"
}

/// bwrap's first --json-status-fd line for these namespace keys.
fn json_shape(keys: &[&str]) -> String {
    let mut s = String::from("{ \"child-pid\": N");
    for k in keys {
        s += &format!(", \"{k}-namespace\": N");
    }
    s + " }\n"
}

for_each_user! {
    /// The records have bwrap's keys, order and spacing: `{ "child-pid": N, ... }` on one line
    /// for --json-status-fd, then `{ "exit-code": N }`; one key a line for --info-fd. They list
    /// the namespaces made for the sandbox among cgroup, ipc, mnt, net, pid and uts (bwrap
    /// leaves the user namespace out).
    fn status_records_have_bwraps_shape(u: User) {
        if !can(Needs::Namespaces, "status records as bwrap") {
            return;
        }
        let all = ["cgroup", "ipc", "mnt", "net", "pid", "uts"];
        let cases: [(&[&str], &[&str]); 4] = [
            (&["--unshare-all"], &all),
            (&["--unshare-net"], &["mnt", "net"]),
            (&[], &["mnt"]),
            (&["--unshare-pid", "--unshare-cgroup-try", "--unshare-uts"], &["cgroup", "mnt", "pid", "uts"]),
        ];
        let reference = bwrap_for(u, "status records as bwrap");
        for (opts, keys) in cases {
            let opts = [opts, &["--ro-bind", "/", "/"]].concat();
            let command = ["/bin/sh", "-c", "exit 3"];
            let want = (
                json_shape(keys) + "{ \"exit-code\": 3 }\n",
                info_shape(keys),
                3,
            );
            assert_eq!(records(u, &husk(), &opts, &command), want, "husk {opts:?}");
            if let Some(b) = &reference {
                assert_eq!(records(u, b, &opts, &command), want, "bwrap {opts:?}");
            }
        }
    }
}

for_each_user! {
    /// As bwrap: `exit-code` only for a COMMAND that ran. When setup fails or COMMAND cannot be
    /// executed the child-pid records are all there is (they are written before the setup).
    fn no_exit_code_record_when_command_did_not_run(u: User) {
        if !can(Needs::Namespaces, "no exit-code without COMMAND") {
            return;
        }
        let reference = bwrap_for(u, "no exit-code without COMMAND");
        let as_pid_1: &[&str] = &["--as-pid-1", "--unshare-pid"];
        let cases: [(&[&str], &[&str], i32); 6] = [
            (&[], &["/nonexistent"], 127),
            (&[], &["/etc/passwd"], 126),
            (&["--chdir", "/nonexistent"], &["true"], 125),
            // A COMMAND that ran and failed still gets its record.
            (&[], &["/bin/sh", "-c", "exit 127"], 127),
            // Without an init in the sandbox, the exec is told too (husk wrote the record).
            (as_pid_1, &["/nonexistent"], 127),
            (as_pid_1, &["/bin/sh", "-c", "exit 127"], 127),
        ];
        for (opts, command, status) in cases {
            let keys: &[&str] = if opts == as_pid_1 { &["mnt", "pid"] } else { &["mnt"] };
            let opts = [opts, &["--ro-bind", "/", "/"]].concat();
            let exit = if command.len() > 1 { "{ \"exit-code\": 127 }\n" } else { "" };
            let want = (json_shape(keys) + exit, info_shape(keys));
            let (json, info, got) = records(u, &husk(), &opts, command);
            assert_eq!((json, info, got), (want.0.clone(), want.1.clone(), status), "husk {opts:?} {command:?}");
            if let Some(b) = &reference {
                let (json, info, _) = records(u, b, &opts, command);
                assert_eq!((json, info), want, "bwrap {opts:?} {command:?}");
            }
        }
    }
}
