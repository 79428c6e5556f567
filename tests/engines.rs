//! husk under real container engines: podman (as root, with runc and storage of its own)
//! and Debian's docker.io (a dockerd of its own, started here and stopped at exit), with
//! images imported from a tar of a busybox root, so no registry is needed.
//!
//! `make test-engine` runs this file with HUSK_ENGINES=required: an engine that is missing,
//! or a dockerd that does not start, fails the test. With HUSK_ENGINES set to anything else
//! they print SKIP; unset (plain `cargo test`, `make test`), every test prints SKIP at once.
//! Root only: rootless podman is out of scope.
//!
//! Everything lives in /tmp/hke-PID (short: podman's cleanup waits 20 s when its --runroot
//! path is 50 characters or more) and is removed at exit, dockerd included, also after a
//! failed test; a later run first removes what a killed run left.

mod common;

use common::*;
use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Where this process keeps engine state (PREFIX + pid).
const PREFIX: &str = "/tmp/hke-";

/// Debian's tools first: /usr/local/bin may hold a newer docker client only.
const SYSTEM_PATH: &str = "/usr/sbin:/usr/bin:/sbin:/bin";

const PODMAN: &str = "/usr/bin/podman";
const RUNC: &str = "/usr/bin/runc";
const DOCKER: &str = "/usr/bin/docker";
const DOCKERD: &str = "/usr/sbin/dockerd";

/// A payload that says when its TERM and USR1 traps ran.
const TRAPS: &str = r#"trap "echo got-term; exit 0" TERM; trap "echo got-usr1" USR1; echo ready; while :; do sleep 1; done"#;

/// A sandbox inside the container, with husk's default hostname (none asked for).
const SANDBOX: &str =
    "/husk --unshare-all --ro-bind / / --proc /proc --dev /dev sh -c 'hostname; echo ok'";

// ---- the gate ------------------------------------------------------------------------

fn required() -> bool {
    std::env::var("HUSK_ENGINES").is_ok_and(|v| v == "required")
}

/// Whether `test` runs: HUSK_ENGINES is set, and this is root running the native binary.
fn enabled(test: &str) -> bool {
    if std::env::var("HUSK_ENGINES").map_or(true, |v| v.is_empty()) {
        println!(
            "SKIP {test}: the engine suite runs under `make test-engine` (HUSK_ENGINES is unset)"
        );
        return false;
    }
    if !is_root() {
        return unavailable(
            test,
            "needs root (rootless podman and docker are out of scope)",
        );
    }
    if runner().is_some() {
        return unavailable(
            test,
            "the engines run the native binary, not one under HUSK_TEST_RUNNER",
        );
    }
    true
}

/// Something `test` needs is missing: SKIP, or fail under HUSK_ENGINES=required.
fn unavailable(test: &str, why: &str) -> bool {
    assert!(
        !required(),
        "{test}: {why} (HUSK_ENGINES=required: the engine tests must run)"
    );
    println!("SKIP {test}: {why}");
    false
}

fn have(test: &str, bins: &[&str]) -> bool {
    match bins.iter().find(|b| !Path::new(b).exists()) {
        Some(b) => unavailable(
            test,
            &format!("{b} is not installed (make test-engine installs it)"),
        ),
        None => true,
    }
}

// ---- state, image and cleanup --------------------------------------------------------

/// This process's directory for engine state, made once; removed at exit.
fn work() -> &'static Path {
    WORK.get_or_init(|| {
        sweep_stale();
        let dir = PathBuf::from(format!("{PREFIX}{}", std::process::id()));
        if dir.exists() {
            clean_dir(&dir);
        }
        std::fs::create_dir_all(&dir).unwrap();
        // SAFETY: the handler takes no arguments and catches its own panics.
        assert_eq!(unsafe { libc::atexit(clean_at_exit) }, 0);
        dir
    })
}

static WORK: OnceLock<PathBuf> = OnceLock::new();

/// The dockerd this process started, stopped (by its Drop) at exit.
static DAEMON: Mutex<Option<Daemon>> = Mutex::new(None);

extern "C" fn clean_at_exit() {
    let _ = std::panic::catch_unwind(|| {
        let daemon = DAEMON.lock().map(|mut d| d.take()).unwrap_or(None);
        drop(daemon);
        if let Some(dir) = WORK.get() {
            clean_dir(dir);
        }
        // common's copy of husk (made for under_pty's working directory).
        let _ = std::fs::remove_dir_all(scratch());
    });
}

/// Removes what an earlier run, since killed, left in /tmp.
fn sweep_stale() {
    for entry in std::fs::read_dir("/tmp").unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(&PREFIX["/tmp/".len()..])
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if pid != std::process::id() && !comm.starts_with("engines-") {
            clean_dir(&entry.path());
        }
    }
}

