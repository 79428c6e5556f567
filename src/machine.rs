//! husk as a machine's first process (/init of an initramfs, `init=` of a root filesystem,
//! a microVM): it mounts what is missing of /proc, /sys, /dev and the rest, runs COMMAND as
//! in container mode (restarted if asked), and when COMMAND is done shuts the machine down
//! in order: it never exits, since the kernel panics when its first process does.
//!
//! `--restart` lives here too, and works in container mode as well.

use crate::report::Line;
use crate::spec::{OnExit, Restart, Spec};
use crate::sys::{self, ALL_SIGNALS, SIGCHLD, SIGTERM};
use core::ffi::CStr;
use core::sync::atomic::{AtomicBool, Ordering};
use linux_raw_sys::general as k;
use rustix::fs::{Mode, OFlags};
use rustix::mount::MountFlags;
use rustix::process::WaitOptions;

const NOHANG: WaitOptions = WaitOptions::NOHANG;

/// The proc inode of the initial pid namespace (PROC_PID_INIT_INO, fixed by the kernel).
const INITIAL_PID_NS: u64 = 0xEFFF_FFFC;

/// Whether husk is the machine's init: asked for (`--machine`), or pid 1 of the initial
/// pid namespace. A container's pid 1 is in a namespace of its own. A kernel-started init
/// may find /proc not mounted yet: then the kernel's kthreadd, pid 2 from the start, tells
/// the initial namespace from a new one (where nothing is pid 2 before husk's child).
/// Inlined in its one caller on x86_64, never on aarch64: smaller on each (measured).
#[cfg_attr(target_arch = "x86_64", inline(always))]
#[cfg_attr(not(target_arch = "x86_64"), inline(never))]
pub fn is_machine(spec: &Spec, pid1: bool) -> bool {
    if !crate::SANDBOX {
        return false;
    }
    // Asked for, also below another pid 1 (a script that runs husk last): the machine is
    // then husk's to signal and power off as a whole.
    if spec.init.machine {
        return true;
    }
    if !pid1 {
        return false;
    }
    match rustix::fs::stat(c"/proc/self/ns/pid") {
        Ok(st) => st.st_ino == INITIAL_PID_NS,
        Err(_) => sys::kill(2, 0).is_ok(),
    }
}

/// What a machine's init mounts where nothing is mounted yet: its MS_* flags (a byte:
/// \x02 nosuid, \x06 and nodev, \x0e and noexec) then the path, its parent, the type and
/// its data (packed: 16-byte pointers to each would be most of the table; the test below
/// checks the flags). A path is taken as mounted when it is on another device than its
/// parent.
const MOUNTS: &[u8] = b"\
    \x0e/proc\0/\0proc\0\0\
    \x0e/sys\0/\0sysfs\0\0\
    \x02/dev\0/\0devtmpfs\0mode=0755\0\
    \x02/dev/pts\0/dev\0devpts\0mode=0620,ptmxmode=0666\0\
    \x06/dev/shm\0/dev\0tmpfs\0mode=1777\0\
    \x06/run\0/\0tmpfs\0mode=0755\0\
    \x0e/sys/fs/cgroup\0/sys/fs\0cgroup2\0\0";

/// The machine's early set-up, before COMMAND: the mounts that are missing, the console
/// as fds 0-2 if they are closed, Ctrl-Alt-Del as a SIGINT to husk, the hostname, every
/// cgroup controller for children, and the shutdown signals forwarded as SIGTERM. A step
/// that fails is reported and skipped: COMMAND may not need it, and failing here would only
/// end in the power-off.
#[inline(never)]
pub fn set_up(spec: &mut Spec) {
    switch_root();
    let dev = |p: &CStr| rustix::fs::stat(p).map(|st| st.st_dev);
    let mut names = crate::sandbox::mounts::Names(MOUNTS);
    while let (Some(entry), Some(parent), Some(fs), Some(data)) =
        (names.next(), names.next(), names.next(), names.next())
    {
        let flags = MountFlags::from_bits_retain(entry.to_bytes().first().map_or(0, |&b| b.into()));
        let path = crate::buf::suffix(entry, 1);
        let _ = rustix::fs::mkdir(path, Mode::from_raw_mode(0o755));
        if dev(path).is_ok_and(|d| dev(parent).is_ok_and(|p| p != d)) {
            continue;
        }
        if let Err(e) = rustix::mount::mount(fs, path, fs, flags, data) {
            failed(b"mounting", e, path);
        }
    }
    open_console();
    let _ = rustix::system::reboot(rustix::system::RebootCommand::CadOff);
    // Without a sandbox, `--hostname` names the machine.
    if let Some(name) = spec.sandbox.hostname.take_if(|_| !spec.sandbox.enabled) {
        if let Err(e) = rustix::system::sethostname(name.to_bytes()) {
            failed(b"--hostname", e, name);
        }
    }
    enable_controllers();
    // A stop request of any kind reaches COMMAND as the SIGTERM it knows how to handle.
    for sig in SHUTDOWN_SIGNALS {
        let r = &mut spec.init.rewrite[sig as usize];
        if *r == sig as u8 {
            *r = SIGTERM as u8;
        }
    }
    spec.init.grace_ms.get_or_insert(2000);
}

