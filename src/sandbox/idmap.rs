//! User namespace id maps. The monitor writes the inner init's maps from the host side:
//! directly (a single mapping of the caller, or any ranges as root), or through
//! newuidmap/newgidmap for ranges when rootless. Setup runs as uid 0 inside, so that
//! devpts and the like can be mounted; `--uid`/`--gid` other than 0 are applied at the end
//! by a nested user namespace that maps them onto that 0 (as bubblewrap does).

use super::{mounts::Names, must};
use crate::buf::Buf;
use crate::error::{self, Error};
use crate::spec::{IdRange, List, Sandbox, MAX_ID_RANGES};
use crate::sys::{self, Errno};
use core::ffi::CStr;
use rustix::fs::{Mode, OFlags};

/// Writes uid_map, setgroups and gid_map of `pid`; `root`: husk may map any id
/// (`may_map_any_id`). A failing newuidmap's own words land in `said`, and become the
/// reason of the one line husk prints.
pub fn write<'a>(
    pid: i32,
    sb: &Sandbox,
    (uid, gid, root): (u32, u32, bool),
    said: &'a mut [u8; 256],
) -> error::Result<'a, ()> {
    // Rootless: the caller becomes 0 inside. As root: every id is itself (the caller is 0
    // already), so `--uid 1000` is uid 1000 for every permission check on the host too.
    let default = |outside| {
        let mut l = List::<IdRange, MAX_ID_RANGES>::new();
        let count = if root { u32::MAX } else { 1 };
        let _ = l.push(IdRange {
            inside: 0,
            outside,
            count,
        });
        l
    };
    // The maps given, or the defaults made here (borrowed, not copied).
    let (own_uid, own_gid) = (default(uid), default(gid));
    let uid_map = if sb.uid_map.is_empty() {
        &own_uid
    } else {
        &sb.uid_map
    };
    let gid_map = if sb.gid_map.is_empty() {
        &own_gid
    } else {
        &sb.gid_map
    };
    // Setup runs as the caller: it must appear in the maps (or files it creates overflow).
    let covers = |map: &List<IdRange, MAX_ID_RANGES>, own: u32| {
        map.iter()
            .any(|r| own >= r.outside && own - r.outside < r.count)
    };
    let refuse =
        |what| Error::new(what, Errno::INVAL).because(text!("must map the caller's own id"));
    if !covers(uid_map, uid) {
        return Err(refuse(b"--uid-map"));
    }
    if !covers(gid_map, gid) {
        return Err(refuse(b"--gid-map"));
    }
    let needs_helper = |map: &List<IdRange, MAX_ID_RANGES>, own: u32| {
        !root && map.iter().any(|r| r.count != 1 || r.outside != own)
    };
    if needs_helper(uid_map, uid) || needs_helper(gid_map, gid) {
        for (i, name) in Names(b"newuidmap\0newgidmap\0").enumerate() {
            let (map, what): (_, &[u8]) = if i == 0 {
                (uid_map, b"--uid-map (newuidmap)")
            } else {
                (gid_map, b"--gid-map (newgidmap)")
            };
            if let Err(e) = helper(name, pid, map, said) {
                let len = said.iter().position(|&b| b == 0).unwrap_or(said.len());
                let words = said[..len].trim_ascii_end();
                let failed = Error::new(what, e);
                return Err(match words {
                    [] => failed,
                    _ => failed.because(words),
                });
            }
        }
        return Ok(());
    }
    write_map(pid, b"uid_map", uid_map).map_err(|e| Error::new(b"writing uid_map", e))?;
    if !root {
        // Unprivileged gid maps need setgroups denied first (user_namespaces(7)).
        write_proc(pid, b"setgroups", b"deny").map_err(|e| Error::new(b"writing setgroups", e))?;
    }
    write_map(pid, b"gid_map", gid_map).map_err(|e| Error::new(b"writing gid_map", e))
}

/// Room for MAX_ID_RANGES lines (or arguments) of three u32 numbers. PATH_MAX, as every
/// small text husk composes: each size of `Buf` would be another copy of its code.
type MapText = Buf;

