//! bubblewrap's `--args FD`: options read from a descriptor (NUL-separated, the last NUL
//! optional) and parsed in its place, as if given there; COMMAND still comes from the
//! command line, and FD is closed before COMMAND starts.

mod common;
use common::*;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Output, Stdio};

/// husk `args` as `u`, with `files[i]` open on descriptor 3 + i (each written to a file of
/// the scratch directory first, named after `tag`).
fn with_files(u: User, tag: &str, files: &[&[u8]], args: &[&str]) -> Output {
    let mut script = String::new();
    for (i, data) in files.iter().enumerate() {
        let path = scratch().join(format!("args-{tag}-{u:?}-{i}"));
        std::fs::write(&path, data).unwrap();
        script += &format!("exec {}<'{}'; ", 3 + i, path.display());
    }
    script += &format!("exec {} \"$@\"", husk_sh());
    let mut all = vec!["-c", &script, "sh"];
    all.extend(args);
    run(command_as(u, Path::new("sh"), &all), 30)
}

/// husk `args` as `u` with `data` written to its stdin through a pipe (for `--args 0`).
fn with_stdin(u: User, data: &[u8], args: &[&str]) -> Output {
    let mut child = husk_as(u, args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let data = data.to_vec();
    // Threads of their own: husk reads while this writes, and may stop reading (too large).
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&data);
    });
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let status = wait_for(&mut child, 30);
    writer.join().unwrap();
    Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

/// (exit status, stdout, stderr).
fn outcome(out: &Output) -> (i32, String, String) {
    (code(out.status), text(&out.stdout), text(&out.stderr))
}

/// A refusal: status 125 and husk's one line.
fn refused(line: &str) -> (i32, String, String) {
    (125, String::new(), format!("husk: {line}\n"))
}

