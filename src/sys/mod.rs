//! The syscalls rustix does not offer (or offers only in its hidden runtime module): process
//! creation, execve, the raw signal calls with the kernel's 64-bit signal set, and kill with
//! any signal number. Each wraps one system call through musl's `syscall(2)`, so no assembly
//! is needed on either architecture. Errors come back as rustix's `Errno`.

use core::ffi::{c_char, c_int, c_long, CStr};
use core::mem::{size_of, MaybeUninit};
use linux_raw_sys::general as k;
use linux_raw_sys::landlock as lk;
use rustix::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

extern "C" {
    fn syscall(number: c_long, ...) -> c_long;
    fn __errno_location() -> *mut c_int;
    fn strerror(errnum: c_int) -> *const c_char;
}

pub use rustix::io::Errno;

/// The C library's text for an errno, e.g. "No such file or directory".
pub fn errno_text(e: Errno) -> &'static [u8] {
    // SAFETY: musl's strerror returns a pointer to a static NUL-terminated string for any
    // value (unknown values get a generic message) and never writes to it afterwards.
    unsafe { CStr::from_ptr(strerror(e.raw_os_error())) }.to_bytes()
}

fn check(ret: c_long) -> Result<c_long, Errno> {
    if ret == -1 {
        // SAFETY: __errno_location returns the calling thread's errno slot, always valid.
        Err(Errno::from_raw_os_error(unsafe { *__errno_location() }))
    } else {
        Ok(ret)
    }
}

/// clone(2) without a new stack, so it returns twice like fork(2): 0 in the child, the
/// child's pid in the parent. `flags` may carry CLONE_NEW* bits; the exit signal is SIGCHLD.
/// The child must not rely on libc state that caches the pid (husk uses none).
pub fn clone(flags: u64) -> Result<i32, Errno> {
    let flags = flags | u64::from(k::SIGCHLD);
    // SAFETY: with a null stack the child continues on a copy of the parent's stack, exactly
    // as after fork; the remaining pointer arguments are null, so nothing is written.
    check(unsafe {
        syscall(
            k::__NR_clone as c_long,
            flags,
            0usize,
            0usize,
            0usize,
            0usize,
        )
    })
    .map(|p| p as i32)
}

/// execve(2). Returns only on failure.
///
/// # Safety
/// `argv` and `envp` must be NULL-terminated arrays of valid NUL-terminated strings.
pub unsafe fn execve(path: &CStr, argv: *const *const c_char, envp: *const *const c_char) -> Errno {
    // SAFETY: path is NUL-terminated; argv and envp are valid by the caller's contract.
    let ret = unsafe { syscall(k::__NR_execve as c_long, path.as_ptr(), argv, envp) };
    check(ret).err().unwrap_or(Errno::NOEXEC)
}

/// exit_group(2): ends the process at once, running no exit handlers.
pub fn exit(code: i32) -> ! {
    // SAFETY: exit_group takes an int and does not return.
    unsafe { syscall(k::__NR_exit_group as c_long, code as c_long) };
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
    // SAFETY: both pointers refer to live 8-byte sets and the size argument says 8.
    unsafe {
        syscall(
            k::__NR_rt_sigprocmask as c_long,
            k::SIG_SETMASK as c_long,
            &mask as *const SigSet,
            &mut old as *mut SigSet,
            8usize,
        )
    };
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
pub fn set_disposition(sig: i32, new: Option<Disposition>) -> Result<usize, Errno> {
    let new = new.map(|d| k::kernel_sigaction {
        // SAFETY: SIG_DFL is the null handler; SIG_IGN (1) is a non-null value the kernel
        // reads as "ignore" and that husk never calls.
        sa_handler_kernel: unsafe {
            core::mem::transmute::<usize, k::__kernel_sighandler_t>(d as usize)
        },
        sa_flags: 0,
        sa_restorer: None,
        sa_mask: k::kernel_sigset_t { sig: [0] },
    });
    let new_ptr = match &new {
        Some(act) => act as *const k::kernel_sigaction,
        None => core::ptr::null(),
    };
    let mut old = MaybeUninit::<k::kernel_sigaction>::uninit();
    // SAFETY: new_ptr is null or points to a valid struct; old is writable; the set size is
    // the kernel's (8 bytes).
    check(unsafe {
        syscall(
            k::__NR_rt_sigaction as c_long,
            sig as c_long,
            new_ptr,
            old.as_mut_ptr(),
            size_of::<k::kernel_sigset_t>(),
        )
    })?;
    // SAFETY: on success the kernel has filled in `old`.
    let old = unsafe { old.assume_init() };
    Ok(old.sa_handler_kernel.map_or(0, |f| f as usize))
}

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
    // SAFETY: set is a live 8-byte set, as the size says; info is a writable siginfo_t
    // (only written); ts_ptr is null or a valid timespec.
    let ret = unsafe {
        syscall(
            k::__NR_rt_sigtimedwait as c_long,
            &set as *const SigSet,
            info.as_mut_ptr(),
            ts_ptr,
            size_of::<SigSet>(),
        )
    };
    check(ret).ok().map(|s| s as i32)
}

