//! argv → `Spec`, without copying: values are slices of argv (or of the `--args` files, read
//! into memory never freed, `argfile`). Options end at `--` or at the first argument that is not
//! an option, so `husk printf %s -w` runs `printf %s -w`. The parser only records what was
//! asked; `resolve` checks how the options fit together.
//!
//! Every option, short or long, is one entry of one table, beside the `--help` line that
//! documents it; `--help` is made of those lines.

// The init-only build parses no sandbox option: the parsers of their values stay, unused.
#![cfg_attr(not(feature = "sandbox"), allow(dead_code, unused_imports))]

use crate::argfile;
use crate::buf::suffix;
use crate::error::{Error, Result};
use crate::num::parse as parse_u64;
use crate::spec::{
    Action, Argv, CgroupLimit, Env, EnvOp, IdRange, MountOp, OnExit, OpKind, PathAccess, Restart,
    Rlimit, SetupFd, Spec, ALL_NAMESPACES,
};
use crate::text::{self, Text};
use core::ffi::CStr;
use linux_raw_sys::general as k;

/// The option table: rows of `--help` text, each with the options it documents (long ones
/// without their `--`) and what each does; a row marked `sandbox` is left out of the
/// init-only build (its options and its text). Expands to `OPTIONS` (what each name does,
/// in the order of the names that build.rs reads from these rows and stores packed,
/// `text::names`), and for the tests `HELP`, `NAMES` (every name of this build, one space
/// after each) and `ROWS`.
macro_rules! options {
    // Sorts the rows into the init's and the sandbox's, keeping every row for `HELP`.
    (@rows [$($i:tt)*] [$($s:tt)*] [$($all:tt)*]
        sandbox $help:literal => [$($name:literal $opt:expr),*]; $($rest:tt)*) => {
        options!(@rows [$($i)*] [$($s)* $($name $opt)*] [$($all)* ($help, [$($name)*])]
            $($rest)*);
    };
    (@rows [$($i:tt)*] [$($s:tt)*] [$($all:tt)*]
        $help:literal => [$($name:literal $opt:expr),*]; $($rest:tt)*) => {
        options!(@rows [$($i)* $($name $opt)*] [$($s)*] [$($all)* ($help, [$($name)*])]
            $($rest)*);
    };
    (@rows [$($iname:literal $iopt:expr)*] [$($sname:literal $sopt:expr)*]
        [$(($help:literal, [$($name:literal)*]))*]) => {
        /// `--help`'s text (packed into the binary by build.rs, which reads these rows).
        #[cfg(test)]
        pub const HELP: &str = concat!($($help),*);
        #[cfg(all(test, feature = "sandbox"))]
        pub const NAMES: &[u8] = concat!($($iname, " ",)* $($sname, " ",)*).as_bytes();
        #[cfg(feature = "sandbox")]
        const OPTIONS: &[Opt] = {
            use Opt::*;
            &[$($iopt,)* $($sopt,)*]
        };
        #[cfg(all(test, not(feature = "sandbox")))]
        pub const NAMES: &[u8] = concat!($($iname, " ",)*).as_bytes();
        #[cfg(not(feature = "sandbox"))]
        const OPTIONS: &[Opt] = {
            use Opt::*;
            &[$($iopt,)*]
        };
        /// How many names the init's rows have: theirs come first (`HUSK_*` sets only them).
        const INIT_NAMES: usize = [$($iname),*].len();
        /// Each row's text and names, for the test that every name is documented beside it.
        #[cfg(test)]
        const ROWS: &[(&str, &[&str])] = &[$(($help, &[$($name),*])),*];
    };
    ($($rows:tt)*) => {
        options!(@rows [] [] [] $($rows)*);
    };
}

options! {
"\
Usage: husk [OPTION...] [--] COMMAND [ARG...]
" => [];
sandbox "       husk --rootfs DIR [OPTION...] [--] COMMAND [ARG...]
" => [];
"       husk --pause [OPTION...]

Runs COMMAND as the child of a minimal init: forwards signals to it, reaps
every zombie, and exits with COMMAND's status (128+N if it died of signal N).
" => [];
sandbox "With sandbox options, COMMAND runs in new namespaces under husk as PID 1.
" => [];
"
Init options (as in tini):
" => [];
"  -s, --subreaper register as a child subreaper when not PID 1 (TINI_SUBREAPER)
" => ["-s" Subreaper, "subreaper" Subreaper];
"  -p, --parent-death SIGNAL   parent-death signal: act as if SIGNAL was
                  received when the parent dies
" => ["-p" ParentDeath, "parent-death" ParentDeath];
"  -g, --kill-process-group    send forwarded signals to COMMAND's process
                  group (TSTP, TTIN, TTOU as STOP), and SIGTERM once COMMAND
                  has exited (TINI_KILL_PROCESS_GROUP)
" => ["-g" KillGroup, "kill-process-group" KillGroup];
"  -e, --remap-exit CODE       exit with 0 when COMMAND exits with CODE (0-255,
                  repeatable)
" => ["-e" Remap, "remap-exit" Remap];
"  -v, --verbose   more messages (repeatable; TINI_VERBOSITY=N sets the level)
" => ["-v" Verbose, "verbose" Verbose];
"  -w, --warn-reap warn about every reaped process that is not COMMAND
" => ["-w" WarnReap, "warn-reap" WarnReap];
"  -l              show the license and exit
" => ["-l" License];
"  -h, --help      show this help and exit
" => ["-h" Help, "help" Help];
"  --version       show the version and git commit and exit

Beyond tini:
" => ["version" Version];
"  --rewrite S:R   forward signal S as signal R; R=0 drops S (repeatable)
" => ["rewrite" Rewrite];
"  --grace SECONDS when COMMAND exits and other descendants remain, send them
                  SIGTERM, wait up to SECONDS, then SIGKILL what is left
" => ["grace" Grace];
"  --pause, -P    run no COMMAND: sleep and reap until SIGTERM or SIGINT
" => ["pause" Pause, "-P" Pause];
"  --rlimit NAME=SOFT[:HARD]   setrlimit(2) for COMMAND (nofile, nproc, as,
                  cpu, core, fsize, memlock, stack, ...; unlimited, K/M/G)
" => ["rlimit" SetRlimit];
"  --time-limit SECONDS        SIGKILL everything after SECONDS (exit 137)
" => ["time-limit" TimeLimit];
"  --delay-signal SIGNAL:SECONDS   forward SIGNAL that much later (a second
                  one at once): load balancers drop the pod first
" => ["delay-signal" DelaySignal];
"  --wait-all      after COMMAND, wait for all descendants (-s if not PID 1);
                  forward signals to all of them
" => ["wait-all" WaitAll];
"  --user USER[:GROUP]         run COMMAND as USER (name or uid) and its groups
                  in /etc/passwd and /etc/group, or in GROUP alone
" => ["user" User];
"  --termination-log PATH      at the end write how COMMAND ended to PATH
" => ["termination-log" TerminationLog];
sandbox "  --config FILE   options from FILE, one to a line as here (\"quotes\" for spaces,
                  # comments), and COMMAND on a last line after --
" => ["config" Config];
sandbox "  --restart on-failure|always   start COMMAND again when it exits (after
                  1 s, doubling up to 32 s; at most 5 times a minute)
" => ["restart" Restarts];
sandbox "  --machine       be the machine's init (as the kernel's pid 1, automatic):
                  mount /proc, /sys, /dev..., and once COMMAND is done power off
  --on-exit poweroff|reboot|halt   or reboot, or halt
" => ["on-exit" OnExitAs, "machine" Machine];
sandbox "  --landlock-ro PATH, --landlock-rw PATH, --landlock-exec PATH
                  once any is given, COMMAND reaches only these paths
" => [
    "landlock-ro" Landlock(PathAccess::ReadOnly),
    "landlock-rw" Landlock(PathAccess::ReadWrite),
    "landlock-exec" Landlock(PathAccess::Exec)
];
sandbox "  --landlock-bind PORT, --landlock-connect PORT   likewise for TCP ports
" => ["landlock-bind" LandlockPort(true), "landlock-connect" LandlockPort(false)];
sandbox "  --landlock-strict           fail where the kernel cannot enforce a rule
" => ["landlock-strict" LandlockStrict];
sandbox "  --cgroup DIR    start COMMAND in this cgroup v2 directory (created if
                  missing); at exit kill all in it and remove what husk made
" => ["cgroup" Cgroup];
sandbox "  --memory-max BYTES, --pids-max N, --cpu-max QUOTA[/PERIOD]   its limits

Sandbox (bubblewrap's names; mounts are applied in the order given):
" => [
    "memory-max" Limit(CgroupLimit::Memory),
    "pids-max" Limit(CgroupLimit::Pids),
    "cpu-max" Limit(CgroupLimit::Cpu)
];
sandbox "  --rootfs DIR    all namespaces; DIR read-only as /, fresh /proc, /dev, and
                  tmpfs on /tmp, /run, /var/run
" => ["rootfs" Rootfs];
sandbox "  --rw            with --rootfs: keep DIR writable
" => ["rw" Rw];
sandbox "  --unshare-all   user, mount, pid, net, ipc, uts, cgroup namespaces
" => ["unshare-all" UnshareAll];
sandbox "  --unshare-user, --unshare-user-try, --unshare-ipc, --unshare-pid,
  --unshare-net, --unshare-uts, --unshare-cgroup, --unshare-cgroup-try,
  --unshare-time  one namespace each