fn write_map(pid: i32, file: &[u8], map: &List<IdRange, MAX_ID_RANGES>) -> Result<(), Errno> {
    let mut text = MapText::new();
    map_text(&mut text, map, b" ", b"\n");
    write_proc(pid, file, text.as_bytes()?)
}

/// Each range of `map` as `INSIDE OUTSIDE COUNT`, the numbers followed by `sep`, the last
/// by `end`: the lines of a map file, or newuidmap's arguments.
fn map_text(text: &mut MapText, map: &List<IdRange, MAX_ID_RANGES>, sep: &[u8], end: &[u8]) {
    for r in map.iter() {
        text.num(r.inside.into())
            .push(sep)
            .num(r.outside.into())
            .push(sep);
        text.num(r.count.into()).push(end);
    }
}

/// Whether husk may write any id map: uid 0 with CAP_SETUID and CAP_SETGID (not, say, a
/// husk nested in a sandbox that kept only CAP_SYS_ADMIN; that one maps its own ids).
#[inline(never)]
pub fn may_map_any_id() -> bool {
    use rustix::thread::CapabilitySet as Cap;
    rustix::process::getuid().is_root()
        && rustix::thread::capabilities(None)
            .is_ok_and(|c| c.effective.contains(Cap::SETUID | Cap::SETGID))
}

/// Writes `/proc/PID/FILE` (PID 0: self) in one write(2), as the kernel requires.
pub fn write_proc(pid: i32, file: &[u8], content: &[u8]) -> Result<(), Errno> {
    let mut path: Buf = Buf::new();
    path.push(b"/proc/");
    if pid == 0 {
        path.push(b"self");
    } else {
        path.num(pid.into());
    }
    path.push(b"/").push(file);
    let flags = OFlags::WRONLY | OFlags::CLOEXEC;
    let fd = rustix::fs::open(path.as_cstr()?, flags, Mode::empty())?;
    rustix::io::write(&fd, content).map(drop)
}

/// Runs newuidmap/newgidmap PID INSIDE OUTSIDE COUNT... and waits for it; what it says on
/// stderr goes into `said` (NUL-padded), not to husk's stderr. Never inlined: smaller as a
/// call than inlined in the monitor (measured), as the other helpers of the big setup
/// functions so marked.
#[inline(never)]
fn helper(
    name: &CStr,
    pid: i32,
    map: &List<IdRange, MAX_ID_RANGES>,
    said: &mut [u8; 256],
) -> Result<(), Errno> {
    // Argument strings: the pid and three numbers per range, NUL-terminated, in one buffer.
    let mut text = MapText::new();
    text.num(pid.into()).push(b"\0");
    map_text(&mut text, map, b"\0", b"\0");
    // argv: the program's name, then each NUL-terminated string of `text`.
    let mut argv = [core::ptr::null::<core::ffi::c_char>(); 2 + 3 * MAX_ID_RANGES + 1];
    argv[0] = name.as_ptr();
    let mut rest = text.as_bytes()?;
    for slot in argv[1..1 + 1 + 3 * MAX_ID_RANGES].iter_mut() {
        let Some(end) = rest.iter().position(|&b| b == 0) else {
            break;
        };
        *slot = rest.as_ptr().cast();
        rest = &rest[end + 1..];
    }
    let (said_rd, said_wr) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)?;
    let child = sys::clone(0)?;
    if child == 0 {
        let _ = rustix::stdio::dup2_stderr(&said_wr);
        // The environment is empty: newuidmap needs none.
        let envp = [core::ptr::null::<core::ffi::c_char>()];
        for dir in Names(b"/usr/bin/\0/bin/\0/usr/sbin/\0") {
            let mut path: Buf = Buf::new();
            if let Ok(p) = path.push(dir.to_bytes()).push(name.to_bytes()).as_cstr() {
                // SAFETY: argv and envp are NULL-terminated (argv's last slot is never
                // filled) and point into buffers that outlive the call.
                unsafe { sys::execve(p, argv.as_ptr(), envp.as_ptr()) };
            }
        }
        crate::report::write_all(
            2,
            b"not found in /usr/bin, /bin, /usr/sbin (install Debian's uidmap)",
        );
        sys::exit(127);
    }
    drop(said_wr);
    said.fill(0);
    let mut got = 0;
    while let Ok(n @ 1..) = rustix::io::read(&said_rd, &mut said[got..255]) {
        got += n;
    }
    match rustix::process::waitpid(
        rustix::process::Pid::from_raw(child),
        rustix::process::WaitOptions::empty(),
    ) {
        Ok(Some((_, st))) if st.exit_status() == Some(0) => Ok(()),
        _ => Err(Errno::PERM),
    }
}

