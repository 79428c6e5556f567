//! The sandbox: a monitor on the host side clones the inner init into new namespaces, writes
//! its id maps, forwards signals to it and relays its exit status. The inner init builds the
//! root, pivots, and runs the same init loop as init mode, with COMMAND as its child.
//! Each concern lives in its own file; `run` and `enter` are the orchestrators.

mod env;
mod idmap;
pub(crate) mod mounts;
mod status;

use crate::error::{step, Error, Result};
use crate::init::{self, Inherited, Payload};
use crate::lockdown;
use crate::spec::{Sandbox, SetupFd, Spec};
use crate::sys::{self, Errno, SIGKILL};
use crate::text::Text;
use core::ffi::CStr;
use linux_raw_sys::general as k;
use rustix::fd::{AsFd, AsRawFd, OwnedFd};
use rustix::fs::{Mode, OFlags};
use rustix::process::{self, Pid, WaitOptions};

/// Every descriptor the options name must be open before husk opens any of its own: a
/// closed `--keep-fd 5` would otherwise hand COMMAND whatever husk opened as 5 (its
/// internal pipe, say).
#[inline(never)]
pub fn check_fds<'a>(sb: &Sandbox<'a>) -> Result<'a, ()> {
    let mut closed = None;
    let mut check = |option: &'a [u8], fd: i32| {
        // SAFETY: only probes whether the descriptor number is open.
        let probe = rustix::io::fcntl_getfd(unsafe { rustix::fd::BorrowedFd::borrow_raw(fd) });
        if let (Err(e), None) = (probe, &closed) {
            closed = Some(Error::new(option, e).with_number(fd));
        }
    };
    if let Some(fd) = sb.info_fd {
        check(b"--info-fd", fd);
    }
    if let Some(fd) = sb.json_status_fd {
        check(b"--json-status-fd", fd);
    }
    for &fd in sb.keep_fds.iter() {
        check(b"--keep-fd", fd);
    }
    // A trait object, as in lockdown::close_fds: one copy of setup_fds serves both.
    sb.setup_fds(&mut check as &mut dyn FnMut(&'a [u8], i32));
    closed.map_or(Ok(()), Err)
}

const CLOEXEC: rustix::pipe::PipeFlags = rustix::pipe::PipeFlags::CLOEXEC;

/// The monitor: host side of the sandbox. Returns the exit status. Never inlined: its
/// frames (the environment block, path buffers) would otherwise be probed, page by page,
/// on init mode's stack too.
#[inline(never)]
pub fn monitor(
    spec: &Spec,
    env: crate::spec::Env,
    inherited: &Inherited,
    cgroup: Option<rustix::fd::BorrowedFd>,
) -> i32 {
    match clone_and_watch(spec, env, inherited, cgroup) {
        Ok(status) => status,
        Err(e) => {
            e.report();
            125
        }
    }
}

/// Clones the inner init into its namespaces, writes its maps, and supervises it.
fn clone_and_watch<'a>(
    spec: &'a Spec,
    env: crate::spec::Env,
    inherited: &Inherited,
    cgroup: Option<rustix::fd::BorrowedFd>,
) -> Result<'a, i32> {
    let sb = &spec.sandbox;
    if sb.die_with_parent {
        let parent = process::getppid();
        step(
            process::set_parent_process_death_signal(Some(process::Signal::KILL)),
            b"--die-with-parent",
        )?;
        // The parent may have died before the prctl took effect.
        if process::getppid() != parent {
            sys::exit(125);
        }
    }
    if let Some(path) = sb.netns {
        // Non-blocking: a FIFO named here must not stall husk (setns then refuses it).
        let flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC;
        let joined = rustix::fs::open(path, flags, Mode::empty()).and_then(|fd| {
            let net = rustix::thread::LinkNameSpaceType::Network;
            rustix::thread::move_into_link_name_space(fd.as_fd(), Some(net))
        });
        joined.map_err(|e| Error::new(b"--netns", e).with(path))?;
    }
    if let Some(status) = join_namespaces(sb) {
        return Ok(status);
    }
    let (maps_rd, maps_wr) = step(rustix::pipe::pipe_with(CLOEXEC), b"pipe")?;
    // Non-blocking: read once the inner init has ended, it must not make the monitor wait
    // for a COMMAND's process left behind (without a pid namespace) short of its exec.
    let nonblock = CLOEXEC | rustix::pipe::PipeFlags::NONBLOCK;
    let (started_rd, started_wr) = step(rustix::pipe::pipe_with(nonblock), b"pipe")?;
    let (uid, gid) = (process::getuid().as_raw(), process::getgid().as_raw());

    // SAFETY: fd 0 is only borrowed for the query; a closed fd just fails it.
    let stdin = unsafe { rustix::fd::BorrowedFd::borrow_raw(0) };
    // Asked here, on the host side: inside a new pid namespace the groups are invisible.
    let foreground = rustix::termios::tcgetpgrp(stdin) == Ok(process::getpgrp());
    let privileged = idmap::may_map_any_id();
    let identity = privileged && sb.uid_map.is_empty() && sb.gid_map.is_empty();
    let mut flags = sb.namespaces;
    let pid = loop {
        match sys::spawn_child(flags, cgroup) {
            Ok(pid) => break pid,
            // The -try forms fall back to sharing what cannot be unshared here.
            Err(_)
                if sb.user_try
                    && flags & u64::from(k::CLONE_NEWUSER) != 0
                    && process::getuid().is_root() =>
            {
                flags &= !u64::from(k::CLONE_NEWUSER)
            }
            Err(_) if sb.cgroup_try && flags & u64::from(k::CLONE_NEWCGROUP) != 0 => {
                flags &= !u64::from(k::CLONE_NEWCGROUP)
            }
            Err(e) => return Err(Error::new(b"creating namespaces (clone)", e)),
        }
    };
    if pid == 0 {
        drop(maps_wr);
        drop(started_rd);
        die_with_monitor(&started_wr);
        let facts = HostFacts {
            identity,
            foreground,
        };
        sys::exit(enter(
            spec, env, inherited, flags, facts, maps_rd, started_wr,
        ));
    }
    drop(maps_rd);
    drop(started_wr);
    // With --userns-block-fd someone else writes the maps, once the record says the pid.
    let maps_by_husk = sb.fd(SetupFd::UsernsBlock).is_none();
    if flags & u64::from(k::CLONE_NEWUSER) != 0 && maps_by_husk {
        let mut said = [0u8; 256];
        if let Err(e) = idmap::write(pid, sb, (uid, gid, privileged), &mut said) {
            let _ = sys::kill(pid, SIGKILL);
            let _ = process::waitpid(Pid::from_raw(pid), WaitOptions::empty());
            e.report();
            return Ok(125);
        }
    }
    // As bubblewrap: the record is written before the inner init goes on with the setup.
    status::started(sb, pid, flags);
    if let Some(fd) = sb.fd(SetupFd::UsernsBlock) {
        block_on(fd);
    }
    drop(maps_wr);

    // Every signal goes on to the inner init, which applies the init options.
    let status = init::supervise(&crate::spec::Init::default(), pid, false);
    // One byte once COMMAND was about to be executed, a second if its exec failed; none when
    // the setup failed (init::lock_down_and_exec). Read once the inner init is gone, not
    // while it works: every wake-up of the monitor on the way is a handoff between CPUs.
    let mut said = 0;
    while let Ok(1) = rustix::io::read(&started_rd, &mut [0u8; 1]) {
        said += 1;
    }
    let ran = said == 1;
    status::exited(sb, status, ran);
    Ok(status)
}

