//! The init: start COMMAND, forward every signal to it, reap every zombie, exit with its
//! status. All signals stay blocked in husk and are taken with sigtimedwait, which works as
//! PID 1 of a pid namespace (blocked signals are never dropped as "unhandled") and makes a
//! kill-sent SIGSEGV just another signal to forward.

use crate::error::Error;
use crate::exec;
use crate::report::{self, Line};
use crate::spec::{Argv, CodeSet, Confine, Env, Init, Sandbox};
use crate::sys::{
    self, Disposition, SigSet, ALL_SIGNALS, SIGCHLD, SIGINT, SIGKILL, SIGSTOP, SIGTERM,
};
use core::ffi::CStr;
use rustix::fd::{AsRawFd, BorrowedFd, OwnedFd};
use rustix::process::{self, Pid, Signal, WaitOptions};

/// The signal state husk was started with, given back to COMMAND before exec.
pub struct Inherited {
    mask: SigSet,
    sigchld_ignored: bool,
}

impl Inherited {
    /// Blocks every signal, and resets an inherited SIG_IGN of SIGCHLD, under which the
    /// kernel would reap COMMAND itself and its exit status would be lost. Other ignored
    /// signals are left as they are: a blocked signal is queued whatever its disposition
    /// (so husk still takes it and forwards it), and COMMAND inherits them through exec.
    /// One query instead of one per signal: 63 fewer system calls at every start.
    pub fn take() -> Self {
        let mask = sys::set_sigmask(ALL_SIGNALS);
        let sigchld_ignored =
            sys::set_disposition(SIGCHLD, None) == Ok(Disposition::Ignore as usize);
        if sigchld_ignored {
            let _ = sys::set_disposition(SIGCHLD, Some(Disposition::Default));
        }
        Inherited {
            mask,
            sigchld_ignored,
        }
    }

    /// In a child about to exec: the disposition of SIGCHLD and the mask husk inherited.
    pub fn restore(&self) {
        if self.sigchld_ignored {
            let _ = sys::set_disposition(SIGCHLD, Some(Disposition::Ignore));
        }
        sys::set_sigmask(self.mask);
    }
}

/// What to start: COMMAND's argv, the file to execute (COMMAND as given; `--argv0` changes
/// only the argv[0] it sees), and its environment.
pub struct Payload<'a> {
    pub argv: Argv<'a>,
    pub program: &'a CStr,
    pub env: Env<'a>,
    /// setsid() instead of a new process group (`--new-session`).
    pub new_session: bool,
    /// What confines COMMAND, applied in the child just before exec (`lockdown::apply`).
    pub confine: &'a Confine<'a>,
    /// The sandbox COMMAND runs in, if any: its lockdown is applied too.
    pub sandbox: Option<&'a Sandbox<'a>>,
    /// Whether husk holds the terminal's foreground, when an outer process knows better
    /// (the sandbox's monitor: inside a new pid namespace the groups are invisible). Then
    /// COMMAND gets the foreground, but husk does not follow its stops.
    pub foreground: Option<bool>,
}

impl<'a> Payload<'a> {
    pub fn plain(argv: Argv<'a>, env: Env<'a>, confine: &'a Confine<'a>) -> Self {
        let program = if argv.is_empty() { c"" } else { argv.get(0) };
        Payload {
            argv,
            program,
            env,
            new_session: false,
            confine,
            sandbox: None,
            foreground: None,
        }
    }
}

