//! argv → `Action`, without copying: values are slices of argv. Options end at `--` or at the
//! first argument that is not an option, so `husk printf %s -w` runs `printf %s -w`.

use crate::report::Line;
use crate::spec::{
    Action, Argv, Env, EnvOp, IdRange, MountOp, OpKind, PathAccess, Rlimit, Sandbox, Spec,
};
use core::ffi::CStr;
use linux_raw_sys::general as k;

pub const HELP: &str = "\
Usage: husk [OPTION...] [--] COMMAND [ARG...]
       husk --rootfs DIR [OPTION...] [--] COMMAND [ARG...]
       husk --pause [OPTION...]

Runs COMMAND as the child of a minimal init: forwards signals to it, reaps
every zombie, and exits with COMMAND's status (128+N if it died of signal N).
With sandbox options, COMMAND runs in new namespaces under husk as PID 1.

Init options (as in tini):
  -s              register as a child subreaper when not PID 1 (TINI_SUBREAPER)
  -p SIGNAL       parent-death signal: act as if SIGNAL was received when the
                  parent dies
  -g              send forwarded signals to COMMAND's process group
                  (TINI_KILL_PROCESS_GROUP)
  -e CODE         exit with 0 when COMMAND exits with CODE (0-255, repeatable)
  -v              more messages (repeatable; TINI_VERBOSITY=N sets the level)
  -w              warn about every reaped process that is not COMMAND
  -l              show the license and exit
  -h, --help      show this help and exit
  --version       show the version and git commit and exit

Beyond tini:
  --rewrite S:R   forward signal S as signal R; R=0 drops S (repeatable)
  --grace SECONDS when COMMAND exits and other descendants remain, send them
                  SIGTERM, wait up to SECONDS, then SIGKILL what is left
  --pause         run no COMMAND: sleep and reap until SIGTERM or SIGINT
  --rlimit NAME=SOFT[:HARD]   setrlimit(2) for COMMAND (nofile, nproc, as,
                  cpu, core, fsize, memlock, stack, ...; unlimited, K/M/G)
  --time-limit SECONDS        SIGKILL everything after SECONDS (exit 137)
  --landlock-ro PATH, --landlock-rw PATH, --landlock-exec PATH
                  once any is given, COMMAND reaches only these paths
  --landlock-bind PORT, --landlock-connect PORT   likewise for TCP ports
  --landlock-strict           fail where the kernel cannot enforce a rule
  --cgroup DIR    start COMMAND in this cgroup v2 directory (created if
                  missing); at exit kill all in it and remove what husk made
  --memory-max BYTES, --pids-max N, --cpu-max QUOTA[/PERIOD]   its limits

Sandbox (bubblewrap's names; mounts are applied in the order given):
  --rootfs DIR    all namespaces; DIR read-only as /, fresh /proc, /dev, and
                  tmpfs on /tmp, /run, /var/run
  --rw            with --rootfs: keep DIR writable
  --unshare-all   user, mount, pid, net, ipc, uts, cgroup namespaces
  --unshare-user, --unshare-user-try, --unshare-ipc, --unshare-pid,
  --unshare-net, --unshare-uts, --unshare-cgroup, --unshare-cgroup-try,
  --unshare-time  one namespace each
  --share-net     keep the host's network
  --netns PATH    join this network namespace (as from ip netns add)
  --bind SRC DEST, --ro-bind SRC DEST, --dev-bind SRC DEST (and -try forms)
                  bind SRC (recursively; nosuid, and nodev unless --dev-bind)
  --remount-ro DEST, --proc DEST, --dev DEST, --tmpfs DEST, --mqueue DEST,
  --dir DEST, --symlink TARGET DEST, --chmod OCTAL PATH
  --perms OCTAL, --size BYTES   mode and size for the next --tmpfs or --dir
  --uid N, --gid N              ids inside (default 0, the caller mapped)
  --uid-map IN:OUT:COUNT, --gid-map IN:OUT:COUNT   id ranges (repeatable)
  --hostname NAME (default husk), --chdir DIR, --setenv VAR VALUE,
  --unsetenv VAR, --clearenv, --argv0 VALUE, --new-session, --die-with-parent
  --monotonic-offset SECONDS, --boottime-offset SECONDS   time namespace
  --info-fd FD, --json-status-fd FD   bubblewrap's JSON status

Sandbox hardening (on by default: no capabilities, no_new_privs, a seccomp
filter, only fds 0-2 passed on):
  --cap-add CAP, --cap-drop CAP   keep (drop) a capability; CAP_ optional, ALL
  --keep-fd FD    pass FD on to COMMAND (repeatable)
  --seccomp FD    load this compiled BPF instead of the default filter
  --add-seccomp-fd FD             load it in addition (repeatable)
  --no-default-seccomp            do not load the default filter
  --disable-userns                COMMAND cannot create user namespaces
  --restrict-af LIST  socket families: unix,inet,inet6,netlink,packet or none

SIGNAL is a name (TERM, SIGTERM, RTMIN+3) or a number. Exit status: COMMAND's;
125 if husk failed, 126 if COMMAND cannot be executed, 127 if not found.
";

pub const LICENSE: &str = "\
husk is released under the MIT License.

Permission is hereby granted, free of charge, to any person obtaining a copy of
this software and associated documentation files (the \"Software\"), to deal in
the Software without restriction, including without limitation the rights to
use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies of
the Software, and to permit persons to whom the Software is furnished to do so,
subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED \"AS IS\", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS
FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR
COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER
IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN
CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
";

/// A command-line error: `husk: <option> [<value>]: <reason>`.
#[derive(Debug, PartialEq, Eq)]
pub struct CliError<'a> {
    pub option: &'a [u8],
    pub value: Option<&'a [u8]>,
    pub reason: &'static str,
}

impl CliError<'_> {
    pub fn report(&self) {
        let mut line = Line::new();
        line.push_escaped(self.option);
        if let Some(v) = self.value {
            line.push(b" ").push_escaped(v);
        }
        line.push(b": ").push(self.reason.as_bytes()).print();
    }
}

