//! Building the new root and pivoting into it. Everything is done through file descriptors:
//! sources are opened from the host's root (or cwd) as detached mount trees (open_tree),
//! given their flags on every submount (mount_setattr), and attached (move_mount) onto
//! destinations resolved inside the new root with RESOLVE_IN_ROOT, so no path, symlink or
//! `..` in a hostile root can lead a mount or a mkdir out of it. Fresh filesystems (proc,
//! tmpfs, devpts, mqueue) come from fsopen/fsmount the same way.

use super::{die, die_with, must};
use crate::buf::{split_last, Buf, PATH_MAX};
use crate::error::Error;
use crate::spec::{MountOp, OpKind, Sandbox};
use crate::sys::{self, Errno};
use crate::text::Text;
use core::ffi::CStr;
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::{self, FileType, Mode, OFlags, ResolveFlags, CWD};
use rustix::mount::{
    self as m, FsMountFlags, FsOpenFlags, MountAttrFlags, MountPropagationFlags, MoveMountFlags,
    OpenTreeFlags, UnmountFlags,
};

const NOSUID: u64 = linux_raw_sys::general::MOUNT_ATTR_NOSUID as u64;
const NODEV: u64 = linux_raw_sys::general::MOUNT_ATTR_NODEV as u64;
const NOEXEC: u64 = linux_raw_sys::general::MOUNT_ATTR_NOEXEC as u64;
const RDONLY: u64 = linux_raw_sys::general::MOUNT_ATTR_RDONLY as u64;

const SYMLINK_REFUSED: Text = text!("is or passes through a symlink (refused)");

/// A new proc is refused with EPERM, in a user namespace, when the /proc mounted has paths
/// masked, as in a container (fsmount: mount_too_revealing); husk gives the pid namespace
/// the other EPERM would need (resolve). README tells the container runtimes' options.
const PROC_REFUSED: Text = text!(
    "Operation not permitted (this /proc has masked paths, as in a container: run it with \
     systempaths=unconfined, or procMount: Unmasked)"
);

/// The host's root and cwd (for bind sources) and the new root (for destinations).
struct Roots {
    host: OwnedFd,
    cwd: OwnedFd,
    new: OwnedFd,
}