/// Stops what runs from `dir` (its dockerd, its podman containers, any process naming it),
/// unmounts what is mounted under it, and removes it.
fn clean_dir(dir: &Path) {
    let marker = format!("{}/", dir.display());
    if let Some(pid) = std::fs::read_to_string(dir.join("d/pid"))
        .ok()
        .and_then(|p| p.trim().parse::<u32>().ok())
    {
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        if String::from_utf8_lossy(&cmdline).contains(&marker) {
            stop_pid(pid, 30);
        }
    }
    if dir.join("p").exists() && Path::new(PODMAN).exists() {
        let p = podman_engine(&dir.join("p"));
        let _ = run(p.cmd(&["rm", "--all", "--force", "--time", "0"]), 60);
    }
    for pid in with_marker(&marker) {
        kill(pid, libc::SIGKILL);
    }
    let mut mounts: Vec<String> = std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split(' ').nth(4).map(str::to_owned))
        .filter(|m| m.starts_with(&marker))
        .collect();
    mounts.sort_by_key(|m| std::cmp::Reverse(m.len()));
    for m in mounts {
        let c = std::ffi::CString::new(m).unwrap();
        // SAFETY: a valid C string; MNT_DETACH has no other preconditions.
        unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) };
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// SIGTERM, then SIGKILL after `secs` seconds, for a process that is not this one's child.
fn stop_pid(pid: u32, secs: u64) {
    kill(pid, libc::SIGTERM);
    if !eventually(secs, || !alive(pid)) {
        kill(pid, libc::SIGKILL);
        eventually(5, || !alive(pid));
    }
}

/// husk as the suite tests it (HUSK_TEST_BIN, or this build's), copied into the state
/// directory, where --init-path and the image take it from.
fn husk_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let from = std::env::var("HUSK_TEST_BIN").unwrap_or(env!("CARGO_BIN_EXE_husk").into());
        let to = work().join("husk");
        std::fs::copy(from, &to).unwrap();
        chmod_tree(&to, 0o755);
        to
    })
}

/// What `husk --version` prints (`husk version X - git.COMMIT`).
fn husk_version() -> &'static str {
    static V: OnceLock<String> = OnceLock::new();
    V.get_or_init(|| {
        let mut cmd = Command::new(husk_bin());
        cmd.arg("--version");
        let out = run(cmd, 10);
        assert!(out.status.success());
        text(&out.stdout).trim().to_owned()
    })
}

/// Whether an ELF file asks for a program interpreter (is dynamically linked).
fn is_dynamic(elf: &[u8]) -> bool {
    let u16_at = |o: usize| u16::from_le_bytes([elf[o], elf[o + 1]]) as usize;
    let phoff = u64::from_le_bytes(elf[0x20..0x28].try_into().unwrap()) as usize;
    let (size, count) = (u16_at(0x36), u16_at(0x38));
    (0..count).any(|i| {
        let at = phoff + i * size;
        u32::from_le_bytes(elf[at..at + 4].try_into().unwrap()) == 3 // PT_INTERP
    })
}

/// The image's root as a tar, made once: Debian's static busybox with its applets as
/// symlinks, husk at /husk, and the empty directories a runtime mounts on.
fn image_tar() -> &'static Path {
    static TAR: OnceLock<PathBuf> = OnceLock::new();
    TAR.get_or_init(|| {
        let busybox = std::fs::read("/bin/busybox").expect("/bin/busybox (busybox-static)");
        assert!(
            busybox.starts_with(b"\x7fELF") && !is_dynamic(&busybox),
            "/bin/busybox is not static: apt-get install busybox-static"
        );
        let root = work().join("rootfs");
        for d in ["bin", "proc", "dev", "sys", "tmp", "etc", "run"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        std::fs::write(root.join("bin/busybox"), busybox).unwrap();
        for tool in [
            "sh", "cat", "echo", "sleep", "kill", "hostname", "readlink", "ls", "true",
        ] {
            std::os::unix::fs::symlink("busybox", root.join("bin").join(tool)).unwrap();
        }
        std::fs::copy(husk_bin(), root.join("husk")).unwrap();
        chmod_tree(&root, 0o755);
        let tar = work().join("rootfs.tar");
        let mut cmd = Command::new("tar");
        cmd.arg("-C").arg(&root);
        cmd.args(["--numeric-owner", "--owner=0", "--group=0", "-cf"]);
        cmd.arg(&tar).arg(".");
        let out = run(cmd, 30);
        assert!(out.status.success(), "tar: {}", text(&out.stderr));
        tar
    })
}

// ---- engines -------------------------------------------------------------------------

/// One engine's command line: the program and the global options that point it at this
/// process's state, the options every `run` gets, and the image (reusable for `podman
/// kube play` and the like through `cmd`).
struct Engine {
    program: &'static str,
    global: Vec<String>,
    env: Vec<(&'static str, String)>,
    run_opts: Vec<String>,
    image: &'static str,
}

impl Engine {
    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(self.program);
        c.args(&self.global).args(args).env("PATH", SYSTEM_PATH);
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c.stdin(Stdio::null());
        c
    }

    /// `ENGINE run RUN_OPTS OPTS IMAGE ARGS...`.
    fn run_cmd(&self, opts: &[&str], args: &[&str]) -> Command {
        let mut all = vec!["run"];
        all.extend(self.run_opts.iter().map(String::as_str));
        all.extend(opts);
        all.push(self.image);
        all.extend(args);
        self.cmd(&all)
    }

    /// `ENGINE run --rm OPTS IMAGE ARGS...` to completion.
    fn run_rm(&self, opts: &[&str], args: &[&str]) -> Output {
        let mut all = vec!["--rm"];
        all.extend(opts);
        run(self.run_cmd(&all, args), 60)
    }

    /// stdout of `ENGINE ARGS...`, which must succeed.
    fn ok(&self, args: &[&str]) -> String {
        let out = run(self.cmd(args), 60);
        assert!(
            out.status.success(),
            "{} {args:?}: {}{}",
            self.program,
            text(&out.stdout),
            text(&out.stderr)
        );
        text(&out.stdout)
    }

