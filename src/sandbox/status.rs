//! `--info-fd` and `--json-status-fd`: bubblewrap's JSON, written by the monitor.

use super::mounts::Names;
use crate::buf::Buf;
use crate::report::Line;
use crate::spec::Sandbox;

/// What bubblewrap lists, in its order: the namespaces made for the sandbox but the user
/// namespace (and the time one, which the inner init enters later). Packed, each its
/// CLONE_NEW* flag's bit number then its name (a table of slices would be 16 bytes of
/// pointer and length a name); the test below checks the bits.
const NAMESPACES: &[u8] = b"\x19cgroup\0\x1bipc\0\x11mnt\0\x1enet\0\x1dpid\0\x1auts\0";

/// `{ "child-pid": N, "<ns>-namespace": INODE, ... }` on `--json-status-fd`, and the same
/// over lines of its own on `--info-fd` (then closed), as bubblewrap writes them once the
/// sandbox's init exists: for each namespace in `flags` (those it was made with) whose id
/// can be read while the init is still dumpable. Never inlined: smaller as a call than
/// inlined in the monitor (measured).
#[inline(never)]
pub fn started(sb: &Sandbox, pid: i32, flags: u64) {
    for (i, fd) in [sb.info_fd, sb.json_status_fd].into_iter().enumerate() {
        let Some(fd) = fd else { continue };
        let info = i == 0;
        // What opens the record, what comes before each further key, and what closes it.
        let (open, sep, end): (&[u8], &[u8], &[u8]) = if info {
            (b"{\n    \"child-pid\": ", b",\n    \"", b"\n}")
        } else {
            (b"{ \"child-pid\": ", b", \"", b" }")
        };
        let mut json = Line::empty();
        json.push(open).num(pid.into());
        for entry in Names(NAMESPACES) {
            let (&bit, file) = entry.to_bytes().split_first().unwrap_or((&63, b""));
            let mut path: Buf = Buf::new();
            path.push(b"/proc/")
                .num(pid.into())
                .push(b"/ns/")
                .push(file);
            let id = match path.as_cstr() {
                Ok(path) if flags & 1 << bit != 0 => {
                    rustix::fs::stat(path).map_or(0, |st| st.st_ino)
                }
                _ => 0,
            };
            if id != 0 {
                json.push(sep).push(file);
                json.push(b"-namespace\": ").num(id as i64);
            }
        }
        json.push(end).write_line(fd);
        if info {
            // bubblewrap closes the info fd once it has written it.
            // SAFETY: the user handed this descriptor to husk for exactly this use.
            drop(unsafe { <rustix::fd::OwnedFd as rustix::fd::FromRawFd>::from_raw_fd(fd) });
        }
    }
}

/// `{ "exit-code": N }` when the sandbox has ended, if COMMAND ran: as bubblewrap, nothing
/// when setup failed or COMMAND could not be executed.
pub fn exited(sb: &Sandbox, status: i32, ran: bool) {
    if let (Some(fd), true) = (sb.json_status_fd, ran) {
        Line::empty()
            .push(b"{ \"exit-code\": ")
            .num(status.into())
            .push(b" }")
            .write_line(fd);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use linux_raw_sys::general as k;

    #[test]
    fn each_namespace_has_its_flag() {
        let want = [
            (&b"cgroup"[..], k::CLONE_NEWCGROUP),
            (b"ipc", k::CLONE_NEWIPC),
            (b"mnt", k::CLONE_NEWNS),
            (b"net", k::CLONE_NEWNET),
            (b"pid", k::CLONE_NEWPID),
            (b"uts", k::CLONE_NEWUTS),
        ];
        let got: Vec<(&[u8], u32)> = Names(NAMESPACES)
            .map(|e| (&e.to_bytes()[1..], 1u32 << e.to_bytes()[0]))
            .collect();
        assert_eq!(got, want);
    }
}
