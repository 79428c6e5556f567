//! `--info-fd` and `--json-status-fd`: bubblewrap's JSON, written by the monitor.

use crate::buf::Buf;
use crate::report::Line;
use crate::spec::Sandbox;

const NAMESPACES: [(&[u8], &[u8]); 7] = [
    (b"cgroup", b"cgroup-namespace"),
    (b"ipc", b"ipc-namespace"),
    (b"mnt", b"mnt-namespace"),
    (b"net", b"net-namespace"),
    (b"pid", b"pid-namespace"),
    (b"uts", b"uts-namespace"),
    (b"user", b"user-namespace"),
];

/// The namespace ids of `pid`, read while it is still dumpable (0 where unreadable).
pub fn namespace_ids(sb: &Sandbox, pid: i32) -> [u64; 7] {
    let mut ids = [0; 7];
    if sb.info_fd.is_none() && sb.json_status_fd.is_none() {
        return ids;
    }
    for (id, (file, _)) in ids.iter_mut().zip(NAMESPACES) {
        let mut path = Buf::<64>::new();
        path.push(b"/proc/")
            .num(pid.into())
            .push(b"/ns/")
            .push(file);
        if let Ok(path) = path.as_cstr() {
            *id = rustix::fs::stat(path).map_or(0, |st| st.st_ino);
        }
    }
    ids
}

/// `{"child-pid": N, "<ns>-namespace": INODE, ...}` once COMMAND has started. Written with
/// the output line buffer: a record is at most seven keys and numbers, far below its size.
pub fn started(sb: &Sandbox, pid: i32, ids: &[u64; 7]) {
    if sb.info_fd.is_none() && sb.json_status_fd.is_none() {
        return;
    }
    let mut json = Line::empty();
    json.push(b"{\"child-pid\": ").num(pid.into());
    for (id, (_, key)) in ids.iter().zip(NAMESPACES).filter(|(id, _)| **id != 0) {
        json.push(b", \"").push(key).push(b"\": ").num(*id as i64);
    }
    json.push(b"}");
    for fd in [sb.info_fd, sb.json_status_fd].into_iter().flatten() {
        json.write_line(fd);
    }
    if let Some(fd) = sb.info_fd {
        // bubblewrap closes the info fd once it has written it.
        // SAFETY: the user handed this descriptor to husk for exactly this use.
        drop(unsafe { <rustix::fd::OwnedFd as rustix::fd::FromRawFd>::from_raw_fd(fd) });
    }
}

/// `{"exit-code": N}` when the sandbox has ended.
pub fn exited(sb: &Sandbox, status: i32) {
    if let Some(fd) = sb.json_status_fd {
        Line::empty()
            .push(b"{\"exit-code\": ")
            .num(status.into())
            .push(b"}")
            .write_line(fd);
    }
}
