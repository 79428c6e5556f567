//! Where the options meet: every check across options, and the namespaces a sandbox gets,
//! decided once after parsing (the parser only records what was asked).

use crate::error::{Error, Result};
use crate::spec::Spec;
#[cfg(feature = "sandbox")]
use crate::spec::{OpKind, SetupFd, ALL_NAMESPACES};
#[cfg(feature = "sandbox")]
use linux_raw_sys::general as k;

#[cfg(feature = "sandbox")]
const fn ns(flag: u32) -> u64 {
    flag as u64
}

/// Checks how the options fit together and completes the namespace set. `root`: husk runs
/// as uid 0 (otherwise other namespaces can only be made inside a user namespace of its
/// own).
pub fn resolve<'a>(spec: &mut Spec<'a>, root: bool) -> Result<'a, ()> {
    if spec.command.is_empty() && !spec.init.pause {
        return Err(Error::refused(b"COMMAND", text!("missing (see --help)")));
    }
    if !spec.command.is_empty() && spec.init.pause {
        return Err(Error::refused(b"--pause", text!("takes no COMMAND")));
    }
    sandbox(spec, root)
}

/// The init-only build has no sandbox options to check.
#[cfg(not(feature = "sandbox"))]
fn sandbox(_: &mut Spec, _root: bool) -> Result<'static, ()> {
    Ok(())
}

