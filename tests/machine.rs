//! husk as a machine's first process: QEMU boots Debian's kernel (`make vm-kernel` puts it
//! in target/vm/kernel) with an initramfs built here, husk at /husk and the kernel told
//! `rdinit=/husk -- HUSK-ARGS...`; the payloads are busybox sh scripts under /t and the
//! probe at /probe. Everything is read off the serial console.
//!
//! - TCG only (`-accel tcg`): with KVM, this machine's QEMU aborts on an MSR. The ELF inside
//!   Debian's bzImage is taken out once (xz) and booted through PVH, which saves about 4 s of
//!   BIOS and decompression per boot: COMMAND's first line comes 2 to 3 s after QEMU starts
//!   (more on a loaded machine), a boot takes 3 to 6 s, the suite (20 boots, two at a time,
//!   one of them the 31 s of the restart limit) about 75 s.
//! - `-no-reboot`: a power-off, a reboot and a kernel panic (`panic=-1`) all make QEMU exit,
//!   so they are told apart by the console text (`reboot: Power down`, `reboot: Restarting
//!   system`, `Kernel panic`). Every boot has a deadline, after which QEMU is killed; every
//!   failure shows the kernel command line and the console's last lines.
//! - Not run per user (no `for_each_user!`): QEMU needs no privilege and the guest's husk is
//!   root in its own machine, whoever runs the suite.
//! - The kernel's command line: words after the first `--` become husk's argv (the `--`
//!   itself is not passed on); a second `--` ends them (the kernel drops the rest), so husk's
//!   options and COMMAND are never separated by `--` here. `"a b"` is one word (the kernel
//!   strips the outer double quotes, nothing else: no escapes, single quotes are plain
//!   characters), `""` an empty one. Before the `--`, unknown `key=value` words become init's
//!   environment, and other unknown words without a dot become init's argv too (in front of
//!   what follows `--`), so none are used. The kernel takes at most 32 of each
//!   (CONFIG_INIT_ENV_ARG_LIMIT) and panics beyond.
//! - Debian's kernel has a built-in initramfs holding /dev/console, unpacked before ours:
//!   "no /dev/console" is made by an entry `dev/console` that is a dangling symlink, which
//!   replaces the node, so the kernel's open fails and init starts with fds 0-2 closed.
//! - In the initial pid namespace pid 2 is kthreadd, so COMMAND cannot be pid 2 there: the
//!   tests check that its parent is 1 and that it is pid 1's only child.
//!
//! `HUSK_MACHINE_SELFTEST=1` boots tests/machine/fake-husk.sh (a busybox sh stand-in for
//! machine mode) as /husk instead of the husk under test, to check the harness itself.
//! Under HUSK_TEST_RUNNER (the aarch64 suites) the whole suite prints SKIP.

mod common;

use common::*;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Where `make vm-kernel` unpacks Debian's kernel package.
const KERNEL_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/target/vm/kernel/boot");
const QEMU: &str = "qemu-system-x86_64";
/// What every boot's kernel command line starts with.
const KERNEL_ARGS: &str = "console=ttyS0 rdinit=/husk panic=-1 quiet";
/// Seconds a boot may take, from QEMU's start to its exit, unless a case says otherwise.
const DEADLINE: u64 = 60;
/// Console lines a failure shows.
const TAIL: usize = 80;

const FAKE_HUSK: &str = include_str!("machine/fake-husk.sh");

// ---- the gate ------------------------------------------------------------------------

/// What a boot needs: QEMU, a kernel, the two initramfs images.
struct Machine {
    qemu: PathBuf,
    kernel: PathBuf,
    /// husk, busybox, the probe and the payloads.
    initrd: PathBuf,
    /// The same, with `dev/console` a dangling symlink.
    initrd_no_console: PathBuf,
}

fn selftest() -> bool {
    std::env::var("HUSK_MACHINE_SELFTEST").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// The machine, or None after printing `SKIP TEST: REASON`.
fn machine(test: &str) -> Option<&'static Machine> {
    static WHY: OnceLock<Result<Machine, String>> = OnceLock::new();
    match WHY.get_or_init(prepare) {
        Ok(m) => Some(m),
        Err(why) => {
            println!("SKIP {test}: {why}");
            None
        }
    }
}

fn prepare() -> Result<Machine, String> {
    if let Some(r) = runner() {
        return Err(format!(
            "the machine suite boots an x86_64 guest with the native binary (HUSK_TEST_RUNNER={r})"
        ));
    }
    if std::env::consts::ARCH != "x86_64" {
        return Err("the machine suite boots an x86_64 guest only".into());
    }
    let qemu = find_on_path(QEMU)
        .ok_or_else(|| format!("{QEMU} is not installed (make vm-deps installs it)"))?;
    let kernel = std::env::var_os("HUSK_VM_KERNEL")
        .map(PathBuf::from)
        .or_else(newest_kernel)
        .ok_or_else(|| format!("no kernel in {KERNEL_DIR} (make vm-kernel fetches Debian's)"))?;
    let kernel = unpacked(&kernel);
    println!(
        "machine: booting {} under {}",
        kernel.display(),
        qemu.display()
    );
    let dir = work();
    let husk_file = if selftest() {
        println!("machine: HUSK_MACHINE_SELFTEST: /husk is tests/machine/fake-husk.sh, not husk");
        FAKE_HUSK.as_bytes().to_vec()
    } else {
        std::fs::read(husk()).unwrap()
    };
    let initrd = dir.join("initrd.cpio");
    let image = initramfs(&husk_file, false);
    std::fs::write(&initrd, &image).unwrap();
    let initrd_no_console = dir.join("initrd-no-console.cpio");
    std::fs::write(&initrd_no_console, initramfs(&husk_file, true)).unwrap();
    println!(
        "SIZE machine initramfs: {} bytes uncompressed ({} of them husk, {} busybox, {} the probe)",
        image.len(),
        husk_file.len(),
        std::fs::metadata("/bin/busybox").map_or(0, |m| m.len()),
        std::fs::metadata(probe()).map_or(0, |m| m.len()),
    );
    Ok(Machine {
        qemu,
        kernel,
        initrd,
        initrd_no_console,
    })
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin")])
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// The newest `vmlinuz-*` that `make vm-kernel` unpacked.
fn newest_kernel() -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(KERNEL_DIR)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("vmlinuz-"))
        })
        .collect();
    found.sort();
    found.pop()
}