/// Builds the root from `--rootfs` (or an empty tmpfs) and the mount options, in order, then
/// pivots into it and detaches the host's tree. A failure ends the inner init (`die`).
/// Never inlined on x86_64, inlined in `enter` elsewhere: smaller on each (measured).
#[cfg_attr(target_arch = "x86_64", inline(never))]
pub fn build_root(sb: &Sandbox) {
    let private = MountPropagationFlags::REC | MountPropagationFlags::PRIVATE;
    must(
        m::mount_change(c"/", private),
        text!("making mounts private"),
    );
    let dir = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let host = must(fs::open(c"/", dir, Mode::empty()), text!("opening /"));
    let cwd = must(
        fs::open(c".", dir, Mode::empty()),
        text!("opening the current directory"),
    );
    // Directories get exactly the modes asked (a sticky --perms included), as with bwrap;
    // COMMAND gets the caller's umask back.
    let umask = rustix::process::umask(Mode::empty());

    // A staging tmpfs becomes the root for a moment, with the host's tree below it at
    // /oldroot, so that nothing mounted for the new root ever covers a host path. Any
    // directory of the host's can hold it, since pivot_root takes it off there again: /tmp
    // (as bubblewrap, which needs it), else one that a root without /tmp still has.
    let staging = text!("mounting a staging tmpfs (on /tmp, /dev, /proc or /mnt)");
    let base = must(
        new_fs(c"tmpfs", Names(b"mode\x000755\0"), NOSUID | NODEV),
        staging,
    );
    let mut at = Err(Errno::NOENT);
    for dir in Names(b"/tmp\0/dev\0/proc\0/mnt\0") {
        at = attach(&base, CWD, dir).and_then(|()| rustix::process::chdir(dir));
        if !matches!(at, Err(Errno::NOENT | Errno::NOTDIR)) {
            break;
        }
    }
    must(at, staging);
    for d in Names(b"newroot\0oldroot\0") {
        must(fs::mkdirat(CWD, d, Mode::from_raw_mode(0o755)), staging);
    }
    must(
        rustix::process::pivot_root(c".", c"oldroot"),
        text!("pivot_root (staging)"),
    );

    let top = match sb.rootfs {
        Some(rootfs) => {
            let (base_fd, rel) = host_path(&host, &cwd, rootfs);
            let tree = m::open_tree(base_fd, rel, tree_flags(true)).and_then(|tree| {
                match fs::fstat(&tree) {
                    Ok(st) if FileType::from_raw_mode(st.st_mode) == FileType::Directory => {}
                    _ => return Err(Errno::NOTDIR),
                }
                let ro = if sb.rw { 0 } else { RDONLY };
                sys::mount_setattr(tree.as_fd(), true, NOSUID | NODEV | ro).map(|()| tree)
            });
            tree.unwrap_or_else(|e| die_with(b"--rootfs", e, rootfs, None))
        }
        None => must(
            new_fs(c"tmpfs", Names(b"mode\x000755\0"), NOSUID | NODEV),
            text!("mounting the root tmpfs"),
        ),
    };
    must(
        attach(&top, CWD, c"/newroot"),
        text!("attaching the new root"),
    );
    let new = must(
        fs::open(c"/newroot", dir, Mode::empty()),
        text!("opening the new root"),
    );
    let mut roots = Roots { host, cwd, new };

    for i in 0..rootfs_defaults(sb) {
        let op = &rootfs_default(i);
        // Never through a symlink, which could lead a tmpfs over /dev or /proc/sys: the
        // needed mounts refuse one, the others go only on directories of the rootfs
        // (Debian's /var/run is a symlink to /run, covered already).
        let dir_flags = OFlags::PATH | OFlags::DIRECTORY;
        match open_in(
            &roots.new,
            op.dest.to_bytes(),
            dir_flags,
            ResolveFlags::NO_SYMLINKS,
        ) {
            Err(_) if i >= ROOTFS_NEEDED => continue,
            Err(Errno::LOOP) => die_with(b"--rootfs", Errno::LOOP, op.dest, Some(SYMLINK_REFUSED)),
            _ => {}
        }
        apply(&roots, op);
    }
    for op in sb.ops.iter() {
        apply(&roots, op);
        if in_root(op.dest.to_bytes(), &mut Buf::new()).is_ok_and(|p| p == c".") {
            // A mount on the root itself covers the directory `new` refers to.
            roots.new = must(
                fs::open(c"/newroot", dir, Mode::empty()),
                text!("opening the new root"),
            );
        }
    }

    must(rustix::process::chdir(c"/newroot"), text!("pivot_root"));
    must(rustix::process::pivot_root(c".", c"."), text!("pivot_root"));
    must(
        m::unmount(c".", UnmountFlags::DETACH),
        text!("detaching the old root"),
    );
    must(rustix::process::chdir(c"/"), text!("chdir /"));
    rustix::process::umask(umask);
    // `roots.new` is the root directory now.
    verify(sb, &roots.new)
}

/// `--chdir DIR`, resolved inside the root (no symlink or `..` leads out, and no magic
/// link such as /proc/self/fd/N reaches a descriptor), then checked: the kernel names a
/// working directory outside the root "(unreachable)".
pub fn chdir_inside(dir: &CStr) -> Result<(), Errno> {
    let root = fs::open(
        c"/",
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let fd = open_dir_in(&root, dir.to_bytes())?;
    rustix::process::fchdir(&fd)?;
    // The whole path must fit: the "(unreachable)" prefix comes first, and a buffer too
    // small for it all hides it behind ERANGE.
    let mut buf = [0u8; PATH_MAX];
    match sys::getcwd(&mut buf) {
        Ok(()) if buf[0] == b'/' => Ok(()),
        _ => Err(Errno::XDEV),
    }
}

/// What `--rootfs` mounts before the options' own: a fresh /proc and /dev, and tmpfs on
/// /tmp, /run and /var/run, so no host socket under them is reachable. The first
/// ROOTFS_NEEDED are made where missing; the others only cover existing directories.
const ROOTFS_NEEDED: usize = 3;
/// Their destinations, packed: a /proc, a /dev, then tmpfs.
const ROOTFS_DEFAULTS: Names = Names(b"/proc\0/dev\0/tmp\0/run\0/var/run\0");
const ROOTFS_DEFAULTS_LEN: usize = 5;

/// The i-th of them as a mount operation (made here: a table of whole operations is
/// mostly empty fields).
fn rootfs_default(i: usize) -> MountOp<'static> {
    let kind = match i {
        0 => OpKind::Proc,
        1 => OpKind::Dev,
        _ => OpKind::Tmpfs,
    };
    let mut dests = ROOTFS_DEFAULTS;
    let dest = dests.nth(i).unwrap_or(c"/");
    MountOp {
        kind,
        option: b"--rootfs",
        source: None,
        dest,
        perms: None,
        size: None,
        fd: None,
    }
}

