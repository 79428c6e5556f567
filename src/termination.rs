//! `--termination-log PATH`: how husk's run ended, written once at the very end, where
//! Kubernetes looks for it (the kubelet shows the first 4 KiB of /dev/termination-log as
//! the container's termination message). One JSON line:
//!
//! `{"exit-code":143,"command-signal":15,"stop-signal":15,"shutdown-ms":1203}`
//!
//! `exit-code` is husk's own exit status; `command-signal` the signal COMMAND died of (0
//! when it exited); `stop-signal` the first SIGTERM, SIGINT, SIGQUIT or `--delay-signal`
//! signal husk took (0 when none came); `shutdown-ms` the time from that signal (or,
//! without one, from COMMAND's end) to the line being written, `--grace`, `--wait-all` and
//! `--delay-signal` included. The init loop notes the events as they happen.

use crate::error::{Error, Result};
use crate::report::Line;
use crate::spec::Init;
use crate::sys::{self, SIGINT, SIGTERM};
use core::ffi::CStr;
use core::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering::Relaxed};
use rustix::fd::AsRawFd;

/// Set once a log is asked for: the notes read the clock, a system call each.
static ON: AtomicBool = AtomicBool::new(false);
static STOP_SIGNAL: AtomicI32 = AtomicI32::new(0);
static STOP_AT: AtomicU64 = AtomicU64::new(0);
static COMMAND_SIGNAL: AtomicI32 = AtomicI32::new(0);
static COMMAND_END: AtomicU64 = AtomicU64::new(0);

/// Before COMMAND starts: the file can be opened for writing (created if missing, not
/// emptied: the log of the run before stays until this one ends).
pub fn prepare(path: &CStr) -> Result<'_, ()> {
    open(path, rustix::fs::OFlags::empty())
        .map_err(|e| Error::new(b"--termination-log", e).with(path))?;
    ON.store(true, Relaxed);
    Ok(())
}

/// The init loop took `sig`.
pub fn signal_taken(init: &Init, sig: i32) {
    let stop = matches!(sig, SIGTERM | SIGINT) || sig == linux_raw_sys::general::SIGQUIT as i32;
    if ON.load(Relaxed) && STOP_AT.load(Relaxed) == 0 && (stop || sig == init.delay_signal) {
        STOP_SIGNAL.store(sig, Relaxed);
        STOP_AT.store(sys::monotonic_ms(), Relaxed);
    }
}

/// The init loop reaped COMMAND.
pub fn command_ended(st: rustix::process::WaitStatus) {
    if ON.load(Relaxed) {
        COMMAND_SIGNAL.store(st.terminating_signal().unwrap_or(0), Relaxed);
        COMMAND_END.store(sys::monotonic_ms(), Relaxed);
    }
}

/// At the end: the line, replacing what the file held. A failure is reported, and the exit
/// status stays COMMAND's (a restart policy reads it).
#[inline(never)]
pub fn write(path: &CStr, status: i32) {
    // Not prepared: husk failed before COMMAND, and said so already.
    if !ON.load(Relaxed) {
        return;
    }
    let now = sys::monotonic_ms();
    let since = match (STOP_AT.load(Relaxed), COMMAND_END.load(Relaxed)) {
        (0, 0) => now,
        (0, end) => end,
        (stop, _) => stop,
    };
    let mut line = Line::empty();
    line.push(b"{\"exit-code\":")
        .num(status.into())
        .push(b",\"command-signal\":")
        .num(COMMAND_SIGNAL.load(Relaxed).into())
        .push(b",\"stop-signal\":")
        .num(STOP_SIGNAL.load(Relaxed).into())
        .push(b",\"shutdown-ms\":")
        .num((now - since) as i64)
        .push(b"}");
    match open(path, rustix::fs::OFlags::TRUNC) {
        Ok(fd) => line.write_line(fd.as_raw_fd()),
        Err(e) => Error::new(b"--termination-log", e).with(path).report(),
    }
}

fn open(path: &CStr, extra: rustix::fs::OFlags) -> rustix::io::Result<rustix::fd::OwnedFd> {
    use rustix::fs::{Mode, OFlags};
    let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::CLOEXEC | OFlags::NOCTTY | extra;
    rustix::fs::open(path, flags, Mode::from_raw_mode(0o644))
}
