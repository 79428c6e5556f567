//! `--user USER[:GROUP]` in init mode, the job of gosu and su-exec: the ids COMMAND runs
//! as, found in /etc/passwd and /etc/group (no NSS: an image has the files or numbers), and
//! the switch to them in the child just before exec.
//!
//! As Docker's `--user` (and gosu, through runc's rules): a USER found in /etc/passwd gets
//! its primary group and every group of /etc/group that lists it, and HOME becomes its home
//! directory; a number not in the file keeps husk's own group; a GROUP given is the only
//! group.

use crate::num::parse as parse_u64;
use crate::spec::List;
use crate::sys::Errno;
use crate::text::Text;
use core::ffi::CStr;
use rustix::process::{Gid, Uid};

pub const MAX_GROUPS: usize = 64;

/// Whom COMMAND runs as; the parser keeps what was given, `resolve` finds the rest.
#[derive(Clone)]
pub struct User<'a> {
    /// The option's value, for messages.
    pub given: &'a CStr,
    pub uid: u32,
    /// Every group, the primary one first.
    pub groups: List<Gid, MAX_GROUPS>,
    /// `HOME=` and the home directory from /etc/passwd, for COMMAND's environment (none
    /// when the entry names no directory). In storage of its own: in the Spec, its 4 KiB
    /// cost init mode a page at every start.
    pub home: Option<&'static CStr>,
}

impl<'a> User<'a> {
    pub fn given(given: &'a CStr) -> Self {
        User {
            given,
            uid: 0,
            groups: List::new(),
            home: None,
        }
    }
}

/// Finds the ids of `--user`, once, before COMMAND is first started; or why not (the
/// caller names the option and its value).
#[inline(never)]
pub fn resolve(user: &mut User<'static>) -> core::result::Result<(), Text> {
    let given = user.given.to_bytes();
    let name = field(given, 0);
    let group = given.get(name.len() + 1..);
    let number = id(name);
    let mut found = |e: &[u8]| field(e, 0) == name || number.is_some() && id_at(e, 2) == number;
    let (passwd, room) = read(c"/etc/passwd")?;
    let entry = find(passwd, b'\n', &mut found);
    let mut gid = rustix::process::getgid().as_raw();
    match (entry, number) {
        (Some(e), _) => {
            user.home = home_entry(field(e, 5), room)?;
            let ids = id_at(e, 2).zip(id_at(e, 3));
            (user.uid, gid) = ids.ok_or(text!("its /etc/passwd entry has no ids"))?;
        }
        // A number no entry names: husk's own group, as Docker's --user.
        (None, Some(uid)) => user.uid = uid,
        (None, None) => return Err(text!("no such user in /etc/passwd")),
    }
    let (groups, _) = read(c"/etc/group")?;
    if let Some(group) = group {
        let named = find(groups, b'\n', &mut |e| field(e, 0) == group);
        gid = id(group)
            .or_else(|| id_at(named?, 2))
            .ok_or(text!("no such group in /etc/group"))?;
    }
    let _ = user.groups.push(Gid::from_raw(gid));
    // Only a user found in /etc/passwd has groups to join; a GROUP given is the only one.
    let (Some(e), None) = (entry, group) else {
        return Ok(());
    };
    let name = field(e, 0);
    let mut full = false;
    find(groups, b'\n', &mut |g| {
        let member = find(field(g, 3), b',', &mut |m| m == name).is_some();
        match id_at(g, 2) {
            Some(other) if member && other != gid => {
                full |= user.groups.push(Gid::from_raw(other)).is_err()
            }
            _ => {}
        }
        full
    });
    match full {
        true => Err(text!("in more than 64 groups")),
        false => Ok(()),
    }
}

/// A uid or gid: decimal, and not -1 (which the kernel reads as "unchanged").
fn id(s: &[u8]) -> Option<u32> {
    parse_u64(s)
        .filter(|&n| n < u64::from(u32::MAX))
        .map(|n| n as u32)
}

/// The id in field `n` of an entry.
#[inline(never)]
fn id_at(entry: &[u8], n: usize) -> Option<u32> {
    id(field(entry, n))
}

/// The first entry of a passwd or group file (a line, not a comment), or of a group's
/// members (`sep` a comma), for which `wanted` holds. Not generic: one copy of the walk for
/// its four uses.
#[inline(never)]
fn find<'f>(file: &'f [u8], sep: u8, wanted: &mut dyn FnMut(&[u8]) -> bool) -> Option<&'f [u8]> {
    let mut rest = file;
    while let [first, ..] = rest {
        let end = rest.iter().position(|&b| b == sep).unwrap_or(rest.len());
        let entry = &rest[..end];
        rest = rest.get(end + 1..).unwrap_or_default();
        if *first != b'#' && wanted(entry) {
            return Some(entry);
        }
    }
    None
}

/// Field `n` of an entry (empty when it has fewer).
#[inline(never)]
fn field(entry: &[u8], n: usize) -> &[u8] {
    entry.split(|&b| b == b':').nth(n).unwrap_or_default()
}

/// The whole file, read into storage of its own that is never freed (its names are used
/// until the exec), and the zeroed rest of that storage; a missing file has no entries.
fn read(path: &CStr) -> core::result::Result<(&'static [u8], &'static mut [u8]), Text> {
    match crate::argfile::read_path(path) {
        Err(Errno::NOENT) => Ok((b"", &mut [])),
        read => read.map_err(Text::Errno),
    }
}

/// `HOME=DIR`, NUL-terminated, written into `room` (zero: the NUL is there already): the
/// environment entry the child points at. None for an empty DIR.
fn home_entry(
    dir: &[u8],
    room: &'static mut [u8],
) -> core::result::Result<Option<&'static CStr>, Text> {
    if dir.is_empty() {
        return Ok(None);
    }
    let entry = room
        .get_mut(..dir.len() + 6)
        .ok_or(Text::Errno(Errno::TOOBIG))?;
    entry[..5].copy_from_slice(b"HOME=");
    entry[5..dir.len() + 5].copy_from_slice(dir);
    // SAFETY: the entry ends with a zero byte of the room, and holds no other NUL but what
    // /etc/passwd holds (none; one would only end it early).
    Ok(Some(unsafe { CStr::from_bytes_with_nul_unchecked(entry) }))
}

/// In the child, just before exec: the groups, then the gid, then the uid (after it, the
/// others cannot be set).
#[inline(never)]
pub fn switch_to(user: &User) -> core::result::Result<(), Errno> {
    let groups = user.groups.as_slice();
    let gid = groups.first().copied().unwrap_or(Gid::ROOT);
    let uid = Uid::from_raw(user.uid);
    rustix::thread::set_thread_groups(groups)?;
    rustix::thread::set_thread_res_gid(gid, gid, gid)?;
    rustix::thread::set_thread_res_uid(uid, uid, uid)
}