/// The kernel to boot. Debian's bzImage spends about 4 s of TCG time in the BIOS and in
/// decompressing itself (xz); the ELF inside it boots directly (PVH, CONFIG_PVH), so it is
/// taken out once with xz and kept beside the bzImage as `vmlinux-VERSION`. Without xz, or
/// when that fails, the bzImage itself.
fn unpacked(bz: &Path) -> PathBuf {
    let Ok(data) = std::fs::read(bz) else {
        return bz.to_owned();
    };
    if data.starts_with(b"\x7fELF") {
        return bz.to_owned();
    }
    let name = bz.file_name().unwrap().to_string_lossy();
    let name = name.replacen("vmlinuz", "vmlinux", 1);
    let is_elf = |p: &Path| {
        let mut head = [0u8; 4];
        std::fs::File::open(p)
            .and_then(|mut f| f.read_exact(&mut head))
            .is_ok()
            && &head == b"\x7fELF"
    };
    let mut elf = bz.with_file_name(&name);
    if is_elf(&elf) {
        return elf;
    }
    const XZ: &[u8] = b"\xfd7zXZ\0";
    let Some(at) = data.windows(XZ.len()).position(|w| w == XZ) else {
        return bz.to_owned();
    };
    let mut tmp = elf.with_file_name(format!("{name}.tmp{}", std::process::id()));
    let out = std::fs::File::create(&tmp).or_else(|_| {
        // The kernel's directory is not this user's: this run's own copy.
        elf = work().join(&name);
        tmp = work().join(format!("{name}.tmp"));
        std::fs::File::create(&tmp)
    });
    let done = (|| {
        let out = out.ok()?;
        let mut xz = Command::new("xz")
            .args(["-dc", "--single-stream"])
            .stdin(Stdio::piped())
            .stdout(out)
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let _ = xz.stdin.take()?.write_all(&data[at..]);
        let st = xz.wait().ok()?;
        (st.success() && is_elf(&tmp)).then_some(())?;
        std::fs::rename(&tmp, &elf).ok()
    })();
    let _ = std::fs::remove_file(&tmp);
    match done {
        Some(()) => elf,
        None => {
            println!(
                "machine: could not take the ELF out of {} (is xz installed?): booting it as is, about 4 s slower",
                bz.display()
            );
            bz.to_owned()
        }
    }
}

/// This process's directory for images and monitor sockets (short: a unix socket's path
/// has 107 bytes at most), removed at exit unless HUSK_MACHINE_KEEP is set (to boot an
/// image by hand).
fn work() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("husk-machine-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        // SAFETY: the handler takes no arguments and catches its own panics.
        assert_eq!(unsafe { libc::atexit(clean_at_exit) }, 0);
        dir
    })
}

extern "C" fn clean_at_exit() {
    if std::env::var_os("HUSK_MACHINE_KEEP").is_some() {
        println!(
            "machine: HUSK_MACHINE_KEEP: the images stay in {}",
            work().display()
        );
        return;
    }
    let _ = std::panic::catch_unwind(|| {
        let _ = std::fs::remove_dir_all(work());
    });
}

// ---- the initramfs -------------------------------------------------------------------

/// A cpio archive in the kernel's "newc" format, written here so that it needs no root
/// (device nodes and owners are just numbers in it) and no cpio tool.
struct Cpio {
    out: Vec<u8>,
    ino: u32,
}

impl Cpio {
    fn new() -> Self {
        Cpio {
            out: Vec::new(),
            ino: 1,
        }
    }

    fn entry(&mut self, name: &str, mode: u32, data: &[u8]) {
        let fields = [
            self.ino,
            mode,
            0, // uid
            0, // gid
            if mode & 0o170000 == 0o040000 { 2 } else { 1 },
            0, // mtime
            data.len() as u32,
            0, // devmajor
            0, // devminor
            0, // rdevmajor
            0, // rdevminor
            name.len() as u32 + 1,
            0, // check
        ];
        self.ino += 1;
        self.out.extend_from_slice(b"070701");
        for f in fields {
            self.out.extend_from_slice(format!("{f:08x}").as_bytes());
        }
        self.out.extend_from_slice(name.as_bytes());
        self.out.push(0);
        self.pad();
        self.out.extend_from_slice(data);
        self.pad();
    }

    fn pad(&mut self) {
        while !self.out.len().is_multiple_of(4) {
            self.out.push(0);
        }
    }

    fn dir(&mut self, name: &str) {
        self.entry(name, 0o040755, b"");
    }

    fn file(&mut self, name: &str, perm: u32, data: &[u8]) {
        self.entry(name, 0o100000 | perm, data);
    }

    fn symlink(&mut self, name: &str, target: &str) {
        self.entry(name, 0o120777, target.as_bytes());
    }

    fn finish(mut self) -> Vec<u8> {
        self.entry("TRAILER!!!", 0, b"");
        // The kernel reads the archive in 512-byte blocks at most; pad as cpio does.
        while !self.out.len().is_multiple_of(512) {
            self.out.push(0);
        }
        self.out
    }
}

/// busybox's applets, for the symlinks in /bin.
fn applets() -> Vec<String> {
    let out = run(
        {
            let mut c = Command::new("/bin/busybox");
            c.arg("--list");
            c
        },
        10,
    );
    let list: Vec<String> = text(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty() && !l.contains('/') && *l != "busybox")
        .map(str::to_owned)
        .collect();
    assert!(
        list.iter().any(|a| a == "sh"),
        "/bin/busybox --list: no sh (apt-get install busybox-static)"
    );
    list
}

/// The root the kernel unpacks: husk, busybox in /bin, the probe, the payloads in /t and
/// the root for `--rootfs /r`.
fn initramfs(husk_file: &[u8], no_console: bool) -> Vec<u8> {
    let busybox = std::fs::read("/bin/busybox").expect("/bin/busybox (busybox-static)");
    let mut c = Cpio::new();
    for d in ["bin", "dev", "proc", "sys", "run", "tmp", "etc", "t"] {
        c.dir(d);
    }
    if no_console {
        c.symlink("dev/console", "/nonexistent-console");
    }
    c.file("husk", 0o755, husk_file);
    c.file("bin/busybox", 0o755, &busybox);
    let applets = applets();
    for a in &applets {
        c.symlink(&format!("bin/{a}"), "busybox");
    }
    c.file("probe", 0o755, &std::fs::read(probe()).unwrap());
    for (name, script) in PAYLOADS {
        c.file(&format!("t/{name}"), 0o755, script.as_bytes());
    }
    for d in [
        "r",
        "r/bin",
        "r/etc",
        "r/proc",
        "r/dev",
        "r/sys",
        "r/tmp",
        "r/run",
        "r/var",
        "r/var/run",
        "r/t",
    ] {
        c.dir(d);
    }
    c.file("r/bin/busybox", 0o755, &busybox);
    for a in &applets {
        c.symlink(&format!("r/bin/{a}"), "busybox");
    }
    c.file("r/etc/marker", 0o644, b"inside the rootfs\n");
    c.file("r/t/inside", 0o755, INSIDE_ROOTFS.as_bytes());
    c.finish()
}