/// Whether two destinations name the same path, leading and trailing slashes aside.
fn same_path(a: &CStr, b: &CStr) -> bool {
    fn trim(p: &CStr) -> &[u8] {
        let p = p.to_bytes();
        let start = p.iter().take_while(|&&b| b == b'/').count();
        let end = p.len() - p[start..].iter().rev().take_while(|&&b| b == b'/').count();
        &p[start..end]
    }
    trim(a) == trim(b)
}

/// How many of ROOTFS_DEFAULTS apply: all with --rootfs, none without.
fn rootfs_defaults(sb: &Sandbox) -> usize {
    if sb.rootfs.is_some() {
        ROOTFS_DEFAULTS_LEN
    } else {
        0
    }
}

/// The i-th mount operation applied: the rootfs defaults, then the options in order.
fn nth_op<'a>(sb: &Sandbox<'a>, i: usize) -> Option<MountOp<'a>> {
    let defaults = rootfs_defaults(sb);
    match i < defaults {
        true => Some(rootfs_default(i)),
        false => sb.ops.iter().nth(i - defaults).copied(),
    }
}

/// After the pivot, every /proc and /dev husk mounted (and did not cover later) must be in
/// place: a proc with /proc/sys read-only, a tmpfs for /dev. A rootfs owner who swapped a
/// directory while the root was built gets 125 here instead of an unhardened /proc. Never
/// inlined: smaller as a call than inlined in build_root (measured).
#[inline(never)]
fn verify(sb: &Sandbox, root: &OwnedFd) {
    const PROC_SUPER_MAGIC: u64 = 0x9fa0;
    const TMPFS_MAGIC: u64 = 0x0102_1994;
    const ST_RDONLY: u64 = 1;
    let dir = OFlags::PATH | OFlags::DIRECTORY;
    let mut i = 0;
    while let Some(op) = nth_op(sb, i) {
        i += 1;
        let magic = match op.kind {
            OpKind::Proc => PROC_SUPER_MAGIC,
            OpKind::Dev => TMPFS_MAGIC,
            _ => continue,
        };
        // Covered by a later mount on the same path: that mount's result is what counts.
        let mut j = i;
        let mut covered = false;
        while let Some(later) = nth_op(sb, j) {
            let mounts = !matches!(
                later.kind,
                OpKind::Dir | OpKind::Symlink | OpKind::Chmod | OpKind::RemountRo
            );
            // A later mount on the root covers everything (bubblewrap's `--bind / /` after
            // `--proc`); a deeper one only its own path, which no symlink can fake.
            covered |= mounts && (same_path(later.dest, op.dest) || same_path(later.dest, c"/"));
            j += 1;
        }
        let in_place = |d: &OwnedFd| -> Result<bool, Errno> {
            let top = fs::fstatfs(d)?.f_type as u64 == magic;
            Ok(top
                && (magic != PROC_SUPER_MAGIC
                    || fs::fstatfs(entry(d, c"sys")?)?.f_flags as u64 & ST_RDONLY != 0))
        };
        let dest = open_in(root, op.dest.to_bytes(), dir, ResolveFlags::NO_SYMLINKS);
        if !covered && dest.and_then(|d| in_place(&d)) != Ok(true) {
            let moved = text!(
                "not in place after pivot_root (covered, or swapped while the root was built)"
            );
            die_with(op.option, Errno::PERM, op.dest, Some(moved));
        }
    }
}

/// One mount operation; a failure, naming the option and its operands, ends the inner init.
fn apply(r: &Roots, op: &MountOp) {
    let Err(e) = apply_op(r, op) else { return };
    let dest = Some(op.dest.to_bytes());
    let operands = match op.source {
        Some(src) => [Some(src.to_bytes()), dest],
        None => [dest, None],
    };
    // /proc and /dev are resolved with RESOLVE_NO_SYMLINKS: ELOOP means a symlink.
    let reason = match op.kind {
        OpKind::Proc | OpKind::Dev if e == Errno::LOOP => Some(SYMLINK_REFUSED),
        OpKind::Proc if e == Errno::PERM => Some(PROC_REFUSED),
        _ => None,
    };
    // Built in one piece: each of Error's builders would copy it whole.
    let base = Error::new(op.option, e);
    die(Error {
        operands,
        why: reason.map_or(base.why, crate::error::Why::Text),
        ..base
    })
}