type Result<'a, T> = core::result::Result<T, CliError<'a>>;

fn error<'a, T>(option: &'a [u8], value: Option<&'a [u8]>, reason: &'static str) -> Result<'a, T> {
    Err(CliError {
        option,
        value,
        reason,
    })
}

/// Walks argv, handing out option values from the same or the next argument.
struct Cursor<'a> {
    argv: Argv<'a>,
    next: usize,
}

impl<'a> Cursor<'a> {
    /// A path option's value as a C string: the next argument (None when given inline as
    /// `--opt=value`, which is not NUL-terminated where the path ends).
    fn c_value(
        &mut self,
        option: &'a [u8],
        inline: Option<&'a [u8]>,
    ) -> Result<'a, Option<&'a CStr>> {
        if inline.is_some() {
            return Ok(None);
        }
        self.arg(option).map(Some)
    }

    /// The next argument as a C string (sandbox options take whole arguments).
    fn arg(&mut self, option: &'a [u8]) -> Result<'a, &'a CStr> {
        if self.next >= self.argv.len() {
            return error(option, None, "missing value");
        }
        self.next += 1;
        Ok(self.argv.get(self.next - 1))
    }

    fn value(&mut self, option: &'a [u8], inline: Option<&'a [u8]>) -> Result<'a, &'a [u8]> {
        if let Some(v) = inline {
            return Ok(v);
        }
        if self.next >= self.argv.len() {
            return error(option, None, "missing value");
        }
        self.next += 1;
        Ok(self.argv.get(self.next - 1).to_bytes())
    }
}

