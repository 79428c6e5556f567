//! The syscalls rustix does not offer (or offers only in its hidden runtime module): process
//! creation, execve, the raw signal calls with the kernel's 64-bit signal set, kill with any
//! signal number, seccomp, landlock, mount_setattr and the interface ioctls. Every wrapper
//! goes through one typed helper, `syscall`, over the one instruction per architecture
//! that enters the kernel (rustix does the same for its own calls). Structs and constants
//! come from linux-raw-sys; errors come back as rustix's `Errno`. A wrapper that some input
//! would make unsound is an `unsafe fn` with its contract.

use core::ffi::{c_char, CStr};
use core::mem::{size_of, MaybeUninit};
use linux_raw_sys::general as k;
use linux_raw_sys::landlock as lk;
use rustix::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

pub use rustix::io::Errno;

/// `enter!`'s work for every architecture: pairs each value with the next register of the
/// ABI's order, then traps.
macro_rules! pair {
    ($nr:expr; [$r:tt $($rest:tt)*] [$($done:tt)*] [$v:expr $(, $more:expr)*]) => {
        pair!($nr; [$($rest)*] [$($done)* ($r, $v)] [$($more),*])
    };
    ($nr:expr; [$($rest:tt)*] [$(($r:tt, $v:expr))*] []) => {
        trap!($nr; [$($r)*] [$($v),*])
    };
}

/// Enters the kernel: `enter!(nr; args...)` is the raw return value of call `nr` with up
/// to six arguments, in the registers the architecture's syscall ABI puts them in. The
/// kernel clobbers only the registers named; it reads none beyond the arguments given.
#[cfg(target_arch = "x86_64")]
macro_rules! enter {
    ($nr:expr; $($val:expr),*) => {
        pair!($nr; ["rdi" "rsi" "rdx" "r10" "r8" "r9"] [] [$($val),*])
    };
}

#[cfg(target_arch = "aarch64")]
macro_rules! enter {
    ($nr:expr; $($val:expr),*) => {
        pair!($nr; ["x0" "x1" "x2" "x3" "x4" "x5"] [] [$($val),*])
    };
}

#[cfg(target_arch = "arm")]
macro_rules! enter {
    ($nr:expr; $($val:expr),*) => {
        pair!($nr; ["r0" "r1" "r2" "r3" "r4" "r5"] [] [$($val),*])
    };
}

#[cfg(target_arch = "riscv64")]
macro_rules! enter {
    ($nr:expr; $($val:expr),*) => {
        pair!($nr; ["a0" "a1" "a2" "a3" "a4" "a5"] [] [$($val),*])
    };
}

/// The instruction itself, with the number and the arguments in their registers.
#[cfg(target_arch = "x86_64")]
macro_rules! trap {
    ($nr:expr; [$($reg:tt)*] [$($val:expr),*]) => {{
        let ret: isize;
        core::arch::asm!(
            "syscall",
            inlateout("rax") $nr as isize => ret,
            $(in($reg) $val,)*
            lateout("rcx") _, lateout("r11") _,
            options(nostack, preserves_flags),
        );
        ret
    }};
}

#[cfg(target_arch = "aarch64")]
macro_rules! trap {
    ($nr:expr; [$($reg:tt)*] [$($val:expr),*]) => {{
        let ret: isize;
        core::arch::asm!(
            "svc 0",
            in("x8") $nr,
            $(in($reg) $val,)*
            lateout("x0") ret,
            options(nostack, preserves_flags),
        );
        ret
    }};
}

/// 32-bit ARM (EABI): the number in r7. husk is built as Thumb-2 code (.cargo/config.toml:
/// a quarter smaller than ARM code), whose frame pointer r7 is, so r7 is kept in another
/// register around the call.
#[cfg(all(target_arch = "arm", not(target_feature = "thumb-mode")))]
compile_error!("husk's 32-bit ARM code is Thumb-2: build with -C target-feature=+thumb-mode");
#[cfg(target_arch = "arm")]
macro_rules! trap {
    ($nr:expr; [$($reg:tt)*] [$($val:expr),*]) => {{
        let ret: isize;
        core::arch::asm!(
            "mov {saved}, r7",
            "mov r7, {nr}",
            "svc 0",
            "mov r7, {saved}",
            nr = in(reg) $nr,
            saved = out(reg) _,
            $(in($reg) $val,)*
            lateout("r0") ret,
            options(nostack, preserves_flags),
        );
        ret
    }};
}