" => [
    "unshare-user" Unshare(bit(k::CLONE_NEWUSER), false),
    "unshare-user-try" Unshare(bit(k::CLONE_NEWUSER), true),
    "unshare-ipc" Unshare(bit(k::CLONE_NEWIPC), false),
    "unshare-pid" Unshare(bit(k::CLONE_NEWPID), false),
    "unshare-net" Unshare(bit(k::CLONE_NEWNET), false),
    "unshare-uts" Unshare(bit(k::CLONE_NEWUTS), false),
    "unshare-cgroup" Unshare(bit(k::CLONE_NEWCGROUP), false),
    "unshare-cgroup-try" Unshare(bit(k::CLONE_NEWCGROUP), true),
    "unshare-time" UnshareTime
];
sandbox "  --share-net     keep the host's network
" => ["share-net" ShareNet];
sandbox "  --netns PATH    join this network namespace (as from ip netns add)
" => ["netns" Netns];
sandbox "  --bind SRC DEST, --ro-bind SRC DEST, --dev-bind SRC DEST (and -try forms)
                  bind SRC (recursively; nosuid, and nodev unless --dev-bind)
" => [
    "bind" bind(false, false, false),
    "bind-try" bind(false, false, true),
    "ro-bind" bind(true, false, false),
    "ro-bind-try" bind(true, false, true),
    "dev-bind" bind(false, true, false),
    "dev-bind-try" bind(false, true, true)
];
sandbox "  --remount-ro DEST, --proc DEST, --dev DEST, --tmpfs DEST, --mqueue DEST,
  --dir DEST, --symlink TARGET DEST, --chmod OCTAL PATH
" => [
    "remount-ro" Mount(OpKind::RemountRo),
    "proc" Mount(OpKind::Proc),
    "dev" Mount(OpKind::Dev),
    "tmpfs" Mount(OpKind::Tmpfs),
    "mqueue" Mount(OpKind::Mqueue),
    "dir" Mount(OpKind::Dir),
    "symlink" Mount(OpKind::Symlink),
    "chmod" Mount(OpKind::Chmod)
];
sandbox "  --bind-fd FD DEST, --ro-bind-fd FD DEST   bind what FD is open on
" => [
    "bind-fd" MountFd(OpKind::Bind { read_only: false, devices: false, optional: false }),
    "ro-bind-fd" MountFd(OpKind::Bind { read_only: true, devices: false, optional: false })
];
sandbox "  --file FD DEST, --bind-data FD DEST, --ro-bind-data FD DEST   FD's data as
                  a file (0666), or bound on DEST (0600)
" => [
    "file" MountFd(OpKind::Data { bound: false, read_only: false }),
    "bind-data" MountFd(OpKind::Data { bound: true, read_only: false }),
    "ro-bind-data" MountFd(OpKind::Data { bound: true, read_only: true })
];
sandbox "  --perms OCTAL, --size BYTES   mode (and size) of the next --tmpfs, --dir
                  or data file
" => ["perms" Perms, "size" Size];
sandbox "  --uid N, --gid N              ids inside (default 0, the caller mapped)
" => ["uid" Id(true), "gid" Id(false)];
sandbox "  --uid-map IN:OUT:COUNT, --gid-map IN:OUT:COUNT   id ranges (repeatable)
" => ["uid-map" IdMap(true), "gid-map" IdMap(false)];
sandbox "  --hostname NAME (default husk), --chdir DIR, --setenv VAR VALUE,
  --unsetenv VAR, --clearenv, --argv0 VALUE, --new-session, --die-with-parent
" => [
    "hostname" Hostname,
    "chdir" Chdir,
    "setenv" Setenv,
    "unsetenv" Unsetenv,
    "clearenv" Clearenv,
    "argv0" Argv0,
    "new-session" NewSession,
    "die-with-parent" DieWithParent
];
sandbox "  --monotonic-offset SECONDS, --boottime-offset SECONDS   time namespace
" => ["monotonic-offset" Offset(true), "boottime-offset" Offset(false)];
sandbox "  --args FD       options from FD, NUL-separated
" => ["args" Args];
sandbox "  --info-fd FD, --json-status-fd FD   bubblewrap's JSON status
" => ["info-fd" StatusFd(true), "json-status-fd" StatusFd(false)];
sandbox "  --userns FD, --pidns FD   make the sandbox in these namespaces; --userns2 FD
                  moves to that user namespace once the root is built
  --sync-fd FD, --block-fd FD, --userns-block-fd FD, --lock-file PATH,
  --as-pid-1, --assert-userns-disabled   as in bubblewrap
" => [
    "userns" Fd(SetupFd::Userns),
    "pidns" Fd(SetupFd::Pidns),
    "userns2" Fd(SetupFd::Userns2),
    "sync-fd" Fd(SetupFd::Sync),
    "block-fd" Fd(SetupFd::Block),
    "userns-block-fd" Fd(SetupFd::UsernsBlock),
    "lock-file" LockFile,
    "as-pid-1" AsPid1,
    "assert-userns-disabled" AssertUsernsDisabled
];
sandbox "
Sandbox hardening (on by default: no capabilities, no_new_privs, a seccomp
filter, only fds 0-2 passed on):
" => [];
sandbox "  --cap-add CAP, --cap-drop CAP   keep (drop) a capability; CAP_ optional, ALL
" => ["cap-add" Cap(true), "cap-drop" Cap(false)];
sandbox "  --keep-fd FD    pass FD on to COMMAND (repeatable)
" => ["keep-fd" KeepFd];
sandbox "  --seccomp FD    load this compiled BPF instead of the default filter
" => ["seccomp" Seccomp(true)];
sandbox "  --add-seccomp-fd FD             load it in addition (repeatable)
" => ["add-seccomp-fd" Seccomp(false)];
sandbox "  --no-default-seccomp            do not load the default filter
" => ["no-default-seccomp" NoDefaultSeccomp];
sandbox "  --disable-userns                COMMAND cannot create user namespaces
" => ["disable-userns" DisableUserns];
sandbox "  --restrict-af LIST  socket families: unix,inet,inet6,netlink,packet or none
" => ["restrict-af" RestrictAf];
"
SIGNAL is a name (TERM, SIGTERM, RTMIN+3) or a number. HUSK_NAME=VALUE in the
environment gives the init option of long name NAME (in capitals, - as _; 1 or
0 for a flag: HUSK_GRACE=5, HUSK_WAIT_ALL=1), before the command line. Exit
status: COMMAND's; 125 if husk failed, 126 if COMMAND cannot be executed, 127
if not found.
" => [];
}

/// What an option does.
#[derive(Clone, Copy)]
enum Opt {
    Help,
    Version,
    License,
    Subreaper,
    ParentDeath,
    KillGroup,
    Remap,
    Verbose,
    WarnReap,
    Rewrite,
    Grace,
    Pause,
    SetRlimit,
    TimeLimit,
    DelaySignal,
    WaitAll,
    User,
    TerminationLog,
    Config,
    Restarts,
    OnExitAs,
    Machine,
    Landlock(PathAccess),
    /// `--landlock-bind` (true) or `--landlock-connect`.
    LandlockPort(bool),
    LandlockStrict,
    Cgroup,
    Limit(CgroupLimit),
    Mount(OpKind),
    /// A mount option whose first operand is a descriptor.
    MountFd(OpKind),
    /// One of bubblewrap's descriptor options.
    Fd(SetupFd),
    LockFile,
    AsPid1,
    AssertUsernsDisabled,
    Rootfs,
    Rw,
    UnshareAll,
    ShareNet,
    /// A CLONE_NEW* flag (its bit number: a u8 keeps the table small), and whether failing
    /// to unshare it is tolerated (`-try`).
    Unshare(u8, bool),
    UnshareTime,
    Netns,
    Hostname,
    Chdir,
    Argv0,
    Setenv,
    Unsetenv,
    Clearenv,
    DieWithParent,
    NewSession,
    /// `--uid` (true) or `--gid`.
    Id(bool),
    /// `--uid-map` (true) or `--gid-map`.
    IdMap(bool),
    /// `--monotonic-offset` (true) or `--boottime-offset`.
    Offset(bool),
    /// `--info-fd` (true) or `--json-status-fd`.
    StatusFd(bool),
    Perms,
    Size,
    /// `--cap-add` (true) or `--cap-drop`.
    Cap(bool),
    KeepFd,
    /// `--seccomp` (true: replaces the default filter) or `--add-seccomp-fd`.
    Seccomp(bool),
    NoDefaultSeccomp,
    DisableUserns,
    RestrictAf,
    /// `--args FD`: the options in FD, walked before the rest of argv (Cursor::file).
    Args,
}

impl Opt {
    /// The options that take their value as `--opt=value` too (tini's style); sandbox
    /// options take whole arguments, as in bubblewrap.
    fn inline_ok(self) -> bool {
        use Opt::*;
        matches!(
            self,
            ParentDeath
                | Remap
                | Rewrite
                | Grace
                | SetRlimit
                | TimeLimit
                | DelaySignal
                | User
                | TerminationLog
                | Config
                | LandlockPort(_)
                | Restarts
                | OnExitAs
        )
    }