/// The payloads, in /t. Lines the tests read are `T:KEY=VALUE` (probe steps named `T:KEY`).
const PAYLOADS: &[(&str, &str)] = &[
    (
        "basics",
        r#"#!/bin/sh
echo "T:pid=$$"
echo "T:ppid=$PPID"
read -r c </proc/1/comm; echo "T:comm1=$c"
echo "T:argc=$#"
i=0; for a in "$0" "$@"; do echo "T:arg$i=[$a]"; i=$((i+1)); done
env | while read -r l; do echo "T:env=$l"; done
while read -r dev mnt type rest; do echo "T:mount=$mnt $type"; done </proc/mounts
read -r c </sys/fs/cgroup/cgroup.controllers; echo "T:controllers=$c"
read -r c </sys/fs/cgroup/cgroup.subtree_control; echo "T:subtree=$c"
for f in 0 1 2; do echo "T:fd$f=$(readlink /proc/$$/fd/$f)"; done
/probe "children T:before 1" "orphans T:orphans 50" "zombies T:zombies 10" "children T:after 1"
echo "T:done"
exit 3
"#,
    ),
    ("hello", "#!/bin/sh\necho T:hello\nexit 0\n"),
    ("kill9", "#!/bin/sh\necho T:up\nkill -9 $$\n"),
    (
        "console",
        r#"#!/bin/sh
echo T:up
for f in 0 1 2; do echo "T:fd$f=$(readlink /proc/$$/fd/$f)"; done
echo T:stderr >&2
exit 0
"#,
    ),
    (
        "trap",
        // $1: a signal a helper sends to pid 1 a second after the traps are set; without
        // one in 20 s, exit 9.
        r#"#!/bin/sh
for s in TERM INT USR2 PWR HUP QUIT USR1; do trap "echo T:got=$s; exit 0" $s; done
echo T:ready
if [ -n "$1" ]; then (sleep 1; echo "T:sending=$1"; kill -$1 1) & fi
i=0; while [ $i -lt 100 ]; do sleep 0.2; i=$((i+1)); done
echo T:no-signal; exit 9
"#,
    ),
    (
        "straggler",
        r#"#!/bin/sh
sh -c 'trap "" TERM; while :; do read -r u r </proc/uptime; echo "T:straggler=$u"; sleep 0.25; done' &
sh -c 'trap "echo T:polite=TERM; exit 0" TERM; echo T:polite=up; while :; do sleep 0.2; done' &
sleep 1
read -r u r </proc/uptime; echo "T:exit=$u"
exit 0
"#,
    ),
    (
        "count",
        // $1: the counter file; $2: the run from which on it exits 0 (before: 1).
        r#"#!/bin/sh
n=0; [ -f "$1" ] && read -r n <"$1"
n=$((n+1)); echo $n >"$1"
read -r u r </proc/uptime
echo "T:run=$n $u"
[ $n -ge $2 ] && exit 0
exit 1
"#,
    ),
    (
        "cgroup",
        // $1: mem, pids or cpu.
        r#"#!/bin/sh
read -r l </proc/self/cgroup; cg=${l#0::}; echo "T:cgroup=$cg"
d=/sys/fs/cgroup$cg
case $1 in
mem) read -r m <$d/memory.max; echo "T:memory.max=$m"; exec /probe "touch T:touch 200" ;;
pids) read -r m <$d/pids.max; echo "T:pids.max=$m"; /probe "forkerr T:forks 100" ;;
cpu) read -r m <$d/cpu.max; echo "T:cpu.max=$m"; /probe "spin T:spin 3"
    while read -r k v; do echo "T:cpu.stat.$k=$v"; done <$d/cpu.stat ;;
esac
exit 0
"#,
    ),
    (
        "forced",
        // pid 1 as a plain shell, which starts husk --machine as its child.
        r#"#!/bin/sh
/husk --machine /t/hello
echo "T:husk-returned=$?"
sleep 5
"#,
    ),
];

/// COMMAND inside `--rootfs /r`.
const INSIDE_ROOTFS: &str = r#"#!/bin/sh
read -r m </etc/marker; echo "T:marker=$m"
if [ -e /husk ]; then echo T:husk-visible=yes; else echo T:husk-visible=no; fi
if [ -e /t/basics ]; then echo T:initramfs-visible=yes; else echo T:initramfs-visible=no; fi
echo "T:pid=$$"
exit 0
"#;

// ---- booting -------------------------------------------------------------------------

/// How a boot is made.
struct Spec {
    name: &'static str,
    /// Kernel words before the `--` (environment for init).
    kernel: &'static str,
    /// husk's argv after its own name: options, COMMAND, its arguments (kernel words, so
    /// `"a b"` is one word).
    husk: &'static str,
    no_console: bool,
    deadline: u64,
    monitor: bool,
    /// Replaces `rdinit=/husk` (for a pid 1 that is not husk).
    rdinit: Option<&'static str>,
}

impl Spec {
    fn new(name: &'static str, husk: &'static str) -> Self {
        Spec {
            name,
            kernel: "",
            husk,
            no_console: false,
            deadline: DEADLINE,
            monitor: false,
            rdinit: None,
        }
    }

    fn cmdline(&self) -> String {
        assert!(
            !self.husk.split(' ').any(|w| w == "--"),
            "{}: a second `--` on the kernel command line drops what follows it",
            self.name
        );
        let mut s = KERNEL_ARGS.to_owned();
        if let Some(r) = self.rdinit {
            s = s.replace("rdinit=/husk", &format!("rdinit={r}"));
        }
        if !self.kernel.is_empty() {
            s.push(' ');
            s.push_str(self.kernel);
        }
        s.push_str(" -- ");
        s.push_str(self.husk);
        s
    }
}

/// A console line and when it came, in seconds since QEMU started.
type Line = (f64, String);

#[derive(Default)]
struct Console {
    lines: Vec<Line>,
    eof: bool,
}

/// A running QEMU.
struct Vm {
    name: &'static str,
    cmdline: String,
    child: Child,
    console: Arc<(Mutex<Console>, Condvar)>,
    stderr: Arc<Mutex<Vec<u8>>>,
    start: Instant,
    monitor: Option<PathBuf>,
    deadline: u64,
}

/// A boot that is over.
struct Boot {
    name: &'static str,
    cmdline: String,
    lines: Vec<Line>,
    /// QEMU's exit status; None when it was killed (deadline or halt).
    status: Option<ExitStatus>,
    timed_out: bool,
    wall: f64,
    qemu_stderr: String,
}

