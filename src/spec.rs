//! What the command line asked for: borrowed views of argv and the environment, and the
//! `Spec` the parser fills. Nothing here allocates; lists have fixed capacity.

use core::ffi::{c_char, CStr};
use core::mem::MaybeUninit;

/// A run of argv entries, borrowed from the process's own argv. The entry after the last is
/// always NULL (argv[argc] is NULL, and every view ends where argv ends), so the view can be
/// handed to execve as it is. Held as a raw pointer, not a slice: the child rewrites
/// argv[0] for `--argv0`, which a shared slice would forbid.
#[derive(Clone, Copy)]
pub struct Argv<'a> {
    ptr: *mut *const c_char,
    len: usize,
    _life: core::marker::PhantomData<&'a CStr>,
}

impl<'a> Argv<'a> {
    /// # Safety
    /// `ptr` must point to `len` valid NUL-terminated strings that outlive `'a`, followed by
    /// a readable NULL, in memory no Rust reference borrows.
    pub unsafe fn new(ptr: *mut *const c_char, len: usize) -> Self {
        Argv {
            ptr,
            len,
            _life: core::marker::PhantomData,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn get(&self, i: usize) -> &'a CStr {
        assert!(i < self.len);
        // SAFETY: i is in bounds, and by Argv::new's contract every entry is a valid C
        // string living for 'a.
        unsafe { CStr::from_ptr(*self.ptr.add(i)) }
    }

    /// The entries from `i` on (still NULL-terminated).
    pub fn tail(&self, i: usize) -> Argv<'a> {
        let i = i.min(self.len);
        Argv {
            // SAFETY: i <= len, so the pointer stays within the array or one past its
            // entries (at the NULL).
            ptr: unsafe { self.ptr.add(i) },
            len: self.len - i,
            _life: core::marker::PhantomData,
        }
    }

    /// The NULL-terminated pointer array, for execve.
    pub fn as_ptr(&self) -> *const *const c_char {
        self.ptr
    }

    /// Makes the first entry `entry` (`--argv0`).
    ///
    /// # Safety
    /// Only in a process that owns its copy of the array (a forked child, as the array is
    /// shared by every Argv viewing it); `entry` must live until the exec that reads it.
    pub unsafe fn set_first(&self, entry: &'a CStr) {
        assert!(self.len > 0);
        // SAFETY: index 0 is in bounds, and the array is writable memory no reference
        // borrows (Argv::new), owned by this process alone (the caller's contract).
        unsafe { *self.ptr = entry.as_ptr() };
    }
}

/// The environment block, NULL-terminated, borrowed from the process.
#[derive(Clone, Copy)]
pub struct Env<'a> {
    ptr: *mut *const c_char,
    _life: core::marker::PhantomData<&'a CStr>,
}

impl<'a> Env<'a> {
    /// # Safety
    /// `ptr` must be a NULL-terminated array of valid C strings that outlive `'a`, in
    /// memory no Rust reference borrows.
    pub unsafe fn new(ptr: *mut *const c_char) -> Self {
        Env {
            ptr,
            _life: core::marker::PhantomData,
        }
    }

    pub fn as_ptr(&self) -> *const *const c_char {
        self.ptr
    }

    /// The entries in order.
    pub fn iter(&self) -> impl Iterator<Item = &'a CStr> + '_ {
        (0..)
            // SAFETY: the array is NULL-terminated and the walk stops at the NULL (Env::new).
            .map(|i| unsafe { *self.ptr.add(i) })
            .take_while(|p| !p.is_null())
            // SAFETY: non-null entries are valid C strings living for 'a.
            .map(|p| unsafe { CStr::from_ptr(p) })
    }

