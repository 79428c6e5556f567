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

/// Two test cases per body, reported apart: `NAME::as_root` (SKIP when the suite is not
/// root) and `NAME::rootless`. Write `fn NAME(u: User) { ... }`; doc comments and other
/// attributes go on the module.
#[macro_export]
macro_rules! for_each_user {
    ($($(#[$meta:meta])* fn $name:ident($u:ident: User) $body:block)*) => {
        $(
            $(#[$meta])*
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                fn body($u: User) $body

                #[test]
                fn as_root() {
                    if !is_root() {
                        println!(
                            "SKIP {} as root: the suite is not running as root",
                            stringify!($name)
                        );
                        return;
                    }
                    body(User::Root);
                }

                #[test]
                fn rootless() {
                    body(User::Unprivileged);
                }
            }
        )*
    };
}

/// The program that runs husk, when the binary under test is not this machine's own (for
/// the aarch64, armv7 and riscv64 builds: `HUSK_TEST_RUNNER=qemu-aarch64-static`,
/// `qemu-arm-static`, `qemu-riscv64-static`, as binfmt_misc may not be registered); husk
/// is its first argument.
pub fn runner() -> Option<&'static str> {
    static R: OnceLock<Option<String>> = OnceLock::new();
    R.get_or_init(|| {
        std::env::var("HUSK_TEST_RUNNER")
            .ok()
            .filter(|r| !r.is_empty())
    })
    .as_deref()
}

/// husk as a shell command word (with the runner in front), for scripts run through sh.
pub fn husk_sh() -> String {
    match runner() {
        Some(r) => format!("{r} {}", husk().display()),
        None => husk().display().to_string(),
    }
}

/// What the first word of husk's processes' /proc/PID/comm is (the runner's name, cut to 15
/// bytes as the kernel does, under a runner).
pub fn husk_comm() -> String {
    let name = match runner() {
        Some(r) => Path::new(r)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned(),
        None => "husk".into(),
    };
    name.chars().take(15).collect()
}

/// Something the husk under test may be unable to do under a runner (qemu-user).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Needs {
    /// clone(2) with CLONE_NEW* flags: every sandbox.
    Namespaces,
    /// A seccomp filter (the default one, --seccomp, --restrict-af, --disable-userns).
    Seccomp,
    /// Landlock rules (--landlock-*, and the scopes every sandbox applies).
    Landlock,
    /// clone3 (--cgroup places COMMAND with CLONE_INTO_CGROUP).
    Clone3,
    /// prctl(PR_SET_CHILD_SUBREAPER) (-s, TINI_SUBREAPER).
    Subreaper,
}

/// Whether the husk under test can do `what` here; when it cannot, prints
/// `SKIP TEST on RUNNER: REASON` and returns false. Without a runner it always can. Under
/// one, husk is tried once per feature and only the known failure of that feature counts.
pub fn can(what: Needs, test: &str) -> bool {
    if init_only() && what != Needs::Subreaper {
        println!(
            "SKIP {test}{}: the husk under test is the init-only build (no sandbox, landlock or --cgroup)",
            which_user()
        );
        return false;
    }
    let Some(r) = runner() else { return true };
    static FOUND: [OnceLock<Option<&'static str>>; 5] = [const { OnceLock::new() }; 5];
    let why = *FOUND[what as usize].get_or_init(|| {
        let cgroup = std::env::temp_dir().join("husk-no-such-cgroup");
        let cgroup = cgroup.to_str().unwrap();
        let (args, failure, reason): (&[&str], &str, &str) = match what {
            Needs::Namespaces => (
                &["--no-default-seccomp", "--unshare-uts", "true"],
                "husk: creating namespaces (clone): Invalid argument",
                "clone(2) with CLONE_NEW* flags fails with EINVAL (qemu-user implements no namespace flags)",
            ),
            Needs::Seccomp => (
                &["--restrict-af", "inet", "true"],
                "husk: loading the seccomp filter: Function not implemented",
                "seccomp(2) fails with ENOSYS (qemu-user does not let the guest load filters)",
            ),
            Needs::Landlock => (
                &["--landlock-ro", "/", "true"],
                "not enforced",
                "the landlock calls fail with ENOSYS (qemu-user does not implement them), so husk warns \"not enforced\"",
            ),
            Needs::Clone3 => (
                &["--cgroup", cgroup, "true"],
                "husk: fork: Function not implemented",
                "clone3(2) fails with ENOSYS (qemu-user does not implement it), so --cgroup cannot place COMMAND",
            ),
            Needs::Subreaper => (
                &["-s", "true"],
                "husk: -s (PR_SET_CHILD_SUBREAPER): Invalid argument",
                "prctl(PR_SET_CHILD_SUBREAPER) fails with EINVAL (qemu-user refuses the prctl options it does not know)",
            ),
        };
        let out = run(husk_as(User::Root, args), 30);
        let err = text(&out.stderr);
        if what == Needs::Landlock && landlock_abi() == 0 {
            return None; // the kernel's own lack, which the tests handle themselves
        }
        err.contains(failure).then_some(reason)
    });
    match why {
        Some(reason) => {
            let runner = Path::new(r).file_name().unwrap().to_string_lossy();
            println!("SKIP {test}{} on {runner}: {reason}", which_user());
            false
        }
        None => true,
    }
}

/// Whether the husk under test is the init-only build (`make init-only`): its `--help` has
/// no sandbox options.
pub fn init_only() -> bool {
    static FOUND: OnceLock<bool> = OnceLock::new();
    *FOUND.get_or_init(|| {
        let out = run(husk_as(User::Root, &["--help"]), 10);
        !text(&out.stdout).contains("--rootfs")
    })
}

/// " as root" or " rootless" in a case of `for_each_user!` (from the test's thread name),
/// for SKIP lines printed by helpers.
fn which_user() -> &'static str {
    let t = std::thread::current();
    match t.name() {
        Some(n) if n.ends_with("::as_root") => " as root",
        Some(n) if n.ends_with("::rootless") => " rootless",
        _ => "",
    }
}