/// Serves as COMMAND's init until it ends; returns the exit status. `inherited` is the
/// signal state taken at start; `started`, if given, is told by COMMAND's process whether
/// it was executed (`lock_down_and_exec`: the sandbox monitor reads it to its end).
/// `cgroup`, if given, is the cgroup COMMAND starts in. `held` are the descriptors above 2
/// husk keeps open while it serves (`--sync-fd`, the locks of `--lock-file`); numbers under
/// 3 are ignored. `pid1`: husk is pid 1 of its pid namespace (the caller has asked already).
pub fn serve(
    init: &Init,
    payload: &Payload,
    inherited: &Inherited,
    started: Option<OwnedFd>,
    cgroup: Option<BorrowedFd>,
    held: &mut [u32],
    pid1: bool,
) -> i32 {
    if init.parent_death != 0 {
        let parent = process::getppid();
        // SAFETY: parent_death was checked by the parser to be 1..=64; husk uses no libc
        // signal machinery that reserved numbers could disturb.
        let sig = unsafe { rustix::process::Signal::from_raw_unchecked(init.parent_death) };
        if let Err(e) = process::set_parent_process_death_signal(Some(sig)) {
            Error::new(b"-p", e).report();
            return 125;
        }
        // The parent may have died before the prctl took effect.
        if process::getppid() != parent {
            let _ = sys::kill(process::getpid().as_raw_nonzero().get(), init.parent_death);
        }
    }
    // --wait-all waits for the orphans too, so they must come to husk.
    if (init.subreaper || init.wait_all) && !pid1 {
        if let Err(e) = process::set_child_subreaper(Some(process::getpid())) {
            Error::new(b"-s (PR_SET_CHILD_SUBREAPER)", e).report();
            return 125;
        }
    } else if !pid1 && init.verbosity >= 1 {
        report::say(&[b"not PID 1 and not a subreaper (-s): orphans will not be reaped"]);
    }
    let (child, job_control) = if init.pause {
        (0, false)
    } else {
        // -e remaps COMMAND's exit, not husk's failure to exec it, and --time-limit starts
        // once COMMAND runs: they wait for the exec.
        let told = init.remap != CodeSet::default() || init.time_limit_ms.is_some();
        match spawn(payload, inherited, started.as_ref(), told, cgroup, pid1) {
            Ok(spawned) => spawned,
            Err(status) => return status,
        }
    };
    // The child has its own copy; the monitor reads to the end, when both are closed.
    drop(started);
    // COMMAND has its own copies of the directory and the descriptors: husk keeps neither
    // busy (a mount it sits in, the write end of a pipe someone reads to EOF), as catatonit.
    let _ = process::chdir(c"/");
    // SAFETY: from here husk owns no descriptor above 2 but the cgroup's, in `held` (the
    // caller's `started` was dropped above; the sandbox's inner init closed the rest).
    let _ = unsafe { crate::lockdown::close_all_but(held, false) };
    supervise(init, child, job_control)
}

/// Forks and execs COMMAND in its own process group (in the terminal's foreground when husk
/// holds it). The child reports its own failure and exits with its status. With `told` it
/// also sends that status over a CLOEXEC pipe, and husk waits on it for the exec (EOF).
/// Returns the pid, and whether COMMAND took the terminal (then husk follows its stops), or
/// the status of a failed exec (`told`: else the child's exit says it). Not waiting saves a
/// wake-up and 5 system calls: 14 µs of a 276 µs start (measured). Always inlined: smaller
/// inlined in serve, its one caller (measured).
#[inline(always)]
fn spawn(
    payload: &Payload,
    inherited: &Inherited,
    started: Option<&OwnedFd>,
    told: bool,
    cgroup: Option<BorrowedFd>,
    pid1: bool,
) -> Result<(i32, bool), i32> {
    let env = payload.env;
    // SAFETY: fd 0 is only borrowed for the ioctls below; a closed fd just fails them.
    let stdin = unsafe { BorrowedFd::borrow_raw(0) };
    // Who holds the terminal, asked once: EOPNOTSUPP is a group this pid namespace cannot
    // see (a terminal all the same), ENOTTY or EBADF no terminal.
    let holder = rustix::termios::tcgetpgrp(stdin);
    let terminal = !matches!(
        holder,
        Err(rustix::io::Errno::NOTTY | rustix::io::Errno::BADF)
    );
    let foreground = payload
        .foreground
        .unwrap_or_else(|| holder == Ok(process::getpgrp()));
    let failed = |what, e| {
        Error::new(what, e).report();
        125
    };
    let pipe = match told {
        true => Some(rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)),
        false => None,
    };
    let (status_rd, status_wr) = pipe.transpose().map_err(|e| failed(b"pipe", e))?.unzip();
    let pid = sys::spawn_child(0, cgroup).map_err(|e| failed(b"fork", e))?;
    if pid == 0 {
        if payload.new_session {
            let _ = process::setsid();
        } else {
            let _ = process::setpgid(None, None);
        }
        if foreground && !payload.new_session {
            let _ = rustix::termios::tcsetpgrp(stdin, process::getpid());
        }
        let mut listen_pid: crate::buf::Buf<32> = crate::buf::Buf::new();
        rewrite_listen_pid(env, &mut listen_pid);
        if let Some(home) = payload.confine.user.as_ref().and_then(|u| u.home) {
            set_home(env, home);
        }
        inherited.restore();
        let status = lock_down_and_exec(payload, started);
        if let Some(fd) = status_wr {
            report::write_all(fd.as_raw_fd(), &[status as u8]);
        }
        sys::exit(status)
    }
    drop(status_wr);
    // Both sides set the group, so -g works whichever runs first (not with a new session:
    // setsid fails for a process that already leads a group).
    if !payload.new_session {
        let _ = process::setpgid(Pid::from_raw(pid), Pid::from_raw(pid));
    }
    let mut status = [0u8; 1];
    while let Some(fd) = &status_rd {
        match rustix::io::read(fd, &mut status) {
            Err(rustix::io::Errno::INTR) => {}
            Ok(1) => {
                let _ = process::waitpid(Pid::from_raw(pid), WaitOptions::empty());
                return Err(status[0].into());
            }
            _ => break,
        }
    }
    // Inside a sandbox without a pid namespace the stops stay COMMAND's: the monitor above
    // would not see husk stop. As PID 1 with a terminal, stops from it are watched even
    // when husk kept the terminal (it forwards them).
    let own_terminal = payload.foreground.is_none() || pid1;
    let watched = foreground || pid1 && terminal;
    let job_control = watched && !payload.new_session && own_terminal;
    Ok((pid, job_control))
}