/// kill(2) with any signal number (rustix's `Signal` refuses real-time ones).
/// A negative `pid` names a process group, -1 every process the caller may signal, 0 the
/// caller's group. Job control's SIGSTOP and SIGCONT go through rustix; this one sends
/// forwarded and `-p` signals (any number), kill(-1), kills of a pid that may be 0, and the
/// other SIGKILLs and SIGTERMs (one shared call here is smaller than rustix's inlined ones).
pub fn kill(pid: i32, sig: i32) -> Result<(), Errno> {
    // SAFETY: kill takes two integers.
    check(unsafe { syscall(k::__NR_kill as c_long, pid as c_long, sig as c_long) }).map(drop)
}

/// clock_gettime(2) on CLOCK_MONOTONIC in milliseconds. A plain syscall: rustix's version
/// goes through the vDSO, whose ELF parsing costs more bytes than the call costs time here.
pub fn monotonic_ms() -> u64 {
    let mut ts = k::__kernel_timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: ts is a writable timespec of the kernel's layout.
    unsafe {
        syscall(
            k::__NR_clock_gettime as c_long,
            k::CLOCK_MONOTONIC as c_long,
            &mut ts as *mut _,
        )
    };
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
    // SAFETY: the path is an empty C string, attr is a valid struct whose size is passed.
    check(unsafe {
        syscall(
            k::__NR_mount_setattr as c_long,
            fd.as_raw_fd() as c_long,
            c"".as_ptr(),
            flags as c_long,
            &attr as *const k::mount_attr,
            size_of::<k::mount_attr>(),
        )
    })
    .map(drop)
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
    let sock = check(unsafe {
        syscall(
            k::__NR_socket as c_long,
            n::AF_INET as c_long,
            kind as c_long,
            0 as c_long,
        )
    })?;
    // SAFETY: sock is a descriptor we just opened and own.
    let sock = unsafe { rustix::fd::OwnedFd::from_raw_fd(sock as i32) };
    let ioctl = |request: u32, ifreq: &mut n::ifreq| {
        // SAFETY: ifreq is a writable struct ifreq, as both requests expect.
        check(unsafe {
            syscall(
                k::__NR_ioctl as c_long,
                sock.as_raw_fd() as c_long,
                request as c_long,
                ifreq as *mut n::ifreq,
            )
        })
    };
    ioctl(linux_raw_sys::ioctl::SIOCGIFFLAGS, &mut ifreq)?;
    // SAFETY: SIOCGIFFLAGS filled in ifr_flags (and the union is all integers anyway).
    let flags = unsafe { ifreq.ifr_ifru.ifru_flags };
    ifreq.ifr_ifru.ifru_flags = flags | n::net_device_flags::IFF_UP as i16;
    ioctl(linux_raw_sys::ioctl::SIOCSIFFLAGS, &mut ifreq).map(drop)
}

/// unshare(2). rustix marks its wrapper unsafe-to-use (it cannot know about threads); husk
/// is single-threaded, and the calls it makes (time and user namespaces) affect only itself
/// and its future children.
pub fn unshare(flags: u32) -> Result<(), Errno> {
    // SAFETY: unshare takes an integer.
    check(unsafe { syscall(k::__NR_unshare as c_long, flags as c_long) }).map(drop)
}

/// One classic BPF instruction.
pub use linux_raw_sys::ptrace::sock_filter as SockFilter;

/// seccomp(SECCOMP_SET_MODE_FILTER): stacks `prog` on this thread's filters.
pub fn seccomp_filter(prog: &[SockFilter]) -> Result<(), Errno> {
    let len = u16::try_from(prog.len()).map_err(|_| Errno::INVAL)?;
    let fprog = linux_raw_sys::ptrace::sock_fprog {
        len,
        // The kernel only reads the program.
        filter: prog.as_ptr().cast_mut(),
    };
    // SAFETY: fprog points to `len` valid instructions that outlive the call.
    check(unsafe {
        syscall(
            k::__NR_seccomp as c_long,
            linux_raw_sys::ptrace::SECCOMP_SET_MODE_FILTER as c_long,
            0u64,
            &fprog as *const linux_raw_sys::ptrace::sock_fprog,
        )
    })
    .map(drop)
}