/// Never inlined: smaller as a call (measured).
#[inline(never)]
fn apply_op(r: &Roots, op: &MountOp) -> Result<(), Errno> {
    let dest = op.dest;
    // Only --dir and --tmpfs have a mode (and --chmod, which makes nothing).
    let perms = op.perms;
    match op.kind {
        OpKind::Bind {
            read_only,
            devices,
            optional,
        } => {
            // A descriptor's mount is in the caller's mount namespace, which this one only
            // copied: it is bound by its path here, then checked to be the same file.
            let mut path: Buf = Buf::new();
            let src = match op.fd {
                Some(fd) => {
                    let mut link: Buf = Buf::new();
                    let link = link.push(b"proc/self/fd/").num(fd.into()).as_cstr()?;
                    let mut buf = [core::mem::MaybeUninit::<u8>::uninit(); PATH_MAX];
                    path.push(fs::readlinkat_raw(&r.host, link, &mut buf)?.0);
                    path.as_cstr()?
                }
                None => op.source.unwrap_or(c"."),
            };
            let (base, rel) = host_path(&r.host, &r.cwd, src);
            let tree = match m::open_tree(base, rel, tree_flags(true)) {
                Err(Errno::NOENT) if optional => return Ok(()),
                other => other?,
            };
            let found = fs::fstat(&tree)?;
            if let Some(fd) = op.fd {
                // SAFETY: check_fds found it open, and the inner init kept it for the setup.
                let given = fs::fstat(unsafe { BorrowedFd::borrow_raw(fd) })?;
                if (given.st_dev, given.st_ino) != (found.st_dev, found.st_ino) {
                    return Err(Errno::XDEV); // moved or replaced since it was opened
                }
            }
            let attrs =
                NOSUID | if devices { 0 } else { NODEV } | if read_only { RDONLY } else { 0 };
            let is_dir = found.st_mode & 0o170000 == 0o040000;
            let target = mount_point(&r.new, dest, is_dir, perms, ResolveFlags::empty())?;
            cover(tree, &target, attrs)
        }
        OpKind::RemountRo => {
            let target = open_in(&r.new, dest.to_bytes(), OFlags::PATH, ResolveFlags::empty())?;
            sys::mount_setattr(target.as_fd(), false, RDONLY)
        }
        // Fresh filesystems: made detached, then attached on the directory `dest` names.
        OpKind::Proc | OpKind::Dev | OpKind::Tmpfs | OpKind::Mqueue => {
            let kind = op.kind;
            // The new /proc and /dev refuse a symlink on the way (see apply).
            let resolve = match kind {
                OpKind::Proc | OpKind::Dev => ResolveFlags::NO_SYMLINKS,
                _ => ResolveFlags::empty(),
            };
            let target = mount_point(&r.new, dest, true, perms, resolve)?;
            let (fstype, n, attrs) = match kind {
                OpKind::Proc => (c"proc", 0, NOSUID | NODEV | NOEXEC),
                OpKind::Dev => (c"tmpfs", 1, NOSUID | NOEXEC),
                OpKind::Mqueue => (c"mqueue", 0, NOSUID | NODEV | NOEXEC),
                _ => (c"tmpfs", 1 + usize::from(op.size.is_some()), NOSUID | NODEV),
            };
            // A tmpfs's mode (a /dev's is 0755: it has no --perms) and size, the first n
            // of them, as new_fs takes them: `mode\0NNNN\0size\0N\0`.
            let perms = op.perms.unwrap_or(0o755);
            let mut options: Buf = Buf::new();
            let mut mode = *b"mode\x000000\0";
            for (i, digit) in mode[5..9].iter_mut().enumerate() {
                *digit = b'0' + (perms >> (9 - 3 * i) & 7) as u8;
            }
            if n > 0 {
                options.push(&mode);
            }
            if n > 1 {
                options
                    .push(b"size\0")
                    .num(op.size.unwrap_or(0) as i64)
                    .push(b"\0");
            }
            let fresh = new_fs(fstype, Names(options.as_bytes()?), attrs)?;
            attach(&fresh, target.as_fd(), c"")?;
            // `fresh` is the mount itself, now attached: everything below is done relative
            // to it, never by looking `dest` up again (the rootfs owner may have swapped it).
            match kind {
                OpKind::Proc => harden_proc(&r.host, &fresh),
                OpKind::Dev => populate_dev(&r.host, &fresh),
                _ => Ok(()),
            }
        }
        // As bwrap: the mode is given to a directory made here, not to one already there.
        OpKind::Dir => make_dirs(&r.new, dest.to_bytes(), op.perms),
        OpKind::Symlink => {
            let mut name = Buf::new();
            let (parent, name) = parent_and_name(&r.new, dest, None, &mut name)?;
            let target = op.source.unwrap_or(c"");
            match fs::symlinkat(target, &parent, name) {
                Err(Errno::EXIST) => {
                    let mut buf = [core::mem::MaybeUninit::<u8>::uninit(); PATH_MAX];
                    match fs::readlinkat_raw(&parent, name, &mut buf) {
                        Ok((existing, _)) if *existing == *target.to_bytes() => Ok(()),
                        _ => Err(Errno::EXIST),
                    }
                }
                other => other,
            }
        }
        OpKind::Chmod => chmod_in(&r.new, dest, op.perms.unwrap_or(0o755)),
        OpKind::Data { bound, read_only } => {
            // The parser gives every data option its descriptor.
            let fd = op.fd.ok_or(Errno::BADF)?;
            // SAFETY: as for --bind-fd above.
            let data = unsafe { BorrowedFd::borrow_raw(fd) };
            let perms = perms.unwrap_or(if bound { 0o600 } else { 0o666 });
            let mode = Mode::from_raw_mode(perms);
            let staged = c"data";
            let file = if bound {
                // On the staging tmpfs (the cwd), outside the new root; the name goes once
                // the copy is bound (a file without one cannot be).
                let create = OFlags::CREATE | OFlags::EXCL | OFlags::RDWR | OFlags::CLOEXEC;
                fs::openat(CWD, staged, create, mode)?
            } else {
                let mut name = Buf::new();
                let (parent, name) = parent_and_name(&r.new, dest, Some(perms), &mut name)?;
                let create = OFlags::CREATE | OFlags::TRUNC | OFlags::WRONLY | OFlags::NOFOLLOW;
                fs::openat(&parent, name, create | OFlags::CLOEXEC, mode)?
            };
            copy_data(data, &file)?;
            if !bound {
                return Ok(());
            }
            let tree = m::open_tree(CWD, staged, tree_flags(false))?;
            let target = mount_point(&r.new, dest, false, Some(perms), ResolveFlags::empty())?;
            let r = cover(
                tree,
                &target,
                NOSUID | NODEV | if read_only { RDONLY } else { 0 },
            );
            fs::unlinkat(CWD, staged, fs::AtFlags::empty())?;
            r
        }
    }
}