/// The last steps before COMMAND: the lockdown, then the exec; `started`, if given, gets
/// one byte in between, and a second if the exec fails (so COMMAND ran if it holds exactly
/// one once closed). Returns the exit status for a failure (reported here).
fn lock_down_and_exec(payload: &Payload, started: Option<&OwnedFd>) -> i32 {
    if let Err(e) = crate::lockdown::apply(payload.confine, payload.sandbox) {
        e.report();
        return 125;
    }
    if let Some(user) = &payload.confine.user {
        if let Err(e) = crate::user::switch_to(user) {
            Error::new(b"--user", e).with(user.given).report();
            return 125;
        }
    }
    if let Some(fd) = started {
        report::write_all(fd.as_raw_fd(), b"1");
    }
    let errno = exec::exec(payload.program, payload.argv, payload.env);
    Error::new(payload.program.to_bytes(), errno).report();
    if let Some(fd) = started {
        report::write_all(fd.as_raw_fd(), b"!");
    }
    exec::status_for(errno)
}

/// `--user`, as gosu and su-exec: HOME, when set, names the user's home directory.
fn set_home(env: Env, home: &'static CStr) {
    if let Some((index, _)) = env.find(b"HOME") {
        // SAFETY: as in rewrite_listen_pid: the forked child's own copy of the array, an
        // index from Env::find, and `home` lives as long as husk.
        unsafe { env.set(index, home.as_ptr()) };
    }
}

/// `--as-pid-1`: COMMAND replaces this process (the sandbox's PID 1), with no husk init
/// left inside; as bubblewrap, `started` is told once the setup is done, before the exec.
pub fn exec_in_place(payload: &Payload, inherited: &Inherited, started: &OwnedFd) -> i32 {
    if payload.new_session {
        let _ = process::setsid();
    }
    inherited.restore();
    lock_down_and_exec(payload, Some(started))
}

/// Socket activation: when LISTEN_PID names husk, the sockets are meant for COMMAND, so the
/// child's copy of the environment says COMMAND's pid instead (sd_listen_fds checks it).
#[inline(always)]
fn rewrite_listen_pid(env: Env, buf: &mut crate::buf::Buf<32>) {
    let Some((index, value)) = env.find(b"LISTEN_PID") else {
        return;
    };
    let mut digits = [0u8; 20];
    // Husk is this child's parent; asked only here, so starts without LISTEN_PID pay nothing.
    let husk_pid = process::getppid().map_or(0, |p| p.as_raw_nonzero().get());
    if value.to_bytes() != crate::num::format(husk_pid as u64, &mut digits) {
        return;
    }
    let own = process::getpid().as_raw_nonzero().get();
    if let Ok(entry) = buf.push(b"LISTEN_PID=").num(own.into()).as_cstr() {
        // SAFETY: this runs in the forked child, which owns its copy of the environment
        // array; index comes from Env::find, and buf outlives the exec that reads it.
        unsafe { env.set(index, entry.as_ptr()) };
    }
}