#[cfg(target_arch = "riscv64")]
macro_rules! trap {
    ($nr:expr; [$($reg:tt)*] [$($val:expr),*]) => {{
        let ret: isize;
        core::arch::asm!(
            "ecall",
            in("a7") $nr,
            $(in($reg) $val,)*
            lateout("a0") ret,
            options(nostack, preserves_flags),
        );
        ret
    }};
}

/// System call `nr` with the `N` (at most 6) arguments it takes: its return value, or the
/// errno the kernel returned (as -errno, -4095..=-1). Always inlined, so each call site
/// loads just the registers of its own arguments.
///
/// # Safety
/// The arguments must be what `nr` takes (its man page): pointers to live memory of the
/// sizes the call reads or writes, and no request whose effect on this process breaks what
/// Rust assumes (memory shared with a clone, a handler run on a signal, a descriptor that a
/// live owner still uses closed).
#[inline(always)]
unsafe fn syscall<const N: usize>(nr: u32, args: [usize; N]) -> Result<usize, Errno> {
    const { assert!(N <= 6, "a system call takes at most six arguments") };
    let a = |i: usize| args.get(i).copied().unwrap_or(0);
    let nr = nr as usize;
    // One arm per N, so a call site loads only the registers of its own arguments.
    // SAFETY: the caller's contract, for every arm.
    let ret = unsafe {
        match N {
            0 => enter!(nr;),
            1 => enter!(nr; a(0)),
            2 => enter!(nr; a(0), a(1)),
            3 => enter!(nr; a(0), a(1), a(2)),
            4 => enter!(nr; a(0), a(1), a(2), a(3)),
            5 => enter!(nr; a(0), a(1), a(2), a(3), a(4)),
            _ => enter!(nr; a(0), a(1), a(2), a(3), a(4), a(5)),
        }
    };
    if (-4095..0).contains(&ret) {
        Err(Errno::from_raw_os_error(-ret as i32))
    } else {
        Ok(ret as usize)
    }
}

/// The clone flags that only give the child new namespaces: with them alone, clone and
/// clone3 create a process as fork(2) does (husk is single-threaded and keeps no libc state
/// that caches the pid). CLONE_NEWTIME is not among them (clone reads its bit as part of
/// the exit signal; husk unshares the time namespace instead).
pub const NAMESPACES: u64 = (k::CLONE_NEWNS
    | k::CLONE_NEWCGROUP
    | k::CLONE_NEWUTS
    | k::CLONE_NEWIPC
    | k::CLONE_NEWUSER
    | k::CLONE_NEWPID
    | k::CLONE_NEWNET) as u64;

/// clone(2) without a new stack, so it returns twice like fork(2): 0 in the child, the
/// child's pid in the parent. `namespaces` (NAMESPACES bits only, else EINVAL) are the new
/// namespaces the child starts in; its exit signal is SIGCHLD.
pub fn clone(namespaces: u64) -> Result<i32, Errno> {
    spawn_child(namespaces, None)
}

/// `clone`, or with a cgroup (a directory descriptor) clone3(2) with CLONE_INTO_CGROUP: the
/// child starts inside that cgroup, before it runs a single instruction. Always inlined,
/// as set_disposition and seccomp_filter: smaller inlined in their few callers, which pass
/// constants (measured).
#[inline(always)]
pub fn spawn_child(namespaces: u64, cgroup: Option<BorrowedFd>) -> Result<i32, Errno> {
    if namespaces & !NAMESPACES != 0 {
        return Err(Errno::INVAL);
    }
    match cgroup {
        // SAFETY: namespace flags only, checked above: the child is a copy, as after fork.
        Some(fd) => unsafe { clone3_into_cgroup(namespaces, fd) },
        // SAFETY: as above.
        None => unsafe { clone_flags(namespaces) },
    }
}