    /// Imports the image from `image_tar`, with husk as its ENTRYPOINT.
    fn import(&self) {
        let tar = image_tar().to_str().unwrap();
        let entrypoint = r#"ENTRYPOINT ["/husk","--"]"#;
        self.ok(&["import", "--change", entrypoint, tar, self.image]);
    }

    /// The command as one shell line (for script(1)).
    fn shell_line(cmd: &Command) -> String {
        let q = |s: &OsStr| format!("'{}'", s.to_string_lossy().replace('\'', r"'\''"));
        let mut words = vec!["env".to_owned()];
        for (k, v) in cmd.get_envs() {
            let mut kv = k.to_owned();
            kv.push("=");
            kv.push(v.unwrap_or_default());
            words.push(q(&kv));
        }
        words.push(q(cmd.get_program()));
        words.extend(cmd.get_args().map(q));
        words.join(" ")
    }
}

/// Options and their values as words.
fn words<const N: usize>(pairs: [(&str, String); N]) -> Vec<String> {
    pairs
        .into_iter()
        .flat_map(|(o, v)| [o.to_owned(), v])
        .collect()
}

/// podman with all of its state under `dir`: storage, run root, libpod's tmpdir, network
/// configs and runc's state; runc, as crun refuses this machine's hybrid cgroups.
fn podman_engine(dir: &Path) -> Engine {
    let at = |x: &str| dir.join(x).display().to_string();
    let runroot = at("run");
    assert!(
        runroot.len() < 50,
        "podman waits 20 s per run with a long --runroot: {runroot}"
    );
    let global = [
        ("--root", at("root")),
        ("--runroot", runroot),
        ("--tmpdir", at("tmp")),
        ("--network-config-dir", at("net")),
        ("--runtime", "runc".into()),
        ("--runtime-flag", format!("root={}", at("runc"))),
        ("--cgroup-manager", "cgroupfs".into()),
        ("--events-backend", "file".into()),
    ];
    // podman's default limits (nofile 1048576...) are above this machine's hard limits, and
    // a container cannot raise them: ask for ones under the hard limits.
    let limit = |res| {
        // SAFETY: getrlimit writes one struct rlimit.
        let mut r: libc::rlimit = unsafe { std::mem::zeroed() };
        // SAFETY: as above.
        unsafe { libc::getrlimit(res, &mut r) };
        r.rlim_max.min(4096)
    };
    let nofile = limit(libc::RLIMIT_NOFILE);
    let nproc = limit(libc::RLIMIT_NPROC);
    // The same limits for what `--ulimit` cannot reach (`kube play`, `build`).
    std::fs::create_dir_all(dir).unwrap();
    let conf = dir.join("containers.conf");
    let ulimits = format!("\"nofile={nofile}:{nofile}\", \"nproc={nproc}:{nproc}\"");
    std::fs::write(
        &conf,
        format!("[containers]\ndefault_ulimits = [{ulimits}]\n"),
    )
    .unwrap();
    Engine {
        program: PODMAN,
        global: words(global),
        env: vec![("CONTAINERS_CONF", conf.display().to_string())],
        run_opts: words([
            ("--network", "none".into()),
            ("--ulimit", format!("nofile={nofile}:{nofile}")),
            ("--ulimit", format!("nproc={nproc}:{nproc}")),
        ]),
        image: "localhost/husk-engine-test:latest",
    }
}

/// podman as root, with the image imported (once), or None after SKIP.
fn podman(test: &str) -> Option<&'static Engine> {
    if !enabled(test) || !have(test, &[PODMAN, RUNC]) {
        return None;
    }
    static P: OnceLock<Engine> = OnceLock::new();
    Some(P.get_or_init(|| {
        let e = podman_engine(&work().join("p"));
        let t = Instant::now();
        e.import();
        println!("TIME podman import: {:.2}s", t.elapsed().as_secs_f64());
        e
    }))
}