    /// Every option makes a sandbox but those of the init, the limits, landlock and the
    /// cgroup.
    fn makes_sandbox(self) -> bool {
        use Opt::*;
        !matches!(
            self,
            Help | Version
                | License
                | Subreaper
                | ParentDeath
                | KillGroup
                | Remap
                | Verbose
                | WarnReap
                | Rewrite
                | Grace
                | Pause
                | SetRlimit
                | TimeLimit
                | DelaySignal
                | WaitAll
                | User
                | TerminationLog
                | Config
                | Restarts
                | OnExitAs
                | Machine
                | Hostname
                | Landlock(_)
                | LandlockPort(_)
                | LandlockStrict
                | Cgroup
                | Limit(_)
                | Args
        )
    }
}

const fn bit(flag: u32) -> u8 {
    flag.trailing_zeros() as u8
}

const fn bind(read_only: bool, devices: bool, optional: bool) -> Opt {
    Opt::Mount(OpKind::Bind {
        read_only,
        devices,
        optional,
    })
}

/// The option names (long ones without their `--`), unpacked when the first is looked up
/// (`husk -- COMMAND` looks up none).
struct Names {
    unpacked: [u8; text::NAMES_END],
    len: usize,
}

impl Names {
    /// An option by the name as given (`--bind`, `-s`), and its place in the table.
    #[inline(never)]
    fn lookup(&mut self, given: &[u8]) -> Option<(usize, Opt)> {
        let name = match given.strip_prefix(b"--") {
            Some(long) if !long.starts_with(b"-") => long,
            Some(_) => return None,
            None => given,
        };
        if self.len == 0 {
            self.len = text::names(&mut self.unpacked).len();
        }
        let i = index_of(&self.unpacked[..self.len], name)?;
        Some((i, *OPTIONS.get(i)?))
    }
}

/// `-s` for the short option `s`, from a table that lives as long as husk (a message may
/// name it after the unpacked names are gone).
fn short_name(letter: u8) -> &'static [u8] {
    let mut names = text::SHORT_NAMES.chunks(2);
    names.find(|n| n[1] == letter).unwrap_or(b"-")
}

/// Walks argv, handing out option values: an attached one first (`-e3`, `--grace=1`),
/// then the next arguments.
struct Cursor<'a> {
    argv: Argv<'a>,
    next: usize,
    attached: Option<&'a CStr>,
    /// What is left of an `--args` file, walked before argv goes on: arguments, each
    /// ended by a NUL.
    file: &'a [u8],
    /// The option being parsed came from the file (its values must too, as in bwrap).
    in_file: bool,
    /// The value last handed out, for the message that refuses it.
    last: &'a [u8],
    /// The `--config` file `file` holds, and the line being read (its `\n` arguments end
    /// each line).
    config: Option<&'a CStr>,
    line: u32,
    /// Nothing of the line has been taken yet.
    line_start: bool,
    /// The COMMAND of a `--config` file, if it has one.
    command: Option<Argv<'a>>,
    /// `--config`'s FILE, to be read.
    pending: Option<&'a CStr>,
}

impl<'a> Cursor<'a> {
    /// A cursor at argv's entry `next`, with `file`'s arguments first.
    fn new(argv: Argv<'a>, next: usize, file: &'a [u8]) -> Self {
        Cursor {
            argv,
            next,
            attached: None,
            file,
            in_file: false,
            last: b"",
            config: None,
            line: 0,
            line_start: false,
            command: None,
            pending: None,
        }
    }

    /// The next argument, taken: the file's while they last, then argv's.
    fn shift(&mut self) -> Option<&'a CStr> {
        self.in_file = !self.file.is_empty();
        if self.in_file {
            let (s, rest) = self
                .file
                .split_at(self.file.iter().position(|&b| b == 0)? + 1);
            self.file = rest;
            // SAFETY: `s` ends at its first NUL.
            return Some(unsafe { CStr::from_bytes_with_nul_unchecked(s) });
        }
        let s = (self.next < self.argv.len()).then(|| self.argv.get(self.next))?;
        self.next += 1;
        Some(s)
    }

    /// A `--config` file's line ends here: its values are all taken.
    fn line_ends(&self) -> bool {
        crate::SANDBOX && self.config.is_some() && self.file.starts_with(b"\n\0")
    }

    /// The option's next value.
    fn arg(&mut self) -> Checked<&'a CStr> {
        self.value().ok_or(refused(text!("missing value")))
    }

    /// The option's next value, if any: as an `Option` it comes back in two registers (a
    /// `Checked` comes back through memory), and once inlined, the `?` that follows each
    /// `arg` is the same test everywhere.
    #[inline(never)]
    fn value(&mut self) -> Option<&'a CStr> {
        let v = match self.attached.take() {
            Some(v) => v,
            None if self.in_file && (self.file.is_empty() || self.line_ends()) => return None,
            None => self.shift()?,
        };
        self.last = v.to_bytes();
        Some(v)
    }

    /// The next value read with `parse`, or refused with `reason`.
    fn parsed<T>(&mut self, parse: fn(&'a [u8]) -> Option<T>, reason: Text) -> Checked<T> {
        let v = self.arg()?.to_bytes();
        parse(v).ok_or(bad_value(reason))
    }
}

/// What only husk's own arguments (which live as long as husk) do: a message may name
/// the `--config` file they come from once the parser is done.
impl Cursor<'static> {
    /// The next option's argument; in a `--config` file the first of a line (the lines
    /// passed over are counted).
    #[inline(never)]
    fn next_option(&mut self) -> Result<'static, Option<&'static CStr>> {
        if crate::SANDBOX && self.config.is_some() {
            let fresh = self.line_start || self.line_ends();
            while self.line_ends() {
                self.file = &self.file[2..];
                self.line += 1;
            }
            self.line_start = false;
            if self.file.is_empty() {
                self.config = None;
                crate::config::set_line(0);
            } else {
                crate::config::set_line(self.line);
            }
            if !self.file.is_empty() && !fresh {
                let extra = self.shift().map_or(&b""[..], CStr::to_bytes);
                return Err(Error::refused(extra, text!("one option to a line")));
            }
        }
        Ok(self.shift())
    }

    /// `--config FILE` (`option` as given): its options are walked next. One file: its
    /// storage holds the values the Spec borrows.
    #[inline(never)]
    fn read_config(&mut self, option: &'static [u8]) -> Result<'static, ()> {
        let path = self.pending.unwrap_or(c"");
        if self.line != 0 {
            return Err(Error::refused(option, text!("given twice")).with(path));
        }
        (self.file, self.command) =
            crate::config::read(path).map_err(|(line, why)| match line {
                0 => Error::refused(option, why).with(path),
                n => {
                    crate::config::set_line(n);
                    Error::refused(b"", why)
                }
            })?;
        (self.config, self.line, self.line_start) = (Some(path), 1, true);
        Ok(())
    }
}

/// Why an option is refused: small enough to come back in registers (as an `Error`, each
/// `?` of the parser copied it), it becomes the error naming the option in `parse`, and
/// with `value` the value last taken (`husk: -e 300: not an exit code (0-255)`).
#[derive(Clone, Copy)]
struct Refused {
    why: Text,
    value: bool,
}

type Checked<T> = core::result::Result<T, Refused>;

/// The option is refused (`husk: --hostname: needs --unshare-uts`).
fn refused(why: Text) -> Refused {
    Refused { why, value: false }
}

/// The value last taken is refused.
fn bad_value(why: Text) -> Refused {
    Refused { why, value: true }
}

impl Refused {
    fn error<'a>(self, option: &'a [u8], value: &'a [u8]) -> Error<'a> {
        let e = Error::refused(option, self.why);
        if self.value {
            e.with_bytes(value)
        } else {
            e
        }
    }
}

/// What the parser does after an option.
enum Then {
    Next,
    Act(Action),
    /// `--args FD`: read FD (an errno, not a `Refused`, if that fails) and walk it next.
    ReadArgs(i32),
    /// `--config FILE` (in `Cursor::config`): likewise.
    ReadConfig,
}

/// Fills `spec` (built once by the caller: it is large, and moving it would touch every
/// page of it) from argv and the TINI_* variables.
/// (Its arguments live as long as husk: a message may name a `--config` file after the
/// parser is done.)
pub fn parse(
    argv: Argv<'static>,
    env: Env<'static>,
    spec: &mut Spec<'static>,
) -> Result<'static, Action> {
    let init = &mut spec.init;
    init.subreaper = env.get(b"TINI_SUBREAPER").is_some();
    init.kill_group = env.get(b"TINI_KILL_PROCESS_GROUP").is_some();
    if let Some(v) = env.get(b"TINI_VERBOSITY") {
        init.verbosity = leading_number(v.to_bytes());
    }
    let mut cur = Cursor::new(argv, 1, b"");
    let mut names = Names {
        unpacked: [0; text::NAMES_END],
        len: 0,
    };
    for (_, entry) in env.starting_with(b"HUSK_") {
        env_option(entry, &mut names, &mut cur, spec)?;
    }
    while let Some(whole) = cur.next_option()? {
        let arg = whole.to_bytes();
        if arg == b"--" || arg.len() < 2 || arg[0] != b'-' {
            // COMMAND comes from the command line, after the options.
            if cur.in_file {
                return Err(Error::refused(arg, IN_FILE));
            }
            cur.next -= usize::from(arg != b"--");
            break;
        }
        let unknown = |name| Error::refused(name, text!("unknown option (see --help)"));
        // One option, or each of a cluster of short ones: `-svv`, `-e3`, `-p SIGTERM`.
        let long = arg[1] == b'-';
        let mut j = 1;
        loop {
            let (name, opt, rest) = if long {
                let eq = arg.iter().position(|&b| b == b'=');
                let name = &arg[..eq.unwrap_or(arg.len())];
                let (_, opt) = names.lookup(name).ok_or(unknown(name))?;
                if eq.is_some() && !opt.inline_ok() {
                    return Err(unknown(arg));
                }
                (name, opt, eq.map(|eq| suffix(whole, eq + 1)))
            } else {
                let (_, opt) = names.lookup(&[b'-', arg[j]]).ok_or(unknown(arg))?;
                let name = short_name(arg[j]);
                (name, opt, (j + 1 < arg.len()).then(|| suffix(whole, j + 1)))
            };
            cur.attached = rest;
            match option(opt, name, &mut cur, spec) {
                Ok(Then::Next) => {}
                Ok(Then::Act(action)) => return Ok(action),
                Ok(Then::ReadArgs(fd)) => cur.file = argfile::read(name, fd)?,
                Ok(Then::ReadConfig) if crate::SANDBOX => cur.read_config(name)?,
                Err(r) => return Err(r.error(name, cur.last)),
                Ok(Then::ReadConfig) => {}
            }
            j += 1;
            // Past the cluster, or the rest was this option's value.
            if long || j == arg.len() || rest.is_some() && cur.attached.is_none() {
                break;
            }
        }
        cur.attached = None;
    }
    spec.command = argv.tail(cur.next);
    if let (true, Some(command)) = (spec.command.is_empty(), cur.command) {
        spec.command = command;
    }
    Ok(Action::Run)
}

