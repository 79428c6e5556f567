//! `--config FILE`: the format (quotes, comments, one option to a line, COMMAND on the last
//! line), its refusals naming the file and the line, and the examples: examples/web.conf
//! started as the systemd unit, the OpenRC service and the inittab line start it.

mod common;
use common::*;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")
}

/// A config file of `text` in the scratch directory, readable by both users.
fn config(name: &str, text: &str) -> String {
    let path = scratch().join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

for_each_user! {
    fn options_values_and_command_come_from_the_file(u: User) {
        if !can(Needs::Namespaces, "--config") {
            return;
        }
        let file = config(
            &format!("format-{u:?}.conf"),
            "# a comment line, then a blank one\n\n\
             --unshare-all   # the options of a sandbox\n\
             \t--ro-bind / /\n\
             --setenv GREETING \"hello  world \\\"quoted\\\" \\\\ back\"\n\
             --setenv EMPTY \"\"\n\
             --hostname 'web'\r\n\
             -- sh -c \"echo \\\"$GREETING\\\"; echo [$EMPTY]; hostname; echo $# $1\" sh \"one arg\"\n\
             \n",
        );
        let out = run(husk_as(u, &["--config", &file]), 20);
        assert_eq!(
            text(&out.stdout),
            "hello  world \"quoted\" \\ back\n[]\n'web'\n1 one arg\n",
            "{u:?}: {}",
            text(&out.stderr)
        );
        assert_eq!(code(out.status), 0);
        // Options after it add to it or replace what it set; COMMAND on the command line
        // replaces the file's.
        let out = run(husk_as(u, &["--config", &file, "--hostname", "other", "hostname"]), 20);
        assert_eq!(text(&out.stdout), "other\n", "{u:?}: {}", text(&out.stderr));
        // A file without COMMAND takes the command line's.
        let file = config(&format!("options-{u:?}.conf"), "-e 3\n--time-limit=30");
        let out = run(husk_as(u, &["--config", &file, "sh", "-c", "exit 3"]), 20);
        assert_eq!(code(out.status), 0, "{u:?}: {}", text(&out.stderr));
    }
}

for_each_user! {
    fn faults_name_the_file_and_the_line(u: User) {
        if init_only() {
            println!("SKIP faults_name_the_file_and_the_line: the init-only build has no --config");
            return;
        }
        let cases = [
            ("--bind /a\n/b\n", "1: --bind: missing value"),
            ("\n# two\n--hostname a b\n", "3: b: one option to a line"),
            ("--grace 1\n--setenv A \"x\n", "2: a quote is not closed on its line"),
            ("\n\n--nope\n", "3: --nope: unknown option (see --help)"),
            ("-- true\n--grace 1\n", "2: COMMAND's line must be the last"),
            ("nginx -g x\n", "1: nginx: not allowed in an --args or --config file"),
            ("--grace 1\n--args 0\n", "2: --args: not allowed in an --args or --config file"),
            ("--setenv A \"\\n\"\n", "1: in quotes a backslash escapes only a quote or a backslash"),
            ("--grace x\n", "1: --grace x: not a number of seconds (at most 4294967295)"),
            ("--grace 1\0\n", "1: a NUL byte"),
        ];
        for (i, (body, want)) in cases.iter().enumerate() {
            let file = config(&format!("fault-{u:?}-{i}.conf"), body);
            let out = run(husk_as(u, &["--config", &file, "echo", "ran"]), 10);
            assert_eq!(code(out.status), 125, "{body:?}");
            assert!(out.stdout.is_empty(), "{body:?}");
            assert_eq!(text(&out.stderr), format!("husk: {file}:{want}\n"), "{body:?}");
        }
        // Faults of the file as a whole name the option.
        let file = config(&format!("nested-{u:?}.conf"), "--hostname x\n");
        let nested = config(&format!("nests-{u:?}.conf"), &format!("--config {file}\n"));
        let out = run(husk_as(u, &["--config", &nested, "true"]), 10);
        assert_eq!(
            text(&out.stderr),
            format!("husk: {nested}:1: --config: not allowed in an --args or --config file\n")
        );
        let out = run(husk_as(u, &["--config", &file, "--config", &file, "true"]), 10);
        assert_eq!(text(&out.stderr), format!("husk: --config {file}: given twice\n"));
        let out = run(husk_as(u, &["--config", "/nonexistent/web.conf", "true"]), 10);
        assert_eq!(
            text(&out.stderr),
            "husk: --config /nonexistent/web.conf: No such file or directory\n"
        );
        let big = config(&format!("big-{u:?}.conf"), &" ".repeat(64 * 1024 + 1));
        let out = run(husk_as(u, &["--config", &big, "true"]), 10);
        assert_eq!(text(&out.stderr), format!("husk: --config {big}: more than 64 KiB\n"));
        let fits = config(&format!("fits-{u:?}.conf"), &" ".repeat(64 * 1024));
        let out = run(husk_as(u, &["--config", &fits, "true"]), 10);
        assert_eq!(code(out.status), 0, "{}", text(&out.stderr));
        // A fault found once the file is read has no line: it is not the file's.
        let file = config(&format!("later-{u:?}.conf"), "--hostname x\n");
        let out = run(husk_as(u, &["--config", &file, "true"]), 10);
        assert_eq!(text(&out.stderr), "husk: --hostname: needs --unshare-uts\n");
    }
}

/// The web server of examples/web.conf, started with `command` (the example's own, as a
/// service manager runs it, with the config path and the port made this test's), asked for
/// its page, then stopped with SIGTERM, as a service manager stops it.
fn serve_and_stop(u: User, words: &[String], port: u16) {
    let mut child = command_as(
        u,
        Path::new(&words[0]),
        &words[1..].iter().map(String::as_str).collect::<Vec<_>>(),
    )
    .stdout(Stdio::null())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let mut page = String::new();
    let served = eventually(10, || {
        let Ok(mut tcp) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
            return false;
        };
        let _ = tcp.write_all(b"GET / HTTP/1.0\r\n\r\n");
        page.clear();
        tcp.read_to_string(&mut page).is_ok() && page.contains("PRETTY_NAME=")
    });
    kill(child.id(), libc::SIGTERM);
    let status = wait_for(&mut child, 20);
    let mut err = String::new();
    let _ = child.stderr.take().unwrap().read_to_string(&mut err);
    assert!(served, "{u:?} {words:?}: no page: {page:?} {err}");
    assert_eq!(code(status), 143, "{u:?} {words:?}: {err}");
}

