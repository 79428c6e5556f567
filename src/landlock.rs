//! Landlock (landlock(7)): once any `--landlock-ro/-rw/-exec` path is given, COMMAND can
//! reach only those paths; `--landlock-bind/-connect` do the same for TCP ports. Applied in
//! the child just before exec, in init mode as in a sandbox. Best effort by the kernel's
//! ABI, with a one-line warning for what it cannot enforce; `--landlock-strict` makes that
//! an error.

use crate::error::{Error, Result};
use crate::report;
use crate::spec::{Landlock, PathAccess};
use crate::sys::{self, Errno};
use linux_raw_sys::landlock as lk;
use rustix::fd::{AsFd, OwnedFd};
use rustix::fs::{Mode, OFlags};

const fn right(access: u32) -> u64 {
    access as u64
}
const EXECUTE: u64 = right(lk::LANDLOCK_ACCESS_FS_EXECUTE);
const WRITE_FILE: u64 = right(lk::LANDLOCK_ACCESS_FS_WRITE_FILE);
const READ_FILE: u64 = right(lk::LANDLOCK_ACCESS_FS_READ_FILE);
const READ_DIR: u64 = right(lk::LANDLOCK_ACCESS_FS_READ_DIR);
const TRUNCATE: u64 = right(lk::LANDLOCK_ACCESS_FS_TRUNCATE);
const IOCTL_DEV: u64 = right(lk::LANDLOCK_ACCESS_FS_IOCTL_DEV);
/// The rights that apply to a file (not a directory) at each ABI: the first three,
/// TRUNCATE (v3), IOCTL_DEV (v5).
const FILE_RIGHTS: u64 = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV;

/// Every filesystem right the kernel's ABI knows: EXECUTE to MAKE_SYM (v1, the rights are
/// consecutive bits), REFER (v2), TRUNCATE (v3), IOCTL_DEV (v5).
fn fs_rights(abi: u32) -> u64 {
    let last = match abi {
        1 => lk::LANDLOCK_ACCESS_FS_MAKE_SYM,
        2 => lk::LANDLOCK_ACCESS_FS_REFER,
        3 | 4 => lk::LANDLOCK_ACCESS_FS_TRUNCATE,
        _ => lk::LANDLOCK_ACCESS_FS_IOCTL_DEV,
    };
    (right(last) << 1) - 1
}
const BIND_TCP: u64 = right(lk::LANDLOCK_ACCESS_NET_BIND_TCP);
const CONNECT_TCP: u64 = right(lk::LANDLOCK_ACCESS_NET_CONNECT_TCP);

/// The ruleset for `ll`; `scope`: COMMAND runs in a sandbox, so it also gets the scopes.
/// no_new_privs is already set.
pub fn apply<'a>(ll: &'a Landlock<'a>, scope: bool) -> Result<'a, ()> {
    let any = ll.any();
    if !any && !scope {
        return Ok(());
    }
    let has_net = !ll.bind.is_empty() || !ll.connect.is_empty();
    // What this kernel cannot enforce of the rules, said once: landlock itself when it has
    // no ABI (0 below), or the TCP rules before ABI 4.
    let (abi, missing) = match sys::landlock_abi() {
        Ok(abi) if has_net && abi < 4 => (
            abi,
            Some((
                &b"--landlock-bind/--landlock-connect: this kernel's landlock has no TCP rules"[..],
                Errno::OPNOTSUPP,
            )),
        ),
        Ok(abi) => (abi, None),
        Err(e) => (
            0,
            Some((&b"--landlock-*: landlock is unavailable here"[..], e)),
        ),
    };
    // Scopes alone are best effort without a word: the sandbox asks for them itself.
    if let (Some((what, e)), true) = (missing, any) {
        not_enforced(ll, what, e)?;
    }
    // COMMAND reaches neither the host's abstract sockets (with --share-net) nor, with a
    // signal, any process outside its own.
    let scopes = right(lk::LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | lk::LANDLOCK_SCOPE_SIGNAL);
    let scoped = if scope && abi >= 6 { scopes } else { 0 };
    if abi == 0 || (!any && scoped == 0) {
        return Ok(());
    }
    let handled_fs = if ll.paths.is_empty() {
        0
    } else {
        fs_rights(abi)
    };
    let handled_net = if has_net && abi >= 4 {
        BIND_TCP | CONNECT_TCP
    } else {
        0
    };
    let ruleset = sys::landlock_create_ruleset(handled_fs, handled_net, scoped, abi);
    let ruleset = ruleset.map_err(|e| Error::new(b"landlock_create_ruleset", e))?;
    for &(access, path) in ll.paths.iter() {
        let flags = OFlags::PATH | OFlags::CLOEXEC;
        let added = rustix::fs::open(path, flags, Mode::empty()).and_then(|fd: OwnedFd| {
            let is_dir = rustix::fs::fstat(&fd).is_ok_and(|st| st.st_mode & 0o170000 == 0o040000);
            let mut allowed = match access {
                PathAccess::ReadOnly => READ_FILE | READ_DIR,
                PathAccess::Exec => READ_FILE | READ_DIR | EXECUTE,
                PathAccess::ReadWrite => handled_fs,
            } & handled_fs;
            if !is_dir {
                allowed &= FILE_RIGHTS;
            }
            sys::landlock_add_path(&ruleset, fd.as_fd(), allowed)
        });
        added.map_err(|e| Error::new(access.option(), e).with(path))?;
    }
    if handled_net != 0 {
        for bind in [true, false] {
            let (option, right, ports): (&[u8], _, _) = if bind {
                (b"--landlock-bind", BIND_TCP, &ll.bind)
            } else {
                (b"--landlock-connect", CONNECT_TCP, &ll.connect)
            };
            for &port in ports.iter() {
                sys::landlock_add_port(&ruleset, u64::from(port), right)
                    .map_err(|e| Error::new(option, e).with_number(port.into()))?;
            }
        }
    }
    sys::landlock_restrict_self(&ruleset).map_err(|e| Error::new(b"landlock_restrict_self", e))
}

/// Warns (or, with `--landlock-strict`, fails) about a rule the kernel cannot enforce.
fn not_enforced<'a>(ll: &Landlock, what: &'static [u8], e: Errno) -> Result<'a, ()> {
    if ll.strict {
        return Err(Error::new(what, e));
    }
    report::say(&[what, b" (not enforced)"]);
    Ok(())
}
