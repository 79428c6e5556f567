//! The init: start COMMAND, forward every signal to it, reap every zombie, exit with its
//! status. All signals stay blocked in husk and are taken with sigtimedwait, which works as
//! PID 1 of a pid namespace (blocked signals are never dropped as "unhandled") and makes a
//! kill-sent SIGSEGV just another signal to forward.

use crate::exec;
use crate::report::{self, Line};
use crate::spec::{Argv, Env, Init};
use crate::sys::{
    self, Errno, SigSet, ALL_SIGNALS, NSIG, SIGCHLD, SIGINT, SIGKILL, SIGSTOP, SIGTERM,
};
use core::ffi::CStr;
use rustix::fd::{AsRawFd, BorrowedFd, OwnedFd};
use rustix::process::{self, Pid, WaitOptions};

/// The signal state husk was started with, given back to COMMAND before exec.
pub struct Inherited {
    mask: SigSet,
    ignored: SigSet,
}

impl Inherited {
    /// Blocks every signal and resets inherited SIG_IGN dispositions to SIG_DFL: an ignored
    /// signal is discarded even while blocked, so husk could neither forward it nor, for an
    /// ignored SIGCHLD, learn COMMAND's exit status.
    pub fn take() -> Self {
        let mask = sys::set_sigmask(ALL_SIGNALS);
        let mut ignored = 0;
        for sig in (1..=NSIG).filter(|&s| s != SIGKILL && s != SIGSTOP) {
            if sys::set_disposition(sig, None) == Ok(sys::SIG_IGN) {
                let _ = sys::set_disposition(sig, Some(sys::SIG_DFL));
                ignored |= sys::sigbit(sig);
            }
        }
        Inherited { mask, ignored }
    }

    /// In a child about to exec: the dispositions and mask husk inherited.
    pub fn restore(&self) {
        for sig in (1..=NSIG).filter(|&s| self.ignored & sys::sigbit(s) != 0) {
            let _ = sys::set_disposition(sig, Some(sys::SIG_IGN));
        }
        sys::set_sigmask(self.mask);
    }
}

/// A failed step before exec: its name and errno.
pub type StepError = (&'static [u8], Errno);

/// What to start: COMMAND's argv, the file to execute (COMMAND as given; `--argv0` changes
/// only the argv[0] it sees), and its environment.
pub struct Payload<'a> {
    pub argv: Argv<'a>,
    pub program: &'a CStr,
    pub env: Env<'a>,
    /// setsid() instead of a new process group (`--new-session`).
    pub new_session: bool,
    /// Runs in the child just before exec (the sandbox's lockdown); an error names its step.
    pub prepare: Option<&'a dyn Fn() -> Result<(), StepError>>,
    /// Whether husk holds the terminal's foreground, when an outer process knows better
    /// (the sandbox's monitor: inside a new pid namespace the groups are invisible). Then
    /// COMMAND gets the foreground, but husk does not follow its stops.
    pub foreground: Option<bool>,
}

impl<'a> Payload<'a> {
    pub fn plain(argv: Argv<'a>, env: Env<'a>) -> Self {
        let program = if argv.is_empty() { c"" } else { argv.get(0) };
        Payload {
            argv,
            program,
            env,
            new_session: false,
            prepare: None,
            foreground: None,
        }
    }
}

/// Runs the init: `inherited` is the signal state taken at start; `started`, if given,
/// gets one byte once COMMAND has been executed (the sandbox monitor waits for it).
/// `cgroup`, if given, is the cgroup COMMAND starts in.
pub fn run(
    init: &Init,
    payload: &Payload,
    inherited: &Inherited,
    started: Option<OwnedFd>,
    cgroup: Option<BorrowedFd>,
) -> i32 {
    let parent = process::getppid();
    if init.parent_death != 0 {
        // SAFETY: parent_death was checked by the parser to be 1..=64; husk uses no libc
        // signal machinery that reserved numbers could disturb.
        let sig = unsafe { rustix::process::Signal::from_raw_unchecked(init.parent_death) };
        if let Err(e) = process::set_parent_process_death_signal(Some(sig)) {
            report::failed(&[b"-p"], e);
            return 125;
        }
        // The parent may have died before the prctl took effect.
        if process::getppid() != parent {
            let _ = sys::kill(process::getpid().as_raw_nonzero().get(), init.parent_death);
        }
    }
    let pid1 = process::getpid().is_init();
    if init.subreaper && !pid1 {
        if let Err(e) = process::set_child_subreaper(Some(process::getpid())) {
            report::failed(&[b"-s: PR_SET_CHILD_SUBREAPER"], e);
            return 125;
        }
    } else if !pid1 && init.verbosity >= 1 {
        report::say(&[b"not PID 1 and not a subreaper (-s): orphans will not be reaped"]);
    }
    let (child, job_control) = if init.pause {
        (0, false)
    } else {
        match spawn(init, payload, inherited, cgroup) {
            Ok(spawned) => spawned,
            Err(status) => return status,
        }
    };
    if let Some(fd) = started {
        report::write_all(fd.as_raw_fd(), b"1");
    }
    supervise(init, child, job_control)
}