/// Everything `from` reads until EOF, written to `to`.
fn copy_data(from: BorrowedFd, to: &OwnedFd) -> Result<(), Errno> {
    let mut buf = [0u8; 4096];
    loop {
        let n = rustix::io::read(from, &mut buf)?;
        if n == 0 {
            return Ok(());
        }
        let mut done = 0;
        while done < n {
            done += rustix::io::write(to, &buf[done..n])?;
        }
    }
}

fn tree_flags(recursive: bool) -> OpenTreeFlags {
    let rec = if recursive {
        OpenTreeFlags::AT_RECURSIVE
    } else {
        OpenTreeFlags::empty()
    };
    OpenTreeFlags::OPEN_TREE_CLONE | OpenTreeFlags::OPEN_TREE_CLOEXEC | rec
}

/// A fresh filesystem as a detached mount with `attrs` (MOUNT_ATTR_* bits) and `options`,
/// each key followed by its value (packed: a table of C-string pairs is 32 bytes a pair).
fn new_fs(fstype: &CStr, mut options: Names, attrs: u64) -> Result<OwnedFd, Errno> {
    let fs = m::fsopen(fstype, FsOpenFlags::FSOPEN_CLOEXEC)?;
    while let (Some(key), Some(value)) = (options.next(), options.next()) {
        m::fsconfig_set_string(&fs, key, value)?;
    }
    m::fsconfig_create(&fs)?;
    m::fsmount(
        &fs,
        FsMountFlags::FSMOUNT_CLOEXEC,
        MountAttrFlags::from_bits_retain(attrs as u32),
    )
}

