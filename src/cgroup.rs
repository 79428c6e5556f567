//! cgroup v2 (`--cgroup DIR`): COMMAND (or the whole sandbox) starts inside DIR, created if
//! missing, through clone3(CLONE_INTO_CGROUP); `--memory-max`, `--pids-max` and `--cpu-max`
//! are written there first. When husk ends, everything left in DIR is killed (cgroup.kill)
//! and a DIR husk created is removed, so nothing outlives it.

use crate::init::StepError;
use crate::spec::Cgroup;
use rustix::fd::OwnedFd;
use rustix::fs::{AtFlags, Mode, OFlags, CWD};

pub struct Joined<'a> {
    pub dir: OwnedFd,
    path: &'a core::ffi::CStr,
    created: bool,
}

pub fn prepare<'a>(cg: &Cgroup<'a>) -> Result<Option<Joined<'a>>, StepError> {
    let Some(path) = cg.dir else { return Ok(None) };
    let created = match rustix::fs::mkdir(path, Mode::from_raw_mode(0o755)) {
        Ok(()) => true,
        Err(rustix::io::Errno::EXIST) => false,
        Err(e) => return Err((b"--cgroup", e)),
    };
    let dir = rustix::fs::open(
        path,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    );
    let joined = Joined {
        dir: dir.map_err(|e| (&b"--cgroup"[..], e))?,
        path,
        created,
    };
    let limits: [(&[u8], &core::ffi::CStr, Option<&core::ffi::CStr>); 3] = [
        (
            b"--memory-max: memory.max (memory controller delegated here?)",
            c"memory.max",
            cg.memory_max,
        ),
        (
            b"--pids-max: pids.max (pids controller delegated here?)",
            c"pids.max",
            cg.pids_max,
        ),
        (
            b"--cpu-max: cpu.max (cpu controller delegated here?)",
            c"cpu.max",
            cg.cpu_max,
        ),
    ];
    for (what, file, value) in limits {
        if let Some(value) = value {
            // cpu.max takes "QUOTA PERIOD"; the option says QUOTA/PERIOD.
            let mut text = crate::report::Line::empty();
            for &b in value.to_bytes() {
                text.push(&[if b == b'/' { b' ' } else { b }]);
            }
            if let Err(e) = write_at(&joined.dir, file, text.as_bytes()) {
                finish(Some(joined));
                return Err((what, e));
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
        let _ = rustix::fs::unlinkat(CWD, j.path, AtFlags::REMOVEDIR);
    }
}

fn write_at(dir: &OwnedFd, file: &core::ffi::CStr, value: &[u8]) -> Result<(), rustix::io::Errno> {
    let fd = rustix::fs::openat(dir, file, OFlags::WRONLY | OFlags::CLOEXEC, Mode::empty())?;
    rustix::io::write(&fd, value).map(drop)
}
