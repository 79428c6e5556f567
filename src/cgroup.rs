//! cgroup v2 (`--cgroup DIR`): COMMAND (or the whole sandbox) starts inside DIR, created if
//! missing, through clone3(CLONE_INTO_CGROUP); `--memory-max`, `--pids-max` and `--cpu-max`
//! are written there first. When husk ends, everything left in DIR is killed (cgroup.kill)
//! and a DIR husk created is removed, so nothing outlives it.

use crate::error::{Error, Result};
use crate::sandbox::mounts::Names;
use crate::spec::Cgroup;
use core::ffi::CStr;
use rustix::fd::OwnedFd;
use rustix::fs::{AtFlags, Mode, OFlags};
use rustix::io::Errno;

pub struct Joined<'a> {
    pub dir: OwnedFd,
    path: &'a core::ffi::CStr,
    created: bool,
}

/// The limit files, by `CgroupLimit`: the option, the file, and its controller, packed (a
/// pointer and a length for each would take more room than the words).
const LIMITS: Names = Names(
    b"--memory-max\0memory.max\0(memory.max: is the memory controller delegated here?)\0\
    --pids-max\0pids.max\0(pids.max: is the pids controller delegated here?)\0\
    --cpu-max\0cpu.max\0(cpu.max: is the cpu controller delegated here?)\0",
);

/// Creates (or joins) DIR and writes the limits; None without `--cgroup`. Always inlined:
/// smaller inlined in its one caller (measured).
#[inline(always)]
pub fn prepare<'a>(cg: &Cgroup<'a>) -> Result<'a, Option<Joined<'a>>> {
    let Some(path) = cg.dir else { return Ok(None) };
    let fail = |e| Error::new(b"--cgroup", e).with(path);
    let created = match rustix::fs::mkdir(path, Mode::from_raw_mode(0o755)) {
        Ok(()) => true,
        Err(rustix::io::Errno::EXIST) => false,
        Err(e) => return Err(fail(e)),
    };
    let dir = rustix::fs::open(
        path,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    );
    let joined = Joined {
        dir: dir.map_err(fail)?,
        path,
        created,
    };
    let mut limits = LIMITS;
    for value in cg.limits {
        let (Some(option), Some(file), Some(hint)) = (limits.next(), limits.next(), limits.next())
        else {
            break;
        };
        if let Some(value) = value {
            // cpu.max takes "QUOTA PERIOD"; the option says QUOTA/PERIOD.
            let mut text = [0u8; 64];
            let v = value.to_bytes();
            let text = text.get_mut(..v.len()).ok_or(Errno::INVAL).map(|t| {
                for (t, &b) in t.iter_mut().zip(v) {
                    *t = if b == b'/' { b' ' } else { b };
                }
                &*t
            });
            if let Err(e) = text.and_then(|t| write_at(&joined.dir, file, t)) {
                finish(Some(joined));
                let (option, hint) = (option.to_bytes(), hint.to_bytes());
                return Err(Error::new(option, e).with(value).with_bytes(hint));
            }
        }
    }
    Ok(Some(joined))
}

/// Kills what is left in the cgroup, waits for it to empty, and removes it if husk made it.
pub fn finish(joined: Option<Joined>) {
    let Some(j) = joined else { return };
    let _ = write_at(&j.dir, c"cgroup.kill", b"1");
    for _ in 0..200 {
        let mut buf = [0u8; 256];
        let events = rustix::fs::openat(
            &j.dir,
            c"cgroup.events",
            OFlags::RDONLY | OFlags::CLOEXEC,
            Mode::empty(),
        );
        let n = events
            .and_then(|fd| rustix::io::read(&fd, &mut buf))
            .unwrap_or(0);
        if !buf[..n].windows(11).any(|w| w == b"populated 1") {
            break;
        }
        crate::sys::sigtimedwait(0, Some(5));
    }
    if j.created {
        // Through DIR's own parent, not the path: the init has left the directory a
        // relative DIR was relative to.
        let up = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
        if let Ok(parent) = rustix::fs::openat(&j.dir, c"..", up, Mode::empty()) {
            // DIR's last component, and the slashes after it (`a/b/` → `b/`).
            if let Ok((dir, _)) = crate::buf::split_last(j.path.to_bytes()) {
                let name = crate::buf::suffix(j.path, dir.len());
                let _ = rustix::fs::unlinkat(&parent, name, AtFlags::REMOVEDIR);
            }
        }
    }
}
fn write_at(dir: &OwnedFd, file: &CStr, value: &[u8]) -> core::result::Result<(), Errno> {
    let fd = rustix::fs::openat(dir, file, OFlags::WRONLY | OFlags::CLOEXEC, Mode::empty())?;
    rustix::io::write(&fd, value).map(drop)
}
