//! Shared helpers: the husk binary in a place every uid can run it from, the two users the
//! suite runs as, and waiting with a deadline.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, ExitStatus, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub const NOBODY: u32 = 65534;

/// A directory every uid can read, holding a copy of husk (the checkout may sit under a
/// 0700 home that the unprivileged user cannot traverse).
pub fn scratch() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("husk-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o1777)).unwrap();
        // HUSK_TEST_BIN runs the suite against another build (an older one, to see a test
        // of a fix fail without the fix).
        let bin = std::env::var("HUSK_TEST_BIN").unwrap_or(env!("CARGO_BIN_EXE_husk").into());
        std::fs::copy(bin, dir.join("husk")).unwrap();
        std::fs::set_permissions(dir.join("husk"), std::fs::Permissions::from_mode(0o755)).unwrap();
        dir
    })
}

pub fn husk() -> PathBuf {
    scratch().join("husk")
}

pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Who runs husk: root, or an unprivileged uid (nobody, dropped with setpriv when the suite
/// runs as root, or the suite's own uid when it does not).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum User {
    Root,
    Unprivileged,
}

/// Runs `f` once per user this machine allows; a user that cannot be had prints SKIP.
pub fn as_each_user(name: &str, f: impl Fn(User)) {
    if is_root() {
        f(User::Root);
    } else {
        println!("SKIP {name} as root: the suite is not running as root");
    }
    f(User::Unprivileged);
}

/// A command that runs `program args...` as `user`, in the scratch directory.
pub fn command_as(user: User, program: &Path, args: &[&str]) -> Command {
    let mut cmd = if user == User::Unprivileged && is_root() {
        let mut c = Command::new("setpriv");
        c.args([
            "--reuid",
            "65534",
            "--regid",
            "65534",
            "--clear-groups",
            "--",
        ])
        .arg(program);
        c
    } else {
        Command::new(program)
    };
    // A PATH every uid can search, so "not found" does not turn into "permission denied".
    cmd.args(args)
        .current_dir(scratch())
        .env("PATH", "/usr/local/bin:/usr/bin:/bin");
    cmd
}

/// husk with `args`, as `user`.
pub fn husk_as(user: User, args: &[&str]) -> Command {
    command_as(user, &husk(), args)
}

/// Waits for `child` at most `secs` seconds; kills it and panics on timeout.
pub fn wait_for(child: &mut Child, secs: u64) -> ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return st;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("timed out after {secs}s");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Runs to completion with a deadline, collecting stdout and stderr.
pub fn run(mut cmd: Command, secs: u64) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let status = wait_for(&mut child, secs);
    Output {
        status,
        stdout: t_out.join().unwrap(),
        stderr: t_err.join().unwrap(),
    }
}

/// The exit status as a shell shows it: the code, or 128+N for death by signal N.
pub fn code(st: ExitStatus) -> i32 {
    st.code().unwrap_or_else(|| 128 + st.signal().unwrap())
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Lines from a child's stdout, read with a deadline on each.
pub struct Lines {
    rx: std::sync::mpsc::Receiver<String>,
}

impl Lines {
    pub fn new(out: ChildStdout) -> Self {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Lines { rx }
    }

    pub fn next(&self, secs: u64) -> String {
        self.rx
            .recv_timeout(Duration::from_secs(secs))
            .expect("no line from the child in time")
    }

    /// Skips lines until one equals `want`.
    pub fn expect(&self, want: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.next(10) == want {
                return;
            }
        }
        panic!("never saw {want:?}");
    }
}

pub fn kill(pid: u32, sig: i32) {
    // SAFETY: kill has no memory preconditions.
    unsafe { libc::kill(pid as i32, sig) };
}

pub fn alive(pid: u32) -> bool {
    // A zombie still answers kill(0); read its state instead.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => !s
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z'),
        Err(_) => false,
    }
}

/// Polls `cond` for up to `secs` seconds.
pub fn eventually(secs: u64, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    cond()
}

/// The pids whose parent is `parent`, from /proc.
pub fn children_of(parent: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            let rest = stat.rsplit(')').next().unwrap_or("");
            let ppid: u32 = rest
                .split_whitespace()
                .nth(1)
                .and_then(|p| p.parse().ok())
                .unwrap_or(0);
            if ppid == parent {
                out.push(pid);
            }
        }
    }
    out
}

/// The zombies among `parent`'s children.
pub fn zombies_of(parent: u32) -> usize {
    children_of(parent)
        .into_iter()
        .filter(|&p| !alive(p) && std::path::Path::new(&format!("/proc/{p}")).exists())
        .count()
}

/// A command whose child starts with `sig` ignored and `blocked` in its mask.
pub fn with_signal_state(cmd: &mut Command, ignored: &'static [i32], blocked: &'static [i32]) {
    // SAFETY: only async-signal-safe calls run between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            for &s in ignored {
                libc::signal(s, libc::SIG_IGN);
            }
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            for &s in blocked {
                libc::sigaddset(&mut set, s);
            }
            libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
            Ok(())
        });
    }
}