/// Fills `spec` (built once by the caller: it is large, and moving it would touch every
/// page of it) from argv and the TINI_* variables.
pub fn parse<'a>(argv: Argv<'a>, env: Env<'a>, spec: &mut Spec<'a>) -> Result<'a, Action> {
    let Spec {
        command,
        init,
        sandbox: sb,
        cgroup,
    } = spec;
    init.subreaper = env.get(b"TINI_SUBREAPER").is_some();
    init.kill_group = env.get(b"TINI_KILL_PROCESS_GROUP").is_some();
    if let Some(v) = env.get(b"TINI_VERBOSITY") {
        init.verbosity = leading_number(v.to_bytes());
    }

    let mut pending_perms: Option<u32> = None;
    let mut pending_size: Option<u64> = None;
    let mut cur = Cursor { argv, next: 1 };
    let (mut explicit_namespaces, mut share_net) = (false, false);
    while cur.next < argv.len() {
        let arg = argv.get(cur.next).to_bytes();
        if arg == b"--" {
            cur.next += 1;
            break;
        }
        if arg.len() < 2 || arg[0] != b'-' {
            break;
        }
        cur.next += 1;
        if arg[1] == b'-' {
            let (name, inline) = match arg.iter().position(|&b| b == b'=') {
                Some(eq) => (&arg[..eq], Some(&arg[eq + 1..])),
                None => (arg, None),
            };
            match name {
                b"--help" => return Ok(Action::Help),
                b"--version" => return Ok(Action::Version),
                b"--pause" => init.pause = true,
                b"--rewrite" => {
                    let v = cur.value(name, inline)?;
                    let (from, to) = parse_rewrite(v).ok_or(CliError {
                        option: name,
                        value: Some(v),
                        reason: "expected SIGNAL:SIGNAL (the second may be 0)",
                    })?;
                    init.rewrite[from as usize] = to;
                }
                b"--rlimit" => {
                    let v = cur.value(name, inline)?;
                    let limit = parse_rlimit(v).ok_or(CliError {
                        option: name,
                        value: Some(v),
                        reason: "expected NAME=SOFT[:HARD] (see setrlimit(2); unlimited, K/M/G accepted)",
                    })?;
                    init.rlimits.push(limit).map_err(|_| CliError {
                        option: name,
                        value: None,
                        reason: "too many (max 16)",
                    })?;
                }
                b"--landlock-ro" | b"--landlock-rw" | b"--landlock-exec" => {
                    let Some(path) = cur.c_value(name, inline)? else {
                        return error(name, inline, "takes the path as the next argument");
                    };
                    let access = match name {
                        b"--landlock-ro" => PathAccess::ReadOnly,
                        b"--landlock-rw" => PathAccess::ReadWrite,
                        _ => PathAccess::Exec,
                    };
                    let full = CliError {
                        option: name,
                        value: None,
                        reason: "too many (max 32)",
                    };
                    init.landlock.paths.push((access, path)).map_err(|_| full)?;
                }
                b"--landlock-bind" | b"--landlock-connect" => {
                    let v = cur.value(name, inline)?;
                    let port = parse_u64(v).filter(|&p| p <= 65535).ok_or(CliError {
                        option: name,
                        value: Some(v),
                        reason: "not a TCP port",
                    })? as u16;
                    let list = if name == b"--landlock-bind" {
                        &mut init.landlock.bind
                    } else {
                        &mut init.landlock.connect
                    };
                    list.push(port).map_err(|_| CliError {
                        option: name,
                        value: None,
                        reason: "too many (max 16)",
                    })?;
                }
                b"--landlock-strict" => init.landlock.strict = true,
                b"--cgroup" | b"--memory-max" | b"--pids-max" | b"--cpu-max" => {
                    let Some(v) = cur.c_value(name, inline)? else {
                        return error(name, inline, "takes its value as the next argument");
                    };
                    let b = v.to_bytes();
                    let (slot, ok, reason) = match name {
                        b"--cgroup" => (&mut cgroup.dir, !b.is_empty(), "not a directory path"),
                        b"--memory-max" => (
                            &mut cgroup.memory_max,
                            b == b"max" || parse_size(b).is_some(),
                            "not a size (bytes, K, M, G or max)",
                        ),
                        b"--pids-max" => (
                            &mut cgroup.pids_max,
                            b == b"max" || parse_u64(b).is_some(),
                            "not a number or max",
                        ),
                        _ => (
                            &mut cgroup.cpu_max,
                            valid_cpu_max(b),
                            "expected QUOTA[/PERIOD] in microseconds (QUOTA may be max)",
                        ),
                    };
                    if !ok {
                        return error(name, Some(b), reason);
                    }
                    *slot = Some(v);
                }
                b"--time-limit" => {
                    let v = cur.value(name, inline)?;
                    init.time_limit_ms =
                        Some(parse_millis(v).filter(|&ms| ms > 0).ok_or(CliError {
                            option: name,
                            value: Some(v),
                            reason: "not a number of seconds (0.001 to 4294967295)",
                        })?);
                }
                b"--grace" => {
                    let v = cur.value(name, inline)?;
                    init.grace_ms = Some(parse_millis(v).ok_or(CliError {
                        option: name,
                        value: Some(v),
                        reason: "not a number of seconds (at most 4294967295)",
                    })?);
                }
                _ => {
                    if inline.is_some() {
                        return error(name, inline, "unknown option (see --help)");
                    }
                    sandbox_option(name, &mut cur, sb, &mut pending_perms, &mut pending_size)?;
                    explicit_namespaces |= name.starts_with(b"--unshare-");
                    share_net |= name == b"--share-net";
                    sb.enabled = true;
                }
            }
            continue;
        }
        // A cluster of short options: `-svv`, `-e3`, `-p SIGTERM`.
        let mut j = 1;
        while j < arg.len() {
            let rest = (j + 1 < arg.len()).then(|| &arg[j + 1..]);
            j += 1;
            match arg[j - 1] {
                b'h' => return Ok(Action::Help),
                b'l' => return Ok(Action::License),
                b's' => init.subreaper = true,
                b'g' => init.kill_group = true,
                b'v' => init.verbosity += 1,
                b'w' => init.warn_reap = true,
                b'p' => {
                    let v = cur.value(b"-p", rest)?;
                    init.parent_death = signal_number(v).ok_or(CliError {
                        option: b"-p",
                        value: Some(v),
                        reason: "not a signal name or number",
                    })? as i32;
                    break;
                }
                b'e' => {
                    let v = cur.value(b"-e", rest)?;
                    match parse_u64(v) {
                        Some(code) if code <= 255 => init.remap.insert(code as u8),
                        _ => return error(b"-e", Some(v), "not an exit code (0-255)"),
                    }
                    break;
                }
                _ => return error(arg, None, "unknown option (see --help)"),
            }
        }
    }

    *command = argv.tail(cur.next);
    if command.is_empty() && !init.pause {
        return error(b"COMMAND", None, "missing (see --help)");
    }
    if !command.is_empty() && init.pause {
        return error(b"--pause", None, "takes no COMMAND");
    }
    let limits = [cgroup.memory_max, cgroup.pids_max, cgroup.cpu_max];
    if cgroup.dir.is_none() && limits.iter().any(Option::is_some) {
        return error(
            b"--memory-max/--pids-max/--cpu-max",
            None,
            "need --cgroup DIR",
        );
    }
    init.landlock.scope = sb.enabled;
    if pending_perms.is_some() || pending_size.is_some() {
        return error(
            b"--perms/--size",
            None,
            "must come before the option they apply to",
        );
    }
    if sb.uid.is_some_and(|u| u != 0) || sb.gid.is_some_and(|g| g != 0) || !sb.uid_map.is_empty() {
        sb.namespaces |= u64::from(k::CLONE_NEWUSER);
    }
    if sb.rootfs.is_some() && !explicit_namespaces {
        sb.namespaces |= ALL_NAMESPACES;
        sb.time = true;
    }
    if share_net {
        sb.namespaces &= !u64::from(k::CLONE_NEWNET);
    }
    if sb.enabled
        && sb.namespaces & u64::from(k::CLONE_NEWNS) == 0
        && (sb.rootfs.is_some() || !sb.ops.is_empty())
    {
        sb.namespaces |= u64::from(k::CLONE_NEWNS);
    }
    Ok(Action::Run)
}

const ALL_NAMESPACES: u64 = (k::CLONE_NEWUSER
    | k::CLONE_NEWNS
    | k::CLONE_NEWPID
    | k::CLONE_NEWNET
    | k::CLONE_NEWIPC
    | k::CLONE_NEWUTS
    | k::CLONE_NEWCGROUP) as u64;

