//! Landlock (landlock(7)): once any `--landlock-ro/-rw/-exec` path is given, COMMAND can
//! reach only those paths; `--landlock-bind/-connect` do the same for TCP ports. Applied in
//! the child just before exec, in init mode as in a sandbox. Best effort by the kernel's
//! ABI, with a one-line warning for what it cannot enforce; `--landlock-strict` makes that
//! an error.

use crate::init::StepError;
use crate::report;
use crate::spec::{Landlock, PathAccess};
use crate::sys::{self, Errno};
use rustix::fd::{AsRawFd, OwnedFd};
use rustix::fs::{Mode, OFlags};

const EXECUTE: u64 = 1 << 0;
const WRITE_FILE: u64 = 1 << 1;
const READ_FILE: u64 = 1 << 2;
const READ_DIR: u64 = 1 << 3;
/// The rights that apply to a file (not a directory) at each ABI: bits 0-2, TRUNCATE (v3),
/// IOCTL_DEV (v5).
const FILE_RIGHTS: u64 = EXECUTE | WRITE_FILE | READ_FILE | (1 << 14) | (1 << 15);

/// Every filesystem right the kernel's ABI knows: bits 0-12 (v1), REFER (v2), TRUNCATE
/// (v3), IOCTL_DEV (v5).
fn fs_rights(abi: u32) -> u64 {
    match abi {
        1 => (1 << 13) - 1,
        2 => (1 << 14) - 1,
        3 | 4 => (1 << 15) - 1,
        _ => (1 << 16) - 1,
    }
}

pub fn apply(ll: &Landlock) -> Result<(), StepError> {
    if !ll.any() && !ll.scope {
        return Ok(());
    }
    let abi = match sys::landlock_abi() {
        Ok(abi) => abi,
        // Scopes alone are best effort without a word: the sandbox asks for them itself.
        Err(_) if !ll.any() => 0,
        Err(e) => return not_enforced(ll, b"--landlock-*: landlock is unavailable here", e),
    };
    // ABSTRACT_UNIX_SOCKET | SIGNAL: COMMAND reaches neither the host's abstract sockets
    // (with --share-net) nor, with a signal, any process outside its own.
    let scoped = if ll.scope && abi >= 6 { 0b11 } else { 0 };
    if !ll.any() && scoped == 0 {
        return Ok(());
    }
    let has_net = !ll.bind.is_empty() || !ll.connect.is_empty();
    if has_net && abi < 4 {
        not_enforced(
            ll,
            b"--landlock-bind/--landlock-connect: this kernel's landlock has no TCP rules",
            Errno::OPNOTSUPP,
        )?;
    }
    let handled_fs = if ll.paths.is_empty() {
        0
    } else {
        fs_rights(abi)
    };
    let handled_net = if has_net && abi >= 4 { 0b11 } else { 0 };
    let fail = |e| (&b"--landlock-*"[..], e);
    let ruleset =
        sys::landlock_create_ruleset(handled_fs, handled_net, scoped, abi).map_err(fail)?;
    for &(access, path) in ll.paths.iter() {
        let flags = OFlags::PATH | OFlags::CLOEXEC;
        let fd: OwnedFd = rustix::fs::open(path, flags, Mode::empty())
            .map_err(|e| (&b"--landlock-* PATH"[..], e))?;
        let is_dir = rustix::fs::fstat(&fd).is_ok_and(|st| st.st_mode & 0o170000 == 0o040000);
        let mut allowed = match access {
            PathAccess::ReadOnly => READ_FILE | READ_DIR,
            PathAccess::Exec => READ_FILE | READ_DIR | EXECUTE,
            PathAccess::ReadWrite => handled_fs,
        } & handled_fs;
        if !is_dir {
            allowed &= FILE_RIGHTS;
        }
        sys::landlock_add_path(&ruleset, fd.as_raw_fd(), allowed).map_err(fail)?;
    }
    if handled_net != 0 {
        for (ports, right) in [(&ll.bind, 1u64), (&ll.connect, 2u64)] {
            for &port in ports.iter() {
                sys::landlock_add_port(&ruleset, u64::from(port), right).map_err(fail)?;
            }
        }
    }
    sys::prctl(linux_raw_sys::prctl::PR_SET_NO_NEW_PRIVS, 1, 0).map_err(fail)?;
    sys::landlock_restrict_self(&ruleset).map_err(fail)
}

/// Warns (or, with `--landlock-strict`, fails) about a rule the kernel cannot enforce.
fn not_enforced(ll: &Landlock, what: &'static [u8], e: Errno) -> Result<(), StepError> {
    if ll.strict {
        return Err((what, e));
    }
    report::say(&[what, b" (not enforced)"]);
    Ok(())
}
