//! The probe: a static program the test suite builds (tests/common) and runs inside
//! sandboxes, in place of an interpreter from the host. Each argument is one step, its words
//! separated by spaces; steps run in order in one process, and each prints `NAME=RESULT`
//! lines (RESULT is `ok`, an errno name such as `EPERM`, or a value):
//!
//! - `sys NAME NR ARG...`: the raw system call NR (this architecture's number) with up to six
//!   arguments, each an integer (decimal, 0x hex, 0o octal, negative), `pid` (getpid),
//!   `str:TEXT` (a NUL-terminated copy of TEXT) or `buf:N` (N zeroed bytes). Prints
//!   `NAME=ok` when it returns anything but -1, else `NAME=ERRNO`.
//! - `status`: the Cap*, NoNewPrivs and Seccomp lines of /proc/self/status as they are, then
//!   `uid=R:E`, `gid=R:E`, `pid=N`, `hostname=NAME` and `fds=0,1,2,`.
//! - `fds`: `fds=` and the open descriptors among 0 to 9 (found with fcntl, opening none).
//! - `pids`: `pids=` the highest pid in /proc.
//! - `exists NAME PATH`: `NAME=yes` or `NAME=no`.
//! - `fork NAME N`: forks up to N children that sleep 2 s; `NAME=` how many forks worked.
//! - `bind4 NAME PORT`, `connect4 NAME PORT`: a TCP socket bound to or connecting to
//!   127.0.0.1:PORT.
//! - `loopback`: listens on 127.0.0.1 and ::1 and connects to each; `loopback=ok`.
//! - `abstract NAME SOCKET`: connects a unix stream socket to the abstract name SOCKET.
//! - `escape`: the double-chroot escape (a new user namespace, chroot into /tmp/jail, 64
//!   times `..`, chroot `.`): `userns=RESULT`, then `escaped=yes` when the host's /etc or a
//!   root other than the sandbox's is visible afterwards, else `escaped=no`.
//! - `swap DIR A B SECS`: exchanges DIR/A and DIR/B (renameat2 RENAME_EXCHANGE) in a loop for
//!   SECS seconds (run on the host, to race husk).
//! - `touch NAME MIB`: allocates and writes MIB MiB, one MiB at a time; `NAME=ok` at the end
//!   (a memory limit kills it before).
//! - `spin NAME SECS`: a busy loop for SECS seconds of wall time; `NAME=CPU/WALL`, this
//!   process's CPU time and the wall time, in milliseconds.
//! - `forkerr NAME N`: like `fork`, and names why the first failing fork failed:
//!   `NAME=COUNT ERRNO` (`NAME=N ok` when all N worked).
//! - `orphans NAME N`: N children that each fork a grandchild and exit at once (the
//!   grandchildren are orphans, blocked on a pipe); `NAME=` how many probes have parent 1 once
//!   the children are reaped; then the orphans are released together, and the step waits
//!   (up to 10 s) until they have all exited (are zombies or gone).
//! - `zombies NAME SECS`: waits up to SECS seconds for no zombie to be left anywhere;
//!   `NAME=` how many are left.
//! - `children NAME PID`: `NAME=` the processes whose parent is PID, as `PID:STATE:COMM,`.
//!
//! A step that cannot run at all (bad usage, a failed setup call) prints to stderr and exits
//! 2, so a test never mistakes it for a result.

use std::ffi::CString;
use std::io::{Error, Write};
use std::time::{Duration, Instant};

extern "C" {
    fn syscall(n: i64, ...) -> i64;
}

#[cfg(target_arch = "x86_64")]
mod nr {
    pub const FCNTL: i64 = 72;
    pub const FORK: i64 = 57;
    pub const EXIT_GROUP: i64 = 231;
    pub const UNSHARE: i64 = 272;
    pub const CHROOT: i64 = 161;
    pub const RENAMEAT2: i64 = 316;
    pub const CLOCK_GETTIME: i64 = 228;
    pub const PIPE2: i64 = 293;
}