/// clone(2) with `flags` and no new stack: the child continues on a copy of the parent's.
///
/// # Safety
/// `flags` must not make the child share anything Rust assumes it owns alone (CLONE_VM,
/// CLONE_FILES, CLONE_SIGHAND, CLONE_THREAD...) nor ask the kernel to write through the
/// null pointers passed (CLONE_*TID, CLONE_PIDFD, CLONE_SETTLS).
unsafe fn clone_flags(flags: u64) -> Result<i32, Errno> {
    let flags = flags | u64::from(k::SIGCHLD);
    // SAFETY: the caller's contract; the stack, tid and tls arguments are null.
    unsafe { syscall(k::__NR_clone, [flags as usize, 0, 0, 0, 0]) }.map(|p| p as i32)
}

/// clone3(2) with CLONE_INTO_CGROUP and `flags`, into the cgroup `cgroup`.
///
/// # Safety
/// As for `clone_flags`.
unsafe fn clone3_into_cgroup(flags: u64, cgroup: BorrowedFd) -> Result<i32, Errno> {
    let args = k::clone_args {
        flags: flags | k::CLONE_INTO_CGROUP,
        pidfd: 0,
        child_tid: 0,
        parent_tid: 0,
        exit_signal: u64::from(k::SIGCHLD),
        stack: 0,
        stack_size: 0,
        tls: 0,
        set_tid: 0,
        set_tid_size: 0,
        cgroup: cgroup.as_raw_fd() as u64,
    };
    let (args, size) = (&args as *const k::clone_args, size_of::<k::clone_args>());
    // SAFETY: the caller's contract; args is a valid clone_args of the size passed, and its
    // zero stack makes the child continue on a copy of the parent's, as with fork.
    unsafe { syscall(k::__NR_clone3, [args as usize, size]) }.map(|p| p as i32)
}

/// execve(2). Returns only on failure.
///
/// # Safety
/// `argv` and `envp` must be NULL-terminated arrays of valid NUL-terminated strings.
pub unsafe fn execve(path: &CStr, argv: *const *const c_char, envp: *const *const c_char) -> Errno {
    let args = [path.as_ptr() as usize, argv as usize, envp as usize];
    // SAFETY: path is NUL-terminated; argv and envp are valid by the caller's contract.
    let ret = unsafe { syscall(k::__NR_execve, args) };
    ret.err().unwrap_or(Errno::NOEXEC)
}

/// exit_group(2): ends the process at once, running no exit handlers.
pub fn exit(code: i32) -> ! {
    // SAFETY: exit_group takes an int and does not return.
    let _ = unsafe { syscall(k::__NR_exit_group, [code as usize]) };
    // SAFETY: exit_group(2) never returns.
    unsafe { core::hint::unreachable_unchecked() }
}

/// The kernel's signal set: bit N-1 stands for signal N (1..=64).
pub type SigSet = u64;
/// Every signal, 1 to 64 (the kernel never blocks SIGKILL and SIGSTOP, whatever is asked).
pub const ALL_SIGNALS: SigSet = !0;
/// The highest signal number.
pub const NSIG: i32 = 64;
pub const SIGCHLD: i32 = k::SIGCHLD as i32;
pub const SIGKILL: i32 = k::SIGKILL as i32;
pub const SIGSTOP: i32 = k::SIGSTOP as i32;
pub const SIGTERM: i32 = k::SIGTERM as i32;
pub const SIGINT: i32 = k::SIGINT as i32;

pub const fn sigbit(sig: i32) -> SigSet {
    1 << (sig - 1)
}

/// rt_sigprocmask(2) with SIG_SETMASK; returns the previous mask.
pub fn set_sigmask(mask: SigSet) -> SigSet {
    let mut old: SigSet = 0;
    let (new, old_ptr) = (&mask as *const SigSet, &mut old as *mut SigSet);
    let how = k::SIG_SETMASK as usize;
    let args = [how, new as usize, old_ptr as usize, size_of::<SigSet>()];
    // SAFETY: both pointers refer to live 8-byte sets and the size argument says 8.
    let _ = unsafe { syscall(k::__NR_rt_sigprocmask, args) };
    old
}