impl Vm {
    fn start(m: &Machine, spec: &Spec) -> Vm {
        let cmdline = spec.cmdline();
        let monitor = spec
            .monitor
            .then(|| work().join(format!("{}.mon", spec.name)));
        let mut cmd = Command::new(&m.qemu);
        cmd.args(["-accel", "tcg", "-machine", "q35", "-m", "512", "-smp", "1"])
            .args(["-nodefaults", "-display", "none", "-serial", "stdio"])
            .args(["-no-reboot", "-net", "none", "-kernel"])
            .arg(&m.kernel)
            .arg("-initrd")
            .arg(if spec.no_console {
                &m.initrd_no_console
            } else {
                &m.initrd
            })
            .arg("-append")
            .arg(&cmdline);
        if let Some(sock) = &monitor {
            let _ = std::fs::remove_file(sock);
            cmd.arg("-monitor")
                .arg(format!("unix:{},server=on,wait=off", sock.display()));
        }
        let start = Instant::now();
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e}", m.qemu.display()));
        let console = Arc::new((Mutex::new(Console::default()), Condvar::new()));
        let mut out = child.stdout.take().unwrap();
        let c = console.clone();
        std::thread::spawn(move || {
            let mut partial = Vec::new();
            let mut buf = [0u8; 4096];
            loop {
                let n = out.read(&mut buf).unwrap_or(0);
                let (lock, cv) = &*c;
                let mut con = lock.lock().unwrap();
                let at = start.elapsed().as_secs_f64();
                if n == 0 {
                    if !partial.is_empty() {
                        con.lines.push((at, clean(&partial)));
                    }
                    con.eof = true;
                    cv.notify_all();
                    return;
                }
                for &b in &buf[..n] {
                    if b == b'\n' {
                        con.lines.push((at, clean(&partial)));
                        partial.clear();
                    } else {
                        partial.push(b);
                    }
                }
                cv.notify_all();
            }
        });
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let mut err = child.stderr.take().unwrap();
        let e = stderr.clone();
        std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = err.read_to_end(&mut v);
            e.lock().unwrap().extend(v);
        });
        Vm {
            name: spec.name,
            cmdline,
            child,
            console,
            stderr,
            start,
            monitor,
            deadline: spec.deadline,
        }
    }

    fn remaining(&self) -> Duration {
        Duration::from_secs(self.deadline).saturating_sub(self.start.elapsed())
    }

    /// Waits (within the boot's deadline) for a console line holding `needle`.
    fn wait_for(&self, needle: &str) -> bool {
        let (lock, cv) = &*self.console;
        let mut con = lock.lock().unwrap();
        loop {
            if con.lines.iter().any(|(_, l)| l.contains(needle)) {
                return true;
            }
            let left = self.remaining();
            if con.eof || left.is_zero() {
                return false;
            }
            con = cv.wait_timeout(con, left).unwrap().0;
        }
    }

    /// A command to QEMU's human monitor (`sendkey ctrl-alt-delete`).
    fn monitor(&self, command: &str) -> Result<(), String> {
        let sock = self.monitor.as_ref().ok_or("no monitor")?;
        let mut last = String::new();
        for _ in 0..100 {
            match std::os::unix::net::UnixStream::connect(sock) {
                Ok(mut s) => {
                    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                    // The greeting and the first prompt, then the command.
                    let mut seen = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !String::from_utf8_lossy(&seen).contains("(qemu)") {
                        let n = s.read(&mut buf).map_err(|e| format!("monitor: {e}"))?;
                        if n == 0 {
                            return Err("monitor closed".into());
                        }
                        seen.extend_from_slice(&buf[..n]);
                    }
                    s.write_all(format!("{command}\n").as_bytes())
                        .map_err(|e| format!("monitor: {e}"))?;
                    // Its echo and the next prompt: the command has run.
                    seen.clear();
                    while String::from_utf8_lossy(&seen).matches("(qemu)").count() < 1 {
                        let n = s.read(&mut buf).map_err(|e| format!("monitor: {e}"))?;
                        if n == 0 {
                            break;
                        }
                        seen.extend_from_slice(&buf[..n]);
                    }
                    return Ok(());
                }
                Err(e) => last = e.to_string(),
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(format!("{}: {last}", sock.display()))
    }

    /// Waits for QEMU to exit by itself within the deadline, else kills it.
    fn finish(self) -> Boot {
        self.end(false)
    }

    /// Kills QEMU now (after a halt, which leaves it running).
    fn kill(self) -> Boot {
        self.end(true)
    }

    fn end(mut self, now: bool) -> Boot {
        let mut status = None;
        let mut timed_out = false;
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                status = Some(st);
                break;
            }
            if now || self.remaining().is_zero() {
                timed_out = !now;
                let _ = self.child.kill();
                let _ = self.child.wait();
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let wall = self.start.elapsed().as_secs_f64();
        // The reader ends at QEMU's exit; wait a little for its last lines.
        {
            let (lock, cv) = &*self.console;
            let mut con = lock.lock().unwrap();
            let until = Instant::now() + Duration::from_secs(2);
            while !con.eof && Instant::now() < until {
                con = cv.wait_timeout(con, Duration::from_millis(100)).unwrap().0;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
        if let Some(sock) = &self.monitor {
            let _ = std::fs::remove_file(sock);
        }
        let lines = std::mem::take(&mut self.console.0.lock().unwrap().lines);
        let boot = Boot {
            name: self.name,
            cmdline: self.cmdline.clone(),
            lines,
            status,
            timed_out,
            wall,
            qemu_stderr: text(&self.stderr.lock().unwrap()),
        };
        match boot.first_payload_line() {
            Some(t) => println!(
                "TIME machine boot-to-COMMAND: {t:.2} s ({}; the whole boot {wall:.2} s)",
                boot.name
            ),
            None => println!(
                "TIME machine boot {}: {wall:.2} s, no line from COMMAND",
                boot.name
            ),
        }
        boot
    }
}

/// A console line as text: no carriage return, no escape sequences.
fn clean(raw: &[u8]) -> String {
    let s = String::from_utf8_lossy(raw);
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {}
            '\x1b' => {
                if chars.peek() == Some(&'[') {
                    chars.next();
                    while let Some(&n) = chars.peek() {
                        chars.next();
                        if n.is_ascii_alphabetic() {
                            break;
                        }
                    }
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// Boots and waits for the end.
fn boot(m: &Machine, spec: Spec) -> Boot {
    Vm::start(m, &spec).finish()
}

impl Boot {
    /// Panics with `what`, the kernel command line, the console's tail and QEMU's stderr.
    fn fail(&self, what: &str) -> ! {
        let from = self.lines.len().saturating_sub(TAIL);
        let mut tail = String::new();
        for (t, l) in &self.lines[from..] {
            tail.push_str(&format!("{t:7.2} | {l}\n"));
        }
        let mut end = if self.timed_out {
            "killed at its deadline".to_owned()
        } else {
            match self.status {
                Some(st) => format!("QEMU exited ({st})"),
                None => "QEMU killed by the test".to_owned(),
            }
        };
        let how = ["Kernel panic", "reboot: "]
            .iter()
            .find_map(|n| self.lines.iter().find(|(_, l)| l.contains(n)));
        if let Some((_, l)) = how {
            end.push_str(&format!(", the machine's end: {:?}", l.trim()));
        }
        panic!(
            "machine boot {}: {what}\n  kernel command line: {}\n  {end} after {:.1} s\n\
             --- console, last {} of {} lines ---\n{tail}--- QEMU's stderr ---\n{}",
            self.name,
            self.cmdline,
            self.wall,
            self.lines.len() - from,
            self.lines.len(),
            self.qemu_stderr
        );
    }

    fn check(&self, ok: bool, what: &str) {
        if !ok {
            self.fail(what);
        }
    }

    /// The one `T:KEY=` is `want`.
    fn expect_value(&self, key: &str, want: &str, what: &str) {
        let v = self.value(key);
        if v != want {
            self.fail(&format!("{what}: T:{key}={v:?}, want {want:?}"));
        }
    }

    fn has(&self, line: &str) -> bool {
        self.lines.iter().any(|(_, l)| l == line)
    }

    fn contains(&self, needle: &str) -> bool {
        self.lines.iter().any(|(_, l)| l.contains(needle))
    }

    fn expect_line(&self, line: &str) {
        self.check(self.has(line), &format!("no console line {line:?}"));
    }

    fn expect_no(&self, needle: &str) {
        if let Some((_, l)) = self.lines.iter().find(|(_, l)| l.contains(needle)) {
            self.fail(&format!("unexpected console line {l:?}"));
        }
    }

    /// When the line holding `needle` came, in seconds since QEMU started.
    fn when(&self, needle: &str) -> Option<f64> {
        self.lines
            .iter()
            .find(|(_, l)| l.contains(needle))
            .map(|(t, _)| *t)
    }

    fn first_payload_line(&self) -> Option<f64> {
        self.when("T:")
    }

    /// Every value of the payload's `T:KEY=VALUE` lines, in order.
    fn values(&self, key: &str) -> Vec<&str> {
        let marker = format!("T:{key}=");
        self.lines
            .iter()
            .filter_map(|(_, l)| l.find(&marker).map(|i| &l[i + marker.len()..]))
            .collect()
    }

    /// The one value of `T:KEY=`.
    fn value(&self, key: &str) -> &str {
        match self.values(key)[..] {
            [v] => v,
            [] => self.fail(&format!("the payload printed no T:{key}=")),
            _ => self.fail(&format!("the payload printed T:{key}= more than once")),
        }
    }

    /// husk's `husk: COMMAND exited with status N` lines.
    fn status_lines(&self) -> Vec<&str> {
        self.lines
            .iter()
            .map(|(_, l)| l.as_str())
            .filter(|l| l.starts_with("husk: ") && l.contains(" exited with status "))
            .collect()
    }

    /// Exactly one status line, and it is `husk: COMMAND exited with status N`.
    fn expect_status(&self, command: &str, n: i32) {
        let want = format!("husk: {command} exited with status {n}");
        match self.status_lines()[..] {
            [l] if l == want => {}
            [] => self.fail(&format!("no status line (want {want:?})")),
            [l] => self.fail(&format!("status line {l:?}, want {want:?}")),
            _ => self.fail(&format!("more than one status line (want one {want:?})")),
        }
    }

    /// The last status line is `husk: COMMAND exited with status N` (with --restart, the
    /// spec does not say whether the runs before print one).
    fn expect_last_status(&self, command: &str, n: i32) {
        let want = format!("husk: {command} exited with status {n}");
        match self.status_lines().last() {
            Some(l) if *l == want => {}
            Some(l) => self.fail(&format!("last status line {l:?}, want {want:?}")),
            None => self.fail(&format!("no status line (want {want:?})")),
        }
    }

    /// The machine ended by itself with `reboot: TEXT` and no kernel panic.
    fn expect_end(&self, text: &str) {
        self.check(!self.timed_out, "the machine did not end in time");
        self.expect_no("Kernel panic");
        self.check(
            self.status.is_some_and(|s| s.success()),
            "QEMU did not exit with 0",
        );
        let line = format!("reboot: {text}");
        self.check(self.contains(&line), &format!("no {line:?} on the console"));
        for other in ["Power down", "Restarting system", "System halted"] {
            if other != text {
                self.expect_no(&format!("reboot: {other}"));
            }
        }
    }

    fn expect_power_off(&self) {
        self.expect_end("Power down");
    }

    /// The guest's clock of a kernel message (`[    1.919992] reboot: Power down`).
    fn printk_time(&self, needle: &str) -> Option<f64> {
        let (_, l) = self.lines.iter().find(|(_, l)| l.contains(needle))?;
        let open = l.find('[')?;
        let close = l[open..].find(']')? + open;
        l[open + 1..close].trim().parse().ok()
    }
}

/// A number out of a payload's value, or the failure.
fn num(b: &Boot, key: &str, v: &str) -> f64 {
    v.trim()
        .parse()
        .unwrap_or_else(|_| b.fail(&format!("T:{key}={v:?} is not a number")))
}

// ---- the first boot: COMMAND, argv, environment, mounts, orphans, exit 3 --------------

/// Shared by the tests that read it (one boot, about 6 s); the first to ask boots it.
fn basics(test: &str) -> Option<&'static Boot> {
    static BOOT: OnceLock<Boot> = OnceLock::new();
    let m = machine(test)?;
    Some(BOOT.get_or_init(|| {
        let mut spec = Spec::new("basics", r#"/t/basics "two words" plain "" --flag k=v"#);
        spec.kernel = r#"FOO=bar QUOTED="x y""#;
        boot(m, spec)
    }))
}

#[test]
fn boot_command_is_the_child_of_husk_as_pid_1() {
    let Some(b) = basics("boot_command_is_the_child_of_husk_as_pid_1") else {
        return;
    };
    let pid = b.value("pid");
    b.check(pid != "1", "COMMAND is pid 1");
    b.expect_value("ppid", "1", "COMMAND's parent");
    b.expect_value("comm1", "husk", "/proc/1/comm");
    // Pid 2 is the kernel's kthreadd: instead, COMMAND is pid 1's only child (before the
    // orphans and after they are reaped).
    let only = format!("{pid}:S:basics,");
    for when in ["before", "after"] {
        let children = b.value(when);
        b.check(
            children == only,
            &format!("pid 1's children {when} the orphans: {children} (want {only})"),
        );
    }
}

#[test]
fn boot_argv_and_environment_come_from_the_kernel_command_line() {
    let Some(b) = basics("boot_argv_and_environment_come_from_the_kernel_command_line") else {
        return;
    };
    let want = ["/t/basics", "two words", "plain", "", "--flag", "k=v"];
    b.expect_value("argc", &(want.len() - 1).to_string(), "COMMAND's $#");
    for (i, w) in want.iter().enumerate() {
        b.expect_line(&format!("T:arg{i}=[{w}]"));
    }
    for env in ["FOO=bar", "QUOTED=x y"] {
        b.check(
            b.values("env").contains(&env),
            &format!("COMMAND's environment has no {env}"),
        );
    }
}

#[test]
fn boot_mounts_what_a_first_process_needs() {
    let Some(b) = basics("boot_mounts_what_a_first_process_needs") else {
        return;
    };
    let mounts = b.values("mount");
    let all = || format!("(mounted: {mounts:?})");
    for want in [
        "/proc proc",
        "/sys sysfs",
        "/dev devtmpfs",
        "/dev/pts devpts",
        "/dev/shm tmpfs",
        "/run tmpfs",
        "/sys/fs/cgroup cgroup2",
    ] {
        let n = mounts.iter().filter(|m| **m == want).count();
        b.check(n == 1, &format!("{want:?} mounted {n} times {}", all()));
    }
    let set = |v: &str| {
        let mut s: Vec<String> = v.split_whitespace().map(str::to_owned).collect();
        s.sort();
        s
    };
    let controllers = set(b.value("controllers"));
    b.check(
        ["cpu", "memory", "pids"]
            .iter()
            .all(|c| controllers.iter().any(|x| x == c)),
        "the kernel offers no cpu, memory or pids controller (the test needs them)",
    );
    b.check(
        set(b.value("subtree")) == controllers,
        &format!(
            "cgroup.subtree_control {:?} is not every controller of cgroup.controllers {:?}",
            b.value("subtree"),
            b.value("controllers")
        ),
    );
    for fd in ["fd0", "fd1", "fd2"] {
        b.expect_value(fd, "/dev/console", "COMMAND's descriptor");
    }
}

#[test]
fn boot_orphans_are_reaped() {
    let Some(b) = basics("boot_orphans_are_reaped") else {
        return;
    };
    b.expect_value("orphans", "50", "orphans whose parent is pid 1");
    b.expect_value("zombies", "0", "zombies left 10 s after the orphans exited");
}

#[test]
fn exit_3_prints_the_status_and_powers_off() {
    let Some(b) = basics("exit_3_prints_the_status_and_powers_off") else {
        return;
    };
    b.expect_line("T:done");
    b.expect_status("/t/basics", 3);
    b.expect_power_off();
}

// ---- how COMMAND ends ----------------------------------------------------------------

#[test]
fn exit_by_kill_9_is_137() {
    let Some(m) = machine("exit_by_kill_9_is_137") else {
        return;
    };
    let b = boot(m, Spec::new("kill9", "/t/kill9"));
    b.expect_line("T:up");
    b.expect_status("/t/kill9", 137);
    b.expect_power_off();
}

#[test]
fn exit_missing_command_is_127() {
    let Some(m) = machine("exit_missing_command_is_127") else {
        return;
    };
    let b = boot(m, Spec::new("missing", "/no/such/command"));
    b.expect_line("husk: /no/such/command: No such file or directory");
    b.expect_status("/no/such/command", 127);
    b.expect_power_off();
}

#[test]
fn exit_husk_failure_is_125_with_one_line() {
    let Some(m) = machine("exit_husk_failure_is_125_with_one_line") else {
        return;
    };
    let b = boot(m, Spec::new("bad-option", "--no-such-option /t/hello"));
    b.expect_line("husk: --no-such-option: unknown option (see --help)");
    b.expect_no("T:hello");
    b.expect_power_off();
}

#[test]
fn console_is_opened_when_the_initramfs_has_none() {
    let Some(m) = machine("console_is_opened_when_the_initramfs_has_none") else {
        return;
    };
    let mut spec = Spec::new("no-console", "/t/console");
    spec.no_console = true;
    let b = boot(m, spec);
    // The case holds: the kernel could not give husk a console.
    b.check(
        b.contains("Warning: unable to open an initial console"),
        "the kernel opened a console after all (the initramfs was to have none)",
    );
    b.expect_line("T:up");
    b.expect_line("T:stderr");
    for fd in ["fd0", "fd1", "fd2"] {
        b.expect_value(fd, "/dev/console", "COMMAND's descriptor");
    }
    b.expect_status("/t/console", 0);
    b.expect_power_off();
}

#[test]
fn machine_flag_forces_machine_mode_below_another_pid_1() {
    let Some(m) = machine("machine_flag_forces_machine_mode_below_another_pid_1") else {
        return;
    };
    let mut spec = Spec::new("forced", "/t/forced");
    spec.rdinit = Some("/bin/sh");
    let b = boot(m, spec);
    b.expect_line("T:hello");
    b.expect_status("/t/hello", 0);
    b.expect_no("T:husk-returned");
    b.expect_power_off();
}

// ---- shutdown signals ----------------------------------------------------------------

/// `sig` sent to pid 1 from inside (by a helper of COMMAND) or by `sendkey` (None: Ctrl-
/// Alt-Del): COMMAND's trap sees SIGTERM, and the machine powers off.
fn shutdown_by(name: &'static str, sig: Option<&'static str>) {
    let Some(m) = machine(name) else { return };
    let mut spec = Spec::new(
        name,
        match sig {
            Some("TERM") => "/t/trap TERM",
            Some("INT") => "/t/trap INT",
            Some("USR2") => "/t/trap USR2",
            Some("PWR") => "/t/trap PWR",
            _ => "/t/trap",
        },
    );
    spec.monitor = sig.is_none();
    let vm = Vm::start(m, &spec);
    if sig.is_none() {
        if vm.wait_for("T:ready") {
            // The traps are set; give husk's own set-up no excuse either.
            std::thread::sleep(Duration::from_millis(500));
            if let Err(e) = vm.monitor("sendkey ctrl-alt-delete") {
                vm.finish().fail(&format!("sendkey ctrl-alt-delete: {e}"));
            }
        } else {
            vm.finish().fail("COMMAND never printed T:ready");
        }
    }
    let b = vm.finish();
    b.expect_line("T:ready");
    if let Some(s) = sig {
        b.expect_line(&format!("T:sending={s}"));
    }
    b.check(
        b.values("got") == ["TERM"],
        &format!("COMMAND's traps saw {:?}, want [\"TERM\"]", b.values("got")),
    );
    b.expect_status("/t/trap", 0);
    b.expect_power_off();
}

#[test]
fn signal_term_to_pid_1_reaches_command_as_term() {
    shutdown_by("sigterm", Some("TERM"));
}

#[test]
fn signal_int_to_pid_1_reaches_command_as_term() {
    shutdown_by("sigint", Some("INT"));
}

#[test]
fn signal_usr2_to_pid_1_reaches_command_as_term() {
    shutdown_by("sigusr2", Some("USR2"));
}

#[test]
fn signal_pwr_to_pid_1_reaches_command_as_term() {
    shutdown_by("sigpwr", Some("PWR"));
}

#[test]
fn signal_ctrl_alt_del_reaches_command_as_term() {
    shutdown_by("ctrl-alt-del", None);
}

#[test]
fn shutdown_kills_a_straggler_after_the_grace() {
    let Some(m) = machine("shutdown_kills_a_straggler_after_the_grace") else {
        return;
    };
    let b = boot(m, Spec::new("straggler", "/t/straggler"));
    b.expect_status("/t/straggler", 0);
    b.expect_line("T:polite=up");
    b.expect_line("T:polite=TERM");
    b.expect_power_off();
    // Guest time: COMMAND's exit, the straggler's last sign of life, the power-off.
    let exit = num(&b, "exit", b.value("exit"));
    let last = b
        .values("straggler")
        .last()
        .map(|v| num(&b, "straggler", v))
        .unwrap_or_else(|| b.fail("the straggler never ran"));
    let off = b
        .printk_time("reboot: Power down")
        .unwrap_or_else(|| b.fail("no time on \"reboot: Power down\""));
    let grace = 2.0; // the default
    b.check(
        last >= exit + grace - 0.6,
        &format!(
            "the straggler was last seen {:.2} s after COMMAND's exit: the {grace} s grace was not waited for",
            last - exit
        ),
    );
    b.check(
        off <= exit + grace + 3.0,
        &format!(
            "power-off {:.2} s after COMMAND's exit: the straggler was not killed after the {grace} s grace",
            off - exit
        ),
    );
}

#[test]
fn shutdown_on_exit_reboot() {
    let Some(m) = machine("shutdown_on_exit_reboot") else {
        return;
    };
    let b = boot(m, Spec::new("on-exit-reboot", "--on-exit reboot /t/hello"));
    b.expect_line("T:hello");
    b.expect_status("/t/hello", 0);
    b.expect_end("Restarting system");
}

#[test]
fn shutdown_on_exit_halt() {
    let Some(m) = machine("shutdown_on_exit_halt") else {
        return;
    };
    let spec = Spec::new("on-exit-halt", "--on-exit halt /t/hello");
    let vm = Vm::start(m, &spec);
    let halted = vm.wait_for("reboot: System halted");
    // A halted machine stays on: QEMU must still be running a moment later.
    std::thread::sleep(Duration::from_millis(if halted { 1000 } else { 0 }));
    let b = vm.kill();
    b.check(halted, "no \"reboot: System halted\" on the console");
    b.check(b.status.is_none(), "QEMU exited after a halt");
    b.expect_no("Kernel panic");
    b.expect_no("reboot: Power down");
    b.expect_line("T:hello");
    b.expect_status("/t/hello", 0);
}

// ---- --rootfs ------------------------------------------------------------------------

#[test]
fn rootfs_inside_the_initramfs() {
    let Some(m) = machine("rootfs_inside_the_initramfs") else {
        return;
    };
    let b = boot(m, Spec::new("rootfs", "--rootfs /r /t/inside"));
    b.expect_value("marker", "inside the rootfs", "/etc/marker (/r/etc/marker)");
    b.expect_value("husk-visible", "no", "/husk outside the rootfs");
    b.expect_value("initramfs-visible", "no", "/t/basics outside the rootfs");
    b.expect_status("/t/inside", 0);
    b.expect_power_off();
}

// ---- --restart -----------------------------------------------------------------------

/// `T:run=N UPTIME` lines: (N, guest time).
fn runs(b: &Boot) -> Vec<(u32, f64)> {
    b.values("run")
        .iter()
        .map(|v| {
            let (n, t) = v.split_once(' ').unwrap_or((v, "0"));
            (num(b, "run", n) as u32, num(b, "run", t))
        })
        .collect()
}

fn restart_lines(b: &Boot) -> Vec<&str> {
    b.lines
        .iter()
        .map(|(_, l)| l.as_str())
        .filter(|l| l.starts_with("husk: restarting "))
        .collect()
}

#[test]
fn restart_on_failure_until_it_succeeds() {
    let Some(m) = machine("restart_on_failure_until_it_succeeds") else {
        return;
    };
    let b = boot(
        m,
        Spec::new(
            "restart-on-failure",
            "--restart on-failure /t/count /tmp/n 3",
        ),
    );
    let runs = runs(&b);
    b.check(
        runs.iter().map(|r| r.0).collect::<Vec<_>>() == [1, 2, 3],
        &format!("COMMAND ran {runs:?}, want runs 1, 2, 3"),
    );
    b.check(
        restart_lines(&b)
            == [
                "husk: restarting /t/count (1)",
                "husk: restarting /t/count (2)",
            ],
        &format!("restart lines {:?}, want (1) and (2)", restart_lines(&b)),
    );
    b.check(
        runs[1].1 - runs[0].1 >= 0.9,
        "the first restart came less than 1 s after the first run",
    );
    b.expect_last_status("/t/count", 0);
    b.expect_power_off();
}

#[test]
fn restart_always_stops_after_5_restarts() {
    let Some(m) = machine("restart_always_stops_after_5_restarts") else {
        return;
    };
    // If the delay doubles from 1 s, five restarts take 31 s.
    let mut spec = Spec::new("restart-limit", "--restart always /t/count /tmp/n 1");
    spec.deadline = 120;
    let b = boot(m, spec);
    let runs = runs(&b);
    b.check(
        runs.iter().map(|r| r.0).collect::<Vec<_>>() == [1, 2, 3, 4, 5, 6],
        &format!("COMMAND ran {runs:?}, want runs 1 to 6 (5 restarts)"),
    );
    let want: Vec<String> = (1..=5)
        .map(|n| format!("husk: restarting /t/count ({n})"))
        .collect();
    b.check(
        restart_lines(&b) == want,
        &format!("restart lines {:?}, want (1) to (5)", restart_lines(&b)),
    );
    b.expect_last_status("/t/count", 0);
    b.expect_power_off();
}

#[test]
fn restart_never_after_a_shutdown_signal() {
    let Some(m) = machine("restart_never_after_a_shutdown_signal") else {
        return;
    };
    let b = boot(
        m,
        Spec::new("restart-vs-signal", "--restart always /t/trap TERM"),
    );
    b.check(
        b.values("got") == ["TERM"],
        &format!("COMMAND's traps saw {:?}, want [\"TERM\"]", b.values("got")),
    );
    b.expect_no("husk: restarting");
    b.expect_status("/t/trap", 0);
    b.expect_power_off();
}

// ---- cgroup limits -------------------------------------------------------------------

#[test]
fn cgroup_memory_max_kills_with_137() {
    let Some(m) = machine("cgroup_memory_max_kills_with_137") else {
        return;
    };
    let b = boot(
        m,
        Spec::new(
            "memory-max",
            "--cgroup /sys/fs/cgroup/t --memory-max 64M /t/cgroup mem",
        ),
    );
    b.expect_value("cgroup", "/t", "COMMAND's cgroup");
    b.expect_value("memory.max", &(64u64 << 20).to_string(), "64M");
    b.expect_no("T:touch=ok");
    b.check(
        b.contains("Memory cgroup out of memory"),
        "no OOM kill in the memory cgroup on the console",
    );
    b.expect_status("/t/cgroup", 137);
    b.expect_power_off();
}

#[test]
fn cgroup_pids_max_fails_forks_with_eagain() {
    let Some(m) = machine("cgroup_pids_max_fails_forks_with_eagain") else {
        return;
    };
    let b = boot(
        m,
        Spec::new(
            "pids-max",
            "--cgroup /sys/fs/cgroup/t --pids-max 20 /t/cgroup pids",
        ),
    );
    b.expect_value("cgroup", "/t", "COMMAND's cgroup");
    b.expect_value("pids.max", "20", "the cgroup's pids.max");
    let forks = b.value("forks");
    let (n, why) = forks.split_once(' ').unwrap_or((forks, ""));
    let n = num(&b, "forks", n);
    b.check(
        why == "EAGAIN" && n < 20.0,
        &format!("forks: {forks:?}, want fewer than 20 then EAGAIN"),
    );
    b.expect_status("/t/cgroup", 0);
    b.expect_power_off();
}

#[test]
fn cgroup_cpu_max_throttles() {
    let Some(m) = machine("cgroup_cpu_max_throttles") else {
        return;
    };
    let b = boot(
        m,
        Spec::new(
            "cpu-max",
            "--cgroup /sys/fs/cgroup/t --cpu-max 50000/100000 /t/cgroup cpu",
        ),
    );
    b.expect_value("cgroup", "/t", "COMMAND's cgroup");
    b.expect_value("cpu.max", "50000 100000", "the cgroup's cpu.max");
    let throttled = num(
        &b,
        "cpu.stat.nr_throttled",
        b.value("cpu.stat.nr_throttled"),
    );
    b.check(throttled > 0.0, "cpu.stat: nr_throttled is 0");
    let spin = b.value("spin");
    let (cpu, wall) = spin.split_once('/').unwrap_or((spin, "0"));
    let (cpu, wall) = (num(&b, "spin", cpu), num(&b, "spin", wall));
    b.check(
        wall > 0.0 && cpu / wall < 0.8,
        &format!("a busy loop got {cpu} ms of CPU in {wall} ms under a 50% quota"),
    );
    b.expect_status("/t/cgroup", 0);
    b.expect_power_off();
}

// ---- the harness itself --------------------------------------------------------------

#[test]
fn harness_cpio_is_newc() {
    let mut c = Cpio::new();
    c.dir("d");
    c.file("d/f", 0o644, b"abc");
    let out = c.finish();
    assert!(out.starts_with(b"070701"));
    assert!(out.len().is_multiple_of(512));
    // The name of the second entry starts after a 110-byte header and "d\0" padded to 4.
    let second = 112;
    assert_eq!(&out[second..second + 6], b"070701");
    assert_eq!(&out[second + 6 + 6 * 8..second + 6 + 7 * 8], b"00000003");
    assert!(out.windows(10).any(|w| w == b"TRAILER!!!"));
}

#[test]
fn harness_console_lines_are_cleaned() {
    assert_eq!(clean(b"\x1b[2Jhello\r"), "hello");
    assert_eq!(clean(b"a\x1b[?7lb"), "ab");
}

/// The README's example as written there: `examples/mkinitramfs.sh`, then QEMU with the
/// README's command line (Debian's vmlinuz, booted through the BIOS), prints `hello from
/// husk` and the status line, and powers off.
#[test]
fn readme_example_boots() {
    const T: &str = "readme_example_boots";
    let Some(m) = machine(T) else { return };
    if selftest() {
        println!("SKIP {T}: HUSK_MACHINE_SELFTEST replaces husk");
        return;
    }
    if find_on_path("cpio").is_none() {
        println!("SKIP {T}: no cpio (make vm-deps installs it)");
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let initrd = work().join("readme-initrd.gz");
    let out = Command::new("sh")
        .arg(root.join("examples/mkinitramfs.sh"))
        .arg(husk())
        .arg(&initrd)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{T}: mkinitramfs.sh: {}",
        text(&out.stderr)
    );
    let boot = root.join("target/vm/kernel/boot");
    let vmlinuz = std::fs::read_dir(&boot)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("vmlinuz-"))
        })
        .expect("a vmlinuz in target/vm/kernel/boot");
    let mut cmd = Command::new(&m.qemu);
    cmd.args(["-accel", "tcg", "-m", "256", "-nographic", "-no-reboot", "-net", "none"])
        .arg("-kernel")
        .arg(&vmlinuz)
        .arg("-initrd")
        .arg(&initrd)
        .arg("-append")
        .arg(r#"console=ttyS0 quiet panic=-1 rdinit=/husk -- sh -c "echo hello from $(cat /proc/1/comm)""#);
    let out = run(cmd, 90);
    let console = String::from_utf8_lossy(&out.stdout).replace('\r', "");
    let lines: Vec<&str> = console.lines().map(|l| l.trim()).collect();
    let tail = lines[lines.len().saturating_sub(20)..].join("\n");
    for want in ["hello from husk", "husk: sh exited with status 0"] {
        assert!(
            lines.iter().any(|l| l.ends_with(want)),
            "{T}: no {want:?}:\n{tail}"
        );
    }
    assert!(
        console.contains("reboot: Power down"),
        "{T}: no power-off:\n{tail}"
    );
    assert!(
        !console.contains("Kernel panic"),
        "{T}: a kernel panic:\n{tail}"
    );
}