/// Reports a step of the set-up that failed, naming it and its operand.
fn failed(what: &[u8], e: rustix::io::Errno, operand: &CStr) {
    crate::error::report_about(what, e, operand, None)
}

/// Started from an initramfs, the root is the rootfs, which pivot_root(2) cannot take
/// away: as switch_root does, a copy of it goes on top of / and becomes the root, so that
/// a sandbox (pivot_root) works from there as from any root. Elsewhere it changes nothing
/// that shows.
fn switch_root() {
    use rustix::mount::{MoveMountFlags, OpenTreeFlags};
    let flags = OpenTreeFlags::OPEN_TREE_CLONE | OpenTreeFlags::AT_RECURSIVE;
    let Ok(tree) = rustix::mount::open_tree(rustix::fs::CWD, c"/", flags) else {
        return;
    };
    let empty = MoveMountFlags::MOVE_MOUNT_F_EMPTY_PATH;
    if rustix::mount::move_mount(&tree, c"", rustix::fs::CWD, c"/", empty).is_ok() {
        let _ = rustix::process::fchdir(&tree);
        let _ = rustix::process::chroot(c".");
    }
}

/// fds 0-2 on /dev/console where they are closed (an initramfs without /dev/console: the
/// kernel then starts its init with none).
fn open_console() {
    // SAFETY: only probes whether descriptor 0 is open.
    if rustix::io::fcntl_getfd(unsafe { rustix::fd::BorrowedFd::borrow_raw(0) }).is_ok() {
        return;
    }
    let flags = OFlags::RDWR | OFlags::NOCTTY;
    let Ok(console) = rustix::fs::open(c"/dev/console", flags, Mode::empty()) else {
        return;
    };
    let _ = rustix::stdio::dup2_stdin(&console);
    let _ = rustix::stdio::dup2_stdout(&console);
    let _ = rustix::stdio::dup2_stderr(&console);
    // Opened as 0 (the lowest free descriptor), it is husk's stdin now: keep it open.
    if rustix::fd::AsRawFd::as_raw_fd(&console) <= 2 {
        let _ = rustix::fd::IntoRawFd::into_raw_fd(console);
    }
}

/// Every controller the root cgroup has, enabled for its children (`--cgroup` limits).
fn enable_controllers() {
    let dir = c"/sys/fs/cgroup";
    let Ok(root) = rustix::fs::open(dir, OFlags::PATH | OFlags::DIRECTORY, Mode::empty()) else {
        return;
    };
    let mut have = [0u8; 256];
    // Each byte read gives at most two: "+" and itself.
    let mut want = [0u8; 512];
    let file =
        |name, flags| rustix::fs::openat(&root, name, flags | OFlags::CLOEXEC, Mode::empty());
    let Ok(n) =
        file(c"cgroup.controllers", OFlags::RDONLY).and_then(|f| rustix::io::read(f, &mut have))
    else {
        return;
    };
    // "cpu io memory\n" -> "+cpu +io +memory ": a "+" before each name, white space as
    // spaces (the kernel takes any number of them between names).
    let mut len = 0;
    let mut after_space = true;
    for (&b, _) in have[..n].iter().zip(0..want.len() / 2) {
        let space = b.is_ascii_whitespace();
        if after_space && !space {
            want[len] = b'+';
            len += 1;
        }
        want[len] = if space { b' ' } else { b };
        len += 1;
        after_space = space;
    }
    let _ = file(c"cgroup.subtree_control", OFlags::WRONLY)
        .and_then(|f| rustix::io::write(f, &want[..len]));
}

/// The signals that ask a machine's init to shut down: SIGTERM, SIGINT (Ctrl-Alt-Del),
/// SIGUSR2 and SIGPWR (a power failure, or a hypervisor's request).
const SHUTDOWN_SIGNALS: [i32; 4] = [
    k::SIGTERM as i32,
    k::SIGINT as i32,
    k::SIGUSR2 as i32,
    k::SIGPWR as i32,
];

/// Set once a shutdown signal reached husk: COMMAND is then not restarted.
static STOPPING: AtomicBool = AtomicBool::new(false);