/// What a sandbox option does.
#[derive(Clone, Copy)]
enum SandboxOpt {
    Mount(OpKind),
    Rootfs,
    Rw,
    UnshareAll,
    ShareNet,
    /// A CLONE_NEW* flag, and whether failing to unshare it is tolerated (`-try`).
    Unshare(u32, bool),
    UnshareTime,
    Netns,
    Hostname,
    Chdir,
    Argv0,
    Setenv,
    Unsetenv,
    Clearenv,
    DieWithParent,
    NewSession,
    /// `--uid` (true) or `--gid`.
    Id(bool),
    /// `--uid-map` (true) or `--gid-map`.
    IdMap(bool),
    /// `--monotonic-offset` (true) or `--boottime-offset`.
    Offset(bool),
    /// `--info-fd` (true) or `--json-status-fd`.
    StatusFd(bool),
    Perms,
    Size,
    /// `--cap-add` (true) or `--cap-drop`.
    Cap(bool),
    KeepFd,
    /// `--seccomp` (true: replaces the default filter) or `--add-seccomp-fd`.
    Seccomp(bool),
    NoDefaultSeccomp,
    DisableUserns,
    RestrictAf,
}

const fn bind(read_only: bool, devices: bool, optional: bool) -> SandboxOpt {
    SandboxOpt::Mount(OpKind::Bind {
        read_only,
        devices,
        optional,
    })
}

/// bubblewrap's spelling, plus `--rootfs` and `--rw`: the names without their `--`, one
/// space apart (a table of slices would cost 16 bytes of pointers a name), and what each
/// does, in the same order.
const SANDBOX_NAMES: &[u8] = b"\
    bind bind-try ro-bind ro-bind-try dev-bind dev-bind-try symlink chmod remount-ro proc \
    dev tmpfs mqueue dir rootfs rw unshare-all share-net unshare-user unshare-user-try \
    unshare-ipc unshare-pid unshare-net unshare-uts unshare-cgroup unshare-cgroup-try \
    unshare-time netns hostname chdir argv0 setenv unsetenv clearenv die-with-parent \
    new-session uid gid uid-map gid-map monotonic-offset boottime-offset info-fd \
    json-status-fd perms size cap-add cap-drop keep-fd seccomp add-seccomp-fd \
    no-default-seccomp disable-userns restrict-af";
const SANDBOX_OPTIONS: [SandboxOpt; 54] = {
    use SandboxOpt::*;
    [
        bind(false, false, false),
        bind(false, false, true),
        bind(true, false, false),
        bind(true, false, true),
        bind(false, true, false),
        bind(false, true, true),
        Mount(OpKind::Symlink),
        Mount(OpKind::Chmod),
        Mount(OpKind::RemountRo),
        Mount(OpKind::Proc),
        Mount(OpKind::Dev),
        Mount(OpKind::Tmpfs),
        Mount(OpKind::Mqueue),
        Mount(OpKind::Dir),
        Rootfs,
        Rw,
        UnshareAll,
        ShareNet,
        Unshare(k::CLONE_NEWUSER, false),
        Unshare(k::CLONE_NEWUSER, true),
        Unshare(k::CLONE_NEWIPC, false),
        Unshare(k::CLONE_NEWPID, false),
        Unshare(k::CLONE_NEWNET, false),
        Unshare(k::CLONE_NEWUTS, false),
        Unshare(k::CLONE_NEWCGROUP, false),
        Unshare(k::CLONE_NEWCGROUP, true),
        UnshareTime,
        Netns,
        Hostname,
        Chdir,
        Argv0,
        Setenv,
        Unsetenv,
        Clearenv,
        DieWithParent,
        NewSession,
        Id(true),
        Id(false),
        IdMap(true),
        IdMap(false),
        Offset(true),
        Offset(false),
        StatusFd(true),
        StatusFd(false),
        Perms,
        Size,
        Cap(true),
        Cap(false),
        KeepFd,
        Seccomp(true),
        Seccomp(false),
        NoDefaultSeccomp,
        DisableUserns,
        RestrictAf,
    ]
};