/// The loop: wait for a signal; reap on SIGCHLD, forward anything else. Ends when `child`
/// has exited (detected while reaping, so coalesced SIGCHLDs never lose it), and with
/// `--wait-all` once no child is left. The sandbox's monitor runs it too, with the default
/// `Init`, for its one child.
pub fn supervise(init: &Init, child: i32, job_control: bool) -> i32 {
    // When the time limit runs out, and when the signal `--delay-signal` holds goes on
    // (NEVER: not set, or gone); once it has gone, the next go at once.
    let mut deadline = init
        .time_limit_ms
        .map_or(NEVER, |ms| sys::monotonic_ms() + ms);
    let mut held = NEVER;
    let mut delayed = init.delay_signal == 0;
    let mut exited = None;
    let status = loop {
        let wake = deadline.min(held);
        let left = (wake != NEVER).then(|| wake.saturating_sub(sys::monotonic_ms()));
        match sys::sigtimedwait(ALL_SIGNALS, left) {
            None if wake != NEVER && sys::monotonic_ms() >= wake => {
                if wake == held {
                    held = NEVER;
                    forward(init, child, init.delay_signal);
                    continue;
                }
                deadline = NEVER;
                report::say(&[
                    b"--time-limit: time limit reached, killing COMMAND and its descendants",
                ]);
                // With --pause there is no COMMAND (child 0): kill(0) would be husk's own
                // process group, and with it the caller's.
                if child != 0 {
                    let _ = sys::kill(-child, SIGKILL);
                    let _ = sys::kill(child, SIGKILL);
                }
                signal_descendants(SIGKILL);
                if init.pause {
                    break 128 + SIGKILL;
                }
            }
            None => {}
            Some(SIGCHLD) => {
                if job_control {
                    follow_stop(child);
                }
                let (status, left) = reap(init, child);
                exited = exited.or(status);
                match exited {
                    Some(status) if !init.wait_all || !left => break status,
                    _ => {}
                }
            }
            Some(SIGTERM | SIGINT) if init.pause => return 0,
            Some(_) if init.pause => {}
            Some(sig) => {
                crate::machine::signal_taken(sig);
                crate::termination::signal_taken(init, sig);
                if sig == init.delay_signal {
                    if !delayed {
                        delayed = true;
                        held = sys::monotonic_ms() + init.delay_ms;
                        continue;
                    }
                    // A second one while the first is held: both are one, and it goes now.
                    held = NEVER;
                }
                forward(init, child, sig)
            }
        }
    };
    match init.grace_ms {
        // Every descendant left gets the grace, the members of COMMAND's group among them.
        Some(ms) if reap(init, 0).1 => shut_down(init, ms),
        // -g as dumb-init's setsid mode: the rest of the group is told to end (none with
        // --pause). Not waited for: as a plain child husk has none of it to reap, and it
        // exits at once, as before.
        _ if init.kill_group && child != 0 => {
            let _ = sys::kill(-child, SIGTERM);
        }
        _ => {}
    }
    match status {
        s if s <= 255 && init.remap.contains(s as u8) => 0,
        s => s,
    }
}

/// A time that never comes, for a deadline not set.
const NEVER: u64 = u64::MAX;