/// A dockerd of this process's own, stopped by pid when dropped.
struct Daemon {
    child: Child,
    log: PathBuf,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let t = Instant::now();
        kill(self.child.id(), libc::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.child.try_wait().ok().flatten().is_none() {
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        println!("TIME dockerd stop: {:.2}s", t.elapsed().as_secs_f64());
    }
}

impl Daemon {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// dockerd with husk as its init (`--init-path`), no iptables, no bridge, and its data,
/// exec root (and so its containerd), socket and pidfile under the state directory.
fn start_docker() -> Result<Engine, String> {
    let dir = work().join("d");
    std::fs::create_dir_all(dir.join("client")).unwrap();
    let at = |x: &str| dir.join(x).display().to_string();
    let host = format!("unix://{}", at("sock"));
    let log = dir.join("log");
    let out = std::fs::File::create(&log).unwrap();
    let t = Instant::now();
    let child = Command::new(DOCKERD)
        .args([
            "--iptables=false",
            "--bridge=none",
            "--data-root",
            &at("data"),
        ])
        .args([
            "--exec-root",
            &at("exec"),
            "-H",
            &host,
            "--pidfile",
            &at("pid"),
        ])
        .arg("--init-path")
        .arg(husk_bin())
        .env("PATH", SYSTEM_PATH)
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .map_err(|e| format!("{DOCKERD}: {e}"))?;
    let mut daemon = Daemon { child, log };
    let e = Engine {
        program: DOCKER,
        global: vec!["-H".into(), host],
        env: vec![("DOCKER_CONFIG", at("client"))],
        run_opts: vec!["--network".into(), "none".into()],
        image: "husk-engine-test:latest",
    };
    let tail = |d: &Daemon| {
        let log = d.log();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    };
    loop {
        if let Ok(Some(st)) = daemon.child.try_wait() {
            return Err(format!("dockerd exited ({st}):\n{}", tail(&daemon)));
        }
        if run(e.cmd(&["info", "--format", "{{.ID}}"]), 10)
            .status
            .success()
        {
            break;
        }
        if t.elapsed() > Duration::from_secs(60) {
            return Err(format!(
                "dockerd did not answer in 60 s:\n{}",
                tail(&daemon)
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    println!("TIME dockerd start: {:.2}s", t.elapsed().as_secs_f64());
    *DAEMON.lock().unwrap() = Some(daemon);
    e.import();
    Ok(e)
}

/// The private dockerd, started once, with the image imported, or None after SKIP.
fn docker(test: &str) -> Option<&'static Engine> {
    if !enabled(test) || !have(test, &[DOCKER, DOCKERD]) {
        return None;
    }
    static D: OnceLock<Result<Engine, String>> = OnceLock::new();
    match D.get_or_init(start_docker) {
        Ok(e) => Some(e),
        Err(why) => {
            unavailable(test, why);
            None
        }
    }
}

/// A named container, killed and removed when dropped (also when the test fails first).
struct Container<'a> {
    engine: &'a Engine,
    name: String,
}

impl<'a> Container<'a> {
    fn new(engine: &'a Engine, test: &str) -> Self {
        let name = format!("hk-{test}-{}", std::process::id());
        Container { engine, name }
    }

    fn logs(&self) -> String {
        let out = run(self.engine.cmd(&["logs", &self.name]), 30);
        format!("{}{}", text(&out.stdout), text(&out.stderr))
    }

    /// Waits up to `secs` for a line of the container's log equal to `want`.
    fn wait_log(&self, want: &str, secs: u64) {
        let has = || self.logs().lines().any(|l| l.trim() == want);
        assert!(
            eventually(secs, has),
            "{}: no {want:?} in its log:\n{}",
            self.name,
            self.logs()
        );
    }
}

impl Drop for Container<'_> {
    fn drop(&mut self) {
        let _ = run(self.engine.cmd(&["kill", &self.name]), 30);
        let _ = run(self.engine.cmd(&["rm", "--force", &self.name]), 30);
    }
}

// ---- checks shared by the engines ----------------------------------------------------

/// What holds whatever makes husk the container's PID 1: `opts` are the run options that do
/// it (none: the image's ENTRYPOINT), `comm` is the name PID 1 then has.
fn init_checks(e: &Engine, test: &str, opts: &[&str], comm: &str) {
    let t = Instant::now();
    // PID 1 runs husk's binary, whatever it is named.
    let out = e.run_rm(
        opts,
        &["sh", "-c", "cat /proc/1/comm; /proc/1/exe --version"],
    );
    let seen = text(&out.stdout);
    assert!(out.status.success(), "{test}: {seen}{}", text(&out.stderr));
    assert_eq!(
        seen.lines().collect::<Vec<_>>(),
        [comm, husk_version()],
        "{test}: PID 1 is not husk"
    );

    // Exit statuses pass through, 128+N for a signal.
    for (script, want) in [("exit 3", 3), ("kill -9 $$", 137), ("kill -TERM $$", 143)] {
        let out = e.run_rm(opts, &["sh", "-c", script]);
        assert_eq!(
            code(out.status),
            want,
            "{test}: {script}: {}",
            text(&out.stderr)
        );
    }

    // An orphan is handed to PID 1 and reaped once it exits: no zombie stays.
    let script = r#"o=$(sh -c 'sleep 0.5 </dev/null >/dev/null 2>&1 & echo $!')
        read -r pid name state ppid rest < /proc/$o/stat; echo "orphan $o $ppid"
        sleep 1.5
        for f in /proc/[0-9]*/stat; do read -r pid name state rest 2>/dev/null <$f && echo "proc $pid $name $state"; done"#;
    let out = e.run_rm(opts, &["sh", "-c", script]);
    let seen = text(&out.stdout);
    assert!(out.status.success(), "{test}: {seen}{}", text(&out.stderr));
    let orphan: Vec<&str> = seen
        .lines()
        .find_map(|l| l.strip_prefix("orphan "))
        .expect("the orphan's line")
        .split(' ')
        .collect();
    assert_eq!(
        orphan[1], "1",
        "{test}: the orphan was not handed to PID 1:\n{seen}"
    );
    let procs: Vec<Vec<&str>> = seen
        .lines()
        .filter_map(|l| l.strip_prefix("proc "))
        .map(|l| l.split(' ').collect())
        .collect();
    assert!(
        procs.iter().any(|p| p[0] == "1"),
        "{test}: no processes listed:\n{seen}"
    );
    assert!(
        procs.iter().all(|p| p[0] != orphan[0] && p[2] != "Z"),
        "{test}: a zombie was left:\n{seen}"
    );

    // A running container: exec, a forwarded USR1, and a stop that the TERM trap answers.
    let c = Container::new(e, test);
    let mut all = vec!["-d", "--name", &c.name];
    all.extend(opts);
    let out = run(e.run_cmd(&all, &["sh", "-c", TRAPS]), 60);
    assert!(out.status.success(), "{test}: {}", text(&out.stderr));
    c.wait_log("ready", 15);
    assert_eq!(e.ok(&["exec", &c.name, "cat", "/proc/1/comm"]).trim(), comm);
    e.ok(&["kill", "--signal", "USR1", &c.name]);
    c.wait_log("got-usr1", 10);
    let stop = Instant::now();
    e.ok(&["stop", "-t", "10", &c.name]);
    let took = stop.elapsed();
    assert!(took < Duration::from_secs(5), "{test}: stop took {took:?}");
    let status = e.ok(&["inspect", "--format", "{{.State.ExitCode}}", &c.name]);
    assert_eq!(
        status.trim(),
        "0",
        "{test}: the TERM trap did not end it:\n{}",
        c.logs()
    );
    c.wait_log("got-term", 1);
    println!(
        "TIME {test}: {:.2}s (stop {:.2}s)",
        t.elapsed().as_secs_f64(),
        took.as_secs_f64()
    );
}

/// What a sandbox made inside a container should end in.
#[derive(Debug)]
enum Want {
    /// husk fails with this one line and 125.
    Fails(&'static str),
    /// It runs; with the default hostname set (Some("husk")), or kept as the container's
    /// where the profile refuses sethostname (None: husk's default name is best effort).
    Runs(Option<&'static str>),
}

/// A seccomp profile refuses namespaces (Docker's default one).
const NO_NAMESPACES: &str = "husk: creating namespaces (clone): Operation not permitted";

/// The container's /proc has masked paths, so the kernel refuses a fresh proc (EPERM); the
/// line src/sandbox/mounts.rs prints then (PROC_REFUSED), which says what to run instead.
const MASKED_PROC: &str = "husk: --proc /proc: Operation not permitted (this /proc has masked \
    paths, as in a container: run it with systempaths=unconfined, or procMount: Unmasked)";

/// Runs SANDBOX in a container made with each case's options, after `hostname` there.
fn sandbox_checks(e: &Engine, test: &str, cases: &[(&[&str], Want)]) {
    for (opts, want) in cases {
        let t = Instant::now();
        let mut all = vec!["--entrypoint", ""];
        all.extend(*opts);
        let script = format!("hostname; exec {SANDBOX}");
        let out = e.run_rm(&all, &["sh", "-c", &script]);
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        let status = code(out.status);
        let what = format!("{test} {opts:?}: status {status}\n{stdout}{stderr}");
        // Whatever else happens, husk's own default hostname is never what fails.
        assert!(!stderr.contains("--hostname husk:"), "{what}");
        let lines: Vec<&str> = stdout.lines().collect();
        match want {
            Want::Runs(name) => {
                assert_eq!(status, 0, "{what}");
                assert_eq!(lines.len(), 3, "{what}");
                assert_eq!(lines[1], name.unwrap_or(lines[0]), "{what}");
                assert_eq!(lines[2], "ok", "{what}");
            }
            Want::Fails(line) => {
                assert_eq!(status, 125, "{what}");
                assert!(line.starts_with("husk: "));
                assert_eq!(stderr, format!("{line}\n"), "{what}");
            }
        }
        let how = match status {
            0 => stdout.replace('\n', " "),
            _ => stderr.trim_end().to_owned(),
        };
        println!("{test} {opts:?}: {how} ({:.2}s)", t.elapsed().as_secs_f64());
    }
}

/// COMMAND's host pid: the `sh` child of the husk whose command line holds `marker` (not
/// the first marked sh, which may be script's own).
fn payload_of(marker: &str) -> Option<u32> {
    let is = |pid: &u32, comm: &str| {
        std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == comm)
    };
    let husk = with_marker(marker).into_iter().find(|p| is(p, "husk"))?;
    children_of(husk).into_iter().find(|p| is(p, "sh"))
}

/// Skips the pty's lines until one is `want` (a container's terminal adds a \r).
fn expect_line(lines: &Lines, want: &str, secs: u64) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut seen = String::new();
    while Instant::now() < deadline {
        match lines.try_next(1) {
            Some(l) if l.trim() == want => return,
            Some(l) => seen += &format!("{l}\n"),
            None => {}
        }
    }
    panic!("never saw {want:?}; saw:\n{seen}");
}

// ---- podman --------------------------------------------------------------------------

/// husk as the image's ENTRYPOINT (`/husk --`).
#[test]
fn podman_entrypoint_is_pid1() {
    let Some(e) = podman("podman_entrypoint_is_pid1") else {
        return;
    };
    init_checks(e, "podman_entrypoint_is_pid1", &[], "husk");
}

/// husk as podman's init: `--init --init-path husk` (podman mounts it as /run/podman-init).
#[test]
fn podman_init_path_is_pid1() {
    let Some(e) = podman("podman_init_path_is_pid1") else {
        return;
    };
    let bin = husk_bin().to_str().unwrap();
    let opts = ["--init", "--init-path", bin, "--entrypoint", ""];
    init_checks(e, "podman_init_path_is_pid1", &opts, "podman-init");
}

/// `podman run -it` with husk as PID 1 and the terminal's session leader: a SIGSTOP sent to
/// COMMAND from outside stays, Ctrl-Z is undone (PID 1 has no shell to hand a stop to),
/// and Ctrl-C ends the container with 130.
#[test]
fn podman_terminal_job_control() {
    const T: &str = "podman_terminal_job_control";
    let Some(e) = podman(T) else { return };
    let t = Instant::now();
    let c = Container::new(e, T);
    let marker = c.name.clone();
    let payload = "echo ready; while :; do sleep 1; done";
    let cmd = e.run_cmd(
        &["--rm", "-it", "--name", &marker],
        &["sh", "-c", payload, &marker],
    );
    let (child, lines) = under_pty(User::Root, &Engine::shell_line(&cmd));
    let mut child = KillOnDrop(child);
    expect_line(&lines, "ready", 30);
    let mut pid = None;
    assert!(eventually(5, || {
        pid = payload_of(&marker);
        pid.is_some()
    }));
    let pid = pid.unwrap();
    kill(pid, libc::SIGSTOP);
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(state_of(pid), 'T', "a SIGSTOP from outside was undone");
    kill(pid, libc::SIGCONT);
    let stdin = child.0.stdin.as_mut().unwrap();
    stdin.write_all(b"\x1a").unwrap(); // Ctrl-Z
    std::thread::sleep(Duration::from_millis(700));
    assert_ne!(state_of(pid), 'T', "Ctrl-Z left COMMAND stopped");
    stdin.write_all(b"\x03").unwrap(); // Ctrl-C
    assert_eq!(code(wait_for(&mut child.0, 20)), 130);
    println!("TIME {T}: {:.2}s", t.elapsed().as_secs_f64());
}

/// A sandbox inside a rootful podman container: podman's default profile lets namespaces
/// be made, but its /proc has masked paths, so a fresh proc is refused and husk says what
/// to run instead; with systempaths=unconfined it runs (the default hostname then stays
/// the container's, as the profile refuses sethostname), and fully unconfined or
/// privileged it gets husk's default hostname.
#[test]
fn podman_sandbox_inside() {
    const T: &str = "podman_sandbox_inside";
    let Some(e) = podman(T) else { return };
    let unconfined: &[&str] = &["--security-opt", "seccomp=unconfined"];
    let cases: &[(&[&str], Want)] = &[
        (&[], Want::Fails(MASKED_PROC)),
        (
            &["--cap-add", "SYS_ADMIN", unconfined[0], unconfined[1]],
            Want::Fails(MASKED_PROC),
        ),
        (
            &["--security-opt", "systempaths=unconfined"],
            Want::Runs(None),
        ),
        (
            &[
                "--security-opt",
                "systempaths=unconfined",
                unconfined[0],
                unconfined[1],
            ],
            Want::Runs(Some("husk")),
        ),
        (&["--privileged"], Want::Runs(Some("husk"))),
    ];
    sandbox_checks(e, T, cases);
}

// ---- pods: podman kube play of examples/ -----------------------------------------------

/// examples/, where the README's Containerfile and pod manifests live.
fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")
}

/// The image of examples/Containerfile, built once as its header says (a context holding
/// husk and the static busybox); the manifests under examples/ name it.
fn example_image(e: &Engine) {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let ctx = work().join("ctx");
        std::fs::create_dir_all(&ctx).unwrap();
        std::fs::copy(husk_bin(), ctx.join("husk")).unwrap();
        std::fs::copy("/bin/busybox", ctx.join("busybox")).unwrap();
        let file = examples().join("Containerfile");
        let (file, ctx) = (file.to_str().unwrap(), ctx.to_str().unwrap());
        let t = Instant::now();
        let tag = "localhost/husk-example:latest";
        e.ok(&["build", "--network", "none", "-f", file, "-t", tag, ctx]);
        println!("TIME podman build: {:.2}s", t.elapsed().as_secs_f64());
    });
}