/// One sandbox option with its operands (whole arguments, never `--opt=value`).
fn sandbox_option<'a>(
    name: &'a [u8],
    cur: &mut Cursor<'a>,
    sb: &mut Sandbox<'a>,
    perms: &mut Option<u32>,
    size: &mut Option<u64>,
) -> Result<'a, ()> {
    let found = index_of(SANDBOX_NAMES, &name[2..]).and_then(|i| SANDBOX_OPTIONS.get(i));
    let Some(&opt) = found else {
        return error(name, None, "unknown option (see --help)");
    };
    let full = |what| CliError {
        option: name,
        value: None,
        reason: what,
    };
    match opt {
        SandboxOpt::Mount(kind) => {
            let (source, mode) = match kind {
                OpKind::Bind { .. } | OpKind::Symlink => (Some(cur.arg(name)?), None),
                OpKind::Chmod => (
                    None,
                    Some(operand(cur, name, parse_octal, "not an octal mode")? as u32),
                ),
                _ => (None, None),
            };
            let dest = cur.arg(name)?;
            if size.is_some() && kind != OpKind::Tmpfs {
                return error(name, None, "--size applies only to --tmpfs");
            }
            let op = MountOp {
                kind,
                option: name,
                source,
                dest,
                perms: mode.or(perms.take()),
                size: size.take(),
            };
            sb.ops
                .push(op)
                .map_err(|_| full("too many mount options (max 256)"))?;
        }
        SandboxOpt::Rootfs => sb.rootfs = Some(cur.arg(name)?),
        SandboxOpt::Rw => sb.rw = true,
        SandboxOpt::UnshareAll => {
            sb.namespaces |= ALL_NAMESPACES;
            sb.user_try = true;
            sb.cgroup_try = true;
        }
        SandboxOpt::ShareNet => {}
        SandboxOpt::Unshare(flag, tolerant) => {
            sb.namespaces |= u64::from(flag);
            if tolerant {
                if flag == k::CLONE_NEWUSER {
                    sb.user_try = true;
                } else {
                    sb.cgroup_try = true;
                }
            }
        }
        SandboxOpt::UnshareTime => sb.time = true,
        SandboxOpt::Netns => sb.netns = Some(cur.arg(name)?),
        SandboxOpt::Hostname => {
            let v = cur.arg(name)?;
            let bytes = v.to_bytes();
            if (0..bytes.len()).any(|i| crate::report::is_control(&bytes[i..])) {
                return error(
                    name,
                    Some(v.to_bytes()),
                    "control characters are not allowed",
                );
            }
            sb.hostname = Some(v);
        }
        SandboxOpt::Chdir => sb.chdir = Some(cur.arg(name)?),
        SandboxOpt::Argv0 => sb.argv0 = Some(cur.arg(name)?),
        SandboxOpt::Setenv | SandboxOpt::Unsetenv => {
            let var = cur.arg(name)?;
            let op = if matches!(opt, SandboxOpt::Setenv) {
                if var.is_empty() || var.to_bytes().contains(&b'=') {
                    return error(name, Some(var.to_bytes()), "not a variable name");
                }
                EnvOp::Set(var, cur.arg(name)?)
            } else {
                EnvOp::Unset(var)
            };
            sb.env_ops
                .push(op)
                .map_err(|_| full("too many (max 128)"))?;
        }
        SandboxOpt::Clearenv => sb.clearenv = true,
        SandboxOpt::DieWithParent => sb.die_with_parent = true,
        SandboxOpt::NewSession => sb.new_session = true,
        SandboxOpt::Id(uid) => {
            let id = Some(operand(cur, name, parse_id, "not an id")? as u32);
            *(if uid { &mut sb.uid } else { &mut sb.gid }) = id;
        }
        SandboxOpt::IdMap(uid) => {
            let range = operand(cur, name, parse_id_range, "expected INSIDE:OUTSIDE:COUNT")?;
            let list = if uid {
                &mut sb.uid_map
            } else {
                &mut sb.gid_map
            };
            list.push(range)
                .map_err(|_| full("too many ranges (max 8)"))?;
        }
        SandboxOpt::Offset(monotonic) => {
            let secs = operand(cur, name, parse_i64, "not a number of seconds")?;
            sb.time = true;
            *(if monotonic {
                &mut sb.monotonic_offset
            } else {
                &mut sb.boottime_offset
            }) = secs;
        }
        SandboxOpt::StatusFd(info) => {
            let fd = Some(operand(cur, name, parse_fd, "not a file descriptor")? as i32);
            *(if info {
                &mut sb.info_fd
            } else {
                &mut sb.json_status_fd
            }) = fd;
        }
        SandboxOpt::Cap(add) => {
            let set = operand(
                cur,
                name,
                capability_set,
                "not a capability name (see capabilities(7)) or ALL",
            )?;
            if add {
                sb.caps |= set;
            } else {
                sb.caps &= !set;
            }
        }
        SandboxOpt::KeepFd => {
            let fd = operand(cur, name, parse_fd, "not a file descriptor")? as i32;
            sb.keep_fds
                .push(fd)
                .map_err(|_| full("too many (max 64)"))?;
        }
        SandboxOpt::Seccomp(replace) => {
            let fd = operand(cur, name, parse_fd, "not a file descriptor")? as i32;
            sb.seccomp_fds
                .push((fd, replace))
                .map_err(|_| full("too many (max 8)"))?;
        }
        SandboxOpt::NoDefaultSeccomp => sb.no_default_seccomp = true,
        SandboxOpt::DisableUserns => sb.disable_userns = true,
        SandboxOpt::RestrictAf => {
            let set = operand(
                cur,
                name,
                address_families,
                "not an address family list (see --help)",
            )?;
            sb.restrict_af = Some(set as u8);
        }
        SandboxOpt::Perms => {
            *perms = Some(operand(cur, name, parse_octal, "not an octal mode")? as u32)
        }
        SandboxOpt::Size => *size = Some(operand(cur, name, parse_size, "not a size in bytes")?),
    }
    Ok(())
}

/// The next argument read with `parse`, or an error naming the option and the value.
fn operand<'a, T>(
    cur: &mut Cursor<'a>,
    name: &'a [u8],
    parse: fn(&[u8]) -> Option<T>,
    reason: &'static str,
) -> Result<'a, T> {
    let v = cur.arg(name)?.to_bytes();
    parse(v).ok_or(CliError {
        option: name,
        value: Some(v),
        reason,
    })
}

/// capabilities(7), in bit order.
const CAPABILITIES: &[u8] = b"\
    CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP \
    LINUX_IMMUTABLE NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER \
    SYS_MODULE SYS_RAWIO SYS_CHROOT SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE \
    SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE AUDIT_CONTROL SETFCAP \
    MAC_OVERRIDE MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ PERFMON BPF \
    CHECKPOINT_RESTORE";