/// Attaches the detached mount `tree` at `path` relative to `dir` (an empty path: `dir`).
fn attach(tree: &OwnedFd, dir: BorrowedFd, path: &CStr) -> Result<(), Errno> {
    let mut flags = MoveMountFlags::MOVE_MOUNT_F_EMPTY_PATH;
    if path.is_empty() {
        flags |= MoveMountFlags::MOVE_MOUNT_T_EMPTY_PATH;
    }
    m::move_mount(tree, c"", dir, path, flags)
}

/// A host path as (directory fd, relative path): absolute paths from the host's root.
fn host_path<'f, 'p>(
    host: &'f OwnedFd,
    cwd: &'f OwnedFd,
    path: &'p CStr,
) -> (BorrowedFd<'f>, &'p CStr) {
    let bytes = path.to_bytes_with_nul();
    let skip = bytes.iter().take_while(|&&b| b == b'/').count();
    if skip == 0 {
        return (cwd.as_fd(), path);
    }
    let rel = crate::buf::suffix(path, skip);
    (host.as_fd(), if rel.is_empty() { c"." } else { rel })
}

/// A path in the new root as a relative one (leading slashes dropped, the root itself "."),
/// composed in `buf`, a fresh one: a returned buffer would be copied, 4 KiB each time.
fn in_root<'b>(path: &[u8], buf: &'b mut Buf) -> Result<&'b CStr, Errno> {
    let path = &path[path.iter().take_while(|&&b| b == b'/').count()..];
    buf.push(if path.is_empty() { b"." } else { path })
        .as_cstr()
}

/// openat2 inside the new root: symlinks and `..` resolve as if it were `/`.
fn open_in(
    root: &OwnedFd,
    path: &[u8],
    flags: OFlags,
    extra: ResolveFlags,
) -> Result<OwnedFd, Errno> {
    let mut rel = Buf::new();
    let rel = in_root(path, &mut rel)?;
    let resolve = ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS | extra;
    // openat2 fails with EAGAIN when a rename anywhere on the machine races a `..` lookup
    // (openat2(2)); a few retries are enough in practice.
    let mut tries = 0;
    loop {
        match fs::openat2(root, rel, flags | OFlags::CLOEXEC, Mode::empty(), resolve) {
            Err(Errno::AGAIN) if tries < 64 => tries += 1,
            other => return other,
        }
    }
}

/// The directory holding `path` (created if missing, with the modes bwrap gives the
/// parents of a file of mode `perms`) and the last component, composed in `buf`.
fn parent_and_name<'b>(
    root: &OwnedFd,
    path: &CStr,
    perms: Option<u32>,
    buf: &'b mut Buf,
) -> Result<(OwnedFd, &'b CStr), Errno> {
    let (dir, name) = split_last(path.to_bytes())?;
    make_dirs(root, dir, perms.map(|p| parent_mode(Some(p))))?;
    Ok((open_dir_in(root, dir)?, in_root(name, buf)?))
}

/// An O_PATH descriptor for the directory `path` inside the new root. Never inlined: one
/// copy for its three callers.
#[inline(never)]
fn open_dir_in(root: &OwnedFd, path: &[u8]) -> Result<OwnedFd, Errno> {
    let dir = OFlags::PATH | OFlags::DIRECTORY;
    open_in(root, path, dir, ResolveFlags::empty())
}

/// The mode of the parents made for a destination given `perms`: 0755, without the group's
/// or the others' bits when `perms` gives them none (bwrap's rule).
fn parent_mode(perms: Option<u32>) -> u32 {
    let p = perms.unwrap_or(0o755);
    let mut mode = 0o755;
    if p & 0o070 == 0 {
        mode &= !0o050;
    }
    if p & 0o007 == 0 {
        mode &= !0o005;
    }
    mode
}