/// `HUSK_GRACE=5`: an init option by its long name, from the environment, as if given
/// before the command line. Other variables, and `HUSK_*` ones that name no init option,
/// are someone else's (tini ignores the TINI_* it does not know too).
#[inline(never)]
fn env_option<'a>(
    entry: &'a CStr,
    names: &mut Names,
    cur: &mut Cursor<'a>,
    spec: &mut Spec<'a>,
) -> Result<'a, ()> {
    // The entry starts with HUSK_ (the caller's Env::starting_with): NAME is up to the `=`.
    let bytes = entry.to_bytes();
    let eq = bytes.iter().position(|&b| b == b'=').unwrap_or(0);
    let Some(var) = bytes.get(5..eq) else {
        return Ok(());
    };
    let mut long = [b'-'; 32];
    let Some(slots) = long.get_mut(2..2 + var.len()) else {
        return Ok(());
    };
    for (slot, &b) in slots.iter_mut().zip(var) {
        // Lower case for letters, digits as they are.
        *slot = if b == b'_' { b'-' } else { b | 0x20 };
    }
    let opt = match names.lookup(&long[..2 + var.len()]) {
        Some((i, opt)) if i < INIT_NAMES => opt,
        _ => return Ok(()),
    };
    let value = suffix(entry, eq + 1);
    let refused = |why| Error::refused(bytes, why);
    if opt.inline_ok() {
        cur.attached = Some(value);
    } else {
        match value.to_bytes() {
            b"0" => return Ok(()),
            b"1" => {}
            _ => return Err(refused(text!("expected 1 or 0"))),
        }
    }
    // Help, the version, the license (an action) are not taken from the environment.
    option(opt, bytes, cur, spec).map_or_else(|r| Err(refused(r.why)), |_| Ok(()))
}

/// Why an argument of an `--args` or `--config` file is refused: COMMAND (but a
/// `--config` file's last line), `--`, `--args` and `--config` belong on the command line.
const IN_FILE: Text = text!("not allowed in an --args or --config file");

/// One option with its values.
#[inline(never)]
fn option<'a>(
    opt: Opt,
    name: &'a [u8],
    cur: &mut Cursor<'a>,
    spec: &mut Spec<'a>,
) -> Checked<Then> {
    let (init, confine) = (&mut spec.init, &mut spec.confine);
    spec.sandbox.enabled |= opt.makes_sandbox();
    match opt {
        Opt::Help => return Ok(Then::Act(Action::Help)),
        Opt::Version => return Ok(Then::Act(Action::Version)),
        Opt::License => return Ok(Then::Act(Action::License)),
        Opt::Subreaper => init.subreaper = true,
        Opt::KillGroup => init.kill_group = true,
        Opt::Verbose => init.verbosity += 1,
        Opt::WarnReap => init.warn_reap = true,
        Opt::Pause => init.pause = true,
        Opt::ParentDeath => {
            init.parent_death =
                cur.parsed(signal_number, text!("not a signal name or number"))? as i32
        }
        Opt::Remap => init.remap.insert(cur.parsed(
            |v| parse_u64(v).filter(|&c| c <= 255),
            text!("not an exit code (0-255)"),
        )? as u8),
        Opt::Rewrite => {
            let (from, to) = cur.parsed(
                parse_rewrite,
                text!("expected SIGNAL:SIGNAL (the second may be 0)"),
            )?;
            init.rewrite[from as usize] = to;
        }
        Opt::Grace => {
            init.grace_ms = Some(cur.parsed(
                parse_millis,
                text!("not a number of seconds (at most 4294967295)"),
            )?)
        }
        Opt::TimeLimit => {
            init.time_limit_ms = Some(cur.parsed(
                |v| parse_millis(v).filter(|&ms| ms > 0),
                text!("not a number of seconds (0.001 to 4294967295)"),
            )?)
        }
        Opt::WaitAll => init.wait_all = true,
        Opt::DelaySignal => {
            let (sig, ms) = cur.parsed(
                |v| {
                    let colon = v.iter().position(|&b| b == b':')?;
                    Some((signal_number(&v[..colon])?, parse_millis(&v[colon + 1..])?))
                },
                text!("expected SIGNAL:SECONDS"),
            )?;
            (init.delay_signal, init.delay_ms) = (sig.into(), ms);
        }
        Opt::User => confine.user = Some(crate::user::User::given(cur.arg()?)),
        Opt::TerminationLog => spec.termination_log = Some(cur.arg()?),
        Opt::SetRlimit => {
            let limit = cur.parsed(
                parse_rlimit,
                text!("expected NAME=SOFT[:HARD] (see setrlimit(2); unlimited, K/M/G accepted)"),
            )?;
            confine
                .rlimits
                .push(limit)
                .map_err(|_| refused(text!("too many (max 16)")))?;
        }
        #[cfg(feature = "sandbox")]
        _ => return sandbox_option(opt, name, cur, spec),
        // The init-only build has no names for the others (nor a use for `name`).
        #[cfg(not(feature = "sandbox"))]
        _ => {
            let _ = name;
        }
    }
    Ok(Then::Next)
}

