//! The syscalls rustix does not offer (or offers only in its hidden runtime module): process
//! creation, execve, the raw signal calls with the kernel's 64-bit signal set, and kill with
//! any signal number. Each wraps one system call through musl's `syscall(2)`, so no assembly
//! is needed on either architecture. Errors come back as rustix's `Errno`.

use core::ffi::{c_char, c_int, c_long, CStr};
use linux_raw_sys::general as k;
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
pub const SIGCONT: i32 = k::SIGCONT as i32;

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

/// The kernel's `struct sigaction` on x86_64 and aarch64 (both define SA_RESTORER).
#[repr(C)]
struct KernelSigaction {
    handler: usize,
    flags: u64,
    restorer: usize,
    mask: SigSet,
}

pub const SIG_DFL: usize = 0;
pub const SIG_IGN: usize = 1;

/// rt_sigaction(2) limited to the two dispositions husk uses, SIG_DFL and SIG_IGN (neither
/// needs a restorer). Returns the previous handler value.
pub fn set_disposition(sig: i32, handler: Option<usize>) -> Result<usize, Errno> {
    let new = KernelSigaction {
        handler: handler.unwrap_or(0),
        flags: 0,
        restorer: 0,
        mask: 0,
    };
    let mut old = KernelSigaction {
        handler: 0,
        flags: 0,
        restorer: 0,
        mask: 0,
    };
    let new_ptr = match handler {
        Some(_) => &new as *const KernelSigaction,
        None => core::ptr::null(),
    };
    // SAFETY: new_ptr is null or points to a valid struct; old is writable; sizes match the
    // kernel's layout for this architecture.
    check(unsafe {
        syscall(
            k::__NR_rt_sigaction as c_long,
            sig as c_long,
            new_ptr,
            &mut old as *mut _,
            8usize,
        )
    })?;
    Ok(old.handler)
}

/// rt_sigtimedwait(2) on `set`: Some(signal) when one was taken, None when `timeout_ms`
/// (if any) ran out or a stop/continue interrupted the wait.
pub fn sigtimedwait(set: SigSet, timeout_ms: Option<u64>) -> Option<i32> {
    let mut info = [0u64; 16]; // siginfo_t is 128 bytes
    let ts = timeout_ms.map(|ms| k::__kernel_timespec {
        tv_sec: (ms / 1000) as _,
        tv_nsec: ((ms % 1000) * 1_000_000) as _,
    });
    let ts_ptr = match &ts {
        Some(t) => t as *const k::__kernel_timespec,
        None => core::ptr::null(),
    };
    // SAFETY: set and info are live buffers of the sizes the kernel expects; ts_ptr is null
    // or a valid timespec.
    let ret = unsafe {
        syscall(
            k::__NR_rt_sigtimedwait as c_long,
            &set as *const SigSet,
            info.as_mut_ptr(),
            ts_ptr,
            8usize,
        )
    };
    check(ret).ok().map(|s| s as i32)
}

/// kill(2) with any signal number (rustix's `Signal` refuses real-time ones).
/// A negative `pid` names a process group, -1 every process the caller may signal.
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

/// The kernel's `struct mount_attr` (mount_setattr(2)).
#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

/// mount_setattr(2): sets `attr_set` (MOUNT_ATTR_* bits) on the mount at `fd`
/// (AT_EMPTY_PATH), and on every mount below it when `recursive`. rustix has no wrapper.
pub fn mount_setattr(fd: BorrowedFd, recursive: bool, attr_set: u64) -> Result<(), Errno> {
    let attr = MountAttr {
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
            &attr as *const MountAttr,
            core::mem::size_of::<MountAttr>(),
        )
    })
    .map(drop)
}

/// Brings a network interface up (SIOCGIFFLAGS, then SIOCSIFFLAGS with IFF_UP), as
/// `ip link set NAME up` does; rustix has no interface ioctls.
pub fn interface_up(name: &[u8]) -> Result<(), Errno> {
    // struct ifreq: a 16-byte name, then a union whose first member is `short ifr_flags`.
    let mut ifreq = [0u8; 40];
    if name.len() >= 16 {
        return Err(Errno::NAMETOOLONG);
    }
    ifreq[..name.len()].copy_from_slice(name);
    // SAFETY: socket takes three integers.
    let sock = check(unsafe {
        syscall(
            k::__NR_socket as c_long,
            2 as c_long,               // AF_INET
            (2 | 0o2000000) as c_long, // SOCK_DGRAM | SOCK_CLOEXEC (same on x86_64 and aarch64)
            0 as c_long,
        )
    })?;
    // SAFETY: sock is a descriptor we just opened and own.
    let sock = unsafe { rustix::fd::OwnedFd::from_raw_fd(sock as i32) };
    let ioctl = |request: u32, ifreq: &mut [u8; 40]| {
        // SAFETY: ifreq is a writable buffer at least as large as struct ifreq.
        check(unsafe {
            syscall(
                k::__NR_ioctl as c_long,
                sock.as_raw_fd() as c_long,
                request as c_long,
                ifreq.as_mut_ptr(),
            )
        })
    };
    ioctl(0x8913, &mut ifreq)?; // SIOCGIFFLAGS
    let flags = u16::from_ne_bytes([ifreq[16], ifreq[17]]) | 1; // IFF_UP
    ifreq[16..18].copy_from_slice(&flags.to_ne_bytes());
    ioctl(0x8914, &mut ifreq).map(drop) // SIOCSIFFLAGS
}

/// unshare(2). rustix marks its wrapper unsafe-to-use (it cannot know about threads); husk
/// is single-threaded, and the calls it makes (time and user namespaces) affect only itself
/// and its future children.
pub fn unshare(flags: u32) -> Result<(), Errno> {
    // SAFETY: unshare takes an integer.
    check(unsafe { syscall(k::__NR_unshare as c_long, flags as c_long) }).map(drop)
}