/// In the inner init after setup: `--uid`/`--gid` other than 0. With the identity map of a
/// root caller, by changing ids (capabilities kept for COMMAND's `--cap-add`); otherwise
/// through a nested user namespace mapping them onto the uid and gid 0 that set the
/// sandbox up (a rootless caller has only that one id). Returns whether this process's
/// own ids changed (which clears its parent-death signal). A failure ends the inner init.
/// Never inlined: smaller as a call than inlined in the inner init (measured).
#[inline(never)]
pub fn become_ids(sb: &Sandbox, identity: bool) -> bool {
    let changed = identity && must(change_ids(sb), text!("--uid/--gid"));
    // The ids setup ran as (0 unless --uid-map said otherwise), read before unsharing.
    let setup = (
        rustix::process::geteuid().as_raw(),
        rustix::process::getegid().as_raw(),
    );
    let (uid, gid) = match identity {
        true => setup,
        false => (sb.uid.unwrap_or(setup.0), sb.gid.unwrap_or(setup.1)),
    };
    // COMMAND keeping CAP_SYS_ADMIN in the namespace that owns husk's mounts could undo
    // them (unmount the /proc masks, remount / rw). One user namespace down, its
    // capabilities end above the mounts: it can make namespaces of its own (whose copies
    // of the mounts are locked), not change these.
    let admin = sb.caps & (1 << linux_raw_sys::general::CAP_SYS_ADMIN) != 0;
    if (uid, gid) == setup && !admin {
        return changed;
    }
    let nested = text!("--uid/--gid (nested user namespace)");
    must(
        crate::sys::unshare(linux_raw_sys::general::CLONE_NEWUSER),
        nested,
    );
    let one = |inside: u32, outside: u32| {
        let mut l = List::<IdRange, MAX_ID_RANGES>::new();
        let _ = l.push(IdRange {
            inside,
            outside,
            count: 1,
        });
        l
    };
    // A change of ids made the process non-dumpable, which hands /proc/self to root: this
    // process must open its own maps (the inner init turns dumping off again right after).
    must(
        rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::Dumpable),
        nested,
    );
    must(write_map(0, b"uid_map", &one(uid, setup.0)), text!("--uid"));
    must(write_proc(0, b"setgroups", b"deny"), text!("--gid"));
    must(write_map(0, b"gid_map", &one(gid, setup.1)), text!("--gid"));
    changed
}

/// setresgid, no supplementary groups, setresuid, keeping the permitted capabilities so
/// that COMMAND can still be given the ones asked for. Returns whether the ids changed.
fn change_ids(sb: &Sandbox) -> Result<bool, Errno> {
    use rustix::process::{Gid, Uid};
    let (uid, gid) = (sb.uid.unwrap_or(0), sb.gid.unwrap_or(0));
    if (uid, gid) == (0, 0) {
        return Ok(false);
    }
    rustix::thread::set_keep_capabilities(true)?;
    rustix::thread::set_thread_groups(&[])?;
    let (uid, gid) = (Uid::from_raw(uid), Gid::from_raw(gid));
    rustix::thread::set_thread_res_gid(gid, gid, gid)?;
    rustix::thread::set_thread_res_uid(uid, uid, uid)?;
    // A uid change clears the effective set; the lockdown needs it (CAP_SETPCAP).
    let all = crate::lockdown::known_caps();
    let all = rustix::thread::CapabilitySet::from_bits_retain(all);
    let sets = rustix::thread::CapabilitySets {
        effective: all,
        permitted: all,
        inheritable: rustix::thread::CapabilitySet::empty(),
    };
    rustix::thread::set_capabilities(None, sets).map(|()| true)
}
