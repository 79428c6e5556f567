//! A seeded command-line fuzzer: thousands of generated command lines, each run against the
//! real husk binary (as root and rootless), each checked against invariants that hold for
//! every input, whatever the options mean:
//!
//!  1. husk never hangs: it exits within DEADLINE (normal runs take a few milliseconds).
//!  2. It never panics ("internal error") and never dies of a signal itself; an exit status of
//!     128+N is only accepted where COMMAND can have died of N (--rlimit stack=0, a short
//!     --time-limit). A --time-limit far beyond the deadline that kills COMMAND is a fault.
//!  3. Every failure is one line on stderr, "husk: ...", without raw control characters, with
//!     status 125/126/127. COMMAND never writes to stderr, so all of stderr is husk's.
//!     A value that can never be valid (a newline in a number or a hostname, "256" for -e)
//!     must be refused with 125.
//!  4. Nothing is left behind: no process carrying the run's marker survives the batch, and
//!     the test's own /proc/self/mountinfo does not change.
//!
//! The generator is a small xorshift64* with a fixed seed, so a failure reproduces by
//! running the test again; every failure prints the exact argv, shell-quoted.
//!
//! Safety: the lines run for real, as root. Writable binds (--bind, --dev-bind, --rw) only
//! ever take a source inside the scratch directory, so --chmod, --dir and --symlink can only
//! reach the scratch directory or the sandbox's own tmpfs; the host is bound read-only
//! (--rootfs /, --ro-bind / /). --cgroup and the cgroup limits are left out entirely.
//! Environment: HUSK_FUZZ_LINES (lines per user, default 10000). Each batch also prints its
//! exit statuses and husk's most common refusals, to show how many lines get as far as
//! running COMMAND.

mod common;
use common::*;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::os::fd::AsRawFd;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, ChildStderr, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The hang deadline (invariant 1).
const DEADLINE: Duration = Duration::from_secs(5);
/// A run still going after this is handed to a waiter thread, so a hang does not hold up a
/// worker (and the CPU-bound runs stay at WORKERS at a time).
const SOFT_DEADLINE: Duration = Duration::from_millis(250);
/// husk runs at a time: the machine has 2 cores and is shared.
const WORKERS: usize = 2;
const SEED: u64 = 0x6875_736b_2d66_757a; // "husk-fuz"
/// Distinct failures printed per batch.
const MAX_SHOWN: usize = 20;

// ---------------------------------------------------------------------------------------
// The generator
// ---------------------------------------------------------------------------------------

