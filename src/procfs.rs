//! Reading /proc without allocating: the pids present, and a process's parent.

use core::mem::MaybeUninit;
use rustix::fs::{Mode, OFlags, RawDir};

/// Calls `f` with every pid listed in /proc. Never inlined, as parent_of: smaller as calls
/// (measured).
#[inline(never)]
pub fn for_each_pid(mut f: impl FnMut(i32)) {
    let Ok(dir) = rustix::fs::open(
        c"/proc",
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    ) else {
        return;
    };
    let mut buf = [MaybeUninit::<u8>::uninit(); 2048];
    let mut entries = RawDir::new(&dir, &mut buf);
    while let Some(Ok(entry)) = entries.next() {
        if let Some(pid) = crate::num::parse(entry.file_name().to_bytes()) {
            f(pid as i32);
        }
    }
}

/// The parent pid from /proc/PID/stat (the field after the state, which follows the last
/// ')' so that a command name with spaces or parentheses cannot confuse it). The kernel
/// writes `) S PPID `: the state is one letter, each field follows one space.
#[inline(never)]
pub fn parent_of(pid: i32) -> Option<i32> {
    let mut path: crate::buf::Buf = crate::buf::Buf::new();
    let path = path
        .push(b"/proc/")
        .num(pid.into())
        .push(b"/stat")
        .as_cstr()
        .ok()?;
    let fd = rustix::fs::open(path, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty()).ok()?;
    let mut buf = [0u8; 512];
    let n = rustix::io::read(&fd, &mut buf).ok()?;
    let stat = &buf[..n];
    let close = stat.iter().rposition(|&b| b == b')')?;
    let ppid = stat.get(close + 4..)?;
    let end = ppid.iter().position(|&b| b == b' ')?;
    crate::num::parse(&ppid[..end]).map(|p| p as i32)
}

/// Whether `ancestor` is among the ancestors of `pid` (a bounded walk up the parent chain).
pub fn descends_from(mut pid: i32, ancestor: i32) -> bool {
    for _ in 0..256 {
        match parent_of(pid) {
            Some(p) if p == ancestor => return true,
            Some(p) if p > 1 => pid = p,
            _ => return false,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg_attr(miri, ignore = "reads /proc through raw syscalls")]
    fn finds_own_parent_and_ancestry() {
        let me = std::process::id() as i32;
        let parent = parent_of(me).unwrap();
        assert_eq!(parent, std::os::unix::process::parent_id() as i32);
        let mut seen = false;
        for_each_pid(|p| seen |= p == me);
        assert!(seen);
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        assert!(descends_from(child.id() as i32, me));
        assert!(!descends_from(me, child.id() as i32));
        child.kill().unwrap();
        child.wait().unwrap();
    }
}