/// A signal disposition that runs no code in husk: the only kind husk sets, so no handler
/// address (nor a restorer) ever reaches the kernel.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Disposition {
    /// SIG_DFL
    Default = 0,
    /// SIG_IGN
    Ignore = 1,
}

/// rt_sigaction(2): sets `sig`'s disposition (or, with None, only reads it). Returns the
/// previous handler value: SIG_DFL (0), SIG_IGN (1) or a handler's address.
#[inline(always)]
pub fn set_disposition(sig: i32, new: Option<Disposition>) -> Result<usize, Errno> {
    let new = new.map(|d| k::kernel_sigaction {
        // SAFETY: SIG_DFL is the null handler; SIG_IGN (1) is a non-null value the kernel
        // reads as "ignore" and that husk never calls.
        sa_handler_kernel: unsafe {
            core::mem::transmute::<usize, k::__kernel_sighandler_t>(d as usize)
        },
        sa_flags: 0,
        // RISC-V's struct sigaction has no restorer.
        #[cfg(not(target_arch = "riscv64"))]
        sa_restorer: None,
        // One 64-bit word, or two 32-bit ones on 32-bit ARM.
        sa_mask: k::kernel_sigset_t {
            sig: Default::default(),
        },
    });
    let new_ptr = match &new {
        Some(act) => act as *const k::kernel_sigaction,
        None => core::ptr::null(),
    };
    let mut old = MaybeUninit::<OldAction>::uninit();
    let args = [
        sig as usize,
        new_ptr as usize,
        old.as_mut_ptr() as usize,
        size_of::<k::kernel_sigset_t>(),
    ];
    // SAFETY: new_ptr is null or points to a valid struct; old is writable; the set size is
    // the kernel's (8 bytes).
    unsafe { syscall(k::__NR_rt_sigaction, args) }?;
    // SAFETY: on success the kernel has filled in the struct sigaction (the slack after it
    // needs no value).
    let old = unsafe { old.assume_init() }.act;
    Ok(old.sa_handler_kernel.map_or(0, |f| f as usize))
}

/// Room for the previous action: the kernel's struct sigaction, and on riscv64 one word
/// after it. qemu-riscv64 (Debian's 7.2) lays the struct out with a restorer field, which
/// riscv's lacks, and so writes 8 bytes past it: in a child about to exec with SIGCHLD
/// ignored, that overwrote husk's stack (SIGSEGV). The handler, read here, is first in
/// either layout.
#[repr(C)]
struct OldAction {
    act: k::kernel_sigaction,
    #[cfg(target_arch = "riscv64")]
    _qemu_slack: MaybeUninit<usize>,
}

/// The calls that take a `__kernel_timespec` (64-bit seconds): on a 32-bit architecture the
/// plain numbers take the old 32-bit timespec, and the `_time64` ones this.
#[cfg(target_pointer_width = "64")]
const SIGTIMEDWAIT: u32 = k::__NR_rt_sigtimedwait;
#[cfg(target_pointer_width = "64")]
const CLOCK_GETTIME: u32 = k::__NR_clock_gettime;
#[cfg(target_pointer_width = "32")]
const SIGTIMEDWAIT: u32 = k::__NR_rt_sigtimedwait_time64;
#[cfg(target_pointer_width = "32")]
const CLOCK_GETTIME: u32 = k::__NR_clock_gettime64;

