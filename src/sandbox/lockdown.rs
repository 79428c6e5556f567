//! What COMMAND gets in a sandbox, applied in the child between fork and exec: only the
//! descriptors asked for, only the capabilities asked for (in every set, ambient included so
//! that a non-root uid can use them), no_new_privs, and seccomp filters, loaded last.

use crate::init::StepError;
use crate::spec::Sandbox;
use crate::sys::{self, Errno, SockFilter};
use linux_raw_sys::general as k;
use linux_raw_sys::prctl as p;

pub fn apply(sb: &Sandbox) -> Result<(), StepError> {
    // SAFETY: only marks descriptors close-on-exec.
    unsafe { close_fds(sb, None, true) }.map_err(|e| (&b"closing inherited descriptors"[..], e))?;
    capabilities(sb.caps).map_err(|e| (&b"dropping capabilities"[..], e))?;
    sys::prctl(p::PR_SET_NO_NEW_PRIVS, 1, 0).map_err(|e| (&b"PR_SET_NO_NEW_PRIVS"[..], e))?;
    let replaced = sb.seccomp_fds.iter().any(|&(_, replace)| replace);
    for &(fd, _) in sb.seccomp_fds.iter() {
        load_from_fd(fd).map_err(|e| (&b"--seccomp/--add-seccomp-fd"[..], e))?;
    }
    if !sb.no_default_seccomp && !replaced {
        let mut filter = Filter::new();
        filter.default_policy(sb.disable_userns);
        sys::seccomp_filter(filter.program())
            .map_err(|e| (&b"loading the seccomp filter"[..], e))?;
    }
    Ok(())
}

/// Marks every descriptor from 3 up close-on-exec (or closes it), except the `--keep-fd`
/// ones; closing also spares the `--seccomp` descriptors and `extra`, still to be used.
///
/// # Safety
/// Unless `cloexec`, no live Rust object may own a descriptor from 3 up but `extra`.
pub unsafe fn close_fds(sb: &Sandbox, extra: Option<u32>, cloexec: bool) -> Result<(), Errno> {
    let mut kept = [u32::MAX; crate::spec::MAX_KEEP_FDS + crate::spec::MAX_SECCOMP_FDS + 1];
    let mut n = 0;
    let seccomp = sb
        .seccomp_fds
        .iter()
        .map(|&(fd, _)| fd)
        .filter(|_| !cloexec);
    for fd in sb.keep_fds.iter().copied().chain(seccomp) {
        kept[n] = fd as u32;
        n += 1;
    }
    if let Some(fd) = extra {
        kept[n] = fd;
        n += 1;
    }
    // Insertion sort: a handful of descriptors, and core's sort costs 2 KB of code.
    for i in 1..n {
        let mut j = i;
        while j > 0 && kept[j - 1] > kept[j] {
            kept.swap(j - 1, j);
            j -= 1;
        }
    }
    let mut first = 3;
    for &fd in &kept[..n] {
        if fd > first {
            // SAFETY: the caller's contract.
            unsafe { sys::close_range(first, fd - 1, cloexec)? };
        }
        if fd >= first {
            if cloexec {
                // SAFETY: only clears FD_CLOEXEC on a descriptor the user asked to pass.
                let borrowed = unsafe { rustix::fd::BorrowedFd::borrow_raw(fd as i32) };
                rustix::io::fcntl_setfd(borrowed, rustix::io::FdFlags::empty())?;
            }
            first = fd + 1;
        }
    }
    // SAFETY: the caller's contract.
    unsafe { sys::close_range(first, u32::MAX, cloexec) }
}

/// Every capability this kernel knows (the bounding set reads EINVAL past the last).
pub fn known_caps() -> u64 {
    let mut cap = 0;
    while sys::prctl(p::PR_CAPBSET_READ, cap, 0).is_ok() {
        cap += 1;
    }
    (1u64 << cap) - 1
}

/// Keeps exactly `keep` in the bounding, effective, permitted, inheritable and ambient sets.
fn capabilities(keep: u64) -> Result<(), Errno> {
    let known = known_caps();
    for cap in (0..64).filter(|c| known & !keep & (1 << c) != 0) {
        sys::prctl(p::PR_CAPBSET_DROP, cap, 0)?;
    }
    sys::capset(keep, keep, keep)?;
    sys::prctl(p::PR_CAP_AMBIENT, u64::from(p::PR_CAP_AMBIENT_CLEAR_ALL), 0)?;
    for c in (0..64).filter(|c| known & keep & (1 << c) != 0) {
        sys::prctl(p::PR_CAP_AMBIENT, u64::from(p::PR_CAP_AMBIENT_RAISE), c)?;
    }
    Ok(())
}