/// A pod of `podman kube play`, taken down (`kube down`) when dropped.
struct Pod<'a> {
    engine: &'a Engine,
    manifest: String,
    /// Its container `app`, as podman names it: POD-app.
    app: Container<'a>,
}

impl<'a> Pod<'a> {
    fn play(engine: &'a Engine, manifest: &Path, pod: &str) -> Self {
        let manifest = manifest.to_str().unwrap().to_owned();
        engine.ok(&["kube", "play", "--network", "none", &manifest]);
        let app = Container {
            engine,
            name: format!("{pod}-app"),
        };
        Pod {
            engine,
            manifest,
            app,
        }
    }

    /// The app container's exit code, once it has exited (within `secs`).
    fn exit_code(&self, secs: u64) -> i32 {
        let state = |f: &str| self.engine.ok(&["inspect", "--format", f, &self.app.name]);
        let exited = eventually(secs, || state("{{.State.Status}}").trim() == "exited");
        assert!(
            exited,
            "{} did not exit:\n{}",
            self.app.name,
            self.app.logs()
        );
        state("{{.State.ExitCode}}").trim().parse().unwrap()
    }

    /// `podman kube down`, timed.
    fn down(&self) -> Duration {
        let t = Instant::now();
        let out = run(self.engine.cmd(&["kube", "down", &self.manifest]), 60);
        assert!(out.status.success(), "kube down: {}", text(&out.stderr));
        t.elapsed()
    }
}