/// rt_sigtimedwait(2) on `set`: Some(signal) when one was taken, None when `timeout_ms`
/// (if any) ran out or a stop/continue interrupted the wait.
pub fn sigtimedwait(set: SigSet, timeout_ms: Option<u64>) -> Option<i32> {
    let mut info = MaybeUninit::<k::siginfo_t>::uninit();
    let ts = timeout_ms.map(|ms| k::__kernel_timespec {
        tv_sec: (ms / 1000) as _,
        tv_nsec: ((ms % 1000) * 1_000_000) as _,
    });
    let ts_ptr = match &ts {
        Some(t) => t as *const k::__kernel_timespec,
        None => core::ptr::null(),
    };
    let set_ptr = &set as *const SigSet;
    let args = [
        set_ptr as usize,
        info.as_mut_ptr() as usize,
        ts_ptr as usize,
        size_of::<SigSet>(),
    ];
    // SAFETY: set is a live 8-byte set, as the size says; info is a writable siginfo_t
    // (only written); ts_ptr is null or a valid timespec.
    let ret = unsafe { syscall(SIGTIMEDWAIT, args) };
    ret.ok().map(|s| s as i32)
}

/// kill(2) with any signal number (rustix's `Signal` refuses real-time ones).
/// A negative `pid` names a process group, -1 every process the caller may signal, 0 the
/// caller's group. Job control's SIGSTOP and SIGCONT go through rustix; this one sends
/// forwarded and `-p` signals (any number), kill(-1), kills of a pid that may be 0, and the
/// other SIGKILLs and SIGTERMs (one shared call here is smaller than rustix's inlined ones).
pub fn kill(pid: i32, sig: i32) -> Result<(), Errno> {
    // SAFETY: kill takes two integers.
    unsafe { syscall(k::__NR_kill, [pid as usize, sig as usize]) }.map(drop)
}

/// clock_gettime(2) on CLOCK_MONOTONIC in milliseconds. A plain syscall: rustix's version
/// goes through the vDSO, whose ELF parsing costs more bytes than the call costs time here.
pub fn monotonic_ms() -> u64 {
    let mut ts = k::__kernel_timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    let ts_ptr = &mut ts as *mut k::__kernel_timespec;
    let args = [k::CLOCK_MONOTONIC as usize, ts_ptr as usize];
    // SAFETY: ts is a writable timespec of the kernel's layout.
    let _ = unsafe { syscall(CLOCK_GETTIME, args) };
    ts.tv_sec as u64 * 1000 + ts.tv_nsec as u64 / 1_000_000
}

/// mount_setattr(2): sets `attr_set` (MOUNT_ATTR_* bits) on the mount at `fd`
/// (AT_EMPTY_PATH), and on every mount below it when `recursive`. rustix has no wrapper.
pub fn mount_setattr(fd: BorrowedFd, recursive: bool, attr_set: u64) -> Result<(), Errno> {
    let attr = k::mount_attr {
        attr_set,
        attr_clr: 0,
        propagation: 0,
        userns_fd: 0,
    };
    let flags = k::AT_EMPTY_PATH | if recursive { k::AT_RECURSIVE } else { 0 };
    let args = [
        fd.as_raw_fd() as usize,
        c"".as_ptr() as usize,
        flags as usize,
        &attr as *const k::mount_attr as usize,
        size_of::<k::mount_attr>(),
    ];
    // SAFETY: the path is an empty C string, attr is a valid struct whose size is passed.
    unsafe { syscall(k::__NR_mount_setattr, args) }.map(drop)
}