/// prctl(2) with integer arguments, for the options rustix lacks or types too narrowly
/// (capability bounding set and ambient set, no_new_privs).
pub fn prctl(option: u32, arg2: u64, arg3: u64) -> Result<i32, Errno> {
    // SAFETY: these prctl options take integers only.
    check(unsafe {
        syscall(
            k::__NR_prctl as c_long,
            option as c_long,
            arg2,
            arg3,
            0u64,
            0u64,
        )
    })
    .map(|r| r as i32)
}

/// capset(2) version 3: sets the effective, permitted and inheritable sets of this thread.
pub fn capset(effective: u64, permitted: u64, inheritable: u64) -> Result<(), Errno> {
    let header = [k::_LINUX_CAPABILITY_VERSION_3, 0u32];
    let split = |set: u64| [set as u32, (set >> 32) as u32];
    let (e, p, i) = (split(effective), split(permitted), split(inheritable));
    // struct __user_cap_data_struct[2]: {effective, permitted, inheritable} for bits 0-31, 32-63.
    let data = [e[0], p[0], i[0], e[1], p[1], i[1]];
    // SAFETY: header and data have the sizes version 3 expects.
    check(unsafe { syscall(k::__NR_capset as c_long, header.as_ptr(), data.as_ptr()) }).map(drop)
}

/// One classic BPF instruction (`struct sock_filter`).
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct SockFilter {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

/// seccomp(SECCOMP_SET_MODE_FILTER): stacks `prog` on this thread's filters.
pub fn seccomp_filter(prog: &[SockFilter]) -> Result<(), Errno> {
    #[repr(C)]
    struct SockFprog {
        len: u16,
        filter: *const SockFilter,
    }
    let fprog = SockFprog {
        len: prog.len() as u16,
        filter: prog.as_ptr(),
    };
    // SAFETY: fprog points to `len` valid instructions that outlive the call.
    check(unsafe {
        syscall(
            k::__NR_seccomp as c_long,
            linux_raw_sys::ptrace::SECCOMP_SET_MODE_FILTER as c_long,
            0u64,
            &fprog as *const SockFprog,
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
    let flags: u64 = if cloexec { 1 << 2 } else { 0 };
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

/// prlimit64(2) on this process.
pub fn setrlimit(resource: u32, soft: u64, hard: u64) -> Result<(), Errno> {
    let new = [soft, hard];
    // SAFETY: new is a valid struct rlimit64; the old-limit pointer is null.
    check(unsafe {
        syscall(
            k::__NR_prlimit64 as c_long,
            0u64,
            resource as u64,
            new.as_ptr(),
            0usize,
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
            1u64,
        )
    })
    .map(|v| v as u32)
}

/// landlock_create_ruleset(2) handling these rights and scopes; the attribute's size
/// follows the ABI (v4 added network rights, v6 scopes).
pub fn landlock_create_ruleset(fs: u64, net: u64, scoped: u64, abi: u32) -> Result<OwnedFd, Errno> {
    let attr = [fs, net, scoped];
    let size = match abi {
        0..=3 => 8usize,
        4 | 5 => 16,
        _ => 24,
    };
    // SAFETY: attr is at least `size` bytes.
    let fd = check(unsafe {
        syscall(
            k::__NR_landlock_create_ruleset as c_long,
            attr.as_ptr(),
            size,
            0u64,
        )
    })?;
    // SAFETY: the kernel returned a new descriptor that we now own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// landlock_add_rule(2), LANDLOCK_RULE_PATH_BENEATH: `allowed` under the file `parent_fd`.
pub fn landlock_add_path(ruleset: &OwnedFd, parent_fd: i32, allowed: u64) -> Result<(), Errno> {
    // struct landlock_path_beneath_attr is packed: u64 allowed_access, s32 parent_fd.
    let mut attr = [0u8; 12];
    attr[..8].copy_from_slice(&allowed.to_ne_bytes());
    attr[8..].copy_from_slice(&parent_fd.to_ne_bytes());
    // SAFETY: attr has the packed layout the kernel expects.
    check(unsafe {
        syscall(
            k::__NR_landlock_add_rule as c_long,
            ruleset.as_raw_fd() as c_long,
            1u64,
            attr.as_ptr(),
            0u64,
        )
    })
    .map(drop)
}

/// landlock_add_rule(2), LANDLOCK_RULE_NET_PORT: `allowed` (bind 1, connect 2) on `port`.
pub fn landlock_add_port(ruleset: &OwnedFd, port: u64, allowed: u64) -> Result<(), Errno> {
    let attr = [allowed, port];
    // SAFETY: attr is a struct landlock_net_port_attr.
    check(unsafe {
        syscall(
            k::__NR_landlock_add_rule as c_long,
            ruleset.as_raw_fd() as c_long,
            2u64,
            attr.as_ptr(),
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
    const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;
    // struct clone_args (CLONE_ARGS_SIZE_VER2): flags, pidfd, child_tid, parent_tid,
    // exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup.
    let args: [u64; 11] = [
        flags | CLONE_INTO_CGROUP,
        0,
        0,
        0,
        u64::from(k::SIGCHLD),
        0,
        0,
        0,
        0,
        0,
        cgroup.as_raw_fd() as u64,
    ];
    // SAFETY: args is a valid clone_args of the size passed; a zero stack makes the child
    // continue on a copy of the parent's stack, as with fork.
    check(unsafe {
        syscall(
            k::__NR_clone3 as c_long,
            args.as_ptr(),
            core::mem::size_of_val(&args),
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