/// The landlock ABI of this kernel (0 without landlock).
pub fn landlock_abi() -> i64 {
    // SAFETY: a null attribute with size 0 and the VERSION flag only queries.
    let v = unsafe { libc::syscall(libc::SYS_landlock_create_ruleset, 0usize, 0usize, 1u32) };
    v.max(0)
}

/// The probe (tests/probe/probe.rs), built once with rustc for this machine, in a directory
/// every uid can read and that a `--rootfs /` sandbox still shows (/var/tmp: husk covers
/// /tmp). The build is keyed by the source, so later test processes reuse it.
pub fn probe() -> &'static Path {
    static PROBE: OnceLock<PathBuf> = OnceLock::new();
    PROBE.get_or_init(|| {
        use std::hash::{Hash, Hasher};
        const SOURCE: &str = include_str!("../probe/probe.rs");
        let target = format!("{}-unknown-linux-musl", std::env::consts::ARCH);
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (SOURCE, &target).hash(&mut h);
        // SAFETY: geteuid has no preconditions.
        let euid = unsafe { libc::geteuid() };
        let mut dir = PathBuf::from(format!("/var/tmp/husk-probe-{euid}-{:016x}", h.finish()));
        let trusted = |d: &Path| {
            use std::os::unix::fs::MetadataExt;
            std::fs::symlink_metadata(d)
                .is_ok_and(|m| m.is_dir() && m.uid() == euid && m.mode() & 0o022 == 0)
        };
        if dir.exists() && !trusted(&dir) {
            // Someone else's: a directory of this process's own instead.
            dir = PathBuf::from(format!("{}-{}", dir.display(), std::process::id()));
        }
        let bin = dir.join("probe");
        if bin.exists() {
            return bin;
        }
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(
            trusted(&dir),
            "{}: not this user's own directory",
            dir.display()
        );
        let src = dir.join(format!("probe-{}.rs", std::process::id()));
        std::fs::write(&src, SOURCE).unwrap();
        let tmp = dir.join(format!("probe-{}", std::process::id()));
        let rustc = std::env::var("RUSTC").unwrap_or("rustc".into());
        let mut cmd = Command::new(rustc);
        cmd.args([
            "--edition",
            "2021",
            "-C",
            "opt-level=s",
            "-C",
            "panic=abort",
        ])
        .args(["-C", "strip=debuginfo", "-C", "target-feature=+crt-static"])
        .args(["--target", &target]);
        if target.starts_with("aarch64") {
            cmd.args(["-C", "linker=rust-lld"]);
        }
        let out = cmd.arg(&src).arg("-o").arg(&tmp).output().unwrap();
        let _ = std::fs::remove_file(&src);
        assert!(
            out.status.success(),
            "building the probe: {}",
            text(&out.stderr)
        );
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::rename(&tmp, &bin).unwrap();
        bin
    })
}

/// The probe's path as a string, for command lines.
pub fn probe_path() -> &'static str {
    probe().to_str().unwrap()
}