    /// The entries that start with `prefix` (which holds no NUL), with their index. The
    /// others are passed over unmeasured: an entry is read only as far as it matches (at
    /// every start husk looks up four names and the `HUSK_*` ones; measuring every entry
    /// for each was most of its instructions).
    pub fn starting_with<'p>(
        &self,
        prefix: &'p [u8],
    ) -> impl Iterator<Item = (usize, &'a CStr)> + use<'_, 'a, 'p> {
        (0..)
            // SAFETY: the array is NULL-terminated and the walk stops at the NULL (Env::new).
            .map(|i| (i, unsafe { *self.ptr.add(i) }))
            .take_while(|(_, p)| !p.is_null())
            .filter(move |&(_, p)| {
                // SAFETY: byte k is read only after bytes 0..k matched `prefix`, which has
                // no NUL: all of them are inside the C string, before its NUL.
                (0..prefix.len()).all(|k| unsafe { *p.cast::<u8>().add(k) } == prefix[k])
            })
            // SAFETY: non-null entries are valid C strings living for 'a.
            .map(|(i, p)| (i, unsafe { CStr::from_ptr(p) }))
    }

    /// Index and value of the first `NAME=value` entry.
    pub fn find(&self, name: &[u8]) -> Option<(usize, &'a CStr)> {
        let mut found = self.starting_with(name);
        found.find_map(|(i, entry)| {
            (entry.to_bytes().get(name.len()) == Some(&b'='))
                .then(|| (i, crate::buf::suffix(entry, name.len() + 1)))
        })
    }

    pub fn get(&self, name: &[u8]) -> Option<&'a CStr> {
        self.find(name).map(|(_, v)| v)
    }

    /// Makes entry `index` point to `entry`.
    ///
    /// # Safety
    /// Only in a process that owns its copy of the array (a forked child); `index` must be
    /// an entry's (from `find`), and `entry` must live until the exec that reads it.
    pub unsafe fn set(&self, index: usize, entry: *const c_char) {
        // SAFETY: the caller's contract: index is in bounds and the array is this
        // process's own writable copy.
        unsafe { *self.ptr.add(index) = entry };
    }
}

/// A set of exit codes 0..=255.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct CodeSet([u64; 4]);

impl CodeSet {
    pub fn insert(&mut self, code: u8) {
        self.0[(code / 64) as usize] |= 1 << (code % 64);
    }
    pub fn contains(&self, code: u8) -> bool {
        self.0[(code / 64) as usize] & (1 << (code % 64)) != 0
    }
}

/// Everything the init loop needs.
#[derive(Clone)]
pub struct Init {
    /// PR_SET_CHILD_SUBREAPER when not PID 1 (`-s`, TINI_SUBREAPER).
    pub subreaper: bool,
    /// Parent-death signal (`-p`), 0 for none.
    pub parent_death: i32,
    /// Forward to the payload's process group instead of its pid (`-g`).
    pub kill_group: bool,
    /// Exit codes reported as 0 (`-e`).
    pub remap: CodeSet,
    pub verbosity: u32,
    /// Warn for each reaped process that is not the payload (`-w`).
    pub warn_reap: bool,
    /// Signal N is forwarded as rewrite[N]; 0 drops it (`--rewrite`). [`UNSET`] for the
    /// three terminal stops until `--rewrite` names them.
    pub rewrite: [u8; 65],
    /// After the payload exits: SIGTERM the rest, wait this long, SIGKILL (`--grace`).
    pub grace_ms: Option<u64>,
    /// No payload: sleep and reap until SIGTERM or SIGINT (`--pause`).
    pub pause: bool,
    /// Kill everything after this long (`--time-limit`).
    pub time_limit_ms: Option<u64>,
    /// Be the machine's init whatever the pid namespace (`--machine`).
    pub machine: bool,
    /// What a machine's init does once COMMAND is done (`--on-exit`).
    pub on_exit: OnExit,
    /// Whether COMMAND is started again when it exits (`--restart`).
    pub restart: Restart,
    /// A signal held this long before it is forwarded (`--delay-signal`), 0 for none.
    pub delay_signal: i32,
    pub delay_ms: u64,
    /// Once COMMAND has exited, serve until every descendant has; forward signals to them
    /// all (`--wait-all`).
    pub wait_all: bool,
}

/// `--on-exit`: how a machine's init ends.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub enum OnExit {
    #[default]
    PowerOff,
    Reboot,
    Halt,
}

/// `--restart`: when COMMAND is started again.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub enum Restart {
    #[default]
    Never,
    OnFailure,
    Always,
}