/// Whether unprivileged user namespaces work here (for rootless pid-namespace tests).
pub fn can_unshare_as(user: User) -> bool {
    let out = run(
        command_as(user, Path::new("unshare"), &["-Urpf", "true"]),
        10,
    );
    out.status.success()
}

/// `unshare` arguments that make husk PID 1 of a new pid namespace for `user`.
pub fn pid_namespace_args(user: User) -> Vec<&'static str> {
    match user {
        User::Root => vec!["--pid", "--fork", "--mount-proc"],
        User::Unprivileged => vec!["-Ur", "--pid", "--fork", "--mount-proc"],
    }
}

/// A root built by hand, as with bwrap: the host's /usr read-only and the usual symlinks,
/// fresh /proc, /dev and /tmp; nothing else of the host.
pub const HAND_BUILT_ROOT: [&str; 19] = [
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
    "/tmp",
];

/// `shell_command` run by `user` under a pseudo-terminal (script(1)): the child, with its
/// stdin piped for typing, and its output as lines.
pub fn under_pty(user: User, shell_command: &str) -> (Child, Lines) {
    let mut child = command_as(
        user,
        Path::new("script"),
        &["-qec", shell_command, "/dev/null"],
    )
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .spawn()
    .unwrap();
    let lines = Lines::new(child.stdout.take().unwrap());
    (child, lines)
}

/// A busybox root in the scratch directory: /bin/sh and friends, empty /proc /dev /tmp.
pub fn busybox_root(name: &str) -> PathBuf {
    let root = scratch().join(name);
    let _ = std::fs::remove_dir_all(&root);
    for d in ["bin", "proc", "dev", "tmp", "etc"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    std::fs::copy("/bin/busybox", root.join("bin/busybox")).unwrap();
    for tool in [
        "sh", "cat", "ls", "touch", "mkdir", "id", "echo", "stat", "readlink", "sleep",
    ] {
        std::os::unix::fs::symlink("busybox", root.join("bin").join(tool)).unwrap();
    }
    chmod_tree(&root, 0o777);
    root
}

pub fn chmod_tree(path: &Path, mode: u32) {
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

/// Runs python3 code inside `husk ARGS --`, returns stdout.
pub fn py(u: User, args: &[&str], code: &str) -> String {
    let mut all = args.to_vec();
    all.extend(["--", "/usr/bin/python3", "-c", code]);
    let out = run(husk_as(u, &all), 30);
    let s = text(&out.stdout);
    assert!(out.status.success(), "{u:?}: {s}{}", text(&out.stderr));
    s
}

/// Like `py`, with `file` open as descriptor 7 (for `--seccomp 7` and the like); returns
/// stdout, whatever the exit status.
pub fn py_with_fd7(u: User, file: &Path, args: &str, code: &str) -> String {
    let script = format!(
        "exec 7<{}; {} {args} -- /usr/bin/python3 -c \"$1\"",
        file.display(),
        husk().display()
    );
    let out = run(
        command_as(u, Path::new("sh"), &["-c", &script, "sh", code]),
        10,
    );
    format!("{}{}", text(&out.stdout), text(&out.stderr))
}

pub const PRELUDE: &str = r#"
import ctypes, errno, os
libc = ctypes.CDLL(None, use_errno=True)
def sys(name, nr, *args):
    r = libc.syscall(ctypes.c_long(nr), *[ctypes.c_long(a) for a in args])
    print(f"{name}={errno.errorcode.get(ctypes.get_errno(), 'ok') if r == -1 else 'ok'}")
def c(name, r):
    print(f"{name}={errno.errorcode.get(ctypes.get_errno(), 'ok') if r == -1 else 'ok'}")
def attempt(name, fn):
    try:
        fn(); print(f"{name}=ok")
    except OSError as e:
        print(f"{name}={errno.errorcode[e.errno]}")
"#;

pub fn expect(u: User, out: &str, wants: &[&str]) {
    for want in wants {
        assert!(
            out.lines().any(|l| l == *want),
            "{u:?}: missing {want:?} in:\n{out}"
        );
    }
}

/// `/bin/sh -c SCRIPT` inside `husk ARGS --`, as `user`, with a deadline.
pub fn sandbox(u: User, args: &[&str], script: &str) -> Output {
    let mut all = args.to_vec();
    all.extend(["--", "/bin/sh", "-c", script]);
    run(husk_as(u, &all), 20)
}

/// Kills (and reaps) a child when dropped, also when the test panics first, so a failing
/// test leaves nothing running.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Removes a directory tree when dropped, also when the test panics first.
pub struct RemoveOnDrop(pub PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