#[cfg(target_arch = "aarch64")]
mod nr {
    pub const FCNTL: i64 = 25;
    pub const FORK: i64 = -1; // no fork: clone(SIGCHLD) below
    pub const EXIT_GROUP: i64 = 94;
    pub const UNSHARE: i64 = 97;
    pub const CHROOT: i64 = 51;
    pub const RENAMEAT2: i64 = 276;
    pub const CLOCK_GETTIME: i64 = 113;
    pub const PIPE2: i64 = 59;
}

const ERRNO_NAMES: &[(i32, &str)] = &[
    (1, "EPERM"),
    (2, "ENOENT"),
    (3, "ESRCH"),
    (4, "EINTR"),
    (5, "EIO"),
    (6, "ENXIO"),
    (7, "E2BIG"),
    (8, "ENOEXEC"),
    (9, "EBADF"),
    (10, "ECHILD"),
    (11, "EAGAIN"),
    (12, "ENOMEM"),
    (13, "EACCES"),
    (14, "EFAULT"),
    (16, "EBUSY"),
    (17, "EEXIST"),
    (18, "EXDEV"),
    (19, "ENODEV"),
    (20, "ENOTDIR"),
    (21, "EISDIR"),
    (22, "EINVAL"),
    (23, "ENFILE"),
    (24, "EMFILE"),
    (25, "ENOTTY"),
    (26, "ETXTBSY"),
    (27, "EFBIG"),
    (28, "ENOSPC"),
    (29, "ESPIPE"),
    (30, "EROFS"),
    (31, "EMLINK"),
    (32, "EPIPE"),
    (34, "ERANGE"),
    (35, "EDEADLK"),
    (36, "ENAMETOOLONG"),
    (38, "ENOSYS"),
    (39, "ENOTEMPTY"),
    (40, "ELOOP"),
    (61, "ENODATA"),
    (75, "EOVERFLOW"),
    (77, "EBADFD"),
    (88, "ENOTSOCK"),
    (92, "ENOPROTOOPT"),
    (93, "EPROTONOSUPPORT"),
    (94, "ESOCKTNOSUPPORT"),
    (95, "EOPNOTSUPP"),
    (97, "EAFNOSUPPORT"),
    (98, "EADDRINUSE"),
    (99, "EADDRNOTAVAIL"),
    (101, "ENETUNREACH"),
    (104, "ECONNRESET"),
    (107, "ENOTCONN"),
    (110, "ETIMEDOUT"),
    (111, "ECONNREFUSED"),
    (126, "ENOKEY"),
    (127, "EKEYEXPIRED"),
    (128, "EKEYREVOKED"),
    (129, "EKEYREJECTED"),
];

fn errno_name(e: &Error) -> String {
    let n = e.raw_os_error().unwrap_or(0);
    match ERRNO_NAMES.iter().find(|(k, _)| *k == n) {
        Some((_, name)) => (*name).to_owned(),
        None => format!("E{n}"),
    }
}

fn fail(what: &str) -> ! {
    eprintln!("probe: {what}");
    std::process::exit(2)
}

fn report(name: &str, r: Result<(), Error>) {
    match r {
        Ok(()) => println!("{name}=ok"),
        Err(e) => println!("{name}={}", errno_name(&e)),
    }
}

fn int(word: &str) -> i64 {
    let (neg, w) = match word.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, word),
    };
    let v = if let Some(h) = w.strip_prefix("0x") {
        u64::from_str_radix(h, 16)
    } else if let Some(o) = w.strip_prefix("0o") {
        u64::from_str_radix(o, 8)
    } else {
        w.parse::<u64>()
    };
    let v = v.unwrap_or_else(|_| fail(&format!("not a number: {word}"))) as i64;
    if neg {
        v.wrapping_neg()
    } else {
        v
    }
}