/// Forks and execs COMMAND in its own process group (in the terminal's foreground when husk
/// holds it). Exec errors come back over a CLOEXEC pipe; returns the pid, and whether COMMAND
/// took the terminal (then husk follows its stops), or an exit status.
fn spawn(
    init: &Init,
    payload: &Payload,
    inherited: &Inherited,
    cgroup: Option<BorrowedFd>,
) -> Result<(i32, bool), i32> {
    let env = payload.env;
    // SAFETY: fd 0 is only borrowed for the ioctls below; a closed fd just fails them.
    let stdin = unsafe { BorrowedFd::borrow_raw(0) };
    let foreground = payload
        .foreground
        .unwrap_or_else(|| rustix::termios::tcgetpgrp(stdin) == Ok(process::getpgrp()));
    let (status_rd, status_wr) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)
        .map_err(|e| {
            report::failed(&[b"pipe"], e);
            125
        })?;
    let pid = sys::spawn_child(0, cgroup).map_err(|e| {
        report::failed(&[b"fork"], e);
        125
    })?;
    if pid == 0 {
        drop(status_rd);
        if payload.new_session {
            let _ = process::setsid();
        } else {
            let _ = process::setpgid(None, None);
        }
        if foreground && !payload.new_session {
            let _ = rustix::termios::tcsetpgrp(stdin, process::getpid());
        }
        let mut listen_pid = [0u8; 32];
        rewrite_listen_pid(env, &mut listen_pid);
        inherited.restore();
        // The child's verdict for the parent: exit status and errno, 8 bytes.
        let fail = |status: i32, errno: Errno| -> ! {
            let mut record = [0u8; 8];
            record[..4].copy_from_slice(&status.to_ne_bytes());
            record[4..].copy_from_slice(&errno.raw_os_error().to_ne_bytes());
            report::write_all(status_wr.as_raw_fd(), &record);
            sys::exit(status)
        };
        for r in init.rlimits.iter() {
            if let Err(e) = sys::setrlimit(r.resource, r.soft, r.hard) {
                report::failed(&[b"--rlimit"], e);
                fail(125, e);
            }
        }
        if let Err((what, e)) = crate::landlock::apply(&init.landlock) {
            report::failed(&[what], e);
            fail(125, e);
        }
        if let Some(prepare) = payload.prepare {
            if let Err((what, e)) = prepare() {
                report::failed(&[what], e);
                fail(125, e);
            }
        }
        let errno = exec::exec(payload.program, payload.argv, env);
        fail(exec::status_for(errno), errno);
    }
    drop(status_wr);
    // Both sides set the group, so -g works whichever runs first (not with a new session:
    // setsid fails for a process that already leads a group).
    if !payload.new_session {
        let _ = process::setpgid(Pid::from_raw(pid), Pid::from_raw(pid));
    }
    let mut buf = [0u8; 8];
    let mut got = 0;
    while got < buf.len() {
        match rustix::io::read(&status_rd, &mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(rustix::io::Errno::INTR) => {}
            Err(_) => break,
        }
    }
    if got < buf.len() {
        let job_control = foreground && !payload.new_session && payload.foreground.is_none();
        return Ok((pid, job_control));
    }
    let status = i32::from_ne_bytes([buf[0], buf[1], buf[2], buf[3]]);
    let errno = Errno::from_raw_os_error(i32::from_ne_bytes([buf[4], buf[5], buf[6], buf[7]]));
    let _ = process::waitpid(Pid::from_raw(pid), WaitOptions::empty());
    if status != 125 {
        // Exec failed; the steps before it report their own failures.
        report::failed(&[payload.program.to_bytes()], errno);
    }
    Err(status)
}

/// Socket activation: when LISTEN_PID names husk, the sockets are meant for COMMAND, so the
/// child's copy of the environment says COMMAND's pid instead (sd_listen_fds checks it).
fn rewrite_listen_pid(env: Env, buf: &mut [u8; 32]) {
    let Some((index, value)) = env.find(b"LISTEN_PID") else {
        return;
    };
    let mut digits = [0u8; 20];
    // Husk is this child's parent; asked only here, so starts without LISTEN_PID pay nothing.
    let husk_pid = process::getppid().map_or(0, |p| p.as_raw_nonzero().get());
    if value.to_bytes() != report::fmt_u64(husk_pid as u64, &mut digits) {
        return;
    }
    let own = report::fmt_u64(process::getpid().as_raw_nonzero().get() as u64, &mut digits);
    let prefix = b"LISTEN_PID=";
    buf[..prefix.len()].copy_from_slice(prefix);
    buf[prefix.len()..prefix.len() + own.len()].copy_from_slice(own);
    // SAFETY: this runs in the forked child, which owns its copy of the environment array;
    // index is in bounds (found by Env::find) and buf outlives the exec that reads it.
    unsafe { *(env.as_ptr() as *mut *const u8).add(index) = buf.as_ptr() };
}