/// The init loop tells of every signal it takes: a shutdown signal stops the restarts.
pub fn signal_taken(sig: i32) {
    if SHUTDOWN_SIGNALS.contains(&sig) {
        STOPPING.store(true, Ordering::Relaxed);
    }
}

/// What `--restart` has done so far: restarts, and the start of the current minute with
/// the restarts in it.
#[derive(Default)]
pub struct Restarts {
    count: u32,
    minute_start: u64,
    in_minute: u32,
}

/// `--restart`: whether COMMAND, which has exited with `status`, is started again. Not when
/// its policy says no, on a sixth restart within a minute, or once a shutdown signal came.
/// Waits 1 s before the first restart, then twice as long before each next one (up to
/// 32 s), and says so in a line.
#[inline(never)]
pub fn restart_after(spec: &Spec, status: i32, done: &mut Restarts) -> bool {
    let again = match spec.init.restart {
        Restart::Never => false,
        Restart::OnFailure => status != 0,
        Restart::Always => true,
    };
    if !crate::SANDBOX || !again || STOPPING.load(Ordering::Relaxed) {
        return false;
    }
    let now = sys::monotonic_ms();
    if now - done.minute_start > 60_000 {
        (done.minute_start, done.in_minute) = (now, 0);
    }
    done.in_minute += 1;
    if done.in_minute > 5 {
        let name = command_name(spec);
        crate::report::say(&[name, b" restarted 5 times within a minute: giving up"]);
        return false;
    }
    done.count += 1;
    if !pause(1000 << (done.count - 1).min(5)) {
        return false;
    }
    Line::new()
        .push(b"restarting ")
        .push_escaped(command_name(spec))
        .push(b" (")
        .num(done.count.into())
        .push(b")")
        .print();
    true
}

/// COMMAND's name as given, for the console lines (`COMMAND` with none: `--pause`, or a
/// command line husk refused).
fn command_name<'a>(spec: &Spec<'a>) -> &'a [u8] {
    match spec.command.is_empty() {
        true => b"COMMAND",
        false => spec.command.get(0).to_bytes(),
    }
}

/// Waits `ms` between restarts, reaping what exits meanwhile; false when a shutdown signal
/// came instead.
fn pause(ms: u64) -> bool {
    let end = sys::monotonic_ms() + ms;
    loop {
        let now = sys::monotonic_ms();
        if now >= end {
            return true;
        }
        match sys::sigtimedwait(ALL_SIGNALS, Some(end - now)) {
            Some(SIGCHLD) => while let Ok(Some(_)) = rustix::process::wait(NOHANG) {},
            Some(sig) if SHUTDOWN_SIGNALS.contains(&sig) => return false,
            _ => {}
        }
    }
}

/// The machine's end, once COMMAND is done (or husk failed, `status` 125): the status line,
/// the grace's SIGTERM and SIGKILL (`init::shut_down`: as pid 1 to every process), sync,
/// / read-only, then the power-off, reboot or halt asked for. Never returns. reboot(2) fails only without
/// CAP_SYS_BOOT, which is not a machine's init (`--machine` under another pid 1 that
/// holds it): husk then exits with the status.
pub fn shut_down(spec: &Spec, status: i32) -> ! {
    Line::new()
        .push_escaped(command_name(spec))
        .push(b" exited with status ")
        .num(status.into())
        .print();
    crate::init::shut_down(&spec.init, spec.init.grace_ms.unwrap_or(2000));
    rustix::fs::sync();
    let _ = rustix::mount::mount_remount(c"/", MountFlags::RDONLY, c"");
    use rustix::system::RebootCommand as R;
    let _ = rustix::system::reboot(match spec.init.on_exit {
        OnExit::PowerOff => R::PowerOff,
        OnExit::Reboot => R::Restart,
        OnExit::Halt => R::Halt,
    });
    sys::exit(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_early_mount_has_its_flags() {
        let nosuid = MountFlags::NOSUID;
        let nodev = nosuid | MountFlags::NODEV;
        let noexec = nodev | MountFlags::NOEXEC;
        let want = [
            ("/proc", noexec),
            ("/sys", noexec),
            ("/dev", nosuid),
            ("/dev/pts", nosuid),
            ("/dev/shm", nodev),
            ("/run", nodev),
            ("/sys/fs/cgroup", noexec),
        ];
        let got: Vec<(String, MountFlags)> = crate::sandbox::mounts::Names(MOUNTS)
            .step_by(4)
            .map(|e| {
                let (&flags, path) = e.to_bytes().split_first().unwrap();
                let path = String::from_utf8(path.to_vec()).unwrap();
                (path, MountFlags::from_bits_retain(flags.into()))
            })
            .collect();
        let want: Vec<(String, MountFlags)> =
            want.iter().map(|&(p, f)| (p.to_string(), f)).collect();
        assert_eq!(got, want);
    }
}