fn raw(nr: i64, a: [i64; 6]) -> Result<i64, Error> {
    // SAFETY: the test picks the call and its arguments; every pointer among them points at
    // memory this process owns for the duration of the call (see `sys`).
    let r = unsafe { syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]) };
    if r == -1 {
        Err(Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// `sys NAME NR ARG...`
fn sys(words: &[&str]) {
    let [name, nr, args @ ..] = words else {
        fail("usage: sys NAME NR ARG...")
    };
    if args.len() > 6 {
        fail("sys: at most six arguments");
    }
    // Buffers live until the call returns.
    let mut keep: Vec<Vec<u8>> = Vec::new();
    let mut a = [0i64; 6];
    for (slot, word) in a.iter_mut().zip(args) {
        *slot = if *word == "pid" {
            std::process::id() as i64
        } else if let Some(s) = word.strip_prefix("str:") {
            let mut v = s.as_bytes().to_vec();
            v.push(0);
            keep.push(v);
            keep.last().unwrap().as_ptr() as i64
        } else if let Some(n) = word.strip_prefix("buf:") {
            keep.push(vec![0u8; int(n) as usize]);
            keep.last_mut().unwrap().as_mut_ptr() as i64
        } else {
            int(word)
        };
    }
    report(name, raw(int(nr), a).map(|_| ()));
    drop(keep);
}

fn fd_open(fd: i64) -> bool {
    const F_GETFD: i64 = 1;
    raw(nr::FCNTL, [fd, F_GETFD, 0, 0, 0, 0]).is_ok()
}

fn fds() -> String {
    let mut s = String::from("fds=");
    for fd in 0..10 {
        if fd_open(fd) {
            s.push_str(&format!("{fd},"));
        }
    }
    s
}

fn status() {
    // The descriptors first, before reading any file opens one.
    let fds = fds();
    let st = std::fs::read_to_string("/proc/self/status")
        .unwrap_or_else(|e| fail(&format!("/proc/self/status: {e}")));
    let field = |key: &str| -> String {
        st.lines()
            .find_map(|l| l.strip_prefix(key))
            .unwrap_or("")
            .split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(":")
    };
    for l in st.lines() {
        if l.starts_with("Cap") || l.starts_with("NoNewPrivs:") || l.starts_with("Seccomp:") {
            println!("{l}");
        }
    }
    println!("uid={}", field("Uid:"));
    println!("gid={}", field("Gid:"));
    println!("pid={}", std::process::id());
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    println!("hostname={}", host.trim_end());
    println!("{fds}");
}

fn pids() {
    let max = std::fs::read_dir("/proc")
        .unwrap_or_else(|e| fail(&format!("/proc: {e}")))
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .max()
        .unwrap_or(0);
    println!("pids={max}");
}

fn fork() -> Result<i64, Error> {
    if nr::FORK >= 0 {
        raw(nr::FORK, [0; 6])
    } else {
        const CLONE: i64 = 220; // aarch64 clone(SIGCHLD, 0, ...) is fork
        raw(CLONE, [17, 0, 0, 0, 0, 0])
    }
}

fn exit_now(code: i64) -> ! {
    let _ = raw(nr::EXIT_GROUP, [code, 0, 0, 0, 0, 0]);
    unreachable!();
}

/// Forks up to `n` children that sleep 2 s: how many forks worked, and the first failure.
fn fork_many(n: &str) -> (i64, Result<(), Error>) {
    let n = int(n);
    let mut forked = 0;
    for _ in 0..n {
        match fork() {
            Err(e) => return (forked, Err(e)),
            Ok(0) => {
                std::thread::sleep(Duration::from_secs(2));
                exit_now(0);
            }
            Ok(_) => forked += 1,
        }
    }
    (forked, Ok(()))
}

fn fork_bomb(name: &str, n: &str) {
    println!("{name}={}", fork_many(n).0);
}

fn fork_errno(name: &str, n: &str) {
    let (forked, r) = fork_many(n);
    let why = match r {
        Ok(()) => "ok".to_owned(),
        Err(e) => errno_name(&e),
    };
    println!("{name}={forked} {why}");
}

fn touch(name: &str, mib: &str) {
    let mut held: Vec<Vec<u8>> = Vec::new();
    for i in 0..int(mib) {
        let mut v = vec![0u8; 1 << 20];
        for b in v.iter_mut().step_by(4096) {
            *b = i as u8 | 1;
        }
        held.push(std::hint::black_box(v));
    }
    println!("{name}=ok");
}

fn cpu_ms() -> i64 {
    const CLOCK_PROCESS_CPUTIME_ID: i64 = 2;
    let mut ts = [0i64; 2];
    raw(
        nr::CLOCK_GETTIME,
        [CLOCK_PROCESS_CPUTIME_ID, ts.as_mut_ptr() as i64, 0, 0, 0, 0],
    )
    .unwrap_or_else(|e| fail(&format!("clock_gettime: {e}")));
    ts[0] * 1000 + ts[1] / 1_000_000
}

fn spin(name: &str, secs: &str) {
    let start = Instant::now();
    let cpu0 = cpu_ms();
    let mut x = 0u64;
    while start.elapsed() < Duration::from_secs(int(secs) as u64) {
        for _ in 0..10_000 {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
        }
    }
    println!("{name}={}/{}", cpu_ms() - cpu0, start.elapsed().as_millis());
}

/// (pid, state, parent, comm) of every process in /proc.
fn processes() -> Vec<(u32, char, u32, String)> {
    let mut v = Vec::new();
    for e in std::fs::read_dir("/proc")
        .unwrap_or_else(|e| fail(&format!("/proc: {e}")))
        .flatten()
    {
        let Some(pid) = e.file_name().to_str().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let comm = stat[open + 1..close].to_owned();
        let mut rest = stat[close + 1..].split_whitespace();
        let state = rest.next().and_then(|s| s.chars().next()).unwrap_or('?');
        let ppid = rest.next().and_then(|p| p.parse().ok()).unwrap_or(0);
        v.push((pid, state, ppid, comm));
    }
    v.sort();
    v
}

fn orphans(name: &str, n: &str) {
    use std::io::Read;
    use std::os::fd::FromRawFd;
    let mut fds = [0i32; 2];
    const O_CLOEXEC: i64 = 0o2000000;
    raw(nr::PIPE2, [fds.as_mut_ptr() as i64, O_CLOEXEC, 0, 0, 0, 0])
        .unwrap_or_else(|e| fail(&format!("pipe2: {e}")));
    // SAFETY: pipe2 just made both descriptors, and nothing else owns them.
    let (mut rd, wr) = unsafe {
        (
            std::fs::File::from_raw_fd(fds[0]),
            std::fs::File::from_raw_fd(fds[1]),
        )
    };
    let mut children = Vec::new();
    for _ in 0..int(n) {
        match fork() {
            Err(e) => fail(&format!("fork: {e}")),
            Ok(0) => {
                if let Ok(0) = fork() {
                    // The orphan: waits for the write end to close.
                    drop(wr);
                    let _ = rd.read(&mut [0u8; 1]);
                }
                exit_now(0);
            }
            Ok(pid) => children.push(pid),
        }
    }
    // Reap the children (the grandchildren are no longer ours: their parent is now 1).
    for pid in children {
        let mut status = 0i32;
        const WAIT4: i64 = if cfg!(target_arch = "x86_64") { 61 } else { 260 };
        let _ = raw(WAIT4, [pid, &mut status as *mut i32 as i64, 0, 0, 0, 0]);
    }
    let mine = || {
        processes()
            .into_iter()
            .filter(|p| p.2 == 1 && p.3 == "probe")
            .collect::<Vec<_>>()
    };
    println!("{name}={}", mine().len());
    let _ = std::io::stdout().flush();
    // Release them all at once, and wait for them to have exited (zombies or gone).
    drop(wr);
    let end = Instant::now() + Duration::from_secs(10);
    while mine().iter().any(|p| p.1 != 'Z') && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn zombies(name: &str, secs: &str) {
    let end = Instant::now() + Duration::from_secs(int(secs) as u64);
    loop {
        let left = processes().iter().filter(|p| p.1 == 'Z').count();
        if left == 0 || Instant::now() > end {
            println!("{name}={left}");
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn children(name: &str, parent: &str) {
    let parent = int(parent) as u32;
    let mut s = format!("{name}=");
    for (pid, state, ppid, comm) in processes() {
        if ppid == parent {
            s.push_str(&format!("{pid}:{state}:{comm},"));
        }
    }
    println!("{s}");
}

fn escape() {
    report(
        "userns",
        raw(nr::UNSHARE, [0x1000_0000, 0, 0, 0, 0, 0]).map(|_| ()),
    );
    let listing = || {
        let mut v: Vec<String> = std::fs::read_dir("/")
            .unwrap_or_else(|e| fail(&format!("/: {e}")))
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    let root = listing();
    std::fs::create_dir_all("/tmp/jail").unwrap_or_else(|e| fail(&format!("/tmp/jail: {e}")));
    let chroot = |path: &str| {
        let c = CString::new(path).unwrap();
        raw(nr::CHROOT, [c.as_ptr() as i64, 0, 0, 0, 0, 0])
            .unwrap_or_else(|e| fail(&format!("chroot {path}: {e}")));
    };
    chroot("/tmp/jail");
    for _ in 0..64 {
        std::env::set_current_dir("..").unwrap_or_else(|e| fail(&format!("chdir ..: {e}")));
    }
    chroot(".");
    let escaped = std::path::Path::new("/etc/hostname").exists() || listing() != root;
    println!("escaped={}", if escaped { "yes" } else { "no" });
}

fn swap(words: &[&str]) {
    let [dir, a, b, secs] = words else {
        fail("usage: swap DIR A B SECS")
    };
    std::env::set_current_dir(dir).unwrap_or_else(|e| fail(&format!("{dir}: {e}")));
    let (a, b) = (CString::new(*a).unwrap(), CString::new(*b).unwrap());
    const AT_FDCWD: i64 = -100;
    const RENAME_EXCHANGE: i64 = 2;
    let end = Instant::now() + Duration::from_secs(int(secs) as u64);
    while Instant::now() < end {
        let _ = raw(
            nr::RENAMEAT2,
            [
                AT_FDCWD,
                a.as_ptr() as i64,
                AT_FDCWD,
                b.as_ptr() as i64,
                RENAME_EXCHANGE,
                0,
            ],
        );
    }
}

fn loopback() -> Result<(), Error> {
    for addr in ["127.0.0.1:0", "[::1]:0"] {
        let l = std::net::TcpListener::bind(addr)?;
        std::net::TcpStream::connect(l.local_addr()?)?;
    }
    Ok(())
}

fn abstract_connect(name: &str) -> Result<(), Error> {
    use std::os::linux::net::SocketAddrExt;
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
    std::os::unix::net::UnixStream::connect_addr(&addr).map(|_| ())
}

fn step(words: &[&str]) {
    match words {
        ["sys", rest @ ..] => sys(rest),
        ["status"] => status(),
        ["fds"] => println!("{}", fds()),
        ["pids"] => pids(),
        ["exists", name, path] => println!(
            "{name}={}",
            if std::path::Path::new(path).exists() {
                "yes"
            } else {
                "no"
            }
        ),
        ["fork", name, n] => fork_bomb(name, n),
        ["bind4", name, port] => report(
            name,
            std::net::TcpListener::bind(("127.0.0.1", int(port) as u16)).map(|_| ()),
        ),
        ["connect4", name, port] => report(
            name,
            std::net::TcpStream::connect(("127.0.0.1", int(port) as u16)).map(|_| ()),
        ),
        ["loopback"] => report("loopback", loopback()),
        ["abstract", name, socket] => report(name, abstract_connect(socket)),
        ["escape"] => escape(),
        ["swap", rest @ ..] => swap(rest),
        ["touch", name, mib] => touch(name, mib),
        ["spin", name, secs] => spin(name, secs),
        ["forkerr", name, n] => fork_errno(name, n),
        ["orphans", name, n] => orphans(name, n),
        ["zombies", name, secs] => zombies(name, secs),
        ["children", name, pid] => children(name, pid),
        _ => fail(&format!("unknown step: {}", words.join(" "))),
    }
    let _ = std::io::stdout().flush();
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() {
        fail("usage: probe STEP... (see tests/probe/probe.rs)");
    }
    for a in &args {
        let words: Vec<&str> = a.split(' ').filter(|w| !w.is_empty()).collect();
        step(&words);
    }
}