/// Job control: when COMMAND, holding the terminal, is stopped (Ctrl-Z), husk takes the
/// terminal back and stops itself, so the shell above sees the job stopped; once continued
/// (fg), it hands the terminal back to COMMAND and continues it. As PID 1 it cannot stop,
/// so a stop from the terminal is undone. WSTOPPED alone never consumes an exit, which
/// `reap` must see.
fn follow_stop(child: i32) {
    // COMMAND was spawned, so its pid is never 0.
    let Some(child) = Pid::from_raw(child) else {
        return;
    };
    let stopped = process::waitid(
        process::WaitId::Pid(child),
        process::WaitIdOptions::STOPPED | process::WaitIdOptions::NOHANG,
    );
    let Ok(Some(st)) = stopped.as_ref() else {
        return;
    };
    if !st.stopped() {
        return;
    }
    if process::getpid().is_init() {
        // PID 1 cannot stop itself, so no shell above can take the stop over: one from the
        // terminal (Ctrl-Z) is undone, or COMMAND and Ctrl-C with it would hang; a SIGSTOP
        // sent on purpose stays.
        use linux_raw_sys::general::{SIGTSTP, SIGTTIN, SIGTTOU};
        let from_terminal = st.stopping_signal().map(|sig| sig as u32);
        if let Some(SIGTSTP | SIGTTIN | SIGTTOU) = from_terminal {
            let _ = process::kill_process_group(child, Signal::CONT);
        }
        return;
    }
    // SAFETY: fd 0 is only borrowed for tcsetpgrp; SIGTTOU is blocked, so husk may call it
    // from the background.
    let stdin = unsafe { BorrowedFd::borrow_raw(0) };
    let _ = rustix::termios::tcsetpgrp(stdin, process::getpgrp());
    let _ = process::kill_process(process::getpid(), Signal::STOP);
    // Continued: the shell has given our group the terminal again.
    let _ = rustix::termios::tcsetpgrp(stdin, child);
    let _ = process::kill_process_group(child, Signal::CONT);
}

/// Passes `sig` on to COMMAND (or its group), as `-g` and `--rewrite` say; with
/// `--wait-all` to every descendant. Never inlined: smaller as a call from supervise's loop
/// (measured).
#[inline(never)]
fn forward(init: &Init, child: i32, sig: i32) {
    let sig = match init.rewrite[sig as usize] {
        crate::spec::UNSET if init.kill_group => SIGSTOP,
        crate::spec::UNSET => sig,
        to => i32::from(to),
    };
    if sig != 0 && init.wait_all {
        // As PID 1, kill(-1) reaches COMMAND too: one signal each, never two.
        signal_descendants(sig);
    } else if sig != 0 {
        let _ = sys::kill(if init.kill_group { -child } else { child }, sig);
    }
}

/// Reaps every exited child; returns COMMAND's exit status if it was among them, and
/// whether any child is left.
fn reap(init: &Init, child: i32) -> (Option<i32>, bool) {
    let mut status = None;
    loop {
        match process::wait(WaitOptions::NOHANG) {
            Ok(Some((pid, st))) => {
                let pid = pid.as_raw_nonzero().get();
                if pid == child {
                    status = Some(exit_code(st));
                    crate::termination::command_ended(st);
                } else if init.warn_reap {
                    Line::new()
                        .push(b"reaped zombie process ")
                        .num(pid.into())
                        .print();
                }
            }
            // Children left, none exited; or (ECHILD) none left.
            Ok(None) => return (status, true),
            Err(_) => return (status, false),
        }
    }
}

/// `--grace`, and a machine's end: SIGTERM every remaining descendant (as PID 1 every
/// process), reap for up to `ms`, SIGKILL the rest.
pub(crate) fn shut_down(init: &Init, ms: u64) {
    signal_descendants(SIGTERM);
    let mut left = ms;
    while reap(init, 0).1 {
        if left == 0 {
            if init.verbosity >= 1 {
                report::say(&[b"grace period over: sending SIGKILL"]);
            }
            signal_descendants(SIGKILL);
            while let Ok(Some(_)) = process::wait(WaitOptions::empty()) {}
            return;
        }
        let start = sys::monotonic_ms();
        sys::sigtimedwait(sys::sigbit(SIGCHLD), Some(left));
        left = left.saturating_sub(sys::monotonic_ms() - start);
    }
}

/// The exit status as a shell reports it: the code, or 128+N for death by signal N.
fn exit_code(st: process::WaitStatus) -> i32 {
    match st.terminating_signal() {
        Some(sig) => 128 + sig,
        None => st.exit_status().unwrap_or(0),
    }
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