/// The inner init dies with the monitor, whatever the options: the parent-death signal is
/// armed first, then the monitor (the only reader of `started`) is checked to be alive, in
/// case it died before.
fn die_with_monitor(started: &OwnedFd) {
    let _ = process::set_parent_process_death_signal(Some(process::Signal::KILL));
    let mut alive = [rustix::event::PollFd::new(
        started,
        rustix::event::PollFlags::OUT,
    )];
    let now = rustix::event::Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    if rustix::event::poll(&mut alive, Some(&now)).is_err()
        || alive[0].revents().contains(rustix::event::PollFlags::ERR)
    {
        sys::exit(125);
    }
}

/// What the monitor knows from the host side for the inner init: whether the ids are the
/// host's own (a root caller without maps), and whether the sandbox holds the terminal's
/// foreground (the groups are invisible from inside a new pid namespace).
struct HostFacts {
    identity: bool,
    foreground: bool,
}

/// How the inner init's setup fails, as bubblewrap's: it prints the one line and exits 125
/// (the monitor then sees that COMMAND never ran). Never inlined: one call per step, with
/// no error carried back up through the callers.
#[inline(never)]
pub(super) fn die(e: Error) -> ! {
    e.report();
    sys::exit(125)
}

/// `die` of the error naming the step, a packed text: unpacked here, the one place.
#[inline(never)]
fn die_at(what: Text, e: Errno) -> ! {
    let mut texts = [0u8; crate::text::TEXT_LEN];
    die(Error::new(crate::text::get(what, &mut texts), e))
}