/// mkdir -p inside the new root, the last directory with `perms` (or 0755), those leading
/// to it with `parent_mode(perms)`: each component is created in its parent, which is
/// itself resolved inside the root, so a symlinked component cannot lead outside.
fn make_dirs(root: &OwnedFd, path: &[u8], perms: Option<u32>) -> Result<(), Errno> {
    let mut full = Buf::new();
    let bytes = in_root(path, &mut full)?.to_bytes();
    let (parents, last) = (parent_mode(perms), perms.unwrap_or(0o755));
    let mut start = 0;
    while start < bytes.len() {
        let end = bytes[start..]
            .iter()
            .position(|&b| b == b'/')
            .map_or(bytes.len(), |i| start + i);
        let name = &bytes[start..end];
        if !name.is_empty() && name != b"." && name != b".." {
            let parent = open_dir_in(root, &bytes[..start])?;
            let mut buf = Buf::new();
            let name = in_root(name, &mut buf)?;
            // The last component (a path ending in two slashes gives its last the parents'
            // mode: none of bwrap's tests has one).
            let is_last = end + 1 >= bytes.len();
            let mode = if is_last { last } else { parents };
            match fs::mkdirat(&parent, name, Mode::from_raw_mode(mode)) {
                Ok(()) | Err(Errno::EXIST) => {}
                Err(e) => return Err(e),
            }
        }
        start = end + 1;
    }
    Ok(())
}

/// The destination of a mount, created as a directory (as `make_dirs` with `perms`) or an
/// empty file (0444, as bwrap) when missing.
fn mount_point(
    root: &OwnedFd,
    path: &CStr,
    dir: bool,
    perms: Option<u32>,
    extra: ResolveFlags,
) -> Result<OwnedFd, Errno> {
    match open_in(root, path.to_bytes(), OFlags::PATH, extra) {
        Err(Errno::NOENT) => {}
        other => return other,
    }
    if dir {
        make_dirs(root, path.to_bytes(), perms)?;
    } else {
        let mut name = Buf::new();
        let (parent, name) = parent_and_name(root, path, perms, &mut name)?;
        let create =
            OFlags::CREATE | OFlags::EXCL | OFlags::WRONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        match fs::openat(&parent, name, create, Mode::from_raw_mode(0o444)) {
            Ok(_) | Err(Errno::EXIST) => {}
            Err(e) => return Err(e),
        }
    }
    open_in(root, path.to_bytes(), OFlags::PATH, extra)
}

fn chmod_in(root: &OwnedFd, path: &CStr, mode: u32) -> Result<(), Errno> {
    let fd = open_in(
        root,
        path.to_bytes(),
        OFlags::RDONLY | OFlags::NONBLOCK,
        ResolveFlags::empty(),
    )?;
    fs::fchmod(&fd, Mode::from_raw_mode(mode))
}

/// An O_PATH descriptor for `name` in `dir`, not following a final symlink. Never inlined:
/// one copy for its four callers.
#[inline(never)]
fn entry(dir: &OwnedFd, name: &CStr) -> Result<OwnedFd, Errno> {
    fs::openat(
        dir,
        name,
        OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
}

/// Mounts the detached `tree` over `target`, with `attrs` on it and every submount.
fn cover(tree: OwnedFd, target: &OwnedFd, attrs: u64) -> Result<(), Errno> {
    sys::mount_setattr(tree.as_fd(), true, attrs)?;
    attach(&tree, target.as_fd(), c"")
}

/// C strings packed one after another, each ending in NUL (`b"a\0bc\0"`): a list of names
/// without a pointer and a length stored for each.
#[derive(Clone, Copy)]
pub(crate) struct Names<'a>(pub(crate) &'a [u8]);

impl<'a> Iterator for Names<'a> {
    type Item = &'a CStr;

    fn next(&mut self) -> Option<&'a CStr> {
        let end = self.0.iter().position(|&b| b == 0)?;
        let (name, rest) = self.0.split_at(end + 1);
        self.0 = rest;
        // SAFETY: `name` ends at its first NUL.
        Some(unsafe { CStr::from_bytes_with_nul_unchecked(name) })
    }
}