impl Drop for Pod<'_> {
    fn drop(&mut self) {
        let _ = run(self.engine.cmd(&["kube", "down", &self.manifest]), 60);
    }
}

/// The log lines of a container, trimmed.
fn log_lines(c: &Container) -> Vec<String> {
    c.logs().lines().map(|l| l.trim().to_owned()).collect()
}

/// examples/pod.yaml: husk as the image's ENTRYPOINT in a pod, PID 1, COMMAND its child,
/// the exit status passed through. examples/pod-sandbox.yaml: a sandboxed payload
/// (`--rootfs /`) in a pod. Both from the image examples/Containerfile builds.
#[test]
fn podman_kube_play_pods() {
    const T: &str = "podman_kube_play_pods";
    let Some(e) = podman(T) else { return };
    example_image(e);
    let pod = Pod::play(e, &examples().join("pod.yaml"), "husk-pod");
    assert_eq!(pod.exit_code(30), 3, "{T}: {}", pod.app.logs());
    assert_eq!(log_lines(&pod.app), ["husk", "ppid 1"], "{T}: pod.yaml");
    drop(pod);

    let pod = Pod::play(e, &examples().join("pod-sandbox.yaml"), "husk-sandbox");
    assert_eq!(pod.exit_code(30), 5, "{T}: {}", pod.app.logs());
    assert_eq!(
        log_lines(&pod.app),
        ["husk", "husk", "read-only"],
        "{T}: pod-sandbox.yaml: the hostname, PID 1 and the read-only root inside"
    );
}