/// What confines COMMAND in init mode as in a sandbox: `--rlimit` and `--landlock-*`.
#[derive(Clone, Default)]
pub struct Confine<'a> {
    pub rlimits: List<Rlimit<'a>, MAX_RLIMITS>,
    pub landlock: Landlock<'a>,
    /// `--user`: the ids COMMAND runs as.
    pub user: Option<crate::user::User<'a>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathAccess {
    ReadOnly,
    ReadWrite,
    Exec,
}

impl PathAccess {
    /// The option that asks for it, for messages.
    pub fn option(self) -> &'static [u8] {
        match self {
            PathAccess::ReadOnly => b"--landlock-ro",
            PathAccess::ReadWrite => b"--landlock-rw",
            PathAccess::Exec => b"--landlock-exec",
        }
    }
}

/// `--landlock-*`: what COMMAND may reach once any of them is given.
#[derive(Clone, Default)]
pub struct Landlock<'a> {
    pub paths: List<(PathAccess, &'a CStr), 32>,
    pub bind: List<u16, 16>,
    pub connect: List<u16, 16>,
    pub strict: bool,
}

impl Landlock<'_> {
    pub fn any(&self) -> bool {
        !self.paths.is_empty() || !self.bind.is_empty() || !self.connect.is_empty()
    }
}

/// One `--rlimit NAME=SOFT[:HARD]`.
#[derive(Clone, Copy)]
pub struct Rlimit<'a> {
    /// The option's value as given, for messages.
    pub text: &'a [u8],
    pub resource: u32,
    pub soft: u64,
    pub hard: u64,
}

pub const MAX_RLIMITS: usize = 16;

/// A terminal stop (SIGTSTP, SIGTTIN, SIGTTOU) no `--rewrite` names: forwarded as itself,
/// but as SIGSTOP under `-g`, as dumb-init's setsid mode does: a job may ignore or catch
/// the others, and the kernel drops them for an orphaned group (a sandbox's
/// `--new-session`), where they would stop nothing.
pub const UNSET: u8 = u8::MAX;

impl Default for Init {
    fn default() -> Self {
        let mut rewrite = [0u8; 65];
        for (i, r) in rewrite.iter_mut().enumerate() {
            *r = i as u8;
        }
        use linux_raw_sys::general::{SIGTSTP, SIGTTIN, SIGTTOU};
        // Three stores at constant places (a loop over them had a bounds check each).
        rewrite[SIGTSTP as usize] = UNSET;
        rewrite[SIGTTIN as usize] = UNSET;
        rewrite[SIGTTOU as usize] = UNSET;
        Init {
            subreaper: false,
            parent_death: 0,
            kill_group: false,
            remap: CodeSet::default(),
            verbosity: 0,
            warn_reap: false,
            rewrite,
            grace_ms: None,
            pause: false,
            time_limit_ms: None,
            machine: false,
            on_exit: OnExit::PowerOff,
            restart: Restart::Never,
            delay_signal: 0,
            delay_ms: 0,
            wait_all: false,
        }
    }
}

pub struct Spec<'a> {
    /// COMMAND and its arguments; empty only with `--pause`.
    pub command: Argv<'a>,
    pub init: Init,
    pub confine: Confine<'a>,
    pub sandbox: Sandbox<'a>,
    pub cgroup: Cgroup<'a>,
    /// Where the end is reported for Kubernetes (`--termination-log`).
    pub termination_log: Option<&'a CStr>,
}

/// `--cgroup DIR` and the limits written into it (as given: the kernel parses them).
#[derive(Default)]
pub struct Cgroup<'a> {
    pub dir: Option<&'a CStr>,
    /// By `CgroupLimit`.
    pub limits: [Option<&'a CStr>; 3],
}

/// `--memory-max`, `--pids-max`, `--cpu-max`: the index of each in `Cgroup::limits`.
#[derive(Clone, Copy)]
pub enum CgroupLimit {
    Memory,
    Pids,
    Cpu,
}

impl<'a> Spec<'a> {
    /// Defaults; `argv` only provides an empty COMMAND until the parser sets it.
    #[inline(always)]
    pub fn new(argv: Argv<'a>) -> Self {
        Spec {
            command: argv.tail(argv.len()),
            init: Init::default(),
            confine: Confine::default(),
            sandbox: Sandbox::default(),
            cgroup: Cgroup::default(),
            termination_log: None,
        }
    }
}