/// `husk ARGS -- PROBE STEPS...` as `u`: stdout, after checking that it succeeded. A root
/// built by hand (no `--rootfs`) gets the probe's directory bound in read-only.
pub fn probe_in(u: User, args: &[&str], steps: &[&str]) -> String {
    let out = run(husk_as(u, &probe_args(args, steps)), 30);
    let s = text(&out.stdout);
    assert!(
        out.status.success(),
        "{u:?} {args:?}: {s}{}",
        text(&out.stderr)
    );
    s
}

/// The arguments of husk for `probe_in`.
pub fn probe_args<'a>(args: &[&'a str], steps: &[&'a str]) -> Vec<&'a str> {
    let mut all = args.to_vec();
    if all.contains(&"--unshare-all") && !all.contains(&"--rootfs") {
        let dir = probe().parent().unwrap().to_str().unwrap();
        all.extend(["--ro-bind", dir, dir]);
    }
    all.extend(["--", probe_path()]);
    all.extend(steps);
    all
}

/// Like `probe_in`, with `file` open as descriptor 7 (for `--seccomp 7` and the like);
/// returns stdout and stderr, whatever the exit status.
pub fn probe_with_fd7(u: User, file: &Path, args: &str, steps: &[&str]) -> String {
    let script = format!("exec 7<{}; {} {args} -- \"$@\"", file.display(), husk_sh());
    let mut all = vec!["-c", &script, "sh", probe_path()];
    all.extend(steps);
    let out = run(command_as(u, Path::new("sh"), &all), 30);
    format!("{}{}", text(&out.stdout), text(&out.stderr))
}

/// A command that runs `program args...` as `user`, in the scratch directory; husk itself
/// through the runner, when there is one.
pub fn command_as(user: User, program: &Path, args: &[&str]) -> Command {
    let mut words: Vec<&std::ffi::OsStr> = Vec::new();
    if program == husk() {
        if let Some(r) = runner() {
            words.push(r.as_ref());
        }
    }
    words.push(program.as_os_str());
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
        .args(&words);
        c
    } else {
        let mut c = Command::new(words[0]);
        c.args(&words[1..]);
        c
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

    /// The next line, or None when none comes in `secs` seconds.
    pub fn try_next(&self, secs: u64) -> Option<String> {
        self.rx.recv_timeout(Duration::from_secs(secs)).ok()
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
    !matches!(state_of(pid), 'Z' | '?')
}

/// A process's state letter from /proc/PID/stat (`R`, `S`, `T`, `Z`...; `?` when gone).
pub fn state_of(pid: u32) -> char {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat.rsplit(')')
        .next()
        .and_then(|r| r.trim().chars().next())
        .unwrap_or('?')
}

/// The live processes whose command line holds `marker`.
pub fn with_marker(marker: &str) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        if alive(pid) && String::from_utf8_lossy(&cmdline).contains(marker) {
            found.push(pid);
        }
    }
    found
}

/// Whether `pid` sleeps in rt_sigtimedwait (the first field of /proc/PID/syscall: 128 on
/// this x86_64 host, also where qemu-user carries out the guest's call): an init waiting
/// there has every signal blocked, so a SIGTERM is a request to it, not its death.
pub fn waits_for_signals(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/syscall")).is_ok_and(|s| s.starts_with("128 "))
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

/// A compiled seccomp filter (bubblewrap's `--seccomp` format) in the scratch directory,
/// `NAME.bpf`, that makes system call `nr` fail with `errno` and allows the rest (callers
/// write it once, behind a OnceLock).
pub fn deny_one_syscall(name: &str, nr: i64, errno: u32) -> PathBuf {
    let path = scratch().join(format!("{name}.bpf"));
    let ins: [(u16, u8, u8, u32); 4] = [
        (0x20, 0, 0, 0),                   // ld [nr]
        (0x15, 0, 1, nr as u32),           // jeq nr
        (0x06, 0, 0, 0x0005_0000 | errno), // ret ERRNO(errno)
        (0x06, 0, 0, 0x7fff_0000),         // ret ALLOW
    ];
    let mut bytes = Vec::new();
    for (code, jt, jf, k) in ins {
        bytes.extend(code.to_ne_bytes());
        bytes.extend([jt, jf]);
        bytes.extend(k.to_ne_bytes());
    }
    // Written beside, then renamed: two cases of one test may write it at once.
    let tmp = scratch().join(format!(
        "{name}.bpf.{}",
        std::thread::current().name().unwrap_or("t").len()
    ));
    std::fs::write(&tmp, bytes).unwrap();
    std::fs::rename(&tmp, &path).unwrap();
    path
}