/// One option of the sandbox, landlock, the cgroup, `--restart` or the machine's init (left
/// out of the init-only build).
#[cfg(feature = "sandbox")]
fn sandbox_option<'a>(
    opt: Opt,
    name: &'a [u8],
    cur: &mut Cursor<'a>,
    spec: &mut Spec<'a>,
) -> Checked<Then> {
    const NOT_AN_FD: Text = text!("not a file descriptor");
    // `--perms` or `--size` again before the option that takes the first, named with the
    // value just taken (from argv or an --args file).
    let twice = || bad_value(text!("given twice before the option it applies to"));
    match opt {
        Opt::Config => {
            let path = cur.arg()?;
            if cur.in_file {
                return Err(refused(IN_FILE));
            }
            // Read by the parser loop (Cursor::read_config), which walks the cursor's file.
            cur.pending = Some(path);
            return Ok(Then::ReadConfig);
        }
        Opt::Machine => spec.init.machine = true,
        Opt::Restarts => {
            spec.init.restart = match cur.parsed(
                |v| index_of(b"on-failure always", v),
                text!("expected on-failure or always"),
            )? {
                0 => Restart::OnFailure,
                _ => Restart::Always,
            }
        }
        Opt::OnExitAs => {
            spec.init.on_exit = match cur.parsed(
                |v| index_of(b"poweroff reboot halt", v),
                text!("expected poweroff, reboot or halt"),
            )? {
                0 => OnExit::PowerOff,
                1 => OnExit::Reboot,
                _ => OnExit::Halt,
            }
        }
        _ => {}
    }
    let (sb, confine, cgroup) = (&mut spec.sandbox, &mut spec.confine, &mut spec.cgroup);
    match opt {
        Opt::Landlock(access) => {
            let path = cur.arg()?;
            confine
                .landlock
                .paths
                .push((access, path))
                .map_err(|_| refused(text!("too many (max 32)")))?;
        }
        Opt::LandlockPort(bind) => {
            let port = cur.parsed(
                |v| parse_u64(v).filter(|&p| p <= 65535),
                text!("not a TCP port"),
            )? as u16;
            let ll = &mut confine.landlock;
            let list = if bind { &mut ll.bind } else { &mut ll.connect };
            list.push(port)
                .map_err(|_| refused(text!("too many (max 16)")))?;
        }
        Opt::LandlockStrict => confine.landlock.strict = true,
        Opt::Cgroup => {
            let dir = cur.arg()?;
            if dir.is_empty() {
                return Err(refused(text!("not a directory path")));
            }
            cgroup.dir = Some(dir);
        }
        Opt::Limit(which) => {
            let v = cur.arg()?;
            let b = v.to_bytes();
            let (ok, reason) = match which {
                CgroupLimit::Memory => (
                    b == b"max" || parse_size(b).is_some(),
                    text!("not a size (bytes, K, M, G or max)"),
                ),
                CgroupLimit::Pids => (
                    b == b"max" || parse_u64(b).is_some(),
                    text!("not a number or max"),
                ),
                CgroupLimit::Cpu => (
                    valid_cpu_max(b),
                    text!("expected QUOTA[/PERIOD] in microseconds (QUOTA may be max)"),
                ),
            };
            if !ok {
                return Err(bad_value(reason));
            }
            cgroup.limits[which as usize] = Some(v);
        }
        Opt::Mount(kind) | Opt::MountFd(kind) => {
            let mut fd = None;
            let (source, mode) = match kind {
                // A descriptor stays the source as given too, for messages.
                _ if matches!(opt, Opt::MountFd(_)) => {
                    let v = cur.arg()?;
                    fd = Some(parse_fd(v.to_bytes()).ok_or(bad_value(NOT_AN_FD))? as i32);
                    (Some(v), None)
                }
                OpKind::Bind { .. } | OpKind::Symlink => (Some(cur.arg()?), None),
                OpKind::Chmod => (
                    None,
                    Some(cur.parsed(parse_octal, text!("not an octal mode"))? as u32),
                ),
                _ => (None, None),
            };
            // As bwrap, which refuses --perms before an option that makes no file.
            let makes_file = matches!(kind, OpKind::Dir | OpKind::Tmpfs | OpKind::Data { .. });
            if sb.pending_perms.is_some() && !makes_file {
                return Err(refused(text!(
                    "--perms applies only to --dir, --tmpfs and the data options"
                )));
            }
            let op = MountOp {
                kind,
                option: name,
                source,
                dest: cur.arg()?,
                perms: mode.or(sb.pending_perms.take()),
                size: sb.pending_size.take(),
                fd,
            };
            sb.ops
                .push(op)
                .map_err(|_| refused(text!("too many mount options (max 256)")))?;
        }
        Opt::Fd(which) => sb.fds[which as usize] = Some(cur.parsed(parse_fd, NOT_AN_FD)? as i32),
        Opt::LockFile => {
            let path = cur.arg()?;
            sb.lock_files
                .push(path)
                .map_err(|_| refused(text!("too many (max 16)")))?;
        }
        Opt::AsPid1 => sb.as_pid_1 = true,
        Opt::AssertUsernsDisabled => sb.assert_userns_disabled = true,
        Opt::Rootfs => sb.rootfs = Some(cur.arg()?),
        Opt::Rw => sb.rw = true,
        Opt::UnshareAll => {
            sb.namespaces |= ALL_NAMESPACES;
            sb.user_try = true;
            sb.cgroup_try = true;
            sb.unshare_asked = true;
        }
        Opt::ShareNet => sb.share_net = true,
        Opt::Unshare(flag, tolerant) => {
            sb.namespaces |= 1 << flag;
            sb.unshare_asked = true;
            if tolerant {
                if flag == bit(k::CLONE_NEWUSER) {
                    sb.user_try = true;
                } else {
                    sb.cgroup_try = true;
                }
            }
        }
        Opt::UnshareTime => {
            sb.time = true;
            sb.unshare_asked = true;
        }
        Opt::Netns => sb.netns = Some(cur.arg()?),
        Opt::Hostname => {
            let v = cur.arg()?;
            let bytes = v.to_bytes();
            if (0..bytes.len()).any(|i| crate::report::is_control(&bytes[i..])) {
                return Err(bad_value(text!("control characters are not allowed")));
            }
            sb.hostname = Some(v);
        }
        Opt::Chdir => sb.chdir = Some(cur.arg()?),
        Opt::Argv0 => sb.argv0 = Some(cur.arg()?),
        Opt::Setenv | Opt::Unsetenv | Opt::Clearenv => {
            let op = if matches!(opt, Opt::Clearenv) {
                EnvOp::Clear
            } else {
                // setenv(3) and unsetenv(3) refuse such a name, and so bubblewrap does.
                let var = cur.arg()?;
                if var.is_empty() || crate::buf::holds(var.to_bytes(), b'=') {
                    return Err(bad_value(text!("not a variable name")));
                }
                if matches!(opt, Opt::Setenv) {
                    EnvOp::Set(var, cur.arg()?)
                } else {
                    EnvOp::Unset(var)
                }
            };
            sb.env_ops
                .push(op)
                .map_err(|_| refused(text!("too many (max 128)")))?;
        }
        Opt::DieWithParent => sb.die_with_parent = true,
        Opt::NewSession => sb.new_session = true,
        Opt::Id(uid) => {
            let id = Some(cur.parsed(parse_id, text!("not an id"))? as u32);
            *(if uid { &mut sb.uid } else { &mut sb.gid }) = id;
        }
        Opt::IdMap(uid) => {
            let range = cur.parsed(parse_id_range, text!("expected INSIDE:OUTSIDE:COUNT"))?;
            let list = if uid {
                &mut sb.uid_map
            } else {
                &mut sb.gid_map
            };
            list.push(range)
                .map_err(|_| refused(text!("too many ranges (max 8)")))?;
        }
        Opt::Offset(monotonic) => {
            let secs = cur.parsed(parse_i64, text!("not a number of seconds"))?;
            sb.time = true;
            *(if monotonic {
                &mut sb.monotonic_offset
            } else {
                &mut sb.boottime_offset
            }) = secs;
        }
        Opt::StatusFd(info) => {
            let fd = Some(cur.parsed(parse_fd, NOT_AN_FD)? as i32);
            *(if info {
                &mut sb.info_fd
            } else {
                &mut sb.json_status_fd
            }) = fd;
        }
        // As bwrap: one of each for the --tmpfs or --dir that follows.
        Opt::Perms => {
            let mode = cur.parsed(parse_octal, text!("not an octal mode"))? as u32;
            if sb.pending_perms.replace(mode).is_some() {
                return Err(twice());
            }
        }
        Opt::Size => {
            let size = cur.parsed(parse_tmpfs_size, text!("not a size in bytes"))?;
            if sb.pending_size.replace(size).is_some() {
                return Err(twice());
            }
        }
        Opt::Cap(add) => {
            let set = cur.parsed(
                capability_set,
                text!("not a capability name (see capabilities(7)) or ALL"),
            )?;
            if add {
                sb.caps |= set;
            } else {
                sb.caps &= !set;
            }
        }
        Opt::KeepFd => {
            let fd = cur.parsed(parse_fd, NOT_AN_FD)? as i32;
            sb.keep_fds
                .push(fd)
                .map_err(|_| refused(text!("too many (max 64)")))?;
        }
        Opt::Seccomp(replace) => {
            let fd = cur.parsed(parse_fd, NOT_AN_FD)? as i32;
            sb.seccomp_fds
                .push((fd, replace))
                .map_err(|_| refused(text!("too many (max 8)")))?;
        }
        Opt::NoDefaultSeccomp => sb.no_default_seccomp = true,
        Opt::DisableUserns => sb.disable_userns = true,
        Opt::RestrictAf => {
            let set = cur.parsed(
                address_families,
                text!("not an address family list (see --help)"),
            )?;
            sb.restrict_af = Some(set as u8);
        }
        Opt::Args => {
            let fd = cur.parsed(parse_fd, NOT_AN_FD)? as i32;
            if cur.in_file {
                return Err(refused(IN_FILE));
            }
            return Ok(Then::ReadArgs(fd));
        }
        _ => {}
    }
    Ok(Then::Next)
}

/// `-l`'s text, the repository's LICENSE (packed into the binary by build.rs).
#[cfg(test)]
pub const LICENSE: &str = include_str!("../LICENSE");
/// capabilities(7), in bit order.
const CAPABILITIES: &[u8] = b"\
    CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP \
    LINUX_IMMUTABLE NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER \
    SYS_MODULE SYS_RAWIO SYS_CHROOT SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE \
    SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE AUDIT_CONTROL SETFCAP \
    MAC_OVERRIDE MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ PERFMON BPF \
    CHECKPOINT_RESTORE";

/// "CAP_NET_RAW", "net_raw" → its bit; "ALL" → every bit.
fn capability_set(s: &[u8]) -> Option<u64> {
    let mut buf = [0u8; 32];
    let name = upper(s, &mut buf)?;
    let name = name.strip_prefix(b"CAP_").unwrap_or(name);
    if name == b"ALL" {
        return Some(!0);
    }
    index_of(CAPABILITIES, name).map(|bit| 1 << bit)
}

/// `s` in upper case, in `buf`; None when it does not fit (no name is that long).
fn upper<'b>(s: &[u8], buf: &'b mut [u8; 32]) -> Option<&'b [u8]> {
    let name = buf.get_mut(..s.len())?;
    name.copy_from_slice(s);
    name.make_ascii_uppercase();
    Some(name)
}

/// Where `name` sits among the space-separated names of `table` (one copy of the search
/// for every name table).
#[inline(never)]
fn index_of(table: &[u8], name: &[u8]) -> Option<usize> {
    table.split(|&b| b == b' ').position(|n| n == name)
}

/// `--restrict-af` names, in spec::ADDRESS_FAMILIES order.
const FAMILY_NAMES: &[u8] = b"unix inet inet6 netlink packet";

/// "inet,inet6" → bits of spec::ADDRESS_FAMILIES; "none" → 0.
fn address_families(s: &[u8]) -> Option<u64> {
    if s == b"none" {
        return Some(0);
    }
    let mut set = 0;
    for name in s.split(|&b| b == b',') {
        set |= 1 << index_of(FAMILY_NAMES, name)?;
    }
    Some(set)
}

