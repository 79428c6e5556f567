//! Everything that confines COMMAND, applied in one place in the child between fork and
//! exec, in init mode and in a sandbox alike, in its security order (nsjail's
//! containProc): limits first, then no_new_privs, landlock, the descriptors, the
//! capabilities, and the seccomp filters last (they may deny what the steps before need).

use crate::error::{self, Error};
use crate::spec::{Confine, Rlimit, Sandbox};
use crate::sys::{self, Errno, SockFilter};
use linux_raw_sys::general as k;
use linux_raw_sys::ptrace as b;
use rustix::process::Resource;
use rustix::thread::{self, CapabilitySet};

/// The sequence. `sandbox`: COMMAND runs in one, so it also gets the sandbox's lockdown
/// (only the descriptors asked for, only the capabilities asked for, seccomp). Never
/// inlined with the sandbox: smaller as a call than inlined in the child's exec path
/// (measured); the init alone has only the rlimits here.
#[cfg_attr(feature = "sandbox", inline(never))]
pub fn apply<'a>(
    confine: &'a Confine<'a>,
    sandbox: Option<&'a Sandbox<'a>>,
) -> error::Result<'a, ()> {
    rlimits(confine.rlimits.iter())?;
    if !crate::SANDBOX {
        return Ok(());
    }
    no_new_privs(sandbox.is_some() || confine.landlock.any())?;
    crate::landlock::apply(&confine.landlock, sandbox.is_some())?;
    let Some(sb) = sandbox else { return Ok(()) };
    // SAFETY: only marks descriptors close-on-exec.
    let closed = unsafe { close_fds(sb, None, true) };
    error::step(closed, b"closing inherited descriptors")?;
    error::step(capabilities(sb.caps), b"dropping capabilities")?;
    seccomp(sb)?;
    // As bubblewrap: checked with everything COMMAND will run under in place.
    if sb.assert_userns_disabled && sys::unshare(k::CLONE_NEWUSER).is_ok() {
        let still = text!("COMMAND could still create user namespaces");
        return Err(Error::refused(b"--assert-userns-disabled", still));
    }
    Ok(())
}

fn rlimits<'a>(limits: impl Iterator<Item = &'a Rlimit<'a>>) -> error::Result<'a, ()> {
    for r in limits {
        let new = rustix::process::Rlimit {
            current: Some(r.soft),
            maximum: Some(r.hard),
        };
        let set = resource(r.resource).and_then(|res| rustix::process::setrlimit(res, new));
        set.map_err(|e| Error::new(b"--rlimit", e).with_bytes(r.text))?;
    }
    Ok(())
}

/// rustix's name for RLIMIT_* number `n` (the parser's index into its table, which
/// follows the kernel's numbering).
fn resource(n: u32) -> Result<Resource, Errno> {
    use Resource as R;
    Ok(match n {
        k::RLIMIT_CPU => R::Cpu,
        k::RLIMIT_FSIZE => R::Fsize,
        k::RLIMIT_DATA => R::Data,
        k::RLIMIT_STACK => R::Stack,
        k::RLIMIT_CORE => R::Core,
        k::RLIMIT_RSS => R::Rss,
        k::RLIMIT_NPROC => R::Nproc,
        k::RLIMIT_NOFILE => R::Nofile,
        k::RLIMIT_MEMLOCK => R::Memlock,
        k::RLIMIT_AS => R::As,
        k::RLIMIT_LOCKS => R::Locks,
        k::RLIMIT_SIGPENDING => R::Sigpending,
        k::RLIMIT_MSGQUEUE => R::Msgqueue,
        k::RLIMIT_NICE => R::Nice,
        k::RLIMIT_RTPRIO => R::Rtprio,
        k::RLIMIT_RTTIME => R::Rttime,
        _ => return Err(Errno::INVAL),
    })
}

/// no_new_privs, when anything is confined: landlock needs it, and a setuid program must
/// not regain what the sandbox dropped.
fn no_new_privs<'a>(wanted: bool) -> error::Result<'a, ()> {
    if !wanted {
        return Ok(());
    }
    error::step(
        rustix::thread::set_no_new_privs(true),
        b"PR_SET_NO_NEW_PRIVS",
    )
}

/// The `--seccomp` and `--add-seccomp-fd` filters, then the default one (or, without it,
/// the filter of --disable-userns and --restrict-af: no other filter is trusted to keep
/// them). Never inlined: its buffers (32 KiB for a program read from a descriptor) would
/// otherwise sit in the init's frame, probed page by page at every start in init mode.
#[inline(never)]
fn seccomp<'a>(sb: &Sandbox) -> error::Result<'a, ()> {
    let replaced = sb.seccomp_fds.iter().any(|&(_, replace)| replace);
    for &(fd, replace) in sb.seccomp_fds.iter() {
        let option = crate::spec::seccomp_option(replace);
        load_from_fd(fd).map_err(|e| Error::new(option, e).with_number(fd))?;
    }
    let full = !sb.no_default_seccomp && !replaced;
    if full || sb.disable_userns || sb.restrict_af.is_some() {
        let mut filter = Filter::new();
        filter.policy(full, sb.caps, sb.disable_userns, sb.restrict_af);
        let loaded = filter.program().and_then(sys::seccomp_filter);
        error::step(loaded, b"loading the seccomp filter")?;
    }
    Ok(())
}