/// `die` of the error naming an option, its operand, and the reason if husk has one of its
/// own (`error::report_about`).
pub(super) fn die_with(what: &[u8], e: Errno, operand: &CStr, reason: Option<Text>) -> ! {
    crate::error::report_about(what, e, operand, reason);
    sys::exit(125)
}

/// The value of a setup step of the inner init, or its failure (`die`).
pub(super) fn must<T>(r: core::result::Result<T, Errno>, what: Text) -> T {
    match r {
        Ok(v) => v,
        Err(e) => die_at(what, e),
    }
}

/// The inner init: waits for its id maps, builds the sandbox, then runs the init loop;
/// returns the exit status.
fn enter<'a>(
    spec: &'a Spec,
    env: crate::spec::Env<'a>,
    inherited: &Inherited,
    namespaces: u64,
    facts: HostFacts,
    maps_rd: OwnedFd,
    started: OwnedFd,
) -> i32 {
    let sb = &spec.sandbox;
    // EOF: the monitor has written the maps (or died, and then SIGKILL follows).
    let _ = rustix::io::read(&maps_rd, &mut [0u8; 1]);
    drop(maps_rd);
    // Nothing of husk's or the caller's stays open here but what COMMAND is given and the
    // pipe to the monitor: no descriptor is left for a path like /proc/self/fd/N to reach.
    // SAFETY: this clone of the monitor owns no descriptor but `started` from here on (the
    // cgroup descriptor it inherited is never used or dropped: the process ends in exit).
    let closed = unsafe { lockdown::close_fds(sb, Some(started.as_raw_fd() as u32), false) };
    must(closed, text!("closing inherited descriptors"));
    if sb.time {
        enter_time_namespace(sb);
    }
    if namespaces & u64::from(k::CLONE_NEWNET) != 0 {
        must(sys::interface_up(b"lo"), text!("bringing up loopback (lo)"));
    }
    if namespaces & u64::from(k::CLONE_NEWUTS) != 0 {
        // husk's own default name is set where it can be (a container's seccomp profile may
        // refuse sethostname); a name the user asked for must be set.
        let set = rustix::system::sethostname(sb.hostname.unwrap_or(c"husk").to_bytes());
        if let (Err(e), Some(name)) = (set, sb.hostname) {
            die_with(b"--hostname", e, name, None);
        }
    }
    if sb.builds_root() {
        mounts::build_root(sb);
    } else if namespaces & u64::from(k::CLONE_NEWNS) != 0 {
        // The host's tree as it is, but what happens in this copy stays in it.
        let private = rustix::mount::MountPropagationFlags::REC
            | rustix::mount::MountPropagationFlags::PRIVATE;
        must(
            rustix::mount::mount_change(c"/", private),
            text!("making mounts private"),
        );
    }
    if let Some(dir) = sb.chdir {
        if let Err(e) = mounts::chdir_inside(dir) {
            die_with(b"--chdir", e, dir, None);
        }
    }
    join_namespace(
        sb,
        SetupFd::Userns2,
        rustix::thread::LinkNameSpaceType::User,
    );
    let mut held = [0u32; 1 + crate::spec::MAX_LOCK_FILES];
    held[0] = sb.fd(SetupFd::Sync).unwrap_or(0) as u32;
    for (slot, &path) in held[1..].iter_mut().zip(sb.lock_files.iter()) {
        *slot = lock_file(path);
    }
    // A change of ids clears the parent-death signal: set it again.
    if namespaces & u64::from(k::CLONE_NEWUSER) != 0 && idmap::become_ids(sb, facts.identity) {
        die_with_monitor(&started);
    }
    // From here untrusted code runs: it must not ptrace the init or read its memory.
    must(
        process::set_dumpable_behavior(process::DumpableBehavior::NotDumpable),
        text!("PR_SET_DUMPABLE"),
    );

    // SAFETY: the inner init enters once (its process ends in exit or exec).
    let block = unsafe { env::Block::in_bss() };
    let env = block.build(env, sb).unwrap_or_else(|e| die(e));
    let argv = spec.command;
    // The file to execute is argv[0] as given; --argv0 only changes what COMMAND sees.
    let mut payload = Payload::plain(argv, env, &spec.confine);
    payload.new_session = sb.new_session;
    payload.sandbox = Some(sb);
    payload.foreground = Some(facts.foreground);
    if let (Some(argv0), false) = (sb.argv0, argv.is_empty()) {
        // SAFETY: this process is the clone's child and owns its copy of argv; argv0 lives
        // in argv itself, as long as the process.
        unsafe { argv.set_first(argv0) };
    }
    if let Some(fd) = sb.fd(SetupFd::Block) {
        block_on(fd);
    }
    if sb.as_pid_1 {
        return init::exec_in_place(&payload, inherited, &started);
    }
    let (init, started) = (&spec.init, Some(started));
    let pid1 = process::getpid().is_init();
    init::serve(init, &payload, inherited, started, None, &mut held, pid1)
}