/// Host-wide knobs under a fresh /proc: read-only, or masked, as the OCI runtimes do.
/// Entries this kernel lacks are skipped. Never inlined: smaller as a call than inlined
/// in apply_op (measured).
#[inline(never)]
fn harden_proc(host: &OwnedFd, proc: &OwnedFd) -> Result<(), Errno> {
    // Read-only (the entry itself, bound over itself), masked by /dev/null, or hidden by
    // an empty read-only tmpfs: three lists in one, an empty name between them.
    const LISTS: Names = Names(
        b"sys\0sysrq-trigger\0irq\0bus\0\0\
        kcore\0keys\0key-users\0timer_list\0sched_debug\0latency_stats\0timer_stats\0\0\
        acpi\0scsi\0asound\0",
    );
    let mut how = 0;
    for name in LISTS {
        if name.is_empty() {
            how += 1;
            continue;
        }
        let Ok(target) = entry(proc, name) else {
            continue;
        };
        let (tree, attrs) = match how {
            0 => (
                m::open_tree(proc, name, tree_flags(true))?,
                RDONLY | NOSUID | NODEV | NOEXEC,
            ),
            1 => (
                m::open_tree(host, c"dev/null", tree_flags(false))?,
                RDONLY | NOSUID | NOEXEC,
            ),
            _ => {
                let empty = new_fs(
                    c"tmpfs",
                    Names(b"size\x000\0"),
                    RDONLY | NOSUID | NODEV | NOEXEC,
                )?;
                attach(&empty, target.as_fd(), c"")?;
                continue;
            }
        };
        cover(tree, &target, attrs)?;
    }
    Ok(())
}

/// A minimal /dev on a fresh tmpfs: the harmless host devices bound in, a private devpts,
/// /dev/shm, and the usual symlinks.
#[inline(always)]
fn populate_dev(host: &OwnedFd, dev: &OwnedFd) -> Result<(), Errno> {
    // Each name in the new /dev, then the host's device.
    let mut devices = Names(
        b"null\0dev/null\0zero\0dev/zero\0full\0dev/full\0random\0dev/random\0\
        urandom\0dev/urandom\0tty\0dev/tty\0",
    );
    while let (Some(name), Some(host_path)) = (devices.next(), devices.next()) {
        let create =
            OFlags::CREATE | OFlags::EXCL | OFlags::WRONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        drop(fs::openat(dev, name, create, Mode::from_raw_mode(0o666))?);
        let device = m::open_tree(host, host_path, tree_flags(false))?;
        // Read-only: COMMAND reads and writes the device, but cannot chmod or touch the
        // host's inode behind it.
        cover(device, &entry(dev, name)?, NOSUID | NOEXEC | RDONLY)?;
    }
    fs::mkdirat(dev, c"pts", Mode::from_raw_mode(0o755))?;
    let pts = new_fs(
        c"devpts",
        Names(b"ptmxmode\x000666\0mode\x000620\0"),
        NOSUID | NOEXEC,
    )?;
    attach(&pts, entry(dev, c"pts")?.as_fd(), c"")?;
    // 1777 as made: the root is built with no umask.
    fs::mkdirat(dev, c"shm", Mode::from_raw_mode(0o1777))?;
    // Each link's target, then its name.
    let mut links = Names(
        b"pts/ptmx\0ptmx\0/proc/self/fd\0fd\0/proc/self/fd/0\0stdin\0\
        /proc/self/fd/1\0stdout\0/proc/self/fd/2\0stderr\0/proc/kcore\0core\0",
    );
    while let (Some(target), Some(name)) = (links.next(), links.next()) {
        fs::symlinkat(target, dev, name)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_split_and_stay_inside() {
        assert_eq!(split_last(b"/a/b//c/"), Ok((&b"/a/b//"[..], &b"c"[..])));
        assert_eq!(split_last(b"c"), Ok((&b""[..], &b"c"[..])));
        for refused in [&b"/"[..], b"", b"a/..", b"/.", b"//"] {
            assert_eq!(split_last(refused), Err(Errno::INVAL), "{refused:?}");
        }
        let rel = |p: &[u8]| in_root(p, &mut Buf::new()).map(|c| c.to_bytes().to_vec());
        assert_eq!(rel(b"///etc/x"), Ok(b"etc/x".to_vec()));
        assert_eq!(rel(b"/"), Ok(b".".to_vec()));
        assert_eq!(rel(b""), Ok(b".".to_vec()));
        assert_eq!(rel(&[b'a'; PATH_MAX]), Err(Errno::NAMETOOLONG));
    }

    #[test]
    fn packed_names_are_c_strings_in_order() {
        let names: Vec<&CStr> = Names(b"a\0bc\0\0d\0").collect();
        assert_eq!(names, [c"a", c"bc", c"", c"d"]);
        assert_eq!(Names(b"").next(), None);
    }
}