/// The loop: wait for a signal; reap on SIGCHLD, forward anything else. Ends when COMMAND
/// has exited (detected while reaping, so coalesced SIGCHLDs never lose it).
fn supervise(init: &Init, child: i32, job_control: bool) -> i32 {
    let mut deadline = init.time_limit_ms.map(|ms| sys::monotonic_ms() + ms);
    let status = loop {
        let left = deadline.map(|d| d.saturating_sub(sys::monotonic_ms()));
        match sys::sigtimedwait(ALL_SIGNALS, left) {
            None if deadline.is_some_and(|d| sys::monotonic_ms() >= d) => {
                deadline = None;
                report::say(&[
                    b"--time-limit: time limit reached, killing COMMAND and its descendants",
                ]);
                let _ = sys::kill(-child, SIGKILL);
                let _ = sys::kill(child, SIGKILL);
                signal_descendants(SIGKILL);
            }
            None => {}
            Some(SIGCHLD) => {
                if job_control {
                    follow_stop(child);
                }
                if let Some(status) = reap(init, child) {
                    break status;
                }
            }
            Some(SIGTERM | SIGINT) if init.pause => return 0,
            Some(_) if init.pause => {}
            Some(sig) => forward(init, child, sig),
        }
    };
    if let Some(ms) = init.grace_ms {
        shut_down(init, ms);
    }
    match status {
        s if s <= 255 && init.remap.contains(s as u8) => 0,
        s => s,
    }
}

/// Job control: when COMMAND, holding the terminal, is stopped (Ctrl-Z), husk takes the
/// terminal back and stops itself, so the shell above sees the job stopped; once continued
/// (fg), it hands the terminal back to COMMAND and continues it. WSTOPPED alone never
/// consumes an exit, which `reap` must see.
fn follow_stop(child: i32) {
    let stopped = process::waitid(
        process::WaitId::Pid(Pid::from_raw(child).unwrap_or(Pid::INIT)),
        process::WaitIdOptions::STOPPED | process::WaitIdOptions::NOHANG,
    );
    if !matches!(stopped, Ok(Some(ref st)) if st.stopped()) {
        return;
    }
    // SAFETY: fd 0 is only borrowed for tcsetpgrp; SIGTTOU is blocked, so husk may call it
    // from the background.
    let stdin = unsafe { BorrowedFd::borrow_raw(0) };
    let _ = rustix::termios::tcsetpgrp(stdin, process::getpgrp());
    let _ = sys::kill(process::getpid().as_raw_nonzero().get(), SIGSTOP);
    // Continued: the shell has given our group the terminal again.
    let _ = rustix::termios::tcsetpgrp(stdin, Pid::from_raw(child).unwrap_or(Pid::INIT));
    let _ = sys::kill(-child, sys::SIGCONT);
}

fn forward(init: &Init, child: i32, sig: i32) {
    let sig = i32::from(init.rewrite[sig as usize]);
    if sig != 0 {
        let _ = sys::kill(if init.kill_group { -child } else { child }, sig);
    }
}

/// Reaps every exited child; returns COMMAND's exit status if it was among them.
fn reap(init: &Init, child: i32) -> Option<i32> {
    let mut status = None;
    while let Ok(Some((pid, st))) = process::wait(WaitOptions::NOHANG) {
        let pid = pid.as_raw_nonzero().get();
        if pid == child {
            status = Some(match st.terminating_signal() {
                Some(sig) => 128 + sig,
                None => st.exit_status().unwrap_or(0),
            });
        } else if init.warn_reap {
            Line::new()
                .push(b"reaped zombie process ")
                .num(pid.into())
                .print();
        }
    }
    status
}

/// `--grace`: SIGTERM every remaining descendant, reap for up to `ms`, SIGKILL the rest.
fn shut_down(init: &Init, ms: u64) {
    reap(init, 0);
    if !has_children() {
        return;
    }
    signal_descendants(SIGTERM);
    let mut left = ms;
    while has_children() {
        let start = sys::monotonic_ms();
        if sys::sigtimedwait(sys::sigbit(SIGCHLD), Some(left)).is_some() {
            reap(init, 0);
        }
        left = left.saturating_sub(sys::monotonic_ms() - start);
        if left == 0 {
            break;
        }
    }
    if has_children() {
        if init.verbosity >= 1 {
            report::say(&[b"grace period over: sending SIGKILL"]);
        }
        signal_descendants(SIGKILL);
        while let Ok(Some(_)) = process::wait(WaitOptions::empty()) {}
    }
}

fn has_children() -> bool {
    // With WNOHANG, Ok(None) means children exist and none has exited; ECHILD means none.
    !matches!(
        process::wait(WaitOptions::NOHANG),
        Err(rustix::io::Errno::CHILD)
    )
}

/// As PID 1, kill(-1) reaches every other process of the namespace. As a subreaper it would
/// reach the whole host, so walk /proc for processes whose ancestry leads to husk instead.
fn signal_descendants(sig: i32) {
    let me = process::getpid().as_raw_nonzero().get();
    if me == 1 {
        let _ = sys::kill(-1, sig);
        return;
    }
    crate::procfs::for_each_pid(|pid| {
        if crate::procfs::descends_from(pid, me) {
            let _ = sys::kill(pid, sig);
        }
    });
}