/// Brings a network interface up (SIOCGIFFLAGS, then SIOCSIFFLAGS with IFF_UP), as
/// `ip link set NAME up` does; rustix has no interface ioctls.
pub fn interface_up(name: &[u8]) -> Result<(), Errno> {
    use linux_raw_sys::net as n;
    if name.len() >= n::IFNAMSIZ as usize {
        return Err(Errno::NAMETOOLONG);
    }
    // SAFETY: struct ifreq is plain data (a name and a union of integers, addresses and a
    // pointer), for which all zero bytes are a valid value.
    let mut ifreq: n::ifreq = unsafe { core::mem::zeroed() };
    // SAFETY: the name is the union's only member, so writing it is writing the union.
    let ifname = unsafe { &mut ifreq.ifr_ifrn.ifrn_name };
    for (d, &s) in ifname.iter_mut().zip(name) {
        *d = s as _;
    }
    // SOCK_CLOEXEC is O_CLOEXEC (include/linux/net.h); linux-raw-sys has only the latter.
    let kind = n::SOCK_DGRAM | k::O_CLOEXEC;
    // SAFETY: socket takes three integers.
    let sock = unsafe { syscall(k::__NR_socket, [n::AF_INET as usize, kind as usize, 0]) }?;
    // SAFETY: sock is a descriptor we just opened and own.
    let sock = unsafe { OwnedFd::from_raw_fd(sock as i32) };
    let ioctl = |request: u32, ifreq: &mut n::ifreq| {
        let args = [
            sock.as_raw_fd() as usize,
            request as usize,
            ifreq as *mut n::ifreq as usize,
        ];
        // SAFETY: ifreq is a writable struct ifreq, as both requests expect.
        unsafe { syscall(k::__NR_ioctl, args) }
    };
    ioctl(linux_raw_sys::ioctl::SIOCGIFFLAGS, &mut ifreq)?;
    // SAFETY: SIOCGIFFLAGS filled in ifr_flags (and the union is all integers anyway).
    let flags = unsafe { ifreq.ifr_ifru.ifru_flags };
    ifreq.ifr_ifru.ifru_flags = flags | n::net_device_flags::IFF_UP as i16;
    ioctl(linux_raw_sys::ioctl::SIOCSIFFLAGS, &mut ifreq).map(drop)
}

/// The flags `unshare` takes: new namespaces, the time namespace among them.
pub const UNSHARE_NAMESPACES: u32 = NAMESPACES as u32 | k::CLONE_NEWTIME;

/// unshare(2) of namespaces (UNSHARE_NAMESPACES bits only, else EINVAL). rustix marks its
/// wrapper unsafe (it cannot know about threads, or what unsharing the file table would
/// do to them); husk is single-threaded, and new namespaces affect only itself and its
/// future children.
pub fn unshare(namespaces: u32) -> Result<(), Errno> {
    if namespaces & !UNSHARE_NAMESPACES != 0 {
        return Err(Errno::INVAL);
    }
    // SAFETY: namespace flags only, checked above.
    unsafe { syscall(k::__NR_unshare, [namespaces as usize]) }.map(drop)
}

/// One classic BPF instruction.
pub use linux_raw_sys::ptrace::sock_filter as SockFilter;

/// seccomp(SECCOMP_SET_MODE_FILTER): stacks `prog` on this thread's filters.
#[inline(always)]
pub fn seccomp_filter(prog: &[SockFilter]) -> Result<(), Errno> {
    let len = u16::try_from(prog.len()).map_err(|_| Errno::INVAL)?;
    let fprog = linux_raw_sys::ptrace::sock_fprog {
        len,
        // The kernel only reads the program.
        filter: prog.as_ptr().cast_mut(),
    };
    let args = [
        linux_raw_sys::ptrace::SECCOMP_SET_MODE_FILTER as usize,
        0,
        &fprog as *const linux_raw_sys::ptrace::sock_fprog as usize,
    ];
    // SAFETY: fprog points to `len` valid instructions that outlive the call.
    unsafe { syscall(k::__NR_seccomp, args) }.map(drop)
}

/// close_range(2): closes descriptors first..=last, or with `cloexec` only marks them
/// close-on-exec (CLOSE_RANGE_CLOEXEC).
///
/// # Safety
/// Unless `cloexec`, no descriptor in the range may be owned by a live Rust object
/// (`OwnedFd` and the like), which would then close or use another file later.
#[inline(always)]
pub unsafe fn close_range(first: u32, last: u32, cloexec: bool) -> Result<(), Errno> {
    // CLOSE_RANGE_CLOEXEC (include/uapi/linux/close_range.h; not in linux-raw-sys).
    const CLOSE_RANGE_CLOEXEC: usize = 1 << 2;
    let flags = if cloexec { CLOSE_RANGE_CLOEXEC } else { 0 };
    let args = [first as usize, last as usize, flags];
    // SAFETY: close_range takes integers; ownership is the caller's contract.
    unsafe { syscall(k::__NR_close_range, args) }.map(drop)
}