/// The sandbox's checks, and its namespaces (a function of its own, so that build.rs
/// leaves its messages out of the init-only build).
#[cfg(feature = "sandbox")]
fn sandbox<'a>(spec: &mut Spec<'a>, root: bool) -> Result<'a, ()> {
    let (sb, init) = (&mut spec.sandbox, &spec.init);
    // `--hostname` alone makes no sandbox: it names a machine (`machine::set_up`), and
    // elsewhere it needs a UTS namespace.
    if sb.hostname.is_some() && !sb.enabled {
        return Err(Error::refused(b"--hostname", text!("needs --unshare-uts")));
    }
    if sb.enabled && spec.confine.user.is_some() {
        return Err(Error::refused(
            b"--user",
            text!("is for init mode (a sandbox takes --uid and --gid)"),
        ));
    }
    if spec.cgroup.dir.is_none() && spec.cgroup.limits.iter().any(Option::is_some) {
        return Err(Error::refused(
            b"--memory-max/--pids-max/--cpu-max",
            text!("need --cgroup DIR"),
        ));
    }
    if sb.pending_perms.is_some() || sb.pending_size.is_some() {
        return Err(Error::refused(
            b"--perms/--size",
            text!("must come before the option they apply to"),
        ));
    }
    if let Some(op) = sb
        .ops
        .iter()
        .find(|op| op.size.is_some() && !matches!(op.kind, OpKind::Tmpfs))
    {
        return Err(Error::refused(
            op.option,
            text!("--size applies only to --tmpfs"),
        ));
    }
    if !sb.enabled {
        return Ok(());
    }
    let ids = sb.uid.is_some_and(|u| u != 0) || sb.gid.is_some_and(|g| g != 0);
    let maps = ids || !sb.uid_map.is_empty() || !sb.gid_map.is_empty();
    // --userns: the sandbox is made in that user namespace, and makes none of its own.
    let joins_user = sb.fd(SetupFd::Userns).is_some();
    if joins_user && (sb.user_try || sb.namespaces & ns(k::CLONE_NEWUSER) != 0 || maps) {
        return Err(Error::refused(
            b"--userns",
            text!("not with --unshare-user, --uid, --gid or the maps (it joins a user namespace)"),
        ));
    }
    // Ids other than the caller's, and unprivileged sandboxes (as bubblewrap when not
    // setuid), need a user namespace.
    if maps || !root {
        sb.namespaces |= ns(k::CLONE_NEWUSER);
    }
    if sb.rootfs.is_some() && !sb.unshare_asked {
        sb.namespaces |= ALL_NAMESPACES;
        sb.time = true;
    }
    if joins_user {
        sb.namespaces &= !ns(k::CLONE_NEWUSER);
    }
    if sb.share_net || sb.netns.is_some() {
        sb.namespaces &= !ns(k::CLONE_NEWNET);
    }
    // A mount namespace always, as bubblewrap: what COMMAND mounts stays its own.
    sb.namespaces |= ns(k::CLONE_NEWNS);
    // A new proc shows the pid namespace it is mounted in, and only a user namespace that
    // owns that pid namespace may mount it: inside a user namespace of its own, a sandbox
    // that mounts /proc needs a pid namespace of its own too.
    let proc = sb.rootfs.is_some() || sb.ops.iter().any(|op| matches!(op.kind, OpKind::Proc));
    if proc && sb.namespaces & ns(k::CLONE_NEWUSER) != 0 && sb.fd(SetupFd::Pidns).is_none() {
        sb.namespaces |= ns(k::CLONE_NEWPID);
    }
    let status_fd = sb.info_fd.or(sb.json_status_fd);
    if sb.fd(SetupFd::UsernsBlock).is_some()
        && (sb.namespaces & ns(k::CLONE_NEWUSER) == 0 || status_fd.is_none())
    {
        return Err(Error::refused(
            b"--userns-block-fd",
            text!("needs a new user namespace and --info-fd or --json-status-fd (for its pid)"),
        ));
    }
    if sb.as_pid_1
        && (sb.namespaces & ns(k::CLONE_NEWPID) == 0 || !sb.lock_files.is_empty() || init.pause)
    {
        return Err(Error::refused(
            b"--as-pid-1",
            text!("needs --unshare-pid, and no --lock-file or --pause (husk's init does those)"),
        ));
    }
    if sb.hostname.is_some() && sb.namespaces & ns(k::CLONE_NEWUTS) == 0 {
        return Err(Error::refused(b"--hostname", text!("needs --unshare-uts")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::with_spec;

    /// The namespaces of a sandbox, or the error, as root or not.
    fn namespaces(args: &[&str], root: bool) -> core::result::Result<u64, String> {
        with_spec(args, &[], |r, spec| {
            r.map_err(|e| format!("{e:?}"))?;
            match resolve(spec, root) {
                Ok(()) => Ok(spec.sandbox.namespaces),
                Err(e) => Err(String::from_utf8_lossy(e.what).into_owned()),
            }
        })
    }

    const USER: u64 = ns(k::CLONE_NEWUSER);
    const MNT: u64 = ns(k::CLONE_NEWNS);
    const NET: u64 = ns(k::CLONE_NEWNET);
    const UTS: u64 = ns(k::CLONE_NEWUTS);
    const PID: u64 = ns(k::CLONE_NEWPID);

    #[test]
    fn rootfs_alone_means_every_namespace() {
        assert_eq!(
            namespaces(&["husk", "--rootfs", "/", "x"], true),
            Ok(ALL_NAMESPACES)
        );
        assert_eq!(
            namespaces(&["husk", "--rootfs", "/", "--share-net", "x"], true),
            Ok(ALL_NAMESPACES & !NET)
        );
        // An explicit --unshare-* says which.
        assert_eq!(
            namespaces(&["husk", "--rootfs", "/", "--unshare-uts", "x"], true),
            Ok(UTS | MNT)
        );
    }

    #[test]
    fn unprivileged_sandboxes_and_other_ids_get_a_user_namespace() {
        assert_eq!(
            namespaces(&["husk", "--unshare-uts", "x"], true),
            Ok(UTS | MNT)
        );
        assert_eq!(
            namespaces(&["husk", "--unshare-uts", "x"], false),
            Ok(UTS | USER | MNT)
        );
        assert_eq!(
            namespaces(&["husk", "--uid", "5", "--unshare-uts", "x"], true),
            Ok(UTS | USER | MNT)
        );
        assert_eq!(
            namespaces(&["husk", "--gid-map", "0:0:1", "--unshare-uts", "x"], true),
            Ok(UTS | USER | MNT)
        );
        assert_eq!(namespaces(&["husk", "--tmpfs", "/t", "x"], true), Ok(MNT));
        // Init mode is no sandbox at all, rootless or not.
        assert_eq!(namespaces(&["husk", "x"], false), Ok(0));
    }

    /// bubblewrap's commands that mount /proc work the same: with a user namespace of its
    /// own, a sandbox that mounts /proc gets a pid namespace (as root without one, the
    /// host's pid namespace can be shown).
    #[test]
    fn a_proc_mounted_inside_a_user_namespace_gets_a_pid_namespace() {
        let bwrap = [
            "husk", "--bind", "/", "/", "--tmpfs", "/tmp", "--proc", "/proc", "x",
        ];
        assert_eq!(namespaces(&bwrap, false), Ok(USER | MNT | PID));
        assert_eq!(namespaces(&bwrap, true), Ok(MNT));
        let try_user = ["husk", "--unshare-user-try", "--proc", "/proc", "x"];
        assert_eq!(namespaces(&try_user, true), Ok(USER | MNT | PID));
        let rootfs = ["husk", "--rootfs", "/", "--unshare-net", "x"];
        assert_eq!(namespaces(&rootfs, false), Ok(USER | MNT | PID | NET));
    }

    #[test]
    fn a_joined_network_namespace_is_not_unshared() {
        let all = namespaces(&["husk", "--unshare-all", "--netns", "/n", "x"], true);
        assert_eq!(all, Ok(ALL_NAMESPACES & !NET));
    }

    #[test]
    fn options_that_do_not_fit_are_named() {
        let err = |args: &[&str]| namespaces(args, true).unwrap_err();
        assert_eq!(err(&["husk"]), "COMMAND");
        assert_eq!(err(&["husk", "--pause", "x"]), "--pause");
        assert_eq!(
            err(&["husk", "--hostname", "h", "--tmpfs", "/t", "x"]),
            "--hostname"
        );
        assert_eq!(err(&["husk", "--size", "1", "--dir", "/d", "x"]), "--dir");
        assert_eq!(err(&["husk", "--perms", "0700", "x"]), "--perms/--size");
        assert_eq!(
            err(&["husk", "--pids-max", "5", "x"]),
            "--memory-max/--pids-max/--cpu-max"
        );
        assert_eq!(namespaces(&["husk", "--pause"], true), Ok(0));
    }
}