/// The command a service manager runs, from each example: systemd's ExecStart, OpenRC's
/// command and command_args, the inittab line's process.
fn service_commands() -> Vec<(&'static str, String)> {
    let read = |name: &str| std::fs::read_to_string(examples().join(name)).unwrap();
    let unit = read("husk-web.service");
    let exec = unit
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .unwrap()
        .to_owned();
    let openrc = read("husk-web.openrc");
    let value = |key: &str| {
        let line = openrc.lines().find_map(|l| l.strip_prefix(key)).unwrap();
        line.trim_matches('"').to_owned()
    };
    let rc = format!("{} {}", value("command="), value("command_args="));
    let inittab = read("inittab");
    let line = inittab.lines().find(|l| !l.starts_with('#')).unwrap();
    let init = line.splitn(4, ':').nth(3).unwrap().to_owned();
    vec![("systemd", exec), ("openrc", rc), ("inittab", init)]
}

for_each_user! {
    fn the_example_service_starts_under_config(u: User) {
        if !can(Needs::Namespaces, "examples/web.conf") {
            return;
        }
        let example = std::fs::read_to_string(examples().join("web.conf")).unwrap();
        // The file parses and its sandbox is made, with COMMAND given instead.
        let out = run(husk_as(u, &["--config", examples().join("web.conf").to_str().unwrap(), "cat", "/srv/index.html"]), 20);
        assert_eq!(code(out.status), 0, "{u:?}: {}", text(&out.stderr));
        assert!(text(&out.stdout).contains("PRETTY_NAME="), "{u:?}");
        let port = if u == User::Root { 18480 } else { 18481 };
        let conf = config(
            &format!("web-{u:?}.conf"),
            &example.replace("127.0.0.1:8080", &format!("127.0.0.1:{port}")),
        );
        for (manager, command) in service_commands() {
            let words: Vec<String> = command
                .replace("/etc/husk/web.conf", &conf)
                .split_whitespace()
                .map(|w| if w == "/usr/local/bin/husk" { husk().to_str().unwrap().to_owned() } else { w.to_owned() })
                .collect();
            assert_eq!(words.len(), 3, "{manager}: {command}");
            println!("{manager}: {}", words.join(" "));
            serve_and_stop(u, &words, port);
        }
    }
}