fn options_from_a_file_apply(u: User) {
    if !can(Needs::Namespaces, "options_from_a_file_apply") {
        return;
    }
    let host_net = std::fs::read_link("/proc/self/ns/net").unwrap();
    let script = "echo $FOO; readlink /proc/self/ns/net";
    let file: &[u8] = b"--setenv\0FOO\0bar\0--unshare-net\0";
    let out = with_files(
        u,
        "apply",
        &[file],
        &["--args", "3", "--", "sh", "-c", script],
    );
    let (status, stdout, stderr) = outcome(&out);
    assert_eq!((status, stderr.as_str()), (0, ""), "{stdout}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "bar");
    assert_ne!(
        lines[1],
        host_net.to_str().unwrap(),
        "--unshare-net from the file"
    );
    // The same through a pipe on stdin.
    let out = with_stdin(u, file, &["--args", "0", "--", "sh", "-c", script]);
    let (status, stdout, stderr) = outcome(&out);
    assert_eq!((status, stderr.as_str()), (0, ""), "{stdout}");
    assert_eq!(stdout.lines().next(), Some("bar"));
    assert_ne!(stdout.lines().nth(1), host_net.to_str());
}

fn options_apply_in_their_place(u: User) {
    if !can(Needs::Namespaces, "options_apply_in_their_place") {
        return;
    }
    // FOO: the command line's, then the file's; BAR: the file's, then the command line's.
    let file: &[u8] = b"--setenv\0FOO\0file\0--setenv\0BAR\0file\0";
    let args = [
        "--setenv",
        "FOO",
        "line",
        "--args",
        "3",
        "--setenv",
        "BAR",
        "line",
        "--",
        "sh",
        "-c",
        "echo $FOO $BAR",
    ];
    let out = with_files(u, "order", &[file], &args);
    assert_eq!(outcome(&out), (0, "file line\n".into(), String::new()));
    // Two files, read one after the other into the same storage, each in its place.
    let second: &[u8] = b"--setenv\0BAR\0second\0--setenv\0BAZ\0second";
    let args = [
        "--args",
        "3",
        "--setenv",
        "BAZ",
        "line",
        "--args",
        "4",
        "--",
        "sh",
        "-c",
        "echo $FOO $BAR $BAZ",
    ];
    let out = with_files(u, "two", &[file, second], &args);
    assert_eq!(
        outcome(&out),
        (0, "file second second\n".into(), String::new())
    );
}

fn the_last_argument_may_lack_its_nul(u: User) {
    if !can(Needs::Namespaces, "the_last_argument_may_lack_its_nul") {
        return;
    }
    let file: &[u8] = b"--setenv\0FOO\0bar";
    let out = with_files(
        u,
        "nonul",
        &[file],
        &["--args", "3", "--", "sh", "-c", "echo $FOO"],
    );
    assert_eq!(outcome(&out), (0, "bar\n".into(), String::new()));
}

/// An empty file adds nothing: husk stays an init (no sandbox option), and FD is closed
/// before COMMAND starts, where it would otherwise be inherited.
fn an_empty_file_adds_nothing_and_fd_is_closed(u: User) {
    let out = with_files(
        u,
        "empty",
        &[b""],
        &["--args", "3", "--", probe_path(), "fds"],
    );
    assert_eq!(outcome(&out), (0, "fds=0,1,2,\n".into(), String::new()));
    // Init options from a file, and the descriptor still closed.
    let out = with_files(u, "init", &[b"-w\0"], &["--args", "3", probe_path(), "fds"]);
    assert_eq!(outcome(&out), (0, "fds=0,1,2,\n".into(), String::new()));
    // Without --args, the same shell line does hand descriptor 3 on (so the check can fail).
    let out = with_files(u, "control", &[b""], &["--", probe_path(), "fds"]);
    assert_eq!(outcome(&out), (0, "fds=0,1,2,3,\n".into(), String::new()));
    // Closed, it can be kept no more.
    let out = with_files(
        u,
        "kept",
        &[b""],
        &["--args", "3", "--keep-fd", "3", "true"],
    );
    assert_eq!(outcome(&out), refused("--keep-fd 3: Bad file descriptor"));
}

/// COMMAND, `--` and a nested `--args` belong on the command line: bubblewrap ignores what
/// follows a non-option in the file (and refuses `--args` there); husk refuses them all.
fn what_belongs_on_the_command_line_is_refused(u: User) {
    let cases: [(&[u8], &str); 5] = [
        (b"--setenv\0A\0b\0sh\0", "sh"),
        (b"--setenv\0A\0b\0--\0sh", "--"),
        (b"--args\x004\0", "--args"),
        (b"-w\0\0", ""),
        (b"--unshare-net\0/bin/true", "/bin/true"),
    ];
    for (i, (file, what)) in cases.iter().enumerate() {
        let out = with_files(
            u,
            &format!("refused{i}"),
            &[file, b""],
            &["--args", "3", "true"],
        );
        let line = format!("{what}: not allowed in an --args or --config file");
        assert_eq!(outcome(&out), refused(&line), "{file:?}");
    }
    // A value refused is the one from the file (`--perms` again named the descriptor).
    let file = b"--perms\x000640\0--perms\x000700\0--tmpfs\0/tmp\0";
    let out = with_files(u, "twice", &[file], &["--args", "3", "true"]);
    let line = "--perms 0700: given twice before the option it applies to";
    assert_eq!(outcome(&out), refused(line), "--perms twice in a file");
    // An option of the file takes its values from the file, as in bubblewrap.
    let out = with_files(u, "value", &[b"--setenv\0A"], &["--args", "3", "b", "true"]);
    assert_eq!(outcome(&out), refused("--setenv: missing value"));
}

fn bad_descriptors_are_refused(u: User) {
    let out = with_files(u, "closed", &[], &["--args", "9", "true"]);
    assert_eq!(outcome(&out), refused("--args 9: Bad file descriptor"));
    let out = with_files(u, "nofd", &[], &["--args", "x", "true"]);
    assert_eq!(outcome(&out), refused("--args x: not a file descriptor"));
    let out = with_files(u, "nofd", &[], &["--args", "true"]);
    assert_eq!(outcome(&out), refused("--args true: not a file descriptor"));
    let out = run(husk_as(u, &["--args"]), 10);
    assert_eq!(outcome(&out), refused("--args: missing value"));
    // A read error names the descriptor and the errno.
    let script = format!("exec 3</; exec {} --args 3 true", husk_sh());
    let out = run(command_as(u, Path::new("sh"), &["-c", &script]), 10);
    assert_eq!(outcome(&out), refused("--args 3: Is a directory"));
}

/// 1 MiB a file, each argument with its NUL: exactly that works (here `-w` 349,526 times);
/// a byte more is refused (E2BIG), from a file or a pipe that is still writing.
fn at_most_1_mib(u: User) {
    let mut file = b"-w\0".repeat(349_524);
    file.extend(b"-ww\0");
    assert_eq!(file.len(), 1 << 20);
    let out = with_files(u, "mib", &[&file], &["--args", "3", "true"]);
    assert_eq!(outcome(&out), (0, String::new(), String::new()));
    let too_large = refused("--args 3: Argument list too long");
    let mut more = file.clone();
    more.extend(b"-w");
    let out = with_files(u, "more", &[&more], &["--args", "3", "true"]);
    assert_eq!(outcome(&out), too_large);
    // The last argument's NUL counts, given or not: 1 MiB without it does not fit, a byte
    // less does.
    let mut no_nul = file[..file.len() - 1].to_vec();
    let out = with_files(u, "less", &[&no_nul], &["--args", "3", "true"]);
    assert_eq!(outcome(&out), (0, String::new(), String::new()));
    no_nul.push(b's');
    let out = with_files(u, "nonul", &[&no_nul], &["--args", "3", "true"]);
    assert_eq!(outcome(&out), too_large);
    // Each file has 1 MiB of its own.
    let out = with_files(
        u,
        "each",
        &[&file, &file],
        &["--args", "3", "--args", "4", "true"],
    );
    assert_eq!(outcome(&out), (0, String::new(), String::new()));
    let out = with_files(
        u,
        "over",
        &[&file, &more],
        &["--args", "3", "--args", "4", "true"],
    );
    assert_eq!(outcome(&out), refused("--args 4: Argument list too long"));
    let out = with_stdin(u, &b"-w\0".repeat(400_000), &["--args", "0", "true"]);
    assert_eq!(outcome(&out), refused("--args 0: Argument list too long"));
}

for_each_user! {
    fn options_in_an_args_file_apply(u: User) {
        options_from_a_file_apply(u);
    }
    fn args_files_and_the_command_line_apply_in_order(u: User) {
        options_apply_in_their_place(u);
    }
    fn the_last_argument_of_a_file_may_lack_its_nul(u: User) {
        the_last_argument_may_lack_its_nul(u);
    }
    fn an_empty_args_file_adds_nothing_and_its_fd_is_closed(u: User) {
        an_empty_file_adds_nothing_and_fd_is_closed(u);
    }
    fn command_dashes_and_nested_args_in_a_file_are_refused(u: User) {
        what_belongs_on_the_command_line_is_refused(u);
    }
    fn args_of_a_bad_descriptor_are_refused(u: User) {
        bad_descriptors_are_refused(u);
    }
    fn args_files_hold_at_most_1_mib(u: User) {
        at_most_1_mib(u);
    }
}