/// Reads compiled BPF (an array of `struct sock_filter`, as bubblewrap takes) and loads it.
fn load_from_fd(fd: i32) -> Result<(), Errno> {
    let mut prog = [SockFilter::default(); 4096];
    // SAFETY: SockFilter is plain old data; its bytes are filled from the file below.
    let bytes = unsafe {
        core::slice::from_raw_parts_mut(
            prog.as_mut_ptr().cast::<u8>(),
            core::mem::size_of_val(&prog),
        )
    };
    // SAFETY: the user handed this descriptor to husk for this use.
    let fd = unsafe { rustix::fd::BorrowedFd::borrow_raw(fd) };
    let mut got = 0;
    loop {
        match rustix::io::read(fd, &mut bytes[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(Errno::INTR) => {}
            Err(e) => return Err(e),
        }
        if got == bytes.len() {
            return Err(Errno::TOOBIG);
        }
    }
    if got == 0 || got % core::mem::size_of::<SockFilter>() != 0 {
        return Err(Errno::INVAL);
    }
    sys::seccomp_filter(&prog[..got / core::mem::size_of::<SockFilter>()])
}

const LD_W_ABS: u16 = 0x20; // BPF_LD | BPF_W | BPF_ABS
const JEQ_K: u16 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
#[cfg(target_arch = "x86_64")]
const JGE_K: u16 = 0x35; // BPF_JMP | BPF_JGE | BPF_K
const JSET_K: u16 = 0x45; // BPF_JMP | BPF_JSET | BPF_K
const RET_K: u16 = 0x06; // BPF_RET | BPF_K
const ALLOW: u32 = linux_raw_sys::ptrace::SECCOMP_RET_ALLOW;
const ERRNO: u32 = linux_raw_sys::ptrace::SECCOMP_RET_ERRNO;
/// struct seccomp_data: nr at 0, arch at 4, args[i] at 16 + 8i (low 32 bits first).
const NR: u32 = 0;
const ARCH: u32 = 4;
const fn arg(i: u32) -> u32 {
    16 + 8 * i
}

#[cfg(target_arch = "x86_64")]
const AUDIT_ARCH: u32 = linux_raw_sys::ptrace::AUDIT_ARCH_X86_64;
#[cfg(target_arch = "aarch64")]
const AUDIT_ARCH: u32 = linux_raw_sys::ptrace::AUDIT_ARCH_AARCH64;

/// Denied outright, each for the reason beside it (Docker's and Flatpak's defaults).
const DENIED: &[u32] = &[
    k::__NR_add_key,           // the kernel keyring is not namespaced
    k::__NR_keyctl,            // ... and holds other users' and the host's secrets
    k::__NR_request_key,       // ... (same)
    k::__NR_open_by_handle_at, // opens files by handle, bypassing the mount tree (shocker)
    k::__NR_name_to_handle_at, // its counterpart
    k::__NR_kexec_load,        // replaces the running kernel
    k::__NR_kexec_file_load,   // ... (same)
    k::__NR_init_module,       // loads kernel code
    k::__NR_finit_module,      // ... (same)
    k::__NR_delete_module,     // unloads kernel code
    k::__NR_bpf,               // large kernel attack surface
    k::__NR_perf_event_open,   // side channels and kernel attack surface
    k::__NR_userfaultfd,       // stalls kernel threads, a common exploit primitive
    k::__NR_lookup_dcookie,    // kernel internals for profilers
    k::__NR_quotactl,          // host quota administration
    k::__NR_acct,              // process accounting is host-wide
    k::__NR_swapon,            // host swap administration
    k::__NR_swapoff,           // ... (same)
    k::__NR_reboot,            // host power state
    k::__NR_syslog,            // the kernel log leaks addresses
    k::__NR_personality,       // can turn off ASLR for setuid programs (Flatpak filters it)
];

/// A BPF program under construction; jumps to the final "deny" are patched at the end.
struct Filter {
    ins: [SockFilter; 64],
    len: usize,
    to_deny: [bool; 64],
}

impl Filter {
    fn new() -> Self {
        Filter {
            ins: [SockFilter::default(); 64],
            len: 0,
            to_deny: [false; 64],
        }
    }

    fn op(&mut self, code: u16, k: u32, jt: u8, jf: u8) {
        self.ins[self.len] = SockFilter { code, jt, jf, k };
        self.len += 1;
    }

    /// If A == k (or, with JSET, A & k != 0), fail with EPERM.
    fn deny_if(&mut self, code: u16, k: u32) {
        self.to_deny[self.len] = true;
        self.op(code, k, 0, 0);
    }

    fn default_policy(&mut self, disable_userns: bool) {
        let eperm = ERRNO | 1 /* EPERM */;
        // Another ABI (i386 through int 0x80, say) numbers syscalls differently: refuse it.
        self.op(LD_W_ABS, ARCH, 0, 0);
        self.op(JEQ_K, AUDIT_ARCH, 1, 0);
        self.op(RET_K, eperm, 0, 0);
        self.op(LD_W_ABS, NR, 0, 0);
        #[cfg(target_arch = "x86_64")]
        self.deny_if(JGE_K, 0x4000_0000); // the x32 ABI: same numbers with bit 30 set
        for &nr in DENIED {
            self.deny_if(JEQ_K, nr);
        }
        // ioctl(fd, TIOCSTI/TIOCLINUX): compare only the low 32 bits, as the kernel does.
        self.op(JEQ_K, k::__NR_ioctl, 0, 4);
        self.op(LD_W_ABS, arg(1), 0, 0);
        self.deny_if(JEQ_K, linux_raw_sys::ioctl::TIOCSTI);
        self.deny_if(JEQ_K, linux_raw_sys::ioctl::TIOCLINUX);
        self.op(RET_K, ALLOW, 0, 0);
        if disable_userns {
            // clone3's flags sit behind a pointer a filter cannot read: make callers fall
            // back to clone, whose flags it can.
            self.op(JEQ_K, k::__NR_clone3, 0, 1);
            self.op(RET_K, ERRNO | 38 /* ENOSYS */, 0, 0);
            for nr in [k::__NR_clone, k::__NR_unshare] {
                self.op(JEQ_K, nr, 0, 3);
                self.op(LD_W_ABS, arg(0), 0, 0);
                self.deny_if(JSET_K, k::CLONE_NEWUSER);
                self.op(RET_K, ALLOW, 0, 0);
            }
        }
        self.op(RET_K, ALLOW, 0, 0);
        let deny = self.len;
        self.op(RET_K, eperm, 0, 0);
        for i in 0..deny {
            if self.to_deny[i] {
                self.ins[i].jt = (deny - i - 1) as u8;
            }
        }
    }

    fn program(&self) -> &[SockFilter] {
        &self.ins[..self.len]
    }
}