/// What the command line asks for; with `Run`, the `Spec` says what to run.
pub enum Action {
    Run,
    Help,
    Version,
    License,
}

/// One step of building the new root, executed in order (bubblewrap's SetupOp).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpKind {
    /// `--bind`, `--ro-bind`, `--dev-bind` (and their `-try` forms).
    Bind {
        read_only: bool,
        devices: bool,
        optional: bool,
    },
    RemountRo,
    Proc,
    Dev,
    Tmpfs,
    Mqueue,
    Dir,
    Symlink,
    Chmod,
    /// `--file` (bound false: the data is written at DEST), `--bind-data`, `--ro-bind-data`
    /// (a file of the data, outside the new root, bound on DEST).
    Data {
        bound: bool,
        read_only: bool,
    },
}

/// A mount operation: the option that asked for it, and its operands.
#[derive(Clone, Copy)]
pub struct MountOp<'a> {
    pub kind: OpKind,
    /// The option as given (`--ro-bind`), for messages.
    pub option: &'a [u8],
    /// Bind source, symlink target, or the descriptor as given.
    pub source: Option<&'a CStr>,
    /// Path inside the new root.
    pub dest: &'a CStr,
    /// `--perms` / `--chmod` mode, or the default.
    pub perms: Option<u32>,
    /// `--size` for a tmpfs, in bytes.
    pub size: Option<u64>,
    /// The descriptor of `--bind-fd`, `--ro-bind-fd` (the source) and the data options.
    pub fd: Option<i32>,
}

impl<T: Copy, const N: usize> Clone for List<T, N> {
    fn clone(&self) -> Self {
        List {
            items: self.items,
            len: self.len,
        }
    }
}

/// A list that has reached its capacity.
#[derive(Debug)]
pub struct Full;

/// A fixed-capacity list; `push` fails when full. The slots start uninitialised, so an
/// unused list costs no memory writes (init mode never touches the sandbox's lists).
pub struct List<T, const N: usize> {
    items: [MaybeUninit<T>; N],
    len: usize,
}

impl<T: Copy, const N: usize> List<T, N> {
    #[inline(always)]
    pub fn new() -> Self {
        List {
            items: [const { MaybeUninit::uninit() }; N],
            len: 0,
        }
    }

    pub fn push(&mut self, item: T) -> Result<(), Full> {
        // One test for both the capacity and the bounds.
        self.items.get_mut(self.len).ok_or(Full)?.write(item);
        self.len += 1;
        Ok(())
    }

    pub fn iter(&self) -> impl Iterator<Item = &T> {
        // SAFETY: the first `len` slots were written by push and are never uninitialised.
        self.items[..self.len]
            .iter()
            .map(|slot| unsafe { slot.assume_init_ref() })
    }