/// setns into the namespace a descriptor option names; whether it was given.
fn join_namespace(sb: &Sandbox, which: SetupFd, kind: rustix::thread::LinkNameSpaceType) -> bool {
    let Some(fd) = sb.fd(which) else {
        return false;
    };
    // SAFETY: check_fds found it open; it is only borrowed for the call.
    let ns = unsafe { rustix::fd::BorrowedFd::borrow_raw(fd) };
    if let Err(e) = rustix::thread::move_into_link_name_space(ns, Some(kind)) {
        Error::new(crate::spec::SETUP_FDS[which as usize], e)
            .with_number(fd)
            .report();
        sys::exit(125);
    }
    true
}

/// `--userns` and `--pidns`, joined before the clone: the namespaces made are then owned by
/// (and nested in) them. Only a process already inside a joined pid namespace can make one
/// below it, so with `--unshare-pid` a relay is forked there to be the monitor; this
/// process then passes signals on to it and returns its exit status (Some), where bwrap's
/// first process exits 0 at once; or 125 when the relay could not be made (reported). The
/// relay dies with this process: it arms the signal, then checks it alive through a pipe
/// whose only reader this process holds.
fn join_namespaces(sb: &Sandbox) -> Option<i32> {
    use rustix::thread::LinkNameSpaceType::{ProcessID, User};
    join_namespace(sb, SetupFd::Userns, User);
    if !join_namespace(sb, SetupFd::Pidns, ProcessID)
        || sb.namespaces & u64::from(k::CLONE_NEWPID) == 0
    {
        return None;
    }
    let failed = |what, e| {
        Error::new(what, e).report();
        Some(125)
    };
    let (parent_rd, parent_wr) = match rustix::pipe::pipe_with(CLOEXEC) {
        Ok(pipe) => pipe,
        Err(e) => return failed(b"pipe", e),
    };
    let relay = match sys::clone(0) {
        Ok(pid) => pid,
        Err(e) => return failed(b"--pidns (fork)", e),
    };
    if relay != 0 {
        let status = init::supervise(&crate::spec::Init::default(), relay, false);
        drop(parent_rd);
        return Some(status);
    }
    drop(parent_rd);
    die_with_monitor(&parent_wr);
    None
}

/// Waits for one byte (or EOF) on a descriptor option's descriptor.
fn block_on(fd: i32) {
    // SAFETY: check_fds found it open; it is only borrowed for the read.
    let fd = unsafe { rustix::fd::BorrowedFd::borrow_raw(fd) };
    while rustix::io::read(fd, &mut [0u8; 1]) == Err(rustix::io::Errno::INTR) {}
}

/// `--lock-file PATH`: opened inside the sandbox and read-locked, as bubblewrap's init does;
/// the init holds the descriptor (and the lock) while the sandbox lives. Never inlined:
/// smaller as a call than inlined in the inner init (measured).
#[inline(never)]
fn lock_file(path: &CStr) -> u32 {
    let shared = rustix::fs::FlockOperation::NonBlockingLockShared;
    let locked = rustix::fs::open(path, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())
        .and_then(|fd| rustix::fs::fcntl_lock(&fd, shared).map(|()| fd));
    match locked {
        Ok(fd) => rustix::fd::IntoRawFd::into_raw_fd(fd) as u32,
        Err(e) => die_with(b"--lock-file", e, path, None),
    }
}

/// unshare(CLONE_NEWTIME) and the offsets, written before any process enters it.
fn enter_time_namespace(sb: &Sandbox) {
    must(
        crate::sys::unshare(linux_raw_sys::general::CLONE_NEWTIME),
        text!("--unshare-time"),
    );
    if sb.monotonic_offset == 0 && sb.boottime_offset == 0 {
        return;
    }
    let what = text!("--monotonic-offset/--boottime-offset");
    let mut text: crate::buf::Buf = crate::buf::Buf::new();
    text.push(b"monotonic ")
        .num(sb.monotonic_offset)
        .push(b" 0\nboottime ")
        .num(sb.boottime_offset)
        .push(b" 0");
    let offsets = must(text.as_bytes(), what);
    let fd = must(
        rustix::fs::open(
            c"/proc/self/timens_offsets",
            OFlags::WRONLY | OFlags::CLOEXEC,
            Mode::empty(),
        ),
        what,
    );
    must(rustix::io::write(&fd, offsets), what);
}