/// landlock_create_ruleset(2) with LANDLOCK_CREATE_RULESET_VERSION: the kernel's ABI version.
pub fn landlock_abi() -> Result<u32, Errno> {
    let version = lk::LANDLOCK_CREATE_RULESET_VERSION as usize;
    // SAFETY: a null attribute with size 0 and the VERSION flag only queries.
    let abi = unsafe { syscall(k::__NR_landlock_create_ruleset, [0, 0, version]) };
    abi.map(|v| v as u32)
}

/// landlock_create_ruleset(2) handling these rights and scopes; the attribute's size
/// follows the ABI (v4 added network rights, v6 scopes).
pub fn landlock_create_ruleset(fs: u64, net: u64, scoped: u64, abi: u32) -> Result<OwnedFd, Errno> {
    let attr = lk::landlock_ruleset_attr {
        handled_access_fs: fs,
        handled_access_net: net,
        scoped,
    };
    let size = match abi {
        0..=3 => core::mem::offset_of!(lk::landlock_ruleset_attr, handled_access_net),
        4 | 5 => core::mem::offset_of!(lk::landlock_ruleset_attr, scoped),
        _ => size_of::<lk::landlock_ruleset_attr>(),
    };
    let attr = &attr as *const lk::landlock_ruleset_attr;
    // SAFETY: attr is a struct landlock_ruleset_attr, at least `size` bytes.
    let fd = unsafe { syscall(k::__NR_landlock_create_ruleset, [attr as usize, size, 0]) }?;
    // SAFETY: the kernel returned a new descriptor that we now own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// landlock_add_rule(2), LANDLOCK_RULE_PATH_BENEATH: `allowed` under the file `parent`.
pub fn landlock_add_path(ruleset: &OwnedFd, parent: BorrowedFd, allowed: u64) -> Result<(), Errno> {
    let attr = lk::landlock_path_beneath_attr {
        allowed_access: allowed,
        parent_fd: parent.as_raw_fd(),
    };
    let rule = lk::landlock_rule_type::LANDLOCK_RULE_PATH_BENEATH;
    // SAFETY: attr is the struct landlock_path_beneath_attr this rule type takes.
    unsafe { landlock_add_rule(ruleset, rule, &attr) }
}

/// landlock_add_rule(2), LANDLOCK_RULE_NET_PORT: `allowed` (LANDLOCK_ACCESS_NET_*) on `port`.
pub fn landlock_add_port(ruleset: &OwnedFd, port: u64, allowed: u64) -> Result<(), Errno> {
    let attr = lk::landlock_net_port_attr {
        allowed_access: allowed,
        port,
    };
    let rule = lk::landlock_rule_type::LANDLOCK_RULE_NET_PORT;
    // SAFETY: attr is the struct landlock_net_port_attr this rule type takes.
    unsafe { landlock_add_rule(ruleset, rule, &attr) }
}

/// landlock_add_rule(2) with the attribute of a rule.
///
/// # Safety
/// `attr` must be the struct the kernel reads for `rule` (it reads that many bytes).
unsafe fn landlock_add_rule<T>(
    ruleset: &OwnedFd,
    rule: lk::landlock_rule_type,
    attr: &T,
) -> Result<(), Errno> {
    let args = [
        ruleset.as_raw_fd() as usize,
        rule as usize,
        attr as *const T as usize,
        0,
    ];
    // SAFETY: the caller's contract: attr is the rule's own struct, live for the call.
    unsafe { syscall(k::__NR_landlock_add_rule, args) }.map(drop)
}

/// landlock_restrict_self(2).
pub fn landlock_restrict_self(ruleset: &OwnedFd) -> Result<(), Errno> {
    let args = [ruleset.as_raw_fd() as usize, 0];
    // SAFETY: takes a descriptor and flags.
    unsafe { syscall(k::__NR_landlock_restrict_self, args) }.map(drop)
}

/// getcwd(2) into `buf`: Err(ERANGE) when the path does not fit.
pub fn getcwd(buf: &mut [u8]) -> Result<(), Errno> {
    let args = [buf.as_mut_ptr() as usize, buf.len()];
    // SAFETY: buf is writable for its length, which is passed.
    unsafe { syscall(k::__NR_getcwd, args) }.map(drop)
}