    pub fn as_slice(&self) -> &[T] {
        let items = &self.items[..self.len];
        // SAFETY: the first `len` slots were written by push, and MaybeUninit<T> has T's
        // layout.
        unsafe { &*(items as *const [MaybeUninit<T>] as *const [T]) }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl<T: Copy, const N: usize> Default for List<T, N> {
    fn default() -> Self {
        Self::new()
    }
}

/// One line of a uid or gid map.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdRange {
    pub inside: u32,
    pub outside: u32,
    pub count: u32,
}

#[derive(Clone, Copy)]
pub enum EnvOp<'a> {
    Set(&'a CStr, &'a CStr),
    Unset(&'a CStr),
    /// `--clearenv`, in its place among the others (as bubblewrap).
    Clear,
}

pub const MAX_OPS: usize = 256;
pub const MAX_ENV_OPS: usize = 128;
pub const MAX_ID_RANGES: usize = 8;

/// The sandbox: which namespaces, how to build the root, what the payload sees.
#[derive(Default)]
pub struct Sandbox<'a> {
    /// Any sandbox option was given.
    pub enabled: bool,
    /// CLONE_NEW* flags for the namespaces to create (time is handled apart): those asked
    /// for, then those `resolve` adds or removes.
    pub namespaces: u64,
    /// Any `--unshare-*` was given (then `--rootfs` does not imply them all).
    pub unshare_asked: bool,
    pub share_net: bool,
    /// `--perms` and `--size` given and not yet taken by a mount option.
    pub pending_perms: Option<u32>,
    pub pending_size: Option<u64>,
    pub user_try: bool,
    pub cgroup_try: bool,
    pub time: bool,
    pub rootfs: Option<&'a CStr>,
    pub rw: bool,
    pub ops: List<MountOp<'a>, MAX_OPS>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub uid_map: List<IdRange, MAX_ID_RANGES>,
    pub gid_map: List<IdRange, MAX_ID_RANGES>,
    pub hostname: Option<&'a CStr>,
    pub chdir: Option<&'a CStr>,
    /// `--setenv`, `--unsetenv` and `--clearenv` in the order given.
    pub env_ops: List<EnvOp<'a>, MAX_ENV_OPS>,
    pub argv0: Option<&'a CStr>,
    pub die_with_parent: bool,
    pub new_session: bool,
    pub netns: Option<&'a CStr>,
    pub monotonic_offset: i64,
    pub boottime_offset: i64,
    pub info_fd: Option<i32>,
    pub json_status_fd: Option<i32>,
    /// Capabilities COMMAND keeps (`--cap-add`, `--cap-drop`); none by default.
    pub caps: u64,
    /// Descriptors besides 0, 1, 2 that reach COMMAND (`--keep-fd`).
    pub keep_fds: List<i32, MAX_KEEP_FDS>,
    /// Compiled BPF to load: (fd, replaces the default filter) (`--seccomp`, `--add-seccomp-fd`).
    pub seccomp_fds: List<(i32, bool), MAX_SECCOMP_FDS>,
    pub no_default_seccomp: bool,
    pub disable_userns: bool,
    /// Address families COMMAND may create sockets of, bit i for ADDRESS_FAMILIES[i]
    /// (`--restrict-af`); None: all.
    pub restrict_af: Option<u8>,
    /// The descriptors of bubblewrap's `--sync-fd` and the others, by `SetupFd`.
    pub fds: [Option<i32>; SETUP_FDS.len()],
    /// `--lock-file` paths, read-locked by the inner init for the sandbox's life.
    pub lock_files: List<&'a CStr, MAX_LOCK_FILES>,
    /// `--as-pid-1`: COMMAND itself is PID 1; no husk init inside.
    pub as_pid_1: bool,
    pub assert_userns_disabled: bool,
}

/// bubblewrap's descriptor options, as indexes of `Sandbox::fds`.
#[derive(Clone, Copy)]
pub enum SetupFd {
    /// Held open by the inner init while the sandbox lives.
    Sync,
    /// Read (one byte) before COMMAND starts.
    Block,
    /// Read by the monitor instead of writing the id maps (someone else writes them).
    UsernsBlock,
    /// A user namespace to join instead of making one.
    Userns,
    /// A user namespace to move to once the root is built.
    Userns2,
    /// The pid namespace the sandbox's is made in (or joined, without --unshare-pid).
    Pidns,
}

/// The option of each `SetupFd`, in order.
pub const SETUP_FDS: [&[u8]; 6] = [
    b"--sync-fd",
    b"--block-fd",
    b"--userns-block-fd",
    b"--userns",
    b"--userns2",
    b"--pidns",
];

pub const MAX_LOCK_FILES: usize = 16;

/// The option a seccomp descriptor came with: `--seccomp` (it replaces the default filter)
/// or `--add-seccomp-fd`.
pub fn seccomp_option(replace: bool) -> &'static [u8] {
    if replace {
        b"--seccomp"
    } else {
        b"--add-seccomp-fd"
    }
}

impl<'a> Sandbox<'a> {
    pub fn fd(&self, which: SetupFd) -> Option<i32> {
        self.fds[which as usize]
    }