/// "CAP_NET_RAW", "net_raw" → its bit; "ALL" → every bit.
fn capability_set(s: &[u8]) -> Option<u64> {
    let mut buf = [0u8; 32];
    let name = upper(s, &mut buf)?;
    let name = name.strip_prefix(b"CAP_").unwrap_or(name);
    if name == b"ALL" {
        return Some(!0);
    }
    index_of(CAPABILITIES, name).map(|bit| 1 << bit)
}

/// `s` in upper case, in `buf`; None when it does not fit (no name is that long).
fn upper<'b>(s: &[u8], buf: &'b mut [u8; 32]) -> Option<&'b [u8]> {
    let name = buf.get_mut(..s.len())?;
    name.copy_from_slice(s);
    name.make_ascii_uppercase();
    Some(name)
}

/// Where `name` sits among the space-separated names of `table` (one copy of the search
/// for every name table).
#[inline(never)]
fn index_of(table: &[u8], name: &[u8]) -> Option<usize> {
    table.split(|&b| b == b' ').position(|n| n == name)
}

/// `--restrict-af` names, in spec::ADDRESS_FAMILIES order.
const FAMILY_NAMES: &[u8] = b"unix inet inet6 netlink packet";

/// "inet,inet6" → bits of spec::ADDRESS_FAMILIES; "none" → 0.
fn address_families(s: &[u8]) -> Option<u64> {
    if s == b"none" {
        return Some(0);
    }
    let mut set = 0;
    for name in s.split(|&b| b == b',') {
        set |= 1 << index_of(FAMILY_NAMES, name)?;
    }
    Some(set)
}

/// setrlimit(2)'s resources, by RLIMIT_* number.
const RLIMITS: &[u8] = b"\
    CPU FSIZE DATA STACK CORE RSS NPROC NOFILE MEMLOCK AS LOCKS SIGPENDING MSGQUEUE NICE \
    RTPRIO RTTIME";

/// "nofile=64", "as=1G:2G", "core=unlimited".
fn parse_rlimit(s: &[u8]) -> Option<Rlimit> {
    let eq = s.iter().position(|&b| b == b'=')?;
    let mut buf = [0u8; 32];
    let resource = index_of(RLIMITS, upper(&s[..eq], &mut buf)?)? as u32;
    let limit = |v: &[u8]| {
        if v == b"unlimited" {
            Some(u64::MAX)
        } else {
            parse_size(v)
        }
    };
    let value = &s[eq + 1..];
    let (soft, hard) = match value.iter().position(|&b| b == b':') {
        Some(c) => (limit(&value[..c])?, limit(&value[c + 1..])?),
        None => (limit(value)?, limit(value)?),
    };
    (soft <= hard).then_some(Rlimit {
        resource,
        soft,
        hard,
    })
}