/// examples/pod-shared-pid.yaml: with shareProcessNamespace the infra process is PID 1 and
/// husk runs with -s: the orphan comes to husk and is reaped, a USR1 reaches COMMAND, and
/// the status it exits with (4) is the container's. Then a pod whose COMMAND traps TERM:
/// `podman pod stop` delivers it through husk and returns without waiting for a kill.
#[test]
fn podman_kube_play_shared_pid_namespace() {
    const T: &str = "podman_kube_play_shared_pid_namespace";
    let Some(e) = podman(T) else { return };
    example_image(e);
    let pod = Pod::play(
        e,
        &examples().join("pod-shared-pid.yaml"),
        "husk-shared-pid",
    );
    pod.app.wait_log("orphan reaped", 30);
    e.ok(&["kill", "--signal", "USR1", &pod.app.name]);
    assert_eq!(pod.exit_code(30), 4, "{T}: {}", pod.app.logs());
    let lines = log_lines(&pod.app);
    assert_eq!(
        lines[0], "catatonit",
        "{T}: PID 1 is the pod's infra process"
    );
    for want in ["orphan-parent husk", "orphan reaped", "got-usr1"] {
        assert!(
            lines.iter().any(|l| l == want),
            "{T}: no {want:?}: {lines:?}"
        );
    }
    drop(pod);

    // COMMAND's trap leaves its mark in a host directory: the logs go with the pod.
    let marks = work().join("term-marks");
    std::fs::create_dir_all(&marks).unwrap();
    let _ = std::fs::remove_file(marks.join("got-term"));
    let script = "trap 'echo got-term > /marks/got-term; exit 0' TERM; echo ready; \
                  while :; do sleep 1; done";
    let manifest = work().join("pod-term.yaml");
    std::fs::write(
        &manifest,
        format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: husk-term\nspec:\n  restartPolicy: Never\n  \
         containers:\n    - name: app\n      image: localhost/husk-example:latest\n      \
         args: [\"sh\", \"-c\", {script:?}]\n      \
         volumeMounts:\n        - name: marks\n          mountPath: /marks\n  \
         volumes:\n    - name: marks\n      hostPath:\n        path: {}\n",
        marks.display()
    ),
    )
    .unwrap();
    // `podman pod stop`, as the kubelet stops a pod, delivers SIGTERM through husk and
    // returns without waiting for the kill. (podman 4.3's `kube down` gives no SIGTERM at
    // all: with it, the trap never ran; its time is printed for the note.)
    let pod = Pod::play(e, &manifest, "husk-term");
    pod.app.wait_log("ready", 30);
    let t = Instant::now();
    e.ok(&["pod", "stop", "husk-term"]);
    let took = t.elapsed();
    println!("TIME {T}: pod stop {:.2}s", took.as_secs_f64());
    assert!(
        took < Duration::from_secs(8),
        "{T}: pod stop took {took:?}: not through husk's TERM"
    );
    assert!(
        marks.join("got-term").exists(),
        "{T}: pod stop ended the pod without COMMAND's TERM trap running"
    );
    let took = pod.down();
    println!("TIME {T}: kube down {:.2}s", took.as_secs_f64());
}