    /// Every descriptor husk itself reads while it sets the sandbox up (none reaches
    /// COMMAND unless `--keep-fd` says so), with the option that names it: the seccomp
    /// programs, the mount options' sources and data, and bubblewrap's descriptor options.
    pub fn setup_fds(&self, mut each: impl FnMut(&'a [u8], i32)) {
        for &(fd, replace) in self.seccomp_fds.iter() {
            each(seccomp_option(replace), fd);
        }
        for op in self.ops.iter() {
            if let Some(fd) = op.fd {
                each(op.option, fd);
            }
        }
        for (option, fd) in SETUP_FDS.iter().zip(self.fds) {
            if let Some(fd) = fd {
                each(option, fd);
            }
        }
    }
}

impl Sandbox<'_> {
    /// A new root is built (and COMMAND starts in its /, unless `--chdir`): `--rootfs` or a
    /// mount option. Without, the sandbox keeps the host's tree (in a mount namespace of its
    /// own) and the caller's directory.
    pub fn builds_root(&self) -> bool {
        self.rootfs.is_some() || !self.ops.is_empty()
    }
}

/// `--restrict-af`'s families (named in cli.rs): unix, inet, inet6, netlink, packet.
pub const ADDRESS_FAMILIES: [u8; 5] = {
    use linux_raw_sys::net as n;
    [
        n::AF_UNIX as u8,
        n::AF_INET as u8,
        n::AF_INET6 as u8,
        n::AF_NETLINK as u8,
        n::AF_PACKET as u8,
    ]
};

pub const MAX_KEEP_FDS: usize = 64;
pub const MAX_SECCOMP_FDS: usize = 8;

/// The namespaces `--unshare-all` asks for, and `--rootfs` alone implies.
pub const ALL_NAMESPACES: u64 = {
    use linux_raw_sys::general as k;
    (k::CLONE_NEWUSER
        | k::CLONE_NEWNS
        | k::CLONE_NEWPID
        | k::CLONE_NEWNET
        | k::CLONE_NEWIPC
        | k::CLONE_NEWUTS
        | k::CLONE_NEWCGROUP) as u64
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::leaked;

    /// The child's rewrites (`--argv0`, LISTEN_PID) go through the raw pointers the views
    /// were made from (Miri checks that no shared borrow is written through).
    #[test]
    fn argv_and_env_rewrites_stay_in_bounds_and_visible() {
        let a = leaked(&["cmd", "arg"]);
        let e = leaked(&["A=1", "LISTEN_PID=5", "B=2"]);
        // SAFETY: NULL-terminated, never freed, borrowed by nothing else.
        let (argv, env) = unsafe { (Argv::new(a.as_mut_ptr(), 2), Env::new(e.as_mut_ptr())) };
        // SAFETY: this test owns both arrays; the entries are static C strings.
        unsafe { argv.set_first(c"other") };
        assert_eq!(argv.get(0), c"other");
        assert_eq!(argv.tail(1).get(0), c"arg");
        assert!(argv.tail(5).is_empty());
        let (index, value) = env.find(b"LISTEN_PID").unwrap();
        assert_eq!((index, value), (1, c"5"));
        // SAFETY: as above; index comes from find.
        unsafe { env.set(index, c"LISTEN_PID=7".as_ptr()) };
        assert_eq!(env.get(b"LISTEN_PID"), Some(c"7"));
        assert_eq!(env.get(b"A"), Some(c"1"));
        assert_eq!(env.get(b"LISTEN"), None);
        assert_eq!(env.iter().count(), 3);
    }

    /// Entries shorter than the prefix, or equal to it up to a point, are passed over; a
    /// name matches only with its `=`.
    #[test]
    fn entries_are_found_by_prefix() {
        let e = leaked(&[
            "",
            "H",
            "HUSK",
            "HUSK_",
            "HUSK_A=1",
            "XHUSK_B=2",
            "HUSK_C",
            "HUSK_C=3",
        ]);
        // SAFETY: NULL-terminated, never freed, borrowed by nothing else.
        let env = unsafe { Env::new(e.as_mut_ptr()) };
        let found: Vec<usize> = env.starting_with(b"HUSK_").map(|(i, _)| i).collect();
        assert_eq!(found, [3, 4, 6, 7]);
        assert_eq!(env.find(b"HUSK_C"), Some((7, c"3")));
        assert_eq!(env.get(b"HUSK"), None);
        assert_eq!(env.get(b"HUSK_A"), Some(c"1"));
        assert_eq!(env.starting_with(b"").count(), 8);
    }
}