/// Marks every descriptor from 3 up close-on-exec (or closes it), except the `--keep-fd`
/// ones; closing also spares those the setup still reads (`Sandbox::setup_fds`) and
/// `extra`. Never inlined: its list would sit in the init's frame in init mode too.
///
/// # Safety
/// Unless `cloexec`, no live Rust object may own a descriptor from 3 up but `extra`.
#[inline(never)]
pub unsafe fn close_fds<'a>(
    sb: &Sandbox<'a>,
    extra: Option<u32>,
    cloexec: bool,
) -> Result<(), Errno> {
    use crate::spec::{MAX_KEEP_FDS, MAX_OPS, MAX_SECCOMP_FDS, SETUP_FDS};
    let mut kept = [0u32; MAX_KEEP_FDS + MAX_SECCOMP_FDS + MAX_OPS + SETUP_FDS.len() + 1];
    let mut n = 0;
    let mut keep = |fd: i32| {
        kept[n] = fd as u32;
        n += 1;
    };
    sb.keep_fds.iter().for_each(|&fd| keep(fd));
    if !cloexec {
        // A trait object, as in check_fds: one copy of setup_fds serves both.
        sb.setup_fds(&mut (|_, fd| keep(fd)) as &mut dyn FnMut(&'a [u8], i32));
    }
    keep(extra.unwrap_or(0) as i32);
    // SAFETY: the caller's contract, for these descriptors.
    unsafe { close_all_but(&mut kept[..n], cloexec) }
}

/// Closes every descriptor from 3 up but those in `kept` (or, with `cloexec`, marks them
/// close-on-exec, and clears the mark on the kept ones). `kept` is sorted in place.
///
/// # Safety
/// Unless `cloexec`, no live Rust object may own a descriptor from 3 up but the kept ones.
pub unsafe fn close_all_but(kept: &mut [u32], cloexec: bool) -> Result<(), Errno> {
    // Insertion sort: a handful of descriptors, and core's sort costs 2 KB of code.
    for i in 1..kept.len() {
        let mut j = i;
        while j > 0 && kept[j - 1] > kept[j] {
            kept.swap(j - 1, j);
            j -= 1;
        }
    }
    let mut first = 3;
    for &fd in kept.iter() {
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

/// Every capability this kernel knows (the bounding set reads EINVAL past the last), found
/// by halving: 6 system calls instead of one for each (42 on Linux 6.x).
pub fn known_caps() -> u64 {
    // The last capability is below `high`, and the kernel knows every one below `low`.
    let (mut low, mut high) = (0, 64);
    while low < high {
        let mid = (low + high) / 2;
        match thread::capability_is_in_bounding_set(one_cap(mid)) {
            Ok(_) => low = mid + 1,
            Err(_) => high = mid,
        }
    }
    1u64.checked_shl(low).unwrap_or(0).wrapping_sub(1)
}

/// Capability number `cap` as rustix's one-bit set.
fn one_cap(cap: u32) -> CapabilitySet {
    CapabilitySet::from_bits_retain(1 << cap)
}

/// Keeps exactly `keep` in the bounding, effective, permitted, inheritable and ambient sets.
/// Never inlined: smaller as a call than inlined in the lockdown (measured).
#[inline(never)]
fn capabilities(keep: u64) -> Result<(), Errno> {
    let known = known_caps();
    // `--cap-add ALL` sets every bit, 63 too, which no capability has: it means all that
    // husk holds (a root without CAP_SYS_RESOURCE, say); a capability named alone must be
    // held, or capset fails.
    let keep = known
        & match keep & 1 << 63 {
            0 => keep,
            _ => keep & thread::capabilities(None).map_or(0, |c| c.permitted.bits()),
        };
    for cap in (0..64).filter(|c| known & !keep & (1 << c) != 0) {
        thread::remove_capability_from_bounding_set(one_cap(cap))?;
    }
    let keep_set = CapabilitySet::from_bits_retain(keep);
    thread::set_capabilities(
        None,
        thread::CapabilitySets {
            effective: keep_set,
            permitted: keep_set,
            inheritable: keep_set,
        },
    )?;
    thread::clear_ambient_capability_set()?;
    for cap in (0..64).filter(|c| known & keep & (1 << c) != 0) {
        thread::configure_capability_in_ambient_set(one_cap(cap), true)?;
    }
    Ok(())
}

/// Reads compiled BPF (an array of `struct sock_filter`, as bubblewrap takes) and loads it.
/// Never inlined: its 32 KiB buffer would be probed, 8 page faults, on every sandbox's
/// start, with or without `--seccomp` (measured).
#[inline(never)]
fn load_from_fd(fd: i32) -> Result<(), Errno> {
    let mut prog = [NO_INS; 4096];
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
        // Nothing left of the buffer: the program is too big.
        let rest = bytes.get_mut(got..).filter(|r| !r.is_empty());
        match rustix::io::read(fd, rest.ok_or(Errno::TOOBIG)?) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(Errno::INTR) => {}
            Err(e) => return Err(e),
        }
    }
    if got == 0 || got % core::mem::size_of::<SockFilter>() != 0 {
        return Err(Errno::INVAL);
    }
    sys::seccomp_filter(&prog[..got / core::mem::size_of::<SockFilter>()])
}

/// The classic BPF instructions the filter uses (linux/filter.h), each with a constant
/// operand (BPF_K) or, for the load, an absolute offset into struct seccomp_data.
const LD_W_ABS: u16 = (b::BPF_LD | b::BPF_W | b::BPF_ABS) as u16;
const JEQ_K: u16 = (b::BPF_JMP | b::BPF_JEQ | b::BPF_K) as u16;
const JGE_K: u16 = (b::BPF_JMP | b::BPF_JGE | b::BPF_K) as u16;
const JSET_K: u16 = (b::BPF_JMP | b::BPF_JSET | b::BPF_K) as u16;
const RET_K: u16 = (b::BPF_RET | b::BPF_K) as u16;
const AND_K: u16 = (b::BPF_ALU | b::BPF_AND | b::BPF_K) as u16;
/// An empty instruction slot.
const NO_INS: SockFilter = SockFilter {
    code: 0,
    jt: 0,
    jf: 0,
    k: 0,
};
const ALLOW: u32 = b::SECCOMP_RET_ALLOW;
const ERRNO: u32 = b::SECCOMP_RET_ERRNO;
/// struct seccomp_data: nr at 0, arch at 4, args[i] at 16 + 8i (low 32 bits first).
const NR: u32 = 0;
const ARCH: u32 = 4;
const fn arg(i: u32) -> u32 {
    16 + 8 * i
}

#[cfg(target_arch = "x86_64")]
const AUDIT_ARCH: u32 = b::AUDIT_ARCH_X86_64;
/// AArch32 compat tasks (a 32-bit ARM program run by an aarch64 kernel) make their calls
/// with AUDIT_ARCH_ARM: refused whole.
#[cfg(target_arch = "aarch64")]
const AUDIT_ARCH: u32 = b::AUDIT_ARCH_AARCH64;
/// 32-bit ARM kernels offer seccomp filters only without OABI compat (arch/arm/Kconfig:
/// HAVE_ARCH_SECCOMP_FILTER if AEABI && !OABI_COMPAT), so a filter sees EABI's numbers
/// only: OABI's socketcall, ipc and indirect syscall cannot get past it.
#[cfg(target_arch = "arm")]
const AUDIT_ARCH: u32 = b::AUDIT_ARCH_ARM;
#[cfg(target_arch = "riscv64")]
const AUDIT_ARCH: u32 = b::AUDIT_ARCH_RISCV64;

/// A table entry: the syscall number in the low 10 bits, above it the capability that
/// allows it (a syscall listed twice is allowed by either), or NEVER.
const fn gate(cap: u32, nr: u32) -> u16 {
    (cap << 10 | nr) as u16
}
const NEVER: u32 = 63;
const fn never(nr: u32) -> u16 {
    gate(NEVER, nr)
}
const ADMIN: u32 = k::CAP_SYS_ADMIN;

/// What the default filter denies with EPERM: Docker's default profile for a container
/// without capabilities, by Docker's groups. A group Docker allows with a capability is
/// allowed when COMMAND keeps it (`--cap-add`). Argument checks (ioctl, personality,
/// clone, socket) are in `Filter::policy`.
#[rustfmt::skip]
const GATED_LIST: &[u16] = &[
    // The kernel keyring is not namespaced and holds other users' and the host's secrets.
    never(k::__NR_add_key), never(k::__NR_keyctl), never(k::__NR_request_key),
    // File handles bypass the mount tree (the "shocker" escape). Docker allows
    // open_by_handle_at with DAC_READ_SEARCH and name_to_handle_at always; husk neither.
    never(k::__NR_open_by_handle_at), never(k::__NR_name_to_handle_at),
    // Replace the running kernel.
    never(k::__NR_kexec_load), never(k::__NR_kexec_file_load),
    // Large kernel attack surface and exploit primitives; Docker allows bpf and
    // perf_event_open with SYS_ADMIN (or BPF, PERFMON), husk never.
    never(k::__NR_bpf), never(k::__NR_perf_event_open), never(k::__NR_userfaultfd),
    never(k::__NR_io_uring_setup), never(k::__NR_io_uring_enter),
    never(k::__NR_io_uring_register),
    // Host administration: quotas, swap, profiler cookies (Docker: quotactl and
    // lookup_dcookie with SYS_ADMIN; husk never).
    never(k::__NR_quotactl), never(k::__NR_quotactl_fd), never(k::__NR_lookup_dcookie),
    never(k::__NR_swapon), never(k::__NR_swapoff),
    // Move other processes' pages between NUMA nodes.
    never(k::__NR_migrate_pages), never(k::__NR_move_pages),
    // Obsolete or never implemented.
    never(k::__NR_nfsservctl),
    #[cfg(any(target_arch = "x86_64", target_arch = "arm"))] never(k::__NR_uselib),
    #[cfg(any(target_arch = "x86_64", target_arch = "arm"))] never(k::__NR__sysctl),
    #[cfg(target_arch = "x86_64")] never(k::__NR_create_module),
    #[cfg(target_arch = "x86_64")] never(k::__NR_get_kernel_syms),
    #[cfg(target_arch = "x86_64")] never(k::__NR_query_module),
    #[cfg(target_arch = "x86_64")] never(k::__NR_afs_syscall),
    #[cfg(target_arch = "x86_64")] never(k::__NR_getpmsg),
    #[cfg(target_arch = "x86_64")] never(k::__NR_putpmsg),
    #[cfg(target_arch = "x86_64")] never(k::__NR_security),
    #[cfg(target_arch = "x86_64")] never(k::__NR_tuxcall),
    #[cfg(any(target_arch = "x86_64", target_arch = "arm"))] never(k::__NR_vserver),
    #[cfg(any(target_arch = "x86_64", target_arch = "arm"))] never(k::__NR_ustat),
    #[cfg(any(target_arch = "x86_64", target_arch = "arm"))] never(k::__NR_sysfs),
    // SYS_ADMIN: mounts and the mount API, new or joined namespaces (clone's flags and
    // clone3 in Filter::policy), host and domain names, fanotify, LSM attributes.
    // pivot_root and open_tree_attr (Docker: never, or not yet listed) join them so that
    // a nested sandbox can be built.
    gate(ADMIN, k::__NR_mount), gate(ADMIN, k::__NR_umount2), gate(ADMIN, k::__NR_fsopen),
    gate(ADMIN, k::__NR_fsconfig), gate(ADMIN, k::__NR_fsmount), gate(ADMIN, k::__NR_fspick),
    gate(ADMIN, k::__NR_move_mount), gate(ADMIN, k::__NR_open_tree),
    gate(ADMIN, k::__NR_open_tree_attr), gate(ADMIN, k::__NR_mount_setattr),
    gate(ADMIN, k::__NR_pivot_root), gate(ADMIN, k::__NR_unshare), gate(ADMIN, k::__NR_setns),
    gate(ADMIN, k::__NR_sethostname), gate(ADMIN, k::__NR_setdomainname),
    gate(ADMIN, k::__NR_fanotify_init), gate(ADMIN, k::__NR_lsm_get_self_attr),
    gate(ADMIN, k::__NR_lsm_set_self_attr), gate(ADMIN, k::__NR_lsm_list_modules),
    // SYSLOG (or SYS_ADMIN): the kernel log leaks addresses.
    gate(k::CAP_SYSLOG, k::__NR_syslog), gate(ADMIN, k::__NR_syslog),
    // SYS_BOOT: host power state.
    gate(k::CAP_SYS_BOOT, k::__NR_reboot),
    // SYS_CHROOT: a chroot is the first step of the classic escapes.
    gate(k::CAP_SYS_CHROOT, k::__NR_chroot),
    // SYS_MODULE: kernel code.
    gate(k::CAP_SYS_MODULE, k::__NR_init_module), gate(k::CAP_SYS_MODULE, k::__NR_finit_module),
    gate(k::CAP_SYS_MODULE, k::__NR_delete_module),
    // SYS_PACCT: process accounting is host-wide.
    gate(k::CAP_SYS_PACCT, k::__NR_acct),
    // SYS_PTRACE: compare, take or advise on other processes' descriptors and memory.
    gate(k::CAP_SYS_PTRACE, k::__NR_kcmp), gate(k::CAP_SYS_PTRACE, k::__NR_pidfd_getfd),
    gate(k::CAP_SYS_PTRACE, k::__NR_process_madvise),
    // SYS_RAWIO: I/O port access.
    #[cfg(target_arch = "x86_64")] gate(k::CAP_SYS_RAWIO, k::__NR_iopl),
    #[cfg(target_arch = "x86_64")] gate(k::CAP_SYS_RAWIO, k::__NR_ioperm),
    // SYS_TIME: the clock is not namespaced.
    gate(k::CAP_SYS_TIME, k::__NR_settimeofday), gate(k::CAP_SYS_TIME, k::__NR_clock_settime),
    #[cfg(target_pointer_width = "32")] gate(k::CAP_SYS_TIME, k::__NR_clock_settime64),
    // SYS_TTY_CONFIG: hangs up the terminal.
    gate(k::CAP_SYS_TTY_CONFIG, k::__NR_vhangup),
    // SYS_NICE: NUMA memory policy.
    gate(k::CAP_SYS_NICE, k::__NR_get_mempolicy), gate(k::CAP_SYS_NICE, k::__NR_mbind),
    gate(k::CAP_SYS_NICE, k::__NR_set_mempolicy),
    gate(k::CAP_SYS_NICE, k::__NR_set_mempolicy_home_node),
];

/// GATED_LIST by number (sorted at compile time), so that the filter can skip a run of it.
const GATED: [u16; GATED_LIST.len()] = {
    let mut all = [0u16; GATED_LIST.len()];
    let mut i = 0;
    while i < all.len() {
        all[i] = GATED_LIST[i];
        let mut j = i;
        while j > 0 && all[j - 1] & 0x3ff > all[j] & 0x3ff {
            (all[j - 1], all[j]) = (all[j], all[j - 1]);
            j -= 1;
        }
        i += 1;
    }
    all
};

/// The GATED calls a run of the filter compares one by one, behind a JGE on the next run's
/// first number that skips it. The kernel runs the filter for every number when it loads
/// it (to cache the always-allowed ones): with GATED as one list of JEQs, up to 95 steps a
/// number, loading the default filter took 156-172 µs; in runs of 9, at most 32 steps,
/// 53-83 µs (measured, medians of 300 loads).
const RUN: usize = 9;

/// Whether `caps` unlocks a GATED entry.
fn unlocked(entry: u16, caps: u64) -> bool {
    let cap = u32::from(entry >> 10);
    cap != NEVER && caps & (1 << cap) != 0
}

/// clone's namespace flags (Docker's mask; CLONE_NEWTIME cannot be passed to clone).
const CLONE_NAMESPACES: u32 = k::CLONE_NEWNS
    | k::CLONE_NEWCGROUP
    | k::CLONE_NEWUTS
    | k::CLONE_NEWIPC
    | k::CLONE_NEWUSER
    | k::CLONE_NEWPID
    | k::CLONE_NEWNET;

/// One instruction of the policy template, emitted when every `cond` bit holds. `to`: the
/// low nibble is the label its true branch goes to, the high nibble a label placed here.
#[derive(Clone, Copy)]
#[repr(C, packed)]
struct Step {
    k: u32,
    code: u8,
    cond: u8,
    to: u8,
}
const fn step(cond: u8, code: u16, k: u32, to: u8) -> Step {
    Step {
        k,
        code: code as u8,
        cond,
        to,
    }
}
/// The same, with label `here` placed on it.
const fn at(here: u8, s: Step) -> Step {
    Step {
        to: s.to | here << 4,
        ..s
    }
}

// Pseudo instructions: the GATED denials, the --restrict-af families.
const GATED_HERE: u16 = 0xff;
const FAMILIES_HERE: u16 = 0xfe;
// Conditions, computed by Filter::policy:
/// the default filter (not only the --disable-userns/--restrict-af part);
const FULL: u8 = 1;
/// FULL, and CAP_SYS_ADMIN not kept;
const NO_ADMIN: u8 = 2;
/// --disable-userns;
const NO_USERNS: u8 = 4;
/// NO_ADMIN or NO_USERNS: clone's flags are checked;
const CLONE: u8 = 8;
/// NO_USERNS, and unshare is not denied outright;
const UNSHARE: u8 = 16;
/// FULL or RESTRICTED;
const SOCKET: u8 = 32;
/// no --restrict-af;
const ANY_AF: u8 = 64;
/// --restrict-af.
const RESTRICTED: u8 = 128;
// Labels.
const TO_ALLOW: u8 = 1;
const TO_EPERM: u8 = 2;
const TO_ENOSYS: u8 = 3;
const TO_NR: u8 = 4;
const TO_IOCTL: u8 = 5;
const TO_PERSONALITY: u8 = 6;
const TO_CLONE: u8 = 7;
const TO_UNSHARE: u8 = 8;
const TO_SOCKET: u8 = 9;
const TO_FAMILY: u8 = 10;
const TO_REST: u8 = 11;
/// Not a label: the true branch skips the count in the low bits.
const SKIP: u8 = 0x80;
/// Labels are nibbles: 16 slots, so indexing needs no bounds check.
const LABELS: usize = 16;
const EPERM: u32 = ERRNO | linux_raw_sys::errno::EPERM;

/// The program: a dispatch on the syscall number, then one block per checked argument.
#[rustfmt::skip]
const POLICY: &[Step] = &[
    // Another ABI (i386 through int 0x80, say) numbers syscalls differently: refuse it.
    step(0, LD_W_ABS, ARCH, 0),
    step(0, JEQ_K, AUDIT_ARCH, TO_NR),
    step(0, RET_K, EPERM, 0),
    at(TO_NR, step(0, LD_W_ABS, NR, 0)),
    // x32: the same numbers with bit 30 set.
    #[cfg(target_arch = "x86_64")] step(0, JGE_K, 0x4000_0000, TO_EPERM),
    step(FULL, GATED_HERE, 0, 0),
    // io_uring makes sockets without socket(2): --restrict-af denies it under any filter
    // (the full one denies it anyway).
    at(TO_REST, step(RESTRICTED, JEQ_K, k::__NR_io_uring_setup, TO_EPERM)),
    step(RESTRICTED, JEQ_K, k::__NR_io_uring_enter, TO_EPERM),
    step(RESTRICTED, JEQ_K, k::__NR_io_uring_register, TO_EPERM),
    step(FULL, JEQ_K, k::__NR_ioctl, TO_IOCTL),
    step(FULL, JEQ_K, k::__NR_personality, TO_PERSONALITY),
    // clone3's flags sit behind a pointer a filter cannot read: make callers fall back to
    // clone, whose flags it can (as Docker does).
    step(CLONE, JEQ_K, k::__NR_clone3, TO_ENOSYS),
    step(CLONE, JEQ_K, k::__NR_clone, TO_CLONE),
    step(UNSHARE, JEQ_K, k::__NR_unshare, TO_UNSHARE),
    step(SOCKET, JEQ_K, k::__NR_socket, TO_SOCKET),
    step(RESTRICTED, JEQ_K, k::__NR_socketpair, TO_FAMILY),
    step(0, RET_K, ALLOW, 0),
    // ioctl: terminal input injection, the console, line disciplines; only the low 32 bits
    // of the request, as the kernel compares them.
    at(TO_IOCTL, step(FULL, LD_W_ABS, arg(1), 0)),
    step(FULL, JEQ_K, linux_raw_sys::ioctl::TIOCSTI, TO_EPERM),
    step(FULL, JEQ_K, linux_raw_sys::ioctl::TIOCLINUX, TO_EPERM),
    step(FULL, JEQ_K, linux_raw_sys::ioctl::TIOCSETD, TO_EPERM),
    step(FULL, RET_K, ALLOW, 0),
    // personality: Docker's values (PER_LINUX, PER_LINUX32, UNAME26, both, the query);
    // others turn off ASLR (ADDR_NO_RANDOMIZE) or change the ABI.
    at(TO_PERSONALITY, step(FULL, LD_W_ABS, arg(0), 0)),
    step(FULL, JEQ_K, 0xffff_ffff, TO_ALLOW),
    step(FULL, AND_K, !0x2_0008, 0),
    step(FULL, JEQ_K, 0, TO_ALLOW),
    step(FULL, RET_K, EPERM, 0),
    // clone: new namespaces need SYS_ADMIN; new user namespaces, not --disable-userns.
    at(TO_CLONE, step(CLONE, LD_W_ABS, arg(0), 0)),
    step(NO_ADMIN, JSET_K, CLONE_NAMESPACES, TO_EPERM),
    step(NO_USERNS, JSET_K, k::CLONE_NEWUSER, TO_EPERM),
    step(CLONE, RET_K, ALLOW, 0),
    at(TO_UNSHARE, step(UNSHARE, LD_W_ABS, arg(0), 0)),
    step(UNSHARE, JSET_K, k::CLONE_NEWUSER, TO_EPERM),
    step(UNSHARE, RET_K, ALLOW, 0),
    // socket: Docker denies AF_ALG and AF_VSOCK; --restrict-af allows only its families,
    // in socket and socketpair, and fails the others with EAFNOSUPPORT.
    at(TO_SOCKET, step(SOCKET, LD_W_ABS, arg(0), 0)),
    step(FULL, JEQ_K, linux_raw_sys::net::AF_ALG, TO_EPERM),
    step(FULL, JEQ_K, linux_raw_sys::net::AF_VSOCK, TO_EPERM),
    step(ANY_AF, RET_K, ALLOW, 0),
    at(TO_FAMILY, step(RESTRICTED, LD_W_ABS, arg(0), 0)),
    step(RESTRICTED, FAMILIES_HERE, 0, 0),
    step(RESTRICTED, RET_K, ERRNO | linux_raw_sys::errno::EAFNOSUPPORT, 0),
    at(TO_ALLOW, step(0, RET_K, ALLOW, 0)),
    at(TO_EPERM, step(0, RET_K, EPERM, 0)),
    at(TO_ENOSYS, step(0, RET_K, ERRNO | linux_raw_sys::errno::ENOSYS, 0)),
];

const MAX_INS: usize = 160;

/// A BPF program under construction.
struct Filter {
    ins: [SockFilter; MAX_INS],
    len: usize,
    /// The label each instruction's true branch goes to, patched at the end.
    to: [u8; MAX_INS],
    /// A program that did not fit, or a jump beyond 255: refuse to load it.
    broken: bool,
}

impl Filter {
    fn new() -> Self {
        Filter {
            ins: [NO_INS; MAX_INS],
            len: 0,
            to: [0; MAX_INS],
            broken: false,
        }
    }

    /// Appends `code k`; with `to` nonzero, a jump to that label when true. Never inlined:
    /// `policy` appends in three places.
    #[inline(never)]
    fn op(&mut self, code: u16, k: u32, to: u8) {
        let (Some(i), Some(t)) = (self.ins.get_mut(self.len), self.to.get_mut(self.len)) else {
            self.broken = true;
            return;
        };
        *i = SockFilter {
            code,
            jt: 0,
            jf: 0,
            k,
        };
        *t = to;
        self.len += 1;
    }

    /// `full`: the default filter; otherwise only --disable-userns and --restrict-af, for
    /// use under another filter. `af`: bit i allows spec::ADDRESS_FAMILIES[i].
    fn policy(&mut self, full: bool, caps: u64, disable_userns: bool, af: Option<u8>) {
        let admin = caps & (1 << ADMIN) != 0;
        let no_admin = full && !admin;
        let unshare = disable_userns && !no_admin;
        let mut cond = (full as u8 * FULL)
            | (no_admin as u8 * (NO_ADMIN | CLONE))
            | (disable_userns as u8 * (NO_USERNS | CLONE))
            | (unshare as u8 * UNSHARE)
            | (full as u8 * SOCKET);
        cond |= match af {
            Some(_) => RESTRICTED | SOCKET,
            None => ANY_AF,
        };
        let mut at = [usize::MAX; LABELS];
        for s in POLICY {
            // A label on a step left out marks what comes next (a jump to it is left out
            // with it, or, like TO_REST's, means "past here").
            at[usize::from(s.to >> 4)] = self.len;
            if s.cond & cond != s.cond {
                continue;
            }
            match u16::from(s.code) {
                GATED_HERE => {
                    for (r, run) in GATED.chunks(RUN).enumerate() {
                        // A run but the last: a JGE on the next one's first number skips
                        // it, and a number it does not deny goes on past GATED.
                        let next = GATED.get(r * RUN + RUN);
                        if let Some(&next) = next {
                            self.op(JGE_K, u32::from(next & 0x3ff), SKIP | (RUN as u8 + 1));
                        }
                        for &e in run {
                            let nr = e & 0x3ff;
                            let open = GATED.iter().any(|&o| o & 0x3ff == nr && unlocked(o, caps));
                            // An unlocked call stays in its run, so that runs keep their length.
                            self.op(JEQ_K, u32::from(nr), if open { TO_REST } else { TO_EPERM });
                        }
                        if next.is_some() {
                            self.op(JGE_K, 0, TO_REST);
                        }
                    }
                }
                FAMILIES_HERE => {
                    let mask = af.unwrap_or(0);
                    for (i, &family) in crate::spec::ADDRESS_FAMILIES.iter().enumerate() {
                        if mask & (1 << i) != 0 {
                            self.op(JEQ_K, u32::from(family), TO_ALLOW);
                        }
                    }
                }
                code => self.op(code, s.k, s.to & 15),
            }
        }
        for (i, (ins, &to)) in self.ins.iter_mut().zip(&self.to).enumerate() {
            if to & SKIP != 0 {
                ins.jt = to & !SKIP;
            } else if to != 0 {
                let off = at[usize::from(to & 15)].wrapping_sub(i + 1);
                self.broken |= off > 255;
                ins.jt = off as u8;
            }
        }
    }

    fn program(&self) -> Result<&[SockFilter], Errno> {
        match self.ins.get(..self.len) {
            Some(ins) if !self.broken => Ok(ins),
            _ => Err(Errno::TOOBIG),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use linux_raw_sys::errno as e;

    /// A classic-BPF interpreter for the instructions the filter uses, on a seccomp_data
    /// of this architecture.
    fn interpret(prog: &[SockFilter], nr: u32, args: [u64; 6]) -> u32 {
        interpret_as(prog, AUDIT_ARCH, nr, args)
    }

    /// The same, for a call made through the ABI `arch` (AUDIT_ARCH_*).
    fn interpret_as(prog: &[SockFilter], arch: u32, nr: u32, args: [u64; 6]) -> u32 {
        run(prog, arch, nr, args).0
    }

    /// The interpreter itself: the action, and the steps taken before the first load of
    /// a field other than nr and arch (all of them when there is none), where the kernel's
    /// emulation of the filter at its load stops.
    fn run(prog: &[SockFilter], arch: u32, nr: u32, args: [u64; 6]) -> (u32, usize) {
        let mut data = [0u8; 64];
        data[..4].copy_from_slice(&nr.to_ne_bytes());
        data[4..8].copy_from_slice(&arch.to_ne_bytes());
        for (i, a) in args.iter().enumerate() {
            data[16 + 8 * i..24 + 8 * i].copy_from_slice(&a.to_ne_bytes());
        }
        let (mut a, mut pc, mut done, mut decided) = (0u32, 0, 0, None);
        loop {
            let i = prog[pc];
            pc += 1;
            done += 1;
            let taken = match i.code {
                0x20 => {
                    // As the kernel's emulation: a load of anything but nr (0) or arch (4).
                    if i.k > 4 {
                        decided = decided.or(Some(done - 1));
                    }
                    a = u32::from_ne_bytes(data[i.k as usize..][..4].try_into().unwrap());
                    continue;
                }
                0x06 => return (i.k, decided.unwrap_or(done)),
                0x54 => {
                    a &= i.k;
                    continue;
                }
                0x15 => a == i.k,
                0x35 => a >= i.k,
                0x45 => a & i.k != 0,
                c => panic!("unexpected BPF code {c:#x}"),
            };
            pc += usize::from(if taken { i.jt } else { i.jf });
        }
    }

    struct Case {
        full: bool,
        caps: u64,
        userns: bool,
        af: Option<u8>,
    }

    /// What the table and the documented argument rules say, written out straight.
    fn expected(c: &Case, nr: u32, args: [u64; 6]) -> u32 {
        let (a0, a1) = (args[0] as u32, args[1] as u32);
        let admin = c.caps & 1 << k::CAP_SYS_ADMIN != 0;
        if c.full {
            let gated = GATED.iter().filter(|&&g| u32::from(g & 0x3ff) == nr);
            let denied = gated.clone().count() > 0 && !gated.clone().any(|&g| unlocked(g, c.caps));
            let tty = [0x5412, 0x541c, 0x5423];
            let personas = [0, 8, 0x20000, 0x20008, 0xffff_ffff];
            if denied
                || nr == k::__NR_ioctl && tty.contains(&a1)
                || nr == k::__NR_personality && !personas.contains(&a0)
                || nr == k::__NR_socket && (a0 == 38 || a0 == 40)
            {
                return ERRNO | e::EPERM;
            }
        }
        let mut clone_mask = if c.userns { k::CLONE_NEWUSER } else { 0 };
        if c.full && !admin {
            clone_mask |= 0x7e02_0000;
        }
        if nr == k::__NR_clone3 && clone_mask != 0 {
            return ERRNO | e::ENOSYS;
        }
        if nr == k::__NR_clone && a0 & clone_mask != 0
            || nr == k::__NR_unshare && c.userns && a0 & k::CLONE_NEWUSER != 0
        {
            return ERRNO | e::EPERM;
        }
        let uring = [
            k::__NR_io_uring_setup,
            k::__NR_io_uring_enter,
            k::__NR_io_uring_register,
        ];
        if c.af.is_some() && uring.contains(&nr) {
            return ERRNO | e::EPERM;
        }
        if let Some(mask) = c.af {
            let allowed = crate::spec::ADDRESS_FAMILIES
                .iter()
                .enumerate()
                .any(|(i, &f)| mask & 1 << i != 0 && u32::from(f) == a0);
            if (nr == k::__NR_socket || nr == k::__NR_socketpair) && !allowed {
                return ERRNO | e::EAFNOSUPPORT;
            }
        }
        ALLOW
    }

    fn program(c: &Case) -> Vec<SockFilter> {
        let mut f = Filter::new();
        f.policy(c.full, c.caps, c.userns, c.af);
        f.program().expect("the program fits").to_vec()
    }

    /// Every single capability, none, all, and SYS_ADMIN with CHECKPOINT_RESTORE (under
    /// Miri, which interprets a thousand times slower, only the last).
    fn capability_sets() -> Vec<u64> {
        let some = [0, !0, 1 << 21 | 1 << 34];
        match cfg!(miri) {
            true => some[2..].to_vec(),
            false => (0..41).map(|c| 1u64 << c).chain(some).collect(),
        }
    }

    /// The halving finds what the kernel says its last capability is.
    #[test]
    #[cfg_attr(miri, ignore = "reads /proc and the bounding set through raw syscalls")]
    fn known_caps_are_the_kernel_s() {
        let last: u32 = std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
            .expect("cap_last_cap")
            .trim()
            .parse()
            .unwrap();
        assert_eq!(known_caps(), (1u64 << (last + 1)) - 1);
    }

    /// The kernel runs the filter for every syscall number when it loads it (to cache the
    /// numbers it always allows), each up to a RET or a load of an argument: every path
    /// must stay short (32 steps at most today, 95 with GATED as one list; see RUN).
    #[test]
    fn every_number_is_decided_in_few_steps() {
        let c = Case {
            full: true,
            caps: 0,
            userns: true,
            af: Some(0b10101),
        };
        let prog = program(&c);
        for nr in 0..1024u32 {
            let (_, steps) = run(&prog, AUDIT_ARCH, nr, [0; 6]);
            assert!(steps <= 36, "syscall {nr}: {steps} steps");
        }
    }

    /// Every jump of every program the builder makes lands inside it, and every path ends
    /// in a RET: the kernel would refuse the program otherwise, or (a jump past a check)
    /// let a call through.
    #[test]
    fn every_jump_lands_inside_the_program() {
        for caps in capability_sets() {
            for full in [true, false] {
                for userns in [true, false] {
                    for af in [None, Some(0), Some(0b10101)] {
                        let c = Case {
                            full,
                            caps,
                            userns,
                            af,
                        };
                        if !full && !userns && af.is_none() {
                            continue; // no filter at all
                        }
                        let prog = program(&c);
                        let last = prog.last().expect("a program");
                        assert_eq!(last.code, 0x06, "ends in a RET");
                        for (i, ins) in prog.iter().enumerate() {
                            if ins.code & 0x07 == 0x05 {
                                let (t, f) =
                                    (i + 1 + usize::from(ins.jt), i + 1 + usize::from(ins.jf));
                                assert!(
                                    t < prog.len() && f < prog.len(),
                                    "jump at {i} out of {}",
                                    prog.len()
                                );
                            }
                        }
                    }
                }
            }
        }
    }

    /// Every syscall number 0..=470 with zero arguments, and the argument cases, under
    /// every single capability, none and all, with and without the other options.
    #[test]
    fn the_filter_does_what_the_table_says() {
        let mut cases = vec![(k::__NR_ioctl, 1, 0x5412 | 1 << 32)];
        for req in [0x5412, 0x541c, 0x5423, 0x5401, 0x540e] {
            cases.push((k::__NR_ioctl, 1, req));
        }
        for p in [
            0,
            8,
            0x20000,
            0x20008,
            0xffff_ffff,
            0x40000,
            1,
            u64::MAX,
            0x1_0000_0008,
        ] {
            cases.push((k::__NR_personality, 0, p));
        }
        for bit in 0..32 {
            for nr in [k::__NR_clone, k::__NR_unshare] {
                cases.push((nr, 0, 1 << bit | 17));
            }
        }
        for family in 0..48 {
            for nr in [k::__NR_socket, k::__NR_socketpair] {
                cases.push((nr, 0, family));
            }
        }
        for caps in capability_sets() {
            for (full, userns) in [(true, false), (true, true), (false, true), (false, false)] {
                for af in [None, Some(0), Some(0b110), Some(0b11111)] {
                    let c = Case {
                        full,
                        caps,
                        userns,
                        af,
                    };
                    let prog = program(&c);
                    // Under Miri, every 37th number (the argument cases all the same).
                    let stride = if cfg!(miri) { 37 } else { 1 };
                    let zero = (0..=470).step_by(stride).map(|nr| (nr, 0, 0));
                    for (nr, i, v) in zero.chain(cases.iter().copied()) {
                        let mut args = [0; 6];
                        args[i] = v;
                        assert_eq!(
                            interpret(&prog, nr, args),
                            expected(&c, nr, args),
                            "nr {nr} args {args:x?} full {full} caps {caps:#x} userns {userns} af {af:?}"
                        );
                    }
                    // x32: x86_64's audit arch, the numbers with bit 30 set.
                    #[cfg(target_arch = "x86_64")]
                    assert_eq!(interpret(&prog, 0x4000_0000 | 39, [0; 6]), ERRNO | e::EPERM);
                }
            }
        }
    }

    /// The groups as Docker's default profile has them (moby/profiles seccomp/default.json),
    /// checked without the table: what a container without capabilities is denied.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn without_capabilities_docker_s_denials_hold() {
        let docker = [
            k::__NR__sysctl,
            k::__NR_acct,
            k::__NR_add_key,
            k::__NR_afs_syscall,
            k::__NR_bpf,
            k::__NR_chroot,
            k::__NR_clock_settime,
            k::__NR_clone3,
            k::__NR_create_module,
            k::__NR_delete_module,
            k::__NR_fanotify_init,
            k::__NR_finit_module,
            k::__NR_fsconfig,
            k::__NR_fsmount,
            k::__NR_fsopen,
            k::__NR_fspick,
            k::__NR_get_kernel_syms,
            k::__NR_get_mempolicy,
            k::__NR_getpmsg,
            k::__NR_init_module,
            k::__NR_io_uring_enter,
            k::__NR_io_uring_register,
            k::__NR_io_uring_setup,
            k::__NR_ioperm,
            k::__NR_iopl,
            k::__NR_kcmp,
            k::__NR_kexec_file_load,
            k::__NR_kexec_load,
            k::__NR_keyctl,
            k::__NR_lookup_dcookie,
            k::__NR_lsm_get_self_attr,
            k::__NR_lsm_list_modules,
            k::__NR_lsm_set_self_attr,
            k::__NR_mbind,
            k::__NR_migrate_pages,
            k::__NR_mount,
            k::__NR_mount_setattr,
            k::__NR_move_mount,
            k::__NR_move_pages,
            k::__NR_nfsservctl,
            k::__NR_open_by_handle_at,
            k::__NR_open_tree,
            k::__NR_open_tree_attr,
            k::__NR_perf_event_open,
            k::__NR_pidfd_getfd,
            k::__NR_pivot_root,
            k::__NR_process_madvise,
            k::__NR_putpmsg,
            k::__NR_query_module,
            k::__NR_quotactl,
            k::__NR_quotactl_fd,
            k::__NR_reboot,
            k::__NR_request_key,
            k::__NR_security,
            k::__NR_set_mempolicy,
            k::__NR_set_mempolicy_home_node,
            k::__NR_setdomainname,
            k::__NR_sethostname,
            k::__NR_setns,
            k::__NR_settimeofday,
            k::__NR_swapoff,
            k::__NR_swapon,
            k::__NR_sysfs,
            k::__NR_syslog,
            k::__NR_tuxcall,
            k::__NR_umount2,
            k::__NR_unshare,
            k::__NR_uselib,
            k::__NR_userfaultfd,
            k::__NR_ustat,
            k::__NR_vhangup,
            k::__NR_vserver,
            // husk's own addition: Docker allows it.
            k::__NR_name_to_handle_at,
        ];
        let c = Case {
            full: true,
            caps: 0,
            userns: false,
            af: None,
        };
        let prog = program(&c);
        for nr in 0..=470 {
            let denied = interpret(&prog, nr, [0; 6]) != ALLOW;
            assert_eq!(denied, docker.contains(&nr), "nr {nr}");
        }
        // file_getattr/file_setattr are newer than Docker's list and allowed (README).
        assert_eq!(interpret(&prog, k::__NR_file_getattr, [0; 6]), ALLOW);
        // With SYS_ADMIN: the mount API and namespaces, not io_uring or the keyring.
        let prog = program(&Case {
            caps: 1 << k::CAP_SYS_ADMIN,
            ..c
        });
        for nr in [
            k::__NR_mount,
            k::__NR_unshare,
            k::__NR_setns,
            k::__NR_clone3,
        ] {
            assert_eq!(interpret(&prog, nr, [0; 6]), ALLOW, "nr {nr}");
        }
        for nr in [k::__NR_io_uring_setup, k::__NR_keyctl, k::__NR_chroot] {
            assert_ne!(interpret(&prog, nr, [0; 6]), ALLOW, "nr {nr}");
        }
    }

    /// A call through another ABI than the architecture's own is refused whatever its
    /// number, under every filter: i386 (int 0x80) on x86_64, 32-bit ARM (AArch32 compat
    /// tasks) on aarch64, and any other. Run under qemu-aarch64 too (`make test`), for the
    /// aarch64 program.
    #[test]
    fn another_abi_is_refused() {
        let arches = [
            b::AUDIT_ARCH_X86_64,
            b::AUDIT_ARCH_I386,
            b::AUDIT_ARCH_AARCH64,
            b::AUDIT_ARCH_ARM,
            b::AUDIT_ARCH_ARMEB,
            b::AUDIT_ARCH_RISCV64,
            b::AUDIT_ARCH_RISCV32,
            0,
        ];
        let stride = if cfg!(miri) { 37 } else { 1 };
        for caps in [0, 1 << ADMIN, !0] {
            for (full, userns, af) in [
                (true, false, None),
                (false, true, None),
                (false, false, Some(1)),
            ] {
                let c = Case {
                    full,
                    caps,
                    userns,
                    af,
                };
                let prog = program(&c);
                for &arch in arches.iter().filter(|&&a| a != AUDIT_ARCH) {
                    for nr in (0..=470).step_by(stride).chain([0x4000_0027, 0xf_0005]) {
                        assert_eq!(
                            interpret_as(&prog, arch, nr, [0; 6]),
                            ERRNO | e::EPERM,
                            "arch {arch:#x} nr {nr} full {full} caps {caps:#x}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn a_program_that_does_not_fit_is_refused() {
        let mut f = Filter::new();
        for _ in 0..=MAX_INS {
            f.op(RET_K, ALLOW, 0);
        }
        assert_eq!(f.program().err(), Some(Errno::TOOBIG));
    }
}