/// examples/pod-stop.yaml: husk configured by HUSK_* variables alone. `podman pod stop`
/// waits the 2 s SIGTERM is held (and not for podman's kill), and the termination log says
/// how it ended. Podman does not bind a termination log file as the kubelet does, so the
/// test gives the pod a host directory for it.
#[test]
fn podman_kube_play_delayed_stop_and_termination_log() {
    const T: &str = "podman_kube_play_delayed_stop_and_termination_log";
    let Some(e) = podman(T) else { return };
    example_image(e);
    let dir = work().join("termination");
    std::fs::create_dir_all(&dir).unwrap();
    let _ = std::fs::remove_file(dir.join("log"));
    let example = std::fs::read_to_string(examples().join("pod-stop.yaml")).unwrap();
    let manifest = work().join("pod-stop.yaml");
    let with_volume = example.replace("/dev/termination-log", "/termination/log")
        + "      volumeMounts:\n        - name: termination\n          mountPath: /termination\n"
        + &format!(
            "  volumes:\n    - name: termination\n      hostPath:\n        path: {}\n",
            dir.display()
        );
    std::fs::write(&manifest, with_volume).unwrap();
    let pod = Pod::play(e, &manifest, "husk-stop");
    pod.app.wait_log("ready", 30);
    // As the kubelet stops a pod: SIGTERM, then SIGKILL after the grace (podman's 10 s).
    let t = Instant::now();
    e.ok(&["pod", "stop", "husk-stop"]);
    let took = t.elapsed();
    println!("TIME {T}: pod stop {:.2}s", took.as_secs_f64());
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(8),
        "{T}: pod stop took {took:?}: the SIGTERM was not held 2 s, or not forwarded"
    );
    assert_eq!(
        pod.exit_code(10),
        0,
        "{T}: COMMAND's trap ran: {}",
        pod.app.logs()
    );
    let log = std::fs::read_to_string(dir.join("log")).unwrap();
    println!("{T}: termination log {}", log.trim_end());
    assert!(
        log.starts_with("{\"exit-code\":0,\"command-signal\":0,\"stop-signal\":15,"),
        "{T}: {log}"
    );
    let ms: u64 = log
        .split("\"shutdown-ms\":")
        .nth(1)
        .unwrap()
        .trim_end_matches(['}', '\n'])
        .parse()
        .unwrap();
    assert!(ms >= 2000, "{T}: shutdown-ms {ms}");
}

/// `podman stop` through husk next to catatonit and tini-static as `--init-path`, in one run:
/// COMMAND is a plain `sleep`, so the stop takes what the init's forwarding takes. Prints
/// the medians of 5 stops each (the note compares them); asserts only that no stop waited
/// for podman's kill.
#[test]
fn podman_stop_latency_next_to_peers() {
    const T: &str = "podman_stop_latency_next_to_peers";
    let Some(e) = podman(T) else { return };
    let inits = [
        ("husk", husk_bin().to_str().unwrap()),
        ("catatonit", "/usr/bin/catatonit"),
        ("tini-static", "/usr/bin/tini-static"),
    ];
    if !have(T, &inits.map(|(_, path)| path)) {
        return;
    }
    let mut times: Vec<(&str, Vec<f64>)> = inits.iter().map(|(n, _)| (*n, vec![])).collect();
    for round in 0..5 {
        for (i, (name, path)) in inits.iter().enumerate() {
            let c = Container::new(e, &format!("stop-{name}-{round}"));
            let opts = ["-d", "--name", &c.name, "--init", "--init-path", path];
            let out = run(
                e.run_cmd(
                    &[&opts[..], &["--entrypoint", ""]].concat(),
                    &["sleep", "1000"],
                ),
                60,
            );
            assert!(out.status.success(), "{T} {name}: {}", text(&out.stderr));
            let running = || e.ok(&["inspect", "--format", "{{.State.Status}}", &c.name]);
            assert!(
                eventually(15, || running().trim() == "running"),
                "{T} {name}"
            );
            let t = Instant::now();
            e.ok(&["stop", "-t", "10", &c.name]);
            let took = t.elapsed();
            assert!(
                took < Duration::from_secs(8),
                "{T} {name}: stop took {took:?}"
            );
            times[i].1.push(took.as_secs_f64());
        }
    }
    for (name, mut t) in times {
        t.sort_by(f64::total_cmp);
        println!(
            "TIME {T}: {name} stop median {:.3}s (of {t:.3?})",
            t[t.len() / 2]
        );
    }
}

// ---- docker --------------------------------------------------------------------------

/// `docker run --init` with the daemon's init-path set to husk: PID 1 runs husk (named
/// docker-init), and `docker info` shows husk's commit as the init's, parsed from
/// `husk --version` without a warning.
#[test]
fn docker_init_path_is_pid1() {
    const T: &str = "docker_init_path_is_pid1";
    let Some(e) = docker(T) else { return };
    let info = e.ok(&["info", "--format", "{{.InitBinary}} {{.InitCommit.ID}}"]);
    let commit = husk_version().split_once(" - git.").expect("git.COMMIT").1;
    assert_eq!(info.trim(), format!("{} {commit}", husk_bin().display()));
    let log = DAEMON.lock().unwrap().as_ref().unwrap().log();
    let warned: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("failed to parse") || l.contains("failed to retrieve"))
        .collect();
    assert!(
        warned.is_empty(),
        "dockerd warned about the init: {warned:?}"
    );
    init_checks(e, T, &["--init", "--entrypoint", ""], "docker-init");
}

/// A sandbox inside a docker container: Docker's default profile refuses namespaces (one
/// line naming the step, 125); unconfined, the masked /proc is refused and husk says what
/// to run instead; with systempaths=unconfined too it runs. (`--privileged` does not start
/// at all here: runc cannot grant CAP_SYS_RESOURCE, which this machine's bounding set
/// lacks.)
#[test]
fn docker_sandbox_inside() {
    const T: &str = "docker_sandbox_inside";
    let Some(e) = docker(T) else { return };
    let unconfined: &[&str] = &["--security-opt", "seccomp=unconfined"];
    let cases: &[(&[&str], Want)] = &[
        (&[], Want::Fails(NO_NAMESPACES)),
        (unconfined, Want::Fails(MASKED_PROC)),
        (
            &[
                "--security-opt",
                "systempaths=unconfined",
                unconfined[0],
                unconfined[1],
            ],
            Want::Runs(Some("husk")),
        ),
    ];
    sandbox_checks(e, T, cases);
}