/// close_range(2): closes descriptors first..=last, or with `cloexec` only marks them
/// close-on-exec (CLOSE_RANGE_CLOEXEC).
///
/// # Safety
/// Unless `cloexec`, no descriptor in the range may be owned by a live Rust object
/// (`OwnedFd` and the like), which would then close or use another file later.
pub unsafe fn close_range(first: u32, last: u32, cloexec: bool) -> Result<(), Errno> {
    // CLOSE_RANGE_CLOEXEC (include/uapi/linux/close_range.h; not in linux-raw-sys).
    const CLOSE_RANGE_CLOEXEC: u64 = 1 << 2;
    let flags = if cloexec { CLOSE_RANGE_CLOEXEC } else { 0 };
    // SAFETY: close_range takes integers; ownership is the caller's contract.
    check(unsafe {
        syscall(
            k::__NR_close_range as c_long,
            first as u64,
            last as u64,
            flags,
        )
    })
    .map(drop)
}

/// landlock_create_ruleset(2) with LANDLOCK_CREATE_RULESET_VERSION: the kernel's ABI version.
pub fn landlock_abi() -> Result<u32, Errno> {
    // SAFETY: a null attribute with size 0 and the VERSION flag only queries.
    check(unsafe {
        syscall(
            k::__NR_landlock_create_ruleset as c_long,
            0usize,
            0usize,
            lk::LANDLOCK_CREATE_RULESET_VERSION as c_long,
        )
    })
    .map(|v| v as u32)
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
    // SAFETY: attr is a struct landlock_ruleset_attr, at least `size` bytes.
    let fd = check(unsafe {
        syscall(
            k::__NR_landlock_create_ruleset as c_long,
            &attr as *const lk::landlock_ruleset_attr,
            size,
            0u64,
        )
    })?;
    // SAFETY: the kernel returned a new descriptor that we now own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// landlock_add_rule(2), LANDLOCK_RULE_PATH_BENEATH: `allowed` under the file `parent_fd`.
pub fn landlock_add_path(ruleset: &OwnedFd, parent_fd: i32, allowed: u64) -> Result<(), Errno> {
    let attr = lk::landlock_path_beneath_attr {
        allowed_access: allowed,
        parent_fd,
    };
    // SAFETY: attr is a struct landlock_path_beneath_attr (packed, as the kernel's).
    check(unsafe {
        syscall(
            k::__NR_landlock_add_rule as c_long,
            ruleset.as_raw_fd() as c_long,
            lk::landlock_rule_type::LANDLOCK_RULE_PATH_BENEATH as c_long,
            &attr as *const lk::landlock_path_beneath_attr,
            0u64,
        )
    })
    .map(drop)
}

/// landlock_add_rule(2), LANDLOCK_RULE_NET_PORT: `allowed` (LANDLOCK_ACCESS_NET_*) on `port`.
pub fn landlock_add_port(ruleset: &OwnedFd, port: u64, allowed: u64) -> Result<(), Errno> {
    let attr = lk::landlock_net_port_attr {
        allowed_access: allowed,
        port,
    };
    // SAFETY: attr is a struct landlock_net_port_attr.
    check(unsafe {
        syscall(
            k::__NR_landlock_add_rule as c_long,
            ruleset.as_raw_fd() as c_long,
            lk::landlock_rule_type::LANDLOCK_RULE_NET_PORT as c_long,
            &attr as *const lk::landlock_net_port_attr,
            0u64,
        )
    })
    .map(drop)
}

/// landlock_restrict_self(2).
pub fn landlock_restrict_self(ruleset: &OwnedFd) -> Result<(), Errno> {
    // SAFETY: takes a descriptor and flags.
    check(unsafe {
        syscall(
            k::__NR_landlock_restrict_self as c_long,
            ruleset.as_raw_fd() as c_long,
            0u64,
        )
    })
    .map(drop)
}

/// clone3(2) with CLONE_INTO_CGROUP: like `clone`, but the child starts inside the cgroup
/// `cgroup` (a directory descriptor), before it runs a single instruction.
pub fn clone_into_cgroup(flags: u64, cgroup: BorrowedFd) -> Result<i32, Errno> {
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
    // SAFETY: args is a valid clone_args of the size passed; a zero stack makes the child
    // continue on a copy of the parent's stack, as with fork.
    check(unsafe {
        syscall(
            k::__NR_clone3 as c_long,
            &args as *const k::clone_args,
            size_of::<k::clone_args>(),
        )
    })
    .map(|p| p as i32)
}

/// `clone`, or `clone_into_cgroup` when a cgroup is given.
pub fn spawn_child(flags: u64, cgroup: Option<BorrowedFd>) -> Result<i32, Errno> {
    match cgroup {
        Some(fd) => clone_into_cgroup(flags, fd),
        None => clone(flags),
    }
}

/// getcwd(2) into `buf`: Err(ERANGE) when the path does not fit.
pub fn getcwd(buf: &mut [u8]) -> Result<(), Errno> {
    // SAFETY: buf is writable for its length, which is passed.
    check(unsafe { syscall(k::__NR_getcwd as c_long, buf.as_mut_ptr(), buf.len()) }).map(drop)
}