/// setrlimit(2)'s resources, by RLIMIT_* number.
const RLIMITS: &[u8] = b"\
    CPU FSIZE DATA STACK CORE RSS NPROC NOFILE MEMLOCK AS LOCKS SIGPENDING MSGQUEUE NICE \
    RTPRIO RTTIME";

/// "nofile=64", "as=1G:2G", "core=unlimited".
fn parse_rlimit(s: &[u8]) -> Option<Rlimit<'_>> {
    let eq = s.iter().position(|&b| b == b'=')?;
    let mut buf = [0u8; 32];
    let resource = index_of(RLIMITS, upper(&s[..eq], &mut buf)?)? as u32;
    let limit = |v: &[u8]| {
        if v == b"unlimited" {
            Some(u64::MAX)
        } else {
            parse_size(v)
        }
    };
    let value = &s[eq + 1..];
    let (soft, hard) = match value.iter().position(|&b| b == b':') {
        Some(c) => (limit(&value[..c])?, limit(&value[c + 1..])?),
        None => (limit(value)?, limit(value)?),
    };
    (soft <= hard).then_some(Rlimit {
        text: s,
        resource,
        soft,
        hard,
    })
}

/// "50000", "max", "50000/100000".
fn valid_cpu_max(s: &[u8]) -> bool {
    let (quota, period) = match s.iter().position(|&b| b == b'/') {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    (quota == b"max" || parse_u64(quota).is_some()) && period.is_none_or(|p| parse_u64(p).is_some())
}

fn parse_id(s: &[u8]) -> Option<u64> {
    parse_u64(s).filter(|&n| n < u64::from(u32::MAX))
}

fn parse_fd(s: &[u8]) -> Option<u64> {
    parse_u64(s).filter(|&n| n < 1 << 20)
}

fn parse_octal(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 5 {
        return None;
    }
    let mode = s.iter().try_fold(0, |m, &b| {
        (b'0'..=b'7')
            .contains(&b)
            .then(|| m * 8 + u64::from(b - b'0'))
    })?;
    (mode <= 0o7777).then_some(mode)
}

fn parse_i64(s: &[u8]) -> Option<i64> {
    match s.split_first() {
        Some((b'-', rest)) => parse_u64(rest)
            .and_then(|n| i64::try_from(n).ok())
            .map(|n| -n),
        _ => parse_u64(s).and_then(|n| i64::try_from(n).ok()),
    }
}

/// A tmpfs size as bwrap takes it: not 0 (which tmpfs reads as no limit), at most
/// SIZE_MAX / 2.
fn parse_tmpfs_size(s: &[u8]) -> Option<u64> {
    parse_size(s).filter(|&n| n as i64 > 0)
}

/// Bytes, with an optional K, M or G suffix (powers of 1024).
pub fn parse_size(s: &[u8]) -> Option<u64> {
    let (digits, shift) = match s.last()? {
        b'k' | b'K' => (&s[..s.len() - 1], 10),
        b'm' | b'M' => (&s[..s.len() - 1], 20),
        b'g' | b'G' => (&s[..s.len() - 1], 30),
        _ => (s, 0),
    };
    parse_u64(digits)?.checked_mul(1 << shift)
}

fn parse_id_range(s: &[u8]) -> Option<IdRange> {
    let mut parts = s.split(|&b| b == b':');
    let mut next = || {
        parse_u64(parts.next()?)
            .filter(|&n| n <= u64::from(u32::MAX))
            .map(|n| n as u32)
    };
    let range = IdRange {
        inside: next()?,
        outside: next()?,
        count: next()?,
    };
    (parts.next().is_none() && range.count > 0).then_some(range)
}

/// atoi's reading: the leading digits, 0 when there are none (as tini reads TINI_VERBOSITY).
fn leading_number(s: &[u8]) -> u32 {
    let digits = s.iter().take_while(|b| b.is_ascii_digit()).count();
    parse_u64(&s[..digits]).map_or(0, |n| n.min(u64::from(u32::MAX)) as u32)
}

/// "5", "0.25", "1.5" seconds → milliseconds.
pub fn parse_millis(s: &[u8]) -> Option<u64> {
    let (whole, frac) = match s.iter().position(|&b| b == b'.') {
        Some(dot) => (&s[..dot], &s[dot + 1..]),
        None => (s, &b""[..]),
    };
    if frac.len() > 3 || (whole.is_empty() && frac.is_empty()) {
        return None;
    }
    let whole = if whole.is_empty() {
        0
    } else {
        parse_u64(whole)?
    };
    let mut ms = 0;
    for i in 0..3 {
        ms = ms * 10
            + match frac.get(i) {
                Some(b) if b.is_ascii_digit() => u64::from(b - b'0'),
                Some(_) => return None,
                None => 0,
            };
    }
    // Up to u32::MAX seconds (136 years): any deadline then fits in a monotonic clock.
    (whole <= u64::from(u32::MAX)).then(|| whole * 1000 + ms)
}

const SIGNAL_NAMES: &[u8] = b"\
    HUP INT QUIT ILL TRAP ABRT BUS FPE KILL USR1 SEGV USR2 PIPE ALRM TERM STKFLT CHLD CONT \
    STOP TSTP TTIN TTOU URG XCPU XFSZ VTALRM PROF WINCH IO PWR SYS";
/// The first real-time signal as glibc numbers them, past the two it keeps for itself
/// (Podman's SIGRTMIN+3 is 37).
const SIGRTMIN: u64 = k::SIGRTMIN as u64 + 2;
const SIGRTMAX: u64 = 64;

/// A signal number 1..=64 from "TERM", "sigterm", "SIGRTMIN+3", "RTMAX-1" or "15".
pub fn signal_number(s: &[u8]) -> Option<u8> {
    if let Some(n) = parse_u64(s) {
        return (1..=SIGRTMAX).contains(&n).then_some(n as u8);
    }
    let mut buf = [0u8; 32];
    let name = upper(s, &mut buf)?;
    let name = name.strip_prefix(b"SIG").unwrap_or(name);
    if let Some(i) = index_of(SIGNAL_NAMES, name) {
        return Some(i as u8 + 1);
    }
    // Other names for signals of the table (before, these were refused: the real-time
    // range check below caught them too).
    if let Some(i) = index_of(b"IOT CLD POLL", name) {
        return Some([k::SIGIOT, k::SIGCHLD, k::SIGPOLL][i] as u8);
    }
    let (base, offset) = name.split_at_checked(5)?;
    let n = match base {
        b"RTMIN" => SIGRTMIN.checked_add(rt_offset(offset, b'+')?)?,
        b"RTMAX" => SIGRTMAX.checked_sub(rt_offset(offset, b'-')?)?,
        _ => return None,
    };
    (SIGRTMIN..=SIGRTMAX).contains(&n).then_some(n as u8)
}

/// "" → 0, "+3" → 3 (with the given sign byte).
fn rt_offset(s: &[u8], sign: u8) -> Option<u64> {
    match s.split_first() {
        None => Some(0),
        Some((&b, digits)) if b == sign => parse_u64(digits),
        _ => None,
    }
}

/// "TERM:INT" → (15, 2); "USR1:0" → (10, 0).
fn parse_rewrite(s: &[u8]) -> Option<(u8, u8)> {
    let colon = s.iter().position(|&b| b == b':')?;
    let from = signal_number(&s[..colon])?;
    let to = &s[colon + 1..];
    let to = if to == b"0" { 0 } else { signal_number(to)? };
    Some((from, to))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Why;

    fn with_parse<R>(
        args: &[&str],
        envs: &[&str],
        f: impl FnOnce(Result<'static, Action>, &Spec<'static>) -> R,
    ) -> R {
        crate::testing::with_spec(args, envs, |r, spec| f(r, spec))
    }

    fn spec_of(args: &[&str], envs: &[&str]) -> (Vec<String>, crate::spec::Init) {
        with_parse(args, envs, |r, s| match r {
            Ok(Action::Run) => {
                let cmd = (0..s.command.len())
                    .map(|i| s.command.get(i).to_str().unwrap().to_owned())
                    .collect();
                (cmd, s.init.clone())
            }
            Ok(_) => panic!("not a run"),
            Err(e) => panic!("error {e:?}"),
        })
    }

    fn err_of(args: &[&str]) -> (String, Option<String>) {
        with_parse(args, &[], |r, _| match r {
            Err(e) => (
                String::from_utf8(e.what.to_vec()).unwrap(),
                e.operands[0].map(|v| String::from_utf8(v.to_vec()).unwrap()),
            ),
            _ => panic!("expected an error"),
        })
    }

    #[test]
    fn options_stop_at_the_first_non_option() {
        let (cmd, init) = spec_of(&["husk", "-s", "printf", "%s", "-w"], &[]);
        assert_eq!(cmd, ["printf", "%s", "-w"]);
        assert!(init.subreaper && !init.warn_reap);
        let (cmd, _) = spec_of(&["husk", "--", "-w"], &[]);
        assert_eq!(cmd, ["-w"]);
    }

    #[test]
    fn short_clusters_and_attached_values() {
        let (_, init) = spec_of(
            &["husk", "-svvg", "-e3", "-e", "255", "-pSIGKILL", "x"],
            &[],
        );
        assert!(init.subreaper && init.kill_group);
        assert_eq!(init.verbosity, 2);
        assert!(init.remap.contains(3) && init.remap.contains(255) && !init.remap.contains(0));
        assert_eq!(init.parent_death, 9);
    }

    #[test]
    fn environment_like_tini() {
        let (_, init) = spec_of(
            &["husk", "x"],
            &[
                "TINI_SUBREAPER=",
                "TINI_KILL_PROCESS_GROUP=1",
                "TINI_VERBOSITY=3x",
            ],
        );
        assert!(init.subreaper && init.kill_group);
        assert_eq!(init.verbosity, 3);
    }

    #[test]
    fn long_options() {
        let (_, init) = spec_of(
            &[
                "husk",
                "--rewrite",
                "TERM:INT",
                "--rewrite=usr1:0",
                "--grace=1.5",
                "x",
            ],
            &[],
        );
        assert_eq!(init.rewrite[15], 2);
        assert_eq!(init.rewrite[10], 0);
        assert_eq!(init.rewrite[1], 1);
        assert_eq!(init.grace_ms, Some(1500));
        // The terminal stops stay marked until named, even as themselves (init::forward).
        let (_, init) = spec_of(&["husk", "--rewrite", "TSTP:TSTP", "x"], &[]);
        assert_eq!(init.rewrite[20], 20);
        assert_eq!(init.rewrite[21], crate::spec::UNSET);
        let (cmd, init) = spec_of(&["husk", "--pause"], &[]);
        assert!(init.pause && cmd.is_empty());
    }

    #[test]
    fn errors_name_the_option() {
        assert_eq!(
            err_of(&["husk", "-e", "256", "x"]),
            ("-e".into(), Some("256".into()))
        );
        assert_eq!(err_of(&["husk", "-p"]), ("-p".into(), None));
        assert_eq!(err_of(&["husk", "-sq", "x"]), ("-sq".into(), None));
        assert_eq!(err_of(&["husk", "--bogus", "x"]), ("--bogus".into(), None));
        assert_eq!(
            err_of(&["husk", "--grace", "x1", "y"]),
            ("--grace".into(), Some("x1".into()))
        );
        assert_eq!(
            err_of(&["husk", "-p", "SIGNOPE", "y"]),
            ("-p".into(), Some("SIGNOPE".into()))
        );
        assert_eq!(
            err_of(&["husk", "--hostname=box", "x"]),
            ("--hostname=box".into(), None)
        );
    }

    /// The cursor walks a file's arguments in place, then argv's; an option from the file
    /// takes its values from the file alone (Miri checks the walk's C strings).
    #[test]
    fn the_cursor_walks_the_file_then_argv() {
        let a = crate::testing::leaked(&["cmd"]);
        // SAFETY: NULL-terminated, never freed, borrowed by nothing else.
        let argv = unsafe { Argv::new(a.as_mut_ptr(), 1) };
        let mut cur = Cursor::new(argv, 0, b"--a\0\0b\0");
        assert_eq!(cur.shift(), Some(c"--a"));
        assert_eq!(cur.arg().ok(), Some(c""));
        assert_eq!(cur.arg().ok(), Some(c"b"));
        assert!(cur.in_file && cur.arg().is_err());
        assert_eq!(cur.shift(), Some(c"cmd"));
        assert!(!cur.in_file && cur.shift().is_none());
    }

    /// A pipe holding `data`, for `--args`: its read end (closed by husk's parser).
    fn pipe_with(data: &[u8]) -> String {
        let mut fds = [0; 2];
        // SAFETY: fds has room for the two descriptors.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        // SAFETY: data is readable for its length; the write end is ours to close.
        unsafe {
            assert_eq!(
                libc::write(fds[1], data.as_ptr().cast(), data.len()),
                data.len() as isize
            );
            libc::close(fds[1]);
        }
        fds[0].to_string()
    }

    /// The environment operations, the subreaper flag and COMMAND; or the error's option,
    /// operand and reason.
    type Parsed =
        std::result::Result<(Vec<String>, bool, Vec<String>), (String, Option<String>, String)>;

    /// What `husk BEFORE... --args FD AFTER...` asks for, FD holding `data`; environment
    /// operations as `NAME=value`, `-NAME` (unset) and `clear`.
    fn with_file(data: &[u8], before: &[&str], after: &[&str]) -> Parsed {
        let fd = pipe_with(data);
        let mut args = vec!["husk"];
        args.extend(before);
        args.extend(["--args", &fd]);
        args.extend(after);
        let s = |b: &[u8]| String::from_utf8(b.to_vec()).unwrap();
        with_parse(&args, &[], |r, spec| match r {
            Ok(Action::Run) => {
                let env = spec.sandbox.env_ops.iter().map(|op| match *op {
                    EnvOp::Set(n, v) => format!("{}={}", s(n.to_bytes()), s(v.to_bytes())),
                    EnvOp::Unset(n) => format!("-{}", s(n.to_bytes())),
                    EnvOp::Clear => "clear".into(),
                });
                let cmd = (0..spec.command.len()).map(|i| s(spec.command.get(i).to_bytes()));
                Ok((env.collect(), spec.init.subreaper, cmd.collect()))
            }
            Ok(_) => panic!("not a run"),
            Err(e) => {
                let mut texts = [0; crate::text::TEXT_LEN];
                Err((s(e.what), e.operands[0].map(s), s(e.words(&mut texts))))
            }
        })
    }

    #[test]
    #[cfg_attr(miri, ignore = "reads a pipe through raw syscalls")]
    fn args_files_are_options_in_their_place() {
        let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        // Split at each NUL, the last argument without its own; short clusters, attached
        // values and init options work there too; COMMAND comes after, from argv.
        let file = b"--setenv\0B\0b\0-se\x003\0--setenv\0A\0two\0--unsetenv\0C";
        let got = with_file(
            file,
            &["--setenv", "A", "one"],
            &["--setenv", "B", "c", "cmd", "x"],
        );
        let env = strings(&["A=one", "B=b", "A=two", "-C", "B=c"]);
        assert_eq!(got, Ok((env, true, strings(&["cmd", "x"]))));
        assert_eq!(
            with_file(b"", &[], &["cmd"]),
            Ok((vec![], false, strings(&["cmd"])))
        );
        let got = with_file(b"--clearenv\0", &[], &["--", "-cmd"]);
        assert_eq!(got, Ok((strings(&["clear"]), false, strings(&["-cmd"]))));
        // What belongs on the command line is refused, named; values come from the file.
        let in_file = "not allowed in an --args or --config file";
        let refused = |what: &str| Err((what.to_string(), None, in_file.into()));
        assert_eq!(with_file(b"--clearenv\0sh\0", &[], &["cmd"]), refused("sh"));
        assert_eq!(with_file(b"--\0sh", &[], &["cmd"]), refused("--"));
        assert_eq!(with_file(b"-s\0\0", &[], &["cmd"]), refused(""));
        let nested = Err(("--args".into(), None, in_file.into()));
        assert_eq!(with_file(b"--args\x000\0", &[], &["cmd"]), nested);
        let missing = Err(("--setenv".into(), None, "missing value".into()));
        assert_eq!(with_file(b"--setenv\0A", &[], &["b", "cmd"]), missing);
        let unknown = Err(("--bogus".into(), None, "unknown option (see --help)".into()));
        assert_eq!(with_file(b"--bogus", &[], &["cmd"]), unknown);
        // A descriptor that is not open (a high one: other tests open theirs meanwhile).
        with_parse(&["husk", "--args", "1000000", "x"], &[], |r, _| {
            let e = r.err().expect("an error");
            let want = (
                &b"--args"[..],
                Some(1000000),
                Why::Text(Text::Errno(crate::sys::Errno::BADF)),
            );
            assert_eq!((e.what, e.number, e.why), want);
        });
    }

    #[test]
    fn every_option_is_in_the_table_beside_its_help() {
        let given = |n: &str| {
            if n.starts_with('-') {
                n.into()
            } else {
                format!("--{n}")
            }
        };
        let names: Vec<String> = std::str::from_utf8(NAMES)
            .unwrap()
            .split_whitespace()
            .map(given)
            .collect();
        assert_eq!(names.len(), OPTIONS.len());
        let mut help_rows = String::new();
        for (help, row) in ROWS {
            help_rows.push_str(help);
            for name in row.iter().map(|n| given(n)) {
                // The name as a word of the row's own text ("-h," and "--rw" count).
                let mut words = help.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'));
                let base = name
                    .strip_suffix("-try")
                    .filter(|_| help.contains("-try forms"));
                let found = words.any(|w| w == name || Some(w) == base);
                assert!(found, "{name} not in its row: {help}");
            }
        }
        assert_eq!(help_rows, HELP);
        // And every option the help mentions is in the table.
        for word in HELP.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-')) {
            let option = word.starts_with("--") && word.len() > 2
                || word.len() == 2 && word.starts_with('-') && word != "--";
            assert!(
                !option || names.iter().any(|n| n == word),
                "{word} is in --help only"
            );
        }
    }

    #[test]
    fn name_tables_line_up() {
        assert_eq!(CAPABILITIES.split(|&b| b == b' ').count(), 41);
        assert_eq!(RLIMITS.split(|&b| b == b' ').count(), 16);
        assert_eq!(index_of(CAPABILITIES, b"CHECKPOINT_RESTORE"), Some(40));
        assert_eq!(index_of(RLIMITS, b"RTTIME"), Some(15));
        assert_eq!(index_of(RLIMITS, b""), None);
        assert_eq!(capability_set(b"cap_sys_admin"), Some(1 << 21));
        assert_eq!(parse_rlimit(b"NOFILE=5").map(|r| r.resource), Some(7));
        let mut names = Names {
            unpacked: [0; text::NAMES_END],
            len: 0,
        };
        let mut lookup = |name| names.lookup(name).map(|(_, opt)| opt);
        assert!(lookup(b"").is_none() && lookup(b"-").is_none() && lookup(b"---s").is_none());
        assert!(lookup(b"--s").is_none() && lookup(b"-rw").is_none());
        assert!(
            matches!(lookup(b"--rw"), Some(Opt::Rw)) && matches!(lookup(b"-P"), Some(Opt::Pause))
        );
        // HUSK_* reaches the init's names only: they come first.
        let init_names = NAMES.split(|&b| b == b' ').take(INIT_NAMES);
        assert!(init_names.clone().any(|n| n == b"wait-all"));
        assert!(!init_names
            .clone()
            .any(|n| n == b"restart" || n == b"rootfs"));
        for short in NAMES.split(|&b| b == b' ').filter(|n| n.starts_with(b"-")) {
            assert_eq!(short_name(short[1]), short);
        }
    }

    /// Every name of the packed tables against the kernel's own number for it, so a name
    /// missed or misplaced cannot shift the ones after it.
    #[test]
    fn names_are_the_kernel_s_numbers() {
        let caps: &[(&str, u32)] = &[
            ("CHOWN", k::CAP_CHOWN),
            ("DAC_OVERRIDE", k::CAP_DAC_OVERRIDE),
            ("DAC_READ_SEARCH", k::CAP_DAC_READ_SEARCH),
            ("FOWNER", k::CAP_FOWNER),
            ("FSETID", k::CAP_FSETID),
            ("KILL", k::CAP_KILL),
            ("SETGID", k::CAP_SETGID),
            ("SETUID", k::CAP_SETUID),
            ("SETPCAP", k::CAP_SETPCAP),
            ("LINUX_IMMUTABLE", k::CAP_LINUX_IMMUTABLE),
            ("NET_BIND_SERVICE", k::CAP_NET_BIND_SERVICE),
            ("NET_BROADCAST", k::CAP_NET_BROADCAST),
            ("NET_ADMIN", k::CAP_NET_ADMIN),
            ("NET_RAW", k::CAP_NET_RAW),
            ("IPC_LOCK", k::CAP_IPC_LOCK),
            ("IPC_OWNER", k::CAP_IPC_OWNER),
            ("SYS_MODULE", k::CAP_SYS_MODULE),
            ("SYS_RAWIO", k::CAP_SYS_RAWIO),
            ("SYS_CHROOT", k::CAP_SYS_CHROOT),
            ("SYS_PTRACE", k::CAP_SYS_PTRACE),
            ("SYS_PACCT", k::CAP_SYS_PACCT),
            ("SYS_ADMIN", k::CAP_SYS_ADMIN),
            ("SYS_BOOT", k::CAP_SYS_BOOT),
            ("SYS_NICE", k::CAP_SYS_NICE),
            ("SYS_RESOURCE", k::CAP_SYS_RESOURCE),
            ("SYS_TIME", k::CAP_SYS_TIME),
            ("SYS_TTY_CONFIG", k::CAP_SYS_TTY_CONFIG),
            ("MKNOD", k::CAP_MKNOD),
            ("LEASE", k::CAP_LEASE),
            ("AUDIT_WRITE", k::CAP_AUDIT_WRITE),
            ("AUDIT_CONTROL", k::CAP_AUDIT_CONTROL),
            ("SETFCAP", k::CAP_SETFCAP),
            ("MAC_OVERRIDE", k::CAP_MAC_OVERRIDE),
            ("MAC_ADMIN", k::CAP_MAC_ADMIN),
            ("SYSLOG", k::CAP_SYSLOG),
            ("WAKE_ALARM", k::CAP_WAKE_ALARM),
            ("BLOCK_SUSPEND", k::CAP_BLOCK_SUSPEND),
            ("AUDIT_READ", k::CAP_AUDIT_READ),
            ("PERFMON", k::CAP_PERFMON),
            ("BPF", k::CAP_BPF),
            ("CHECKPOINT_RESTORE", k::CAP_CHECKPOINT_RESTORE),
        ];
        assert_eq!(CAPABILITIES.split(|&b| b == b' ').count(), caps.len());
        assert_eq!(caps.len() as u32, k::CAP_LAST_CAP + 1);
        for &(name, bit) in caps {
            assert_eq!(
                capability_set(name.as_bytes()),
                Some(1 << bit),
                "CAP_{name}"
            );
        }
        let rlimits: &[(&str, u32)] = &[
            ("CPU", k::RLIMIT_CPU),
            ("FSIZE", k::RLIMIT_FSIZE),
            ("DATA", k::RLIMIT_DATA),
            ("STACK", k::RLIMIT_STACK),
            ("CORE", k::RLIMIT_CORE),
            ("RSS", k::RLIMIT_RSS),
            ("NPROC", k::RLIMIT_NPROC),
            ("NOFILE", k::RLIMIT_NOFILE),
            ("MEMLOCK", k::RLIMIT_MEMLOCK),
            ("AS", k::RLIMIT_AS),
            ("LOCKS", k::RLIMIT_LOCKS),
            ("SIGPENDING", k::RLIMIT_SIGPENDING),
            ("MSGQUEUE", k::RLIMIT_MSGQUEUE),
            ("NICE", k::RLIMIT_NICE),
            ("RTPRIO", k::RLIMIT_RTPRIO),
            ("RTTIME", k::RLIMIT_RTTIME),
        ];
        assert_eq!(RLIMITS.split(|&b| b == b' ').count(), rlimits.len());
        for &(name, resource) in rlimits {
            let text = format!("{name}=1");
            let parsed = parse_rlimit(text.as_bytes()).map(|r| r.resource);
            assert_eq!(parsed, Some(resource), "RLIMIT_{name}");
        }
        let signals: &[(&str, u32)] = &[
            ("HUP", k::SIGHUP),
            ("INT", k::SIGINT),
            ("QUIT", k::SIGQUIT),
            ("ILL", k::SIGILL),
            ("TRAP", k::SIGTRAP),
            ("ABRT", k::SIGABRT),
            ("BUS", k::SIGBUS),
            ("FPE", k::SIGFPE),
            ("KILL", k::SIGKILL),
            ("USR1", k::SIGUSR1),
            ("SEGV", k::SIGSEGV),
            ("USR2", k::SIGUSR2),
            ("PIPE", k::SIGPIPE),
            ("ALRM", k::SIGALRM),
            ("TERM", k::SIGTERM),
            ("STKFLT", k::SIGSTKFLT),
            ("CHLD", k::SIGCHLD),
            ("CONT", k::SIGCONT),
            ("STOP", k::SIGSTOP),
            ("TSTP", k::SIGTSTP),
            ("TTIN", k::SIGTTIN),
            ("TTOU", k::SIGTTOU),
            ("URG", k::SIGURG),
            ("XCPU", k::SIGXCPU),
            ("XFSZ", k::SIGXFSZ),
            ("VTALRM", k::SIGVTALRM),
            ("PROF", k::SIGPROF),
            ("WINCH", k::SIGWINCH),
            ("IO", k::SIGIO),
            ("PWR", k::SIGPWR),
            ("SYS", k::SIGSYS),
            ("IOT", k::SIGIOT),
            ("POLL", k::SIGPOLL),
            ("CLD", k::SIGCHLD),
            ("RTMIN", k::SIGRTMIN + 2),
        ];
        for &(name, number) in signals {
            assert_eq!(
                signal_number(name.as_bytes()),
                Some(number as u8),
                "SIG{name}"
            );
        }
    }

    #[test]
    fn signal_names() {
        assert_eq!(signal_number(b"TERM"), Some(15));
        assert_eq!(signal_number(b"sigkill"), Some(9));
        assert_eq!(signal_number(b"SIGRTMIN+3"), Some(37));
        assert_eq!(signal_number(b"RTMIN"), Some(34));
        assert_eq!(signal_number(b"RTMAX-1"), Some(63));
        assert_eq!(signal_number(b"RTMAX+1"), None);
        assert_eq!(signal_number(b"RTMIN+31"), None);
        assert_eq!(signal_number(b"64"), Some(64));
        assert_eq!(signal_number(b"65"), None);
        assert_eq!(signal_number(b"0"), None);
        assert_eq!(signal_number(b"SYS"), Some(31));
        assert_eq!(signal_number(b"SIGIOT"), Some(6));
        assert_eq!(signal_number(b"cld"), Some(17));
        assert_eq!(signal_number(b""), None);
    }

    #[test]
    fn seconds() {
        assert_eq!(parse_millis(b"2"), Some(2000));
        assert_eq!(parse_millis(b"0.05"), Some(50));
        assert_eq!(parse_millis(b".5"), Some(500));
        assert_eq!(parse_millis(b"1.2345"), None);
        assert_eq!(parse_millis(b"-1"), None);
        assert_eq!(parse_millis(b""), None);
        assert_eq!(parse_millis(b"99999999999999999999"), None);
        assert_eq!(parse_millis(b"18446744073709551"), None);
        assert_eq!(parse_millis(b"4294967295.5"), Some(4_294_967_295_500));
    }
}