/// "50000", "max", "50000/100000".
fn valid_cpu_max(s: &[u8]) -> bool {
    let (quota, period) = match s.iter().position(|&b| b == b'/') {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    (quota == b"max" || parse_u64(quota).is_some()) && period.is_none_or(|p| parse_u64(p).is_some())
}

fn parse_id(s: &[u8]) -> Option<u64> {
    parse_u64(s).filter(|&n| n < u64::from(u32::MAX))
}

fn parse_fd(s: &[u8]) -> Option<u64> {
    parse_u64(s).filter(|&n| n < 1 << 20)
}

fn parse_octal(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 5 {
        return None;
    }
    let mode = s.iter().try_fold(0, |m, &b| {
        (b'0'..=b'7')
            .contains(&b)
            .then(|| m * 8 + u64::from(b - b'0'))
    })?;
    (mode <= 0o7777).then_some(mode)
}

fn parse_i64(s: &[u8]) -> Option<i64> {
    match s.split_first() {
        Some((b'-', rest)) => parse_u64(rest)
            .and_then(|n| i64::try_from(n).ok())
            .map(|n| -n),
        _ => parse_u64(s).and_then(|n| i64::try_from(n).ok()),
    }
}

/// Bytes, with an optional K, M or G suffix (powers of 1024).
pub fn parse_size(s: &[u8]) -> Option<u64> {
    let (digits, shift) = match s.last()? {
        b'k' | b'K' => (&s[..s.len() - 1], 10),
        b'm' | b'M' => (&s[..s.len() - 1], 20),
        b'g' | b'G' => (&s[..s.len() - 1], 30),
        _ => (s, 0),
    };
    parse_u64(digits)?.checked_mul(1 << shift)
}

fn parse_id_range(s: &[u8]) -> Option<IdRange> {
    let mut parts = s.split(|&b| b == b':');
    let mut next = || {
        parse_u64(parts.next()?)
            .filter(|&n| n <= u64::from(u32::MAX))
            .map(|n| n as u32)
    };
    let range = IdRange {
        inside: next()?,
        outside: next()?,
        count: next()?,
    };
    (parts.next().is_none() && range.count > 0).then_some(range)
}

pub fn parse_u64(s: &[u8]) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let mut n: u64 = 0;
    for &b in s {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    Some(n)
}

/// atoi's reading: the leading digits, 0 when there are none (as tini reads TINI_VERBOSITY).
fn leading_number(s: &[u8]) -> u32 {
    let digits = s.iter().take_while(|b| b.is_ascii_digit()).count();
    parse_u64(&s[..digits]).map_or(0, |n| n.min(u64::from(u32::MAX)) as u32)
}

/// "5", "0.25", "1.5" seconds → milliseconds.
pub fn parse_millis(s: &[u8]) -> Option<u64> {
    let (whole, frac) = match s.iter().position(|&b| b == b'.') {
        Some(dot) => (&s[..dot], &s[dot + 1..]),
        None => (s, &b""[..]),
    };
    if frac.len() > 3 || (whole.is_empty() && frac.is_empty()) {
        return None;
    }
    let whole = if whole.is_empty() {
        0
    } else {
        parse_u64(whole)?
    };
    let mut ms = 0;
    for i in 0..3 {
        ms = ms * 10
            + match frac.get(i) {
                Some(b) if b.is_ascii_digit() => u64::from(b - b'0'),
                Some(_) => return None,
                None => 0,
            };
    }
    // Up to u32::MAX seconds (136 years): any deadline then fits in a monotonic clock.
    (whole <= u64::from(u32::MAX)).then(|| whole * 1000 + ms)
}

const SIGNAL_NAMES: &[u8] = b"\
    HUP INT QUIT ILL TRAP ABRT BUS FPE KILL USR1 SEGV USR2 PIPE ALRM TERM STKFLT CHLD CONT \
    STOP TSTP TTIN TTOU URG XCPU XFSZ VTALRM PROF WINCH IO PWR SYS";
/// The first real-time signal as glibc numbers them (Podman's SIGRTMIN+3 is 37).
const SIGRTMIN: u64 = 34;
const SIGRTMAX: u64 = 64;

/// A signal number 1..=64 from "TERM", "sigterm", "SIGRTMIN+3", "RTMAX-1" or "15".
pub fn signal_number(s: &[u8]) -> Option<u8> {
    if let Some(n) = parse_u64(s) {
        return (1..=SIGRTMAX).contains(&n).then_some(n as u8);
    }
    let mut buf = [0u8; 32];
    let name = upper(s, &mut buf)?;
    let name = name.strip_prefix(b"SIG").unwrap_or(name);
    if let Some(i) = index_of(SIGNAL_NAMES, name) {
        return Some(i as u8 + 1);
    }
    let n = match name {
        b"IOT" => 6,
        b"CLD" => 17,
        b"POLL" => 29,
        _ if name.starts_with(b"RTMIN") => SIGRTMIN.checked_add(rt_offset(&name[5..], b'+')?)?,
        _ if name.starts_with(b"RTMAX") => SIGRTMAX.checked_sub(rt_offset(&name[5..], b'-')?)?,
        _ => return None,
    };
    (SIGRTMIN..=SIGRTMAX).contains(&n).then_some(n as u8)
}

/// "" → 0, "+3" → 3 (with the given sign byte).
fn rt_offset(s: &[u8], sign: u8) -> Option<u64> {
    match s.split_first() {
        None => Some(0),
        Some((&b, digits)) if b == sign => parse_u64(digits),
        _ => None,
    }
}

/// "TERM:INT" → (15, 2); "USR1:0" → (10, 0).
fn parse_rewrite(s: &[u8]) -> Option<(u8, u8)> {
    let colon = s.iter().position(|&b| b == b':')?;
    let from = signal_number(&s[..colon])?;
    let to = &s[colon + 1..];
    let to = if to == b"0" { 0 } else { signal_number(to)? };
    Some((from, to))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CString;

    struct Owned {
        _strings: Vec<CString>,
        ptrs: Vec<*const core::ffi::c_char>,
    }

    fn owned(items: &[&str]) -> Owned {
        let strings: Vec<CString> = items.iter().map(|s| CString::new(*s).unwrap()).collect();
        let mut ptrs: Vec<_> = strings.iter().map(|s| s.as_ptr()).collect();
        ptrs.push(core::ptr::null());
        Owned {
            _strings: strings,
            ptrs,
        }
    }

    fn with_parse<R>(
        args: &[&str],
        envs: &[&str],
        f: impl FnOnce(Result<Action>, &Spec<'static>) -> R,
    ) -> R {
        // Leaked, so that what the parser borrows lives as long as argv does in husk.
        let a: &'static Owned = Box::leak(Box::new(owned(args)));
        let e: &'static Owned = Box::leak(Box::new(owned(envs)));
        // SAFETY: both arrays are NULL-terminated and never freed.
        let (argv, env) = unsafe {
            (
                Argv::new(&a.ptrs[..a.ptrs.len() - 1]),
                Env::new(e.ptrs.as_ptr()),
            )
        };
        let mut spec = Spec::new(argv);
        let r = parse(argv, env, &mut spec);
        f(r, &spec)
    }

    fn spec_of(args: &[&str], envs: &[&str]) -> (Vec<String>, crate::spec::Init<'static>) {
        with_parse(args, envs, |r, s| match r {
            Ok(Action::Run) => {
                let cmd = (0..s.command.len())
                    .map(|i| s.command.get(i).to_str().unwrap().to_owned())
                    .collect();
                (cmd, s.init.clone())
            }
            Ok(_) => panic!("not a run"),
            Err(e) => panic!("error {e:?}"),
        })
    }

    fn err_of(args: &[&str]) -> (String, Option<String>) {
        with_parse(args, &[], |r, _| match r {
            Err(e) => (
                String::from_utf8(e.option.to_vec()).unwrap(),
                e.value.map(|v| String::from_utf8(v.to_vec()).unwrap()),
            ),
            _ => panic!("expected an error"),
        })
    }

    #[test]
    fn options_stop_at_the_first_non_option() {
        let (cmd, init) = spec_of(&["husk", "-s", "printf", "%s", "-w"], &[]);
        assert_eq!(cmd, ["printf", "%s", "-w"]);
        assert!(init.subreaper && !init.warn_reap);
        let (cmd, _) = spec_of(&["husk", "--", "-w"], &[]);
        assert_eq!(cmd, ["-w"]);
    }

    #[test]
    fn short_clusters_and_attached_values() {
        let (_, init) = spec_of(
            &["husk", "-svvg", "-e3", "-e", "255", "-pSIGKILL", "x"],
            &[],
        );
        assert!(init.subreaper && init.kill_group);
        assert_eq!(init.verbosity, 2);
        assert!(init.remap.contains(3) && init.remap.contains(255) && !init.remap.contains(0));
        assert_eq!(init.parent_death, 9);
    }

    #[test]
    fn environment_like_tini() {
        let (_, init) = spec_of(
            &["husk", "x"],
            &[
                "TINI_SUBREAPER=",
                "TINI_KILL_PROCESS_GROUP=1",
                "TINI_VERBOSITY=3x",
            ],
        );
        assert!(init.subreaper && init.kill_group);
        assert_eq!(init.verbosity, 3);
    }

    #[test]
    fn long_options() {
        let (_, init) = spec_of(
            &[
                "husk",
                "--rewrite",
                "TERM:INT",
                "--rewrite=usr1:0",
                "--grace=1.5",
                "x",
            ],
            &[],
        );
        assert_eq!(init.rewrite[15], 2);
        assert_eq!(init.rewrite[10], 0);
        assert_eq!(init.rewrite[1], 1);
        assert_eq!(init.grace_ms, Some(1500));
        let (cmd, init) = spec_of(&["husk", "--pause"], &[]);
        assert!(init.pause && cmd.is_empty());
    }

    #[test]
    fn errors_name_the_option() {
        assert_eq!(
            err_of(&["husk", "-e", "256", "x"]),
            ("-e".into(), Some("256".into()))
        );
        assert_eq!(err_of(&["husk", "-p"]), ("-p".into(), None));
        assert_eq!(err_of(&["husk", "-sq", "x"]), ("-sq".into(), None));
        assert_eq!(err_of(&["husk", "--bogus", "x"]), ("--bogus".into(), None));
        assert_eq!(
            err_of(&["husk", "--grace", "x1", "y"]),
            ("--grace".into(), Some("x1".into()))
        );
        assert_eq!(
            err_of(&["husk", "-p", "SIGNOPE", "y"]),
            ("-p".into(), Some("SIGNOPE".into()))
        );
        assert_eq!(err_of(&["husk"]), ("COMMAND".into(), None));
        assert_eq!(err_of(&["husk", "--pause", "x"]), ("--pause".into(), None));
    }

    #[test]
    fn name_tables_line_up() {
        assert_eq!(
            SANDBOX_NAMES.split(|&b| b == b' ').count(),
            SANDBOX_OPTIONS.len()
        );
        assert_eq!(CAPABILITIES.split(|&b| b == b' ').count(), 41);
        assert_eq!(RLIMITS.split(|&b| b == b' ').count(), 16);
        assert_eq!(index_of(SANDBOX_NAMES, b"restrict-af"), Some(53));
        assert_eq!(index_of(CAPABILITIES, b"CHECKPOINT_RESTORE"), Some(40));
        assert_eq!(index_of(RLIMITS, b"RTTIME"), Some(15));
        assert_eq!(index_of(RLIMITS, b""), None);
        assert_eq!(capability_set(b"cap_sys_admin"), Some(1 << 21));
        assert_eq!(parse_rlimit(b"NOFILE=5").map(|r| r.resource), Some(7));
    }

    #[test]
    fn signal_names() {
        assert_eq!(signal_number(b"TERM"), Some(15));
        assert_eq!(signal_number(b"sigkill"), Some(9));
        assert_eq!(signal_number(b"SIGRTMIN+3"), Some(37));
        assert_eq!(signal_number(b"RTMIN"), Some(34));
        assert_eq!(signal_number(b"RTMAX-1"), Some(63));
        assert_eq!(signal_number(b"RTMAX+1"), None);
        assert_eq!(signal_number(b"RTMIN+31"), None);
        assert_eq!(signal_number(b"64"), Some(64));
        assert_eq!(signal_number(b"65"), None);
        assert_eq!(signal_number(b"0"), None);
        assert_eq!(signal_number(b"SYS"), Some(31));
        assert_eq!(signal_number(b""), None);
    }

    #[test]
    fn seconds() {
        assert_eq!(parse_millis(b"2"), Some(2000));
        assert_eq!(parse_millis(b"0.05"), Some(50));
        assert_eq!(parse_millis(b".5"), Some(500));
        assert_eq!(parse_millis(b"1.2345"), None);
        assert_eq!(parse_millis(b"-1"), None);
        assert_eq!(parse_millis(b""), None);
        assert_eq!(parse_millis(b"99999999999999999999"), None);
        assert_eq!(parse_millis(b"18446744073709551"), None);
        assert_eq!(parse_millis(b"4294967295.5"), Some(4_294_967_295_500));
    }
}