/// xorshift64* (Vigna): tiny, fast, and the same sequence on every machine.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    /// True with probability `pct`%.
    fn pct(&mut self, pct: usize) -> bool {
        self.below(100) < pct
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Paths the generator uses: fixtures in the scratch directory.
#[derive(Clone)]
struct Fixtures {
    dir: String,      // a directory (read-only use)
    file: String,     // a regular file, 0644: also the "not executable" COMMAND (126)
    fifo: String,     // opening it blocks
    missing: String,  // does not exist
    bindsrc: String,  // the only source writable binds get (0777 directory)
    bindfile: String, // a file in it
    root: String,     // an empty 0777 directory for `--rootfs DIR --rw`
    marker: String,   // the run's marker prefix
}

impl Fixtures {
    fn create() -> Self {
        let base = scratch().join("fuzz");
        let _ = std::fs::remove_dir_all(&base);
        let p = |name: &str| base.join(name).to_str().unwrap().to_owned();
        for d in ["", "dir", "bindsrc", "root"] {
            std::fs::create_dir_all(base.join(d)).unwrap();
            std::fs::set_permissions(base.join(d), std::fs::Permissions::from_mode(0o777)).unwrap();
        }
        std::fs::set_permissions(base.join("dir"), std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::write(base.join("file"), "plain text, not a program\n").unwrap();
        std::fs::set_permissions(base.join("file"), std::fs::Permissions::from_mode(0o644))
            .unwrap();
        std::fs::write(base.join("bindsrc/f"), "x\n").unwrap();
        let fifo = std::ffi::CString::new(p("fifo")).unwrap();
        // SAFETY: a NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
        Fixtures {
            dir: p("dir"),
            file: p("file"),
            fifo: p("fifo"),
            missing: p("nonexistent"),
            bindsrc: p("bindsrc"),
            bindfile: p("bindsrc/f"),
            root: p("root"),
            marker: format!("husk-fuzz-{}", std::process::id()),
        }
    }
}

/// One generated command line and what the checker needs to know about it.
#[derive(Clone, Debug, PartialEq)]
struct Line {
    index: usize,
    args: Vec<String>,
    /// COMMAND's own exit status, had husk run it.
    cmd_code: i32,
    /// Why husk must refuse this line with 125, if it must.
    must_fail: Option<String>,
    /// -v, -w or landlock: husk may print warnings on success.
    warnings_ok: bool,
    /// -h, --help, --version, -l: husk exits 0 before looking further.
    help: bool,
    /// -e CODE given: a status may be remapped to 0.
    remap: bool,
    /// --rlimit stack=0 given: COMMAND dies of SIGSEGV.
    rlimit: bool,
    /// The value of the last --time-limit. Recorded here, not looked up in `args`: a value
    /// such as "--" would make a scan of the arguments lose its place.
    time_limit: Option<String>,
}

impl Line {
    /// The argument list as bash would take it back.
    fn shell(&self) -> String {
        let mut s = String::from("husk");
        for a in &self.args {
            s.push(' ');
            s.push_str(&quote(a));
        }
        s
    }
    /// The last --time-limit value, in ms, if it parses as husk documents it.
    /// The --time-limit in force (the last one given), in ms, if it parses as husk
    /// documents SECONDS.
    fn time_limit_ms(&self) -> Option<u128> {
        parse_ms(self.time_limit.as_deref()?)
    }
    fn options(&self) -> Vec<&str> {
        let end = self.args.iter().position(|a| a == "--");
        let mut v: Vec<&str> = self.args[..end.unwrap_or(self.args.len())]
            .iter()
            .filter(|a| a.starts_with('-') && a.len() > 1 && a.is_ascii())
            .map(|a| a.split('=').next().unwrap())
            .collect();
        v.sort();
        v.dedup();
        v
    }
}

/// "5", "1.5", ".25" seconds → ms, as the README's SECONDS.
fn parse_ms(s: &str) -> Option<u128> {
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if frac.len() > 3 || (whole.is_empty() && frac.is_empty()) {
        return None;
    }
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !digits(frac) {
        return None;
    }
    let w: u128 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let f: u128 = format!("{frac:0<3}").parse().ok()?;
    Some(w * 1000 + f)
}

/// bash quoting: bare when safe, $'...' with escapes otherwise; a long run of one byte is
/// written as a command substitution so the line stays pasteable.
fn quote(a: &str) -> String {
    if a.len() > 64 && a.bytes().all(|b| b == a.as_bytes()[0]) {
        return format!(
            "\"$(head -c {} /dev/zero | tr '\\0' '{}')\"",
            a.len(),
            a.as_bytes()[0] as char
        );
    }
    let safe = |b: u8| b.is_ascii_alphanumeric() || b"/._-:=+,@%".contains(&b);
    if !a.is_empty() && a.bytes().all(safe) {
        return a.to_owned();
    }
    let mut s = String::from("$'");
    for b in a.bytes() {
        match b {
            b'\n' => s.push_str("\\n"),
            b'\t' => s.push_str("\\t"),
            b'\'' => s.push_str("\\'"),
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(b as char),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    s.push('\'');
    s
}

/// What kind of value an option takes; each kind has values that are fine, values that can
/// never be valid (husk must refuse them: 125), and the shared hostile pool (no promise).
#[derive(Clone, Copy, PartialEq, Debug)]
enum Kind {
    Signal,
    Rewrite,
    Code,
    Seconds,
    TimeLimit,
    Rlimit,
    Port,
    /// A path read or joined, never written: any value is safe.
    Path,
    /// A source of a writable bind: only inside the scratch directory.
    WritableSrc,
    /// A mount destination inside the new root.
    Dest,
    Octal,
    Size,
    Id,
    IdMap,
    Hostname,
    Var,
    Text,
    /// --argv0: free text, but never starting with '-' (see `Gen::value`).
    Argv0,
    Offset,
    Fd,
    /// A fd husk writes JSON to: never 2, where it would pass for a message.
    OutFd,
    Cap,
}

/// Values that can never be valid for a typed option (the README's grammar).
fn bad_values(kind: Kind) -> &'static [&'static str] {
    use Kind::*;
    match kind {
        Signal => &["0", "65", "SIGNOPE", "", "-1", "TERM\n", "9\t"],
        Rewrite => &["TERM", ":", "X:Y", "", "TERM:\n"],
        Code => &["256", "-1", "", "x", "99999999999999999999", "1\n2"],
        Seconds => &["-1", "1.2345", "x", "", "1s", "1\n"],
        TimeLimit => &["-1", "x", "", "0.0001", "1\n"],
        Rlimit => &["nofile", "bogus=1", "nofile=2:1", "nofile=-1", "nofile=1\n"],
        Port => &["65536", "-1", "x", "", "80\n"],
        Octal => &["08", "9", "0x1ff", "", "77777", "07\n"],
        Size => &["-1", "1.5", "1T", "", "18446744073709551616", "1K\n"],
        Id => &["-1", "1.5", "", "x", "99999999999999999999", "0\n"],
        IdMap => &["x", "1:2", "1:2:3:4", "", "0:0:1\n"],
        Hostname => &["a\nb", "\t", "x\x1b[31m", "h\x7f", "host\n"],
        Var => &["", "A=B"],
        Offset => &["1.5", "x", "", "5\n"],
        Fd | OutFd => &["-1", "x", "", "1\n"],
        Cap => &["CAP_BOGUS", "", "x\ny", "NET_RAW\n"],
        Path | WritableSrc | Dest | Text | Argv0 => &[],
    }
}

/// Whether `v` can never be valid for `kind` (a bad value drawn from elsewhere, e.g. the
/// hostile pool, counts too): control characters or emptiness in a number, a name or a
/// hostname, an over-long hostname.
fn never_valid(kind: Kind, v: &str) -> bool {
    use Kind::*;
    if bad_values(kind).contains(&v) {
        return true;
    }
    let control = v.bytes().any(|b| b < 0x20 || b == 0x7f);
    match kind {
        Hostname => control || v.len() > 64,
        Path | WritableSrc | Dest | Text | Argv0 | Var => false,
        _ => control || v.is_empty() || v.len() > 1000,
    }
}

impl Fixtures {
    fn good_values(&self, kind: Kind) -> Vec<String> {
        use Kind::*;
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        match kind {
            Signal => s(&["TERM", "SIGKILL", "9", "RTMIN+3", "usr1", "64"]),
            Rewrite => s(&["TERM:INT", "USR1:0", "HUP:TERM", "RTMIN:RTMAX"]),
            Code => s(&["0", "1", "3", "255", "127"]),
            Seconds => s(&["0", "1.5", ".5", "2", "18446744073709551"]),
            // 18446744073709551 s is valid: 584 million years. A known fault overflows it.
            TimeLimit => s(&["0.001", "1", "60", "3600", "18446744073709551", "4.5"]),
            // No small nofile/as/data: the dynamic loader would print to stderr.
            Rlimit => s(&[
                "nofile=64",
                "nofile=1024:4096",
                "nproc=1000",
                "core=0",
                "core=unlimited",
                "cpu=10",
                "fsize=1G",
                "stack=8M",
                "as=unlimited",
                "memlock=64K",
                "NOFILE=256",
                "stack=0",
                "nproc=0",
                "nofile=99999999",
            ]),
            Port => s(&["0", "80", "65535", "8080"]),
            Path => vec![
                "/".into(),
                "/tmp".into(),
                "/usr".into(),
                "/proc/self/ns/net".into(),
                "/proc/1/ns/net".into(),
                self.dir.clone(),
                self.file.clone(),
                self.fifo.clone(),
                self.missing.clone(),
                self.root.clone(),
            ],
            WritableSrc => vec![
                self.bindsrc.clone(),
                self.bindsrc.clone(),
                self.bindsrc.clone(),
                self.bindfile.clone(),
                self.missing.clone(),
                format!("{}/a\nb", self.bindsrc),
                String::new(),
            ],
            Dest => vec![
                "/tmp".into(),
                "/tmp/x".into(),
                "/mnt".into(),
                "/mnt/x".into(),
                "/".into(),
                "/proc".into(),
                "/dev".into(),
                "/dev/shm".into(),
                "/tmp/a/b/c".into(),
                "x".into(),
                "..".into(),
                "../../..".into(),
                self.dir.clone(),
            ],
            Octal => s(&["0755", "0700", "1777", "0", "644", "7777"]),
            Size => s(&["1K", "1M", "0", "4096", "1g"]),
            Id => s(&["0", "1000", "65534", "1"]),
            IdMap => s(&["0:0:1", "0:65534:1", "0:100000:65536", "1000:1000:1"]),
            Hostname => s(&["box", "h1.example", "a-b", "x"]),
            Var => s(&["FOO", "PATH", "HOME", "_X1"]),
            Text => s(&["value", "", "a b", "--", "-"]),
            Argv0 => s(&["value", "", "a b", "sh", "x\ny"]),
            Offset => s(&["0", "-5", "3600", "9223372036854775807"]),
            Fd => s(&["0", "1", "2", "3", "99"]),
            OutFd => s(&["0", "1", "3", "99"]),
            Cap => s(&["CAP_NET_RAW", "net_admin", "ALL", "chown", "cap_sys_admin"]),
        }
    }

    /// The shared hostile pool: edge numbers, control characters, long strings, odd paths.
    fn hostile(&self, rng: &mut Rng) -> String {
        let long = "x".repeat(5000);
        let pool: [&str; 26] = [
            "",
            "-",
            "--",
            "18446744073709551",
            "18446744073709551616",
            "99999999999999999999",
            "-1",
            "-99999999999999999999",
            "0",
            "0777",
            "08",
            "1.5",
            "1K",
            "-1",
            "a\nb",
            "\t",
            "\x1b[2J",
            "\x7f",
            &long,
            "/",
            "/tmp",
            "..",
            "../../..",
            "/proc/self/fd/3",
            &self.fifo,
            &self.file,
        ];
        match rng.below(pool.len() + 2) {
            i if i < pool.len() => pool[i].to_string(),
            i if i == pool.len() => self.missing.clone(),
            _ => self.dir.clone(),
        }
    }
}

/// Options and the kinds of their operands. The number repeats an entry to make it likelier.
const OPTIONS: &[(&str, &[Kind], usize)] = {
    use Kind::*;
    &[
        ("-s", &[], 1),
        ("-g", &[], 1),
        ("-v", &[], 1),
        ("-w", &[], 1),
        ("-p", &[Signal], 2),
        ("-e", &[Code], 2),
        ("--rewrite", &[Rewrite], 2),
        ("--grace", &[Seconds], 2),
        ("--rlimit", &[Rlimit], 2),
        ("--time-limit", &[TimeLimit], 3),
        ("--landlock-ro", &[Path], 1),
        ("--landlock-rw", &[Path], 1),
        ("--landlock-exec", &[Path], 1),
        ("--landlock-bind", &[Port], 1),
        ("--landlock-connect", &[Port], 1),
        ("--landlock-strict", &[], 1),
        ("--rootfs", &[Path], 1),
        ("--unshare-all", &[], 2),
        ("--unshare-user", &[], 1),
        ("--unshare-user-try", &[], 1),
        ("--unshare-ipc", &[], 1),
        ("--unshare-pid", &[], 1),
        ("--unshare-net", &[], 1),
        ("--unshare-uts", &[], 2),
        ("--unshare-cgroup", &[], 1),
        ("--unshare-cgroup-try", &[], 1),
        ("--unshare-time", &[], 1),
        ("--share-net", &[], 1),
        ("--netns", &[Path], 1),
        ("--bind", &[WritableSrc, Dest], 2),
        ("--bind-try", &[WritableSrc, Dest], 1),
        ("--ro-bind", &[Path, Dest], 2),
        ("--ro-bind-try", &[Path, Dest], 1),
        ("--dev-bind", &[WritableSrc, Dest], 1),
        ("--dev-bind-try", &[WritableSrc, Dest], 1),
        ("--remount-ro", &[Dest], 1),
        ("--proc", &[Dest], 1),
        ("--dev", &[Dest], 1),
        ("--tmpfs", &[Dest], 2),
        ("--mqueue", &[Dest], 1),
        ("--dir", &[Dest], 1),
        ("--symlink", &[Text, Dest], 1),
        ("--chmod", &[Octal, Dest], 1),
        ("--perms", &[Octal], 1),
        ("--size", &[Size], 1),
        ("--uid", &[Id], 1),
        ("--gid", &[Id], 1),
        ("--uid-map", &[IdMap], 1),
        ("--gid-map", &[IdMap], 1),
        ("--hostname", &[Hostname], 4),
        ("--chdir", &[Path], 1),
        ("--setenv", &[Var, Text], 1),
        ("--unsetenv", &[Text], 1),
        ("--clearenv", &[], 1),
        ("--argv0", &[Argv0], 1),
        ("--new-session", &[], 1),
        ("--die-with-parent", &[], 1),
        ("--monotonic-offset", &[Offset], 1),
        ("--boottime-offset", &[Offset], 1),
        ("--info-fd", &[OutFd], 1),
        ("--json-status-fd", &[OutFd], 1),
        ("--cap-add", &[Cap], 1),
        ("--cap-drop", &[Cap], 1),
        ("--keep-fd", &[Fd], 1),
        ("--seccomp", &[Fd], 1),
        ("--add-seccomp-fd", &[Fd], 1),
        ("--no-default-seccomp", &[], 1),
        ("--disable-userns", &[], 1),
    ]
};

/// Init options that take `--opt=value` as well.
const INLINE_OK: &[&str] = &[
    "--rewrite",
    "--grace",
    "--rlimit",
    "--time-limit",
    "--landlock-bind",
    "--landlock-connect",
];

struct Gen {
    rng: Rng,
    fx: Fixtures,
    table: Vec<(&'static str, &'static [Kind])>,
    next_index: usize,
    tag: &'static str,
}

impl Gen {
    fn new(seed: u64, fx: Fixtures, tag: &'static str) -> Self {
        let table = OPTIONS
            .iter()
            .flat_map(|&(name, kinds, weight)| std::iter::repeat_n((name, kinds), weight))
            .collect();
        Gen {
            rng: Rng::new(seed),
            fx,
            table,
            next_index: 0,
            tag,
        }
    }

    fn value(&mut self, option: &str, kind: Kind, rw_root: bool) -> String {
        // Writable binds and the root of an --rw line never get a value from outside the
        // scratch directory: that is what keeps --chmod and --dir off the host.
        if kind == Kind::WritableSrc {
            return self.rng.pick(&self.fx.good_values(kind)).clone();
        }
        if option == "--rootfs" && rw_root {
            return self.fx.root.clone();
        }
        // Mostly well-formed, so that most lines get as far as building a sandbox.
        let r = self.rng.below(100);
        if r < 6 {
            let v = self.fx.hostile(&mut self.rng);
            // An argv[0] starting with '-' makes /bin/sh a login shell that reads profiles
            // and may print to stderr; COMMAND must stay silent.
            if option == "--argv0" && v.starts_with('-') {
                return format!("x{v}");
            }
            v
        } else if r < 12 && !bad_values(kind).is_empty() {
            self.rng.pick(bad_values(kind)).to_string()
        } else {
            self.rng.pick(&self.fx.good_values(kind)).clone()
        }
    }

    fn line(&mut self) -> Line {
        let index = self.next_index;
        self.next_index += 1;
        let rng = &mut self.rng;
        let mut must_fail = None;
        // How the root is built: the host's / read-only, by hand from it, a scratch
        // directory kept writable, or no sandbox unless the options make one.
        let (prefix, rw_root): (Vec<String>, bool) = match rng.below(100) {
            0..=34 => (vec!["--rootfs".into(), "/".into()], false),
            35..=59 => (
                ["--unshare-all", "--ro-bind", "/", "/"]
                    .map(String::from)
                    .to_vec(),
                false,
            ),
            60..=64 => (
                vec!["--rootfs".into(), self.fx.root.clone(), "--rw".into()],
                true,
            ),
            _ => (vec![], false),
        };
        let mut groups: Vec<Vec<String>> = Vec::new();
        let (mut warnings_ok, mut help, mut remap, mut rlimit) = (false, false, false, false);
        let mut time_limit = None;
        let count = rng.below(7);
        for _ in 0..count {
            let rng = &mut self.rng;
            if rng.pct(1) {
                // An option husk must not know, or a sandbox option spelt --opt=value.
                let v = rng
                    .pick(&["--bogus", "-x", "--hostname=box", "--bind=/tmp", "-", "--="])
                    .to_string();
                if v != "-" {
                    must_fail.get_or_insert(format!("unknown option {v}"));
                    groups.push(vec![v]);
                }
                continue;
            }
            if rng.below(300) == 0 {
                let v = rng.pick(&["-h", "--help", "--version", "-l"]).to_string();
                help = true;
                groups.push(vec![v]);
                continue;
            }
            if rng.below(200) == 0 {
                // --pause takes no COMMAND.
                must_fail.get_or_insert("--pause with a COMMAND".into());
                groups.push(vec!["--pause".into()]);
                continue;
            }
            let &(name, kinds) = self.rng.pick(&self.table);
            let mut g = vec![name.to_string()];
            for &kind in kinds {
                let v = self.value(name, kind, rw_root);
                if never_valid(kind, &v) {
                    must_fail.get_or_insert(format!("{name} {v:?}"));
                }
                g.push(v);
            }
            if name == "--time-limit" {
                time_limit = Some(g[1].clone());
            }
            if kinds.len() == 1 && self.rng.pct(10) && !never_valid(kinds[0], &g[1]) {
                if INLINE_OK.contains(&name) {
                    g = vec![format!("{name}={}", g[1])];
                } else if name.len() == 2 && !g[1].is_empty() {
                    g = vec![format!("{name}{}", g[1])]; // -e3, -pTERM
                }
            }
            // --hostname needs a UTS namespace: usually give one.
            if name == "--hostname" && self.rng.pct(50) {
                g.insert(0, "--unshare-uts".into());
            }
            // --perms and --size apply to the next --tmpfs (or --dir): usually give one.
            if (name == "--perms" || name == "--size") && self.rng.pct(80) {
                g.push("--tmpfs".into());
                g.push(self.value("--tmpfs", Kind::Dest, rw_root));
            }
            warnings_ok |= matches!(name, "-v" | "-w") || name.starts_with("--landlock");
            remap |= name == "-e";
            // stack=0 kills COMMAND with SIGSEGV at its first call, and rightly so.
            rlimit |= name == "--rlimit" && g.iter().any(|v| v.contains("stack=0"));
            groups.push(g);
        }
        if self.rng.pct(8) {
            // A cluster of short flags.
            let c = self
                .rng
                .pick(&["-sg", "-vw", "-sv", "-gsw", "-svvg"])
                .to_string();
            warnings_ok |= c.contains(['v', 'w']);
            groups.push(vec![c]);
        }
        // The root usually comes first; sometimes options come before it (order matters).
        let at = if self.rng.pct(80) {
            0
        } else {
            self.rng.below(groups.len() + 1)
        };
        groups.insert(at, prefix);
        let mut args: Vec<String> = groups.concat();

        let marker = format!("{}-{}-{index}", self.fx.marker, self.tag);
        let (command, cmd_code): (Vec<String>, i32) = match self.rng.below(100) {
            0..=29 => (vec!["/bin/true".into(), marker], 0),
            30..=44 => (vec!["/bin/false".into(), marker], 1),
            45..=69 => (
                ["/bin/sh", "-c", "exit 3"]
                    .map(String::from)
                    .into_iter()
                    .chain([marker])
                    .collect(),
                3,
            ),
            70..=84 => (vec!["/nonexistent".into(), marker], 127),
            _ => (vec![self.fx.file.clone(), marker], 126),
        };
        let truncated = self.rng.pct(1) && !args.iter().any(|a| a == "--pause");
        if truncated {
            // No COMMAND, and the last option may lack its value.
            if self.rng.pct(50) {
                args.pop();
            }
            must_fail.get_or_insert("no COMMAND".into());
        } else {
            if self.rng.pct(90) {
                args.push("--".into());
            }
            args.extend(command);
        }
        Line {
            index,
            args,
            cmd_code,
            must_fail,
            warnings_ok,
            help,
            remap,
            rlimit,
            time_limit,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Running a line
// ---------------------------------------------------------------------------------------

/// A husk run in progress: the child and what it has written to stderr so far.
struct Running {
    child: Child,
    stderr: ChildStderr,
    buf: Vec<u8>,
    eof: bool,
    started: Instant,
}

enum Outcome {
    Exited(ExitStatus, Vec<u8>),
    /// Killed at the deadline; what it had written by then.
    Hung(Vec<u8>),
}

impl Running {
    fn start(user: User, line: &Line) -> Self {
        let args: Vec<&str> = line.args.iter().map(String::as_str).collect();
        let mut cmd = husk_as(user, &args);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawning husk");
        let stderr = child.stderr.take().unwrap();
        Running {
            child,
            stderr,
            buf: Vec::new(),
            eof: false,
            started: Instant::now(),
        }
    }

    /// Reads stderr and waits for the exit until `until`; None if still running then.
    fn drive(&mut self, until: Instant) -> Option<ExitStatus> {
        loop {
            let now = Instant::now();
            if !self.eof {
                if now >= until {
                    return None;
                }
                let ms = (until - now).as_millis().clamp(1, 50) as i32;
                let mut pfd = libc::pollfd {
                    fd: self.stderr.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                };
                // SAFETY: one valid pollfd.
                if unsafe { libc::poll(&mut pfd, 1, ms) } > 0 {
                    let mut chunk = [0u8; 8192];
                    match self.stderr.read(&mut chunk) {
                        Ok(0) | Err(_) => self.eof = true,
                        Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                    }
                }
            } else {
                if let Some(st) = self.child.try_wait().unwrap() {
                    return Some(st);
                }
                if now >= until {
                    return None;
                }
                std::thread::sleep(Duration::from_micros(300));
            }
        }
    }

    fn finish(mut self) -> Outcome {
        match self.drive(self.started + DEADLINE) {
            Some(st) => Outcome::Exited(st, self.buf),
            None => {
                // SIGKILL: a hung husk may have every other signal blocked.
                let _ = self.child.kill();
                let _ = self.child.wait();
                Outcome::Hung(self.buf)
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// The invariants
// ---------------------------------------------------------------------------------------

struct Fault {
    /// Which invariant, and a short key grouping the same fault across lines.
    invariant: &'static str,
    key: String,
    detail: String,
    /// The option the message names, listed per group (one fault, many options).
    option: Option<String>,
}

fn fault(invariant: &'static str, key: impl Into<String>, detail: impl Into<String>) -> Fault {
    Fault {
        invariant,
        key: key.into(),
        detail: detail.into(),
        option: None,
    }
}

fn shown(bytes: &[u8]) -> String {
    let s = String::from_utf8_lossy(bytes);
    let s: String = s.chars().take(300).collect();
    quote(&s)
}

/// The option a husk message names: "husk: --uid 1: not an id" → "--uid".
fn named_option(stderr: &[u8]) -> String {
    let s = String::from_utf8_lossy(stderr);
    let rest = s.strip_prefix("husk: ").unwrap_or(&s);
    rest.split([' ', ':', '\n'])
        .next()
        .unwrap_or("")
        .chars()
        .take(40)
        .collect()
}

fn check(line: &Line, outcome: &Outcome) -> Vec<Fault> {
    let mut faults = Vec::new();
    let (status, err) = match outcome {
        Outcome::Hung(err) => {
            let fifo_opts: Vec<String> = line
                .args
                .windows(2)
                .filter(|w| w[1].ends_with("/fuzz/fifo"))
                .map(|w| w[0].clone())
                .collect();
            let key = if fifo_opts.is_empty() {
                line.options().join(" ")
            } else {
                format!("{} FIFO", fifo_opts.join(","))
            };
            faults.push(fault(
                "1 hang",
                key,
                format!(
                    "still running after {}s; stderr so far {}",
                    DEADLINE.as_secs(),
                    shown(err)
                ),
            ));
            return faults;
        }
        Outcome::Exited(st, err) => (*st, err),
    };

    // Invariant 2: no panic, no signal death of husk itself.
    if String::from_utf8_lossy(err).contains("internal error") {
        faults.push(fault("2 panic", named_option(err), shown(err)));
    }
    if let Some(sig) = status.signal() {
        faults.push(fault(
            "2 husk died of a signal",
            format!("signal {sig}"),
            format!("killed by signal {sig}; stderr {}", shown(err)),
        ));
        return faults;
    }
    let code = status.code().unwrap();

    // Invariant 3: the shape of stderr.
    let text = String::from_utf8_lossy(err);
    let lines: Vec<&str> = text
        .strip_suffix('\n')
        .unwrap_or(&text)
        .split('\n')
        .collect();
    let nlines = if err.is_empty() { 0 } else { lines.len() };
    let bad_line = !err.is_empty()
        && (!err.ends_with(b"\n")
            || lines
                .iter()
                .any(|l| !l.starts_with("husk: ") || l.bytes().any(|b| b < 0x20 || b == 0x7f)));
    let raw_control = err[..err.len().saturating_sub(1)]
        .iter()
        .any(|&b| (b < 0x20 && b != b'\n') || b == 0x7f);
    let echoed =
        raw_control || (nlines > 1 && lines.iter().skip(1).any(|l| !l.starts_with("husk: ")));
    if echoed {
        // A value's control characters copied into the message: one fault, whichever
        // option carried them (the options are listed with the group).
        faults.push(Fault {
            option: Some(named_option(err)),
            ..fault(
                "3 raw control character in the message",
                "",
                format!("status {code}, stderr {}", shown(err)),
            )
        });
    } else if bad_line || (nlines > 1 && !line.warnings_ok) {
        faults.push(fault(
            "3 stderr is not one clean \"husk: \" line",
            named_option(err),
            format!("status {code}, stderr {}", shown(err)),
        ));
    }

    // Dropping capabilities one does not have cannot fail for want of privilege; only
    // --cap-add asks for something a caller may lack.
    if text.contains("husk: dropping capabilities: Operation not permitted")
        && !line.args.iter().any(|a| a == "--cap-add")
    {
        faults.push(fault(
            "3 dropping capabilities failed without --cap-add",
            "",
            format!("status {code}, stderr {}", shown(err)),
        ));
    }

    let husk_failed = matches!(code, 125..=127) && code != line.cmd_code;
    let exec_failed = code == line.cmd_code && matches!(code, 126 | 127);
    if (husk_failed || exec_failed) && nlines == 0 {
        faults.push(fault(
            "3 failure without a message",
            format!("status {code}"),
            format!("status {code}, stderr empty"),
        ));
    }
    let limit = line.time_limit_ms();
    let fired = text.contains("husk: --time-limit: time limit reached");
    if fired && limit.is_some_and(|ms| ms > DEADLINE.as_millis()) {
        // Whatever the status (COMMAND may win the race and exit first), a limit of more
        // than the deadline cannot have been reached.
        faults.push(fault(
            "2 killed by a --time-limit far larger than the deadline",
            format!("--time-limit {}", limit.unwrap() / 1000),
            format!("status {code} at once; stderr {}", shown(err)),
        ));
        return faults;
    }
    // A short --time-limit may fire just as COMMAND exits: its message is then no fault.
    let raced = fired && limit.is_some();
    if code == line.cmd_code
        && matches!(code, 0 | 1 | 3)
        && nlines > 0
        && !line.warnings_ok
        && !raced
    {
        faults.push(fault(
            "3 message on success",
            named_option(err),
            format!("COMMAND's status {code}, yet stderr {}", shown(err)),
        ));
    }

    // The exit status: COMMAND's, husk's own failure, or something this line explains.
    if code == 137 && limit.is_some_and(|ms| ms > DEADLINE.as_millis()) {
        faults.push(fault(
            "2 killed by a --time-limit far larger than the deadline",
            format!("--time-limit {}", limit.unwrap() / 1000),
            format!("status 137 without a message; stderr {}", shown(err)),
        ));
    } else if line.help {
        if code != 0 && code != 125 {
            faults.push(fault(
                "3 unexpected status",
                format!("help status {code}"),
                format!("status {code}"),
            ));
        }
    } else if let Some(why) = &line.must_fail {
        if code != 125 {
            faults.push(fault(
                "3 a value that is never valid was not refused with 125",
                why.split(' ').next().unwrap_or("").to_string(),
                format!("{why}: status {code} (expected 125), stderr {}", shown(err)),
            ));
        }
    } else {
        let explained = code == line.cmd_code
            || matches!(code, 125..=127)
            || (code == 0 && line.remap)
            || (code > 128 && line.rlimit)
            || (code == 137 && limit.is_some());
        if !explained {
            faults.push(fault(
                "2/3 unexplained exit status",
                format!("status {code}"),
                format!(
                    "status {code} (COMMAND's would be {}), stderr {}",
                    line.cmd_code,
                    shown(err)
                ),
            ));
        }
    }
    faults
}

/// Pids of processes whose command line carries `marker`.
fn carrying(marker: &str) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if let Ok(c) = std::fs::read(format!("/proc/{pid}/cmdline")) {
            let c = String::from_utf8_lossy(&c).replace('\0', " ");
            if c.contains(marker) {
                out.push((pid, c));
            }
        }
    }
    out
}

fn mountinfo_lines() -> usize {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .count()
}

/// Faults grouped by (invariant, key): how many lines, and the shortest line showing it.
#[derive(Default)]
struct Report {
    /// By (invariant, key).
    groups: BTreeMap<(String, String), Group>,
    total: usize,
}

struct Group {
    count: usize,
    /// The shortest line showing the fault, and what happened to it.
    example: Line,
    detail: String,
    options: BTreeSet<String>,
}

impl Report {
    fn add(&mut self, line: &Line, f: Fault) {
        self.total += 1;
        let size = |l: &Line| (l.args.len(), l.args.iter().map(String::len).sum::<usize>());
        let e = self
            .groups
            .entry((f.invariant.to_string(), f.key))
            .or_insert_with(|| Group {
                count: 0,
                example: line.clone(),
                detail: f.detail.clone(),
                options: BTreeSet::new(),
            });
        e.count += 1;
        e.options.extend(f.option);
        if size(line) < size(&e.example) {
            e.example = line.clone();
            e.detail = f.detail;
        }
    }
}

// ---------------------------------------------------------------------------------------
// The batch
// ---------------------------------------------------------------------------------------

fn lines_per_user() -> usize {
    std::env::var("HUSK_FUZZ_LINES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000)
}

/// Runs one user's lines; the faults found, as a report, if any.
fn batch(user: User, fx: &Fixtures) -> Option<String> {
    let tag = match user {
        User::Root => "root",
        User::Unprivileged => "user",
    };
    let n = lines_per_user();
    let mut gen = Gen::new(SEED ^ (user as u64 + 1), fx.clone(), tag);
    let lines: Arc<Vec<Line>> = Arc::new((0..n).map(|_| gen.line()).collect());
    let marker = format!("{}-{tag}-", fx.marker);
    let mounts_before = mountinfo_lines();
    let report = Arc::new(Mutex::new(Report::default()));
    let statuses = Arc::new(Mutex::new(BTreeMap::<String, usize>::new()));
    let hung = Arc::new(Mutex::new(Vec::<usize>::new()));
    let refusals = Arc::new(Mutex::new(BTreeMap::<String, usize>::new()));
    let next = Arc::new(AtomicUsize::new(0));
    let t0 = Instant::now();

    // Checks a finished run and files the result.
    let settle = {
        let (report, statuses, hung) = (report.clone(), statuses.clone(), hung.clone());
        let refusals = refusals.clone();
        move |line: &Line, outcome: Outcome| {
            let key = match &outcome {
                Outcome::Hung(_) => {
                    hung.lock().unwrap().push(line.index);
                    "hang".to_string()
                }
                Outcome::Exited(st, err) => {
                    if st.code() == Some(125) {
                        // Why husk refused, to see that most lines get past the parser.
                        let text = String::from_utf8_lossy(err);
                        let why = text
                            .trim_end()
                            .rsplit(": ")
                            .next()
                            .unwrap_or("")
                            .to_string();
                        let why = format!("{} {why}", named_option(err));
                        *refusals.lock().unwrap().entry(why).or_default() += 1;
                    }
                    match st.signal() {
                        Some(s) => format!("signal {s}"),
                        None => st.code().unwrap().to_string(),
                    }
                }
            };
            *statuses.lock().unwrap().entry(key).or_default() += 1;
            for f in check(line, &outcome) {
                report.lock().unwrap().add(line, f);
            }
        }
    };
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let (lines, next, settle) = (lines.clone(), next.clone(), settle.clone());
            std::thread::spawn(move || {
                let mut waiters = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(line) = lines.get(i) else { break };
                    let mut run = Running::start(user, line);
                    if let Some(st) = run.drive(run.started + SOFT_DEADLINE) {
                        settle(line, Outcome::Exited(st, std::mem::take(&mut run.buf)));
                        continue;
                    }
                    // Slow: let a waiter see it to the deadline; this worker moves on. The
                    // worker thread outlives the waiter (joined below), so a -p or
                    // --die-with-parent tied to it does not fire early.
                    let (line, settle) = (line.clone(), settle.clone());
                    waiters.push(std::thread::spawn(move || settle(&line, run.finish())));
                }
                for w in waiters {
                    w.join().unwrap();
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let wall = t0.elapsed();

    // Invariant 4: nothing left behind.
    let mut report = std::mem::take(&mut *report.lock().unwrap());
    let hung = hung.lock().unwrap().clone();
    std::thread::sleep(Duration::from_millis(200));
    let mut after_hang = 0;
    for (pid, cmdline) in carrying(&marker) {
        let index: Option<usize> = cmdline
            .split(&marker)
            .nth(1)
            .and_then(|t| t.split(' ').next())
            .and_then(|t| t.parse().ok());
        kill(pid, libc::SIGKILL);
        match index {
            // A survivor of a line that hung is ours: we killed its husk at the deadline.
            Some(i) if hung.contains(&i) => after_hang += 1,
            Some(i) => report.add(
                &lines[i],
                fault(
                    "4 a process survived its husk",
                    lines[i].options().join(" "),
                    format!("pid {pid} still running: {}", quote(&cmdline)),
                ),
            ),
            None => {}
        }
    }
    let mounts_after = mountinfo_lines();

    let statuses = statuses.lock().unwrap();
    println!(
        "fuzz as {tag}: {n} lines in {:.1} s ({:.2} ms/line, {WORKERS} at a time); exit statuses {:?}",
        wall.as_secs_f64(),
        wall.as_secs_f64() * 1000.0 / n.max(1) as f64,
        *statuses
    );
    let mut top: Vec<_> = refusals.lock().unwrap().clone().into_iter().collect();
    top.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    let top: Vec<String> = top
        .iter()
        .take(12)
        .map(|(w, n)| format!("{n} {}", quote(w)))
        .collect();
    println!("  most common refusals (125): {}", top.join(", "));
    if after_hang > 0 {
        println!("  ({after_hang} processes of hung lines survived the kill; removed)");
    }
    let mut msgs = Vec::new();
    if mounts_after != mounts_before {
        msgs.push(format!(
            "[4 mounts] /proc/self/mountinfo had {mounts_before} lines before the batch, {mounts_after} after"
        ));
    }
    let mut groups: Vec<_> = report.groups.iter().collect();
    groups.sort_by_key(|(_, g)| std::cmp::Reverse(g.count));
    for ((invariant, key), g) in groups.iter().take(MAX_SHOWN) {
        let (count, line, detail, options) = (g.count, &g.example, &g.detail, &g.options);
        let options = if options.is_empty() {
            String::new()
        } else {
            let v: Vec<_> = options.iter().map(|o| quote(o)).collect();
            format!("\n    options named: {}", v.join(" "))
        };
        msgs.push(format!(
            "[{invariant}] ({key}) x{count}, e.g. line {}:\n    {}\n    {detail}{options}",
            line.index,
            line.shell()
        ));
    }
    if groups.len() > MAX_SHOWN {
        msgs.push(format!(
            "... and {} more distinct faults",
            groups.len() - MAX_SHOWN
        ));
    }
    if msgs.is_empty() {
        None
    } else {
        Some(format!(
            "fuzz as {tag}: {} faults on {n} lines, {} distinct:\n{}",
            report.total,
            report.groups.len(),
            msgs.join("\n")
        ))
    }
}

/// The fixtures, made once for both users' batches.
fn fixtures() -> &'static Fixtures {
    static FX: std::sync::OnceLock<Fixtures> = std::sync::OnceLock::new();
    FX.get_or_init(Fixtures::create)
}

for_each_user! {
    // Root and rootless are separate test cases, so one run shows every fault of both.
    fn generated_command_lines_keep_the_invariants(u: User) {
        if let Some(report) = batch(u, fixtures()) {
            panic!("\n{report}");
        }
    }
}

// ---------------------------------------------------------------------------------------
// The generator itself
// ---------------------------------------------------------------------------------------

fn fake_fixtures() -> Fixtures {
    let p = |n: &str| format!("/tmp/husk-fuzz-fixtures/{n}");
    Fixtures {
        dir: p("dir"),
        file: p("file"),
        fifo: p("fuzz/fifo"),
        missing: p("nonexistent"),
        bindsrc: p("bindsrc"),
        bindfile: p("bindsrc/f"),
        root: p("root"),
        marker: "husk-fuzz-0".into(),
    }
}

/// Same seed, same lines (so a failure reproduces); the known faults are all in reach of
/// the default seed; and no writable bind or --rw root ever points outside the scratch
/// directory.
#[test]
fn generator_is_deterministic_and_covers_the_known_faults() {
    let first = |seed| {
        let mut g = Gen::new(seed, fake_fixtures(), "t");
        (0..50).map(|_| g.line()).collect::<Vec<_>>()
    };
    assert_eq!(first(SEED), first(SEED));
    assert_ne!(first(SEED), first(SEED + 1));

    let fx = fake_fixtures();
    for user in [1u64, 2] {
        let mut g = Gen::new(SEED ^ user, fx.clone(), "t");
        let lines: Vec<Line> = (0..10_000).map(|_| g.line()).collect();
        let has = |l: &Line, opt: &str, pred: &dyn Fn(&str) -> bool| {
            l.args.windows(2).any(|w| w[0] == opt && pred(&w[1]))
        };
        let count = |f: &dyn Fn(&Line) -> bool| lines.iter().filter(|l| f(l)).count();
        let netns_fifo = count(&|l| has(l, "--netns", &|v| v == fx.fifo));
        let host_nl = count(&|l| has(l, "--hostname", &|v| v.contains('\n')));
        let overflow = count(&|l| has(l, "--time-limit", &|v| v == "18446744073709551"));
        let control = count(&|l| {
            l.args
                .iter()
                .any(|a| a.bytes().any(|b| b < 0x20 || b == 0x7f))
        });
        println!(
            "seed {user}: --netns FIFO {netns_fifo}, --hostname with \\n {host_nl}, \
             --time-limit 18446744073709551 {overflow}, control characters {control}"
        );
        assert!(netns_fifo >= 3 && host_nl >= 3 && overflow >= 3 && control >= 100);
        for l in &lines {
            let writable = ["--bind", "--bind-try", "--dev-bind", "--dev-bind-try"];
            for w in l.args.windows(2) {
                if writable.contains(&w[0].as_str()) {
                    assert!(
                        w[1].is_empty() || w[1].starts_with(&fx.bindsrc) || w[1] == fx.missing,
                        "{}",
                        l.shell()
                    );
                }
            }
            if l.args.iter().any(|a| a == "--rw") {
                for w in l.args.windows(2).filter(|w| w[0] == "--rootfs") {
                    assert_eq!(w[1], fx.root, "{}", l.shell());
                }
            }
        }
    }
}

/// Invariant 4 looks for survivors by the marker in their command line: check that the scan
/// sees a live process that carries one (and stops seeing it once it is gone).
#[test]
fn the_leak_scan_sees_a_marked_process() {
    let marker = format!("husk-fuzz-{}-selfcheck-0", std::process::id());
    let mut child = std::process::Command::new("/bin/sh")
        .args(["-c", "read x", &marker]) // waits on its stdin; no child of its own
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    assert!(eventually(5, || carrying(&marker)
        .iter()
        .any(|&(pid, _)| pid == child.id())));
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(carrying(&marker).is_empty());
}
