//! bubblewrap's descriptor options: the data of `--file`, `--bind-data` and `--ro-bind-data`,
//! the directories of `--bind-fd` and `--ro-bind-fd`, the pipes of `--sync-fd`, `--block-fd`
//! and `--userns-block-fd`, the namespaces of `--userns`, `--userns2` and `--pidns`, and
//! `--lock-file`, `--as-pid-1` and `--assert-userns-disabled`. Each descriptor is handed to
//! husk at the number its option names (dup2 between fork and exec).

mod common;
use common::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

/// Gives the child of `cmd` each open descriptor `from` as number `to` (without
/// close-on-exec). All are first moved above 100, so that a source numbered like another's
/// target is not overwritten before it is used.
fn give_fds(cmd: &mut Command, fds: &[(RawFd, i32)]) {
    assert!(fds.len() <= 8);
    let fds = fds.to_vec();
    // SAFETY: only fcntl, dup2 and close (async-signal-safe) run between fork and exec, on
    // a copy of the list made before the fork.
    unsafe {
        cmd.pre_exec(move || {
            let mut moved = [-1; 8];
            for (i, &(from, _)) in fds.iter().enumerate() {
                moved[i] = libc::fcntl(from, libc::F_DUPFD_CLOEXEC, 100);
                if moved[i] < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            for (i, &(_, to)) in fds.iter().enumerate() {
                if libc::dup2(moved[i], to) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            for &fd in &moved[..fds.len()] {
                libc::close(fd);
            }
            Ok(())
        });
    }
}

/// `husk ARGS` as `u` with descriptors given at their numbers.
fn husk_fds(u: User, args: &[&str], fds: &[(RawFd, i32)]) -> Command {
    let mut cmd = husk_as(u, args);
    give_fds(&mut cmd, fds);
    cmd
}

/// `husk ARGS -- /bin/sh -c SCRIPT` as `u` with descriptors at their numbers, run to the end.
fn sh_fds(u: User, args: &[&str], fds: &[(RawFd, i32)], script: &str) -> Output {
    let mut all = args.to_vec();
    all.extend(["--", "/bin/sh", "-c", script]);
    run(husk_fds(u, &all, fds), 20)
}

/// A fresh directory in the scratch directory that every uid may write, removed at the end.
fn dir_for(u: User, name: &str) -> (RemoveOnDrop, String) {
    let dir = scratch().join(format!("{name}-{u:?}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let s = dir.to_str().unwrap().to_owned();
    (RemoveOnDrop(dir), s)
}

/// A scratch file holding `data`, open for reading.
fn data_file(u: User, name: &str, data: &[u8]) -> std::fs::File {
    let path = scratch().join(format!("{name}-{u:?}"));
    std::fs::write(&path, data).unwrap();
    let f = std::fs::File::open(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    f
}

/// A pipe whose write end gets `data` from a thread, then closes (data larger than a pipe
/// holds is read by husk while it is written).
fn data_pipe(data: Vec<u8>) -> std::io::PipeReader {
    let (r, mut w) = std::io::pipe().unwrap();
    std::thread::spawn(move || {
        let _ = w.write_all(&data);
    });
    r
}

/// `(code, stdout, stderr)` of an output, for one assertion.
fn all(out: &Output) -> (i32, String, String) {
    (code(out.status), text(&out.stdout), text(&out.stderr))
}

/// The namespace link of `pid` (`user:[N]`).
fn ns_link(pid: u32, kind: &str) -> String {
    let link = std::fs::read_link(format!("/proc/{pid}/ns/{kind}")).unwrap();
    link.to_string_lossy().into_owned()
}

/// Whether `u` may make the holders' user namespaces here (`unshare -U -r`); SKIP if not.
fn can_make_userns(u: User, test: &str) -> bool {
    let out = run(
        command_as(u, Path::new("unshare"), &["-U", "-r", "true"]),
        10,
    );
    if !out.status.success() {
        println!(
            "SKIP {test} ({u:?}): unshare -U -r fails here ({})",
            text(&out.stderr).trim_end()
        );
        return false;
    }
    true
}

/// A process holding namespaces open: `unshare ARGS sleep 30` as `u` (killed when
/// dropped), and the pid of the process in the namespaces it made: the unshare itself, or,
/// with `forks`, its child (`--fork --kill-child`: killing unshare kills it too).
fn holder(u: User, args: &[&str], forks: bool, made: &[&str]) -> (KillOnDrop, u32) {
    let mut all = args.to_vec();
    all.extend(["sleep", "30"]);
    let child = command_as(u, Path::new("unshare"), &all)
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let guard = KillOnDrop(child);
    let me = std::process::id();
    let mut inner = 0;
    let ready = eventually(10, || {
        inner = if forks {
            let kids = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
                .unwrap_or_default();
            match kids.split_whitespace().next().and_then(|p| p.parse().ok()) {
                Some(k) => k,
                None => return false,
            }
        } else {
            pid
        };
        let comm = std::fs::read_to_string(format!("/proc/{inner}/comm")).unwrap_or_default();
        comm.trim() == "sleep"
            && made.iter().all(|k| {
                let (a, b) = (
                    std::fs::read_link(format!("/proc/{inner}/ns/{k}")),
                    std::fs::read_link(format!("/proc/{me}/ns/{k}")),
                );
                matches!((a, b), (Ok(a), Ok(b)) if a != b)
            })
    });
    assert!(ready, "{u:?}: the holder unshare {args:?} never got going");
    (guard, inner)
}

/// `/proc/PID/ns/KIND`, open (as the test's root: the fd goes to husk).
fn open_ns(pid: u32, kind: &str) -> std::fs::File {
    std::fs::File::open(format!("/proc/{pid}/ns/{kind}")).unwrap()
}

/// husk refused before COMMAND ran: exit 125, nothing on stdout, `msg` on stderr.
fn assert_refused(out: &Output, msg: &str, context: &str) {
    assert_eq!(all(out), (125, String::new(), msg.into()), "{context}");
}

/// A descriptor's number.
fn fd(f: &impl AsRawFd) -> RawFd {
    f.as_raw_fd()
}

// --file -----------------------------------------------------------------------------------

/// `--file FD DEST`: DEST gets FD's data (read to its end: a pipe given more than a pipe
/// buffer holds arrives whole), 0666 unless `--perms` says otherwise, and FD is not among
/// COMMAND's descriptors (`ls /proc/self/fd` lists 0-2 and its own 3).
fn file_writes_fds_data(u: User) {
    if !can(Needs::Namespaces, "--file") {
        return;
    }
    let f = data_file(u, "file-data", b"hello, file\n");
    let base = ["--ro-bind", "/", "/", "--tmpfs", "/tmp"];
    let script = "cat /tmp/f; stat -c %a /tmp/f; ls /proc/self/fd";
    let out = sh_fds(
        u,
        &[&base[..], &["--file", "5", "/tmp/f"]].concat(),
        &[(fd(&f), 5)],
        script,
    );
    assert_eq!(
        all(&out),
        (0, "hello, file\n666\n0\n1\n2\n3\n".into(), String::new()),
        "{u:?} --file"
    );

    let f = data_file(u, "file-data", b"secret\n");
    let args = [&base[..], &["--perms", "0640", "--file", "3", "/tmp/d/f"]].concat();
    let out = sh_fds(
        u,
        &args,
        &[(fd(&f), 3)],
        "cat /tmp/d/f; stat -c %a /tmp/d/f",
    );
    assert_eq!(
        all(&out),
        (0, "secret\n640\n".into(), String::new()),
        "{u:?} --perms 0640 --file"
    );

    let data: String = (0..20000).map(|i| format!("line {i}\n")).collect();
    assert!(data.len() > 65536 * 2);
    let p = data_pipe(data.clone().into_bytes());
    let out = sh_fds(
        u,
        &[&base[..], &["--file", "4", "/tmp/big"]].concat(),
        &[(fd(&p), 4)],
        "cat /tmp/big",
    );
    assert_eq!(
        code(out.status),
        0,
        "{u:?} --file from a pipe: {}",
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout) == data,
        "{u:?}: --file from a pipe: not the data written"
    );
}

for_each_user! {
    fn file_gets_the_descriptors_data(u: User) { file_writes_fds_data(u) }
}

// --bind-data, --ro-bind-data --------------------------------------------------------------

/// `--bind-data FD DEST`: a 0600 file of FD's data bound on DEST, writable (the copy, not
/// the host's file changes); `--ro-bind-data`: the same, read-only (EROFS). DEST may be an
/// existing file of the root (`/etc/hostname` of `--ro-bind / /`), or new under a tmpfs.
fn bind_data_binds_a_copy(u: User) {
    if !can(Needs::Namespaces, "--bind-data") {
        return;
    }
    let Ok(host) = std::fs::read("/etc/hostname") else {
        println!("SKIP --bind-data ({u:?}): no /etc/hostname here to bind over");
        return;
    };
    let f = data_file(u, "bind-data", b"sandbox-name\n");
    let script = "cat /etc/hostname; stat -c %a /etc/hostname; echo more >> /etc/hostname && cat /etc/hostname";
    let out = sh_fds(
        u,
        &["--ro-bind", "/", "/", "--bind-data", "3", "/etc/hostname"],
        &[(fd(&f), 3)],
        script,
    );
    assert_eq!(
        all(&out),
        (
            0,
            "sandbox-name\n600\nsandbox-name\nmore\n".into(),
            String::new()
        ),
        "{u:?} --bind-data"
    );
    assert_eq!(
        std::fs::read("/etc/hostname").unwrap(),
        host,
        "the host's file changed"
    );

    let f = data_file(u, "bind-data", b"read only\n");
    let script = "cat /etc/hostname; stat -c %a /etc/hostname; echo more >> /etc/hostname; echo $?";
    let out = sh_fds(
        u,
        &[
            "--ro-bind",
            "/",
            "/",
            "--ro-bind-data",
            "3",
            "/etc/hostname",
        ],
        &[(fd(&f), 3)],
        script,
    );
    assert_eq!(
        code(out.status),
        0,
        "{u:?} --ro-bind-data: {}",
        text(&out.stderr)
    );
    assert_eq!(
        text(&out.stdout),
        "read only\n600\n2\n",
        "{u:?} --ro-bind-data"
    );
    assert!(
        text(&out.stderr).contains("Read-only file system"),
        "{u:?}: {}",
        text(&out.stderr)
    );

    // New files under a tmpfs, from a pipe; --perms applies; the descriptors are not COMMAND's.
    let (p, q) = (data_pipe(b"one\n".to_vec()), data_pipe(b"two\n".to_vec()));
    let args = [
        "--ro-bind",
        "/",
        "/",
        "--tmpfs",
        "/tmp",
        "--perms",
        "0644",
        "--bind-data",
        "6",
        "/tmp/a/one",
        "--ro-bind-data",
        "7",
        "/tmp/b/two",
    ];
    let script = "cat /tmp/a/one /tmp/b/two; stat -c %a /tmp/a/one /tmp/b/two; ls /proc/self/fd; touch /tmp/b/two";
    let out = sh_fds(u, &args, &[(fd(&p), 6), (fd(&q), 7)], script);
    assert_eq!(code(out.status), 1, "{u:?}: {}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "one\ntwo\n644\n600\n0\n1\n2\n3\n",
        "{u:?} under a tmpfs"
    );
    assert!(
        text(&out.stderr).contains("Read-only file system"),
        "{u:?}: {}",
        text(&out.stderr)
    );
}

for_each_user! {
    fn bind_data_and_ro_bind_data(u: User) { bind_data_binds_a_copy(u) }
}

/// bwrap, if installed and able to make a sandbox as `u` here.
fn bwrap_for(u: User) -> Option<PathBuf> {
    let b = PathBuf::from("/usr/bin/bwrap");
    if !b.exists() {
        return None;
    }
    let out = run(command_as(u, &b, &["--ro-bind", "/", "/", "true"]), 10);
    out.status.success().then_some(b)
}

/// The parents made for a data option's DEST follow bwrap's rule for the mode the file gets
/// (0755, without the group's or the others' bits when the file gives them none): a
/// `--bind-data` (0600) gets 0700 parents, `--perms 0640 --file` 0750 ones. Checked against
/// bwrap where it runs.
fn data_parents_follow_the_files_mode(u: User) {
    if !can(Needs::Namespaces, "data parents") {
        return;
    }
    let args = [
        "--ro-bind",
        "/",
        "/",
        "--tmpfs",
        "/tmp",
        "--file",
        "3",
        "/tmp/a/b/f",
        "--bind-data",
        "4",
        "/tmp/c/d/g",
        "--perms",
        "0640",
        "--ro-bind-data",
        "5",
        "/tmp/e/h",
        "--perms",
        "0604",
        "--file",
        "6",
        "/tmp/i/j",
        "--",
        "stat",
        "-c",
        "%n %a",
        "/tmp/a",
        "/tmp/a/b",
        "/tmp/a/b/f",
        "/tmp/c",
        "/tmp/c/d",
        "/tmp/c/d/g",
        "/tmp/e",
        "/tmp/e/h",
        "/tmp/i",
        "/tmp/i/j",
    ];
    let want = "/tmp/a 755\n/tmp/a/b 755\n/tmp/a/b/f 666\n/tmp/c 700\n/tmp/c/d 700\n\
                /tmp/c/d/g 600\n/tmp/e 750\n/tmp/e/h 640\n/tmp/i 705\n/tmp/i/j 604\n";
    let files: Vec<_> = (3..7)
        .map(|i| data_file(u, &format!("parents-{i}"), b"x"))
        .collect();
    let fds: Vec<_> = files.iter().zip(3..).map(|(f, n)| (fd(f), n)).collect();
    if let Some(b) = bwrap_for(u) {
        let mut cmd = command_as(u, &b, &args);
        give_fds(&mut cmd, &fds);
        let out = run(cmd, 20);
        assert_eq!(all(&out), (0, want.into(), String::new()), "bwrap {u:?}");
    } else {
        println!(
            "SKIP data parents ({u:?}) against bwrap: bwrap does not run here; expected text only"
        );
    }
    let files: Vec<_> = (3..7)
        .map(|i| data_file(u, &format!("parents-{i}"), b"x"))
        .collect();
    let fds: Vec<_> = files.iter().zip(3..).map(|(f, n)| (fd(f), n)).collect();
    let out = run(husk_fds(u, &args, &fds), 20);
    // Failed before the fix: every parent was 0755 (make_dirs was given no mode for these).
    assert_eq!(all(&out), (0, want.into(), String::new()), "husk {u:?}");
}

for_each_user! {
    fn data_parents_get_bwraps_modes(u: User) { data_parents_follow_the_files_mode(u) }
}

// --bind-fd, --ro-bind-fd ------------------------------------------------------------------

/// `--bind-fd FD DEST`: what FD is open on (a host directory, with a marker file) is bound
/// on DEST, writable; `--ro-bind-fd` read-only. An O_PATH descriptor and a regular file do as
/// well. FD is not COMMAND's.
fn bind_fd_binds_the_directory(u: User) {
    if !can(Needs::Namespaces, "--bind-fd") {
        return;
    }
    let (_rm, d) = dir_for(u, "bind-fd");
    std::fs::write(format!("{d}/marker"), "m").unwrap();
    let dir = std::fs::File::open(&d).unwrap();
    let script = "ls /mnt; touch /mnt/new && echo wrote; ls /proc/self/fd";
    let out = sh_fds(
        u,
        &["--ro-bind", "/", "/", "--bind-fd", "3", "/mnt"],
        &[(fd(&dir), 3)],
        script,
    );
    assert_eq!(
        all(&out),
        (0, "marker\nwrote\n0\n1\n2\n3\n".into(), String::new()),
        "{u:?} --bind-fd"
    );
    assert!(
        Path::new(&format!("{d}/new")).exists(),
        "{u:?}: the write did not reach the host"
    );
    std::fs::remove_file(format!("{d}/new")).unwrap();

    let script = "ls /mnt; touch /mnt/new; echo $?";
    let out = sh_fds(
        u,
        &["--ro-bind", "/", "/", "--ro-bind-fd", "4", "/mnt"],
        &[(fd(&dir), 4)],
        script,
    );
    assert_eq!(
        (code(out.status), text(&out.stdout)),
        (0, "marker\n1\n".into()),
        "{u:?} --ro-bind-fd"
    );
    assert!(
        text(&out.stderr).contains("Read-only file system"),
        "{u:?}: {}",
        text(&out.stderr)
    );
    assert!(
        !Path::new(&format!("{d}/new")).exists(),
        "{u:?}: --ro-bind-fd was writable"
    );

    use std::os::unix::fs::OpenOptionsExt;
    let opath = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_PATH)
        .open(&d)
        .unwrap();
    let file = std::fs::File::open(format!("{d}/marker")).unwrap();
    let args = [
        "--ro-bind",
        "/",
        "/",
        "--tmpfs",
        "/tmp",
        "--ro-bind-fd",
        "5",
        "/tmp/dir",
        "--bind-fd",
        "6",
        "/tmp/x/marker",
    ];
    let out = sh_fds(
        u,
        &args,
        &[(fd(&opath), 5), (fd(&file), 6)],
        "ls /tmp/dir; cat /tmp/x/marker",
    );
    assert_eq!(
        all(&out),
        (0, "marker\nm".into(), String::new()),
        "{u:?} O_PATH and a file"
    );
}

for_each_user! {
    fn bind_fd_and_ro_bind_fd(u: User) { bind_fd_binds_the_directory(u) }
}

// --sync-fd --------------------------------------------------------------------------------

/// `--sync-fd FD`: the write end of a pipe stays open while the sandbox lives, so its
/// reader sees EOF only once COMMAND has ended: COMMAND makes a file right before it exits
/// (after 0.5 s), and that file is there when EOF comes. FD is not COMMAND's. Also with
/// `--as-pid-1`.
fn sync_fd_is_held_to_the_end(u: User) {
    if !can(Needs::Namespaces, "--sync-fd") {
        return;
    }
    let (_rm, d) = dir_for(u, "sync-fd");
    for extra in [&[][..], &["--unshare-pid", "--as-pid-1"][..]] {
        let done = format!("{d}/done");
        let _ = std::fs::remove_file(&done);
        let (reader, writer) = std::io::pipe().unwrap();
        let mut args = vec![
            "--ro-bind",
            "/",
            "/",
            "--bind",
            &d,
            "/mnt",
            "--sync-fd",
            "3",
        ];
        args.extend(extra);
        args.extend([
            "--",
            "/bin/sh",
            "-c",
            "ls /proc/self/fd; sleep 0.5; touch /mnt/done",
        ]);
        let mut cmd = husk_fds(u, &args, &[(fd(&writer), 3)]);
        let child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(writer);
        let (tx, rx) = std::sync::mpsc::channel();
        let done2 = done.clone();
        std::thread::spawn(move || {
            let mut reader = reader;
            let n = reader.read_to_end(&mut Vec::new()).unwrap_or(usize::MAX);
            let _ = tx.send((n, Path::new(&done2).exists()));
        });
        let eof = rx.recv_timeout(Duration::from_secs(15));
        let out = wait_output(child, 15);
        assert_eq!(
            all(&out),
            (0, "0\n1\n2\n3\n".into(), String::new()),
            "{u:?} {extra:?}"
        );
        assert_eq!(
            eof,
            Ok((0, true)),
            "{u:?} {extra:?}: EOF came before COMMAND's end"
        );
    }
}

for_each_user! {
    fn sync_fd_sees_eof_after_the_sandbox(u: User) { sync_fd_is_held_to_the_end(u) }
}

// --block-fd -------------------------------------------------------------------------------

/// `--block-fd FD`: COMMAND starts only once a byte comes on FD (its marker is not there
/// 300 ms after the start, and is right after the write), or EOF.
fn block_fd_holds_command_back(u: User) {
    if !can(Needs::Namespaces, "--block-fd") {
        return;
    }
    let (_rm, d) = dir_for(u, "block-fd");
    for by_eof in [false, true] {
        let marker = format!("{d}/started");
        let _ = std::fs::remove_file(&marker);
        let (reader, mut writer) = std::io::pipe().unwrap();
        let args = [
            "--ro-bind",
            "/",
            "/",
            "--bind",
            &d,
            "/mnt",
            "--block-fd",
            "3",
            "--",
            "/bin/sh",
            "-c",
            "touch /mnt/started; ls /proc/self/fd",
        ];
        let mut child = husk_fds(u, &args, &[(fd(&reader), 3)])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(reader);
        std::thread::sleep(Duration::from_millis(300));
        assert!(
            !Path::new(&marker).exists(),
            "{u:?}: COMMAND ran before the byte"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "{u:?}: husk ended before the byte"
        );
        if by_eof {
            drop(writer);
        } else {
            writer.write_all(b"x").unwrap();
        }
        let out = wait_output(child, 15);
        assert_eq!(
            all(&out),
            (0, "0\n1\n2\n3\n".into(), String::new()),
            "{u:?} by EOF {by_eof}"
        );
        assert!(Path::new(&marker).exists(), "{u:?}: COMMAND never ran");
    }
}

/// Waits for a child with piped stdout and stderr (small outputs) and collects them.
fn wait_output(mut child: Child, secs: u64) -> Output {
    let status = wait_for(&mut child, secs);
    let mut stdout = Vec::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_end(&mut stdout)
        .unwrap();
    let mut stderr = Vec::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_end(&mut stderr)
        .unwrap();
    Output {
        status,
        stdout,
        stderr,
    }
}

for_each_user! {
    fn block_fd_waits_for_a_byte(u: User) { block_fd_holds_command_back(u) }
}

// --userns-block-fd ------------------------------------------------------------------------

/// `--userns-block-fd FD --info-fd FD2 --unshare-user`: husk writes the record, leaves the
/// maps unwritten, and waits; the caller writes them for the child pid (as root `1000 0 1`;
/// unprivileged, its own uid only, after `deny` in setgroups), then writes the byte, and
/// COMMAND runs as the mapped ids.
fn userns_block_fd_lets_the_caller_map(u: User) {
    if !can(Needs::Namespaces, "--userns-block-fd") {
        return;
    }
    let (info_r, info_w) = std::io::pipe().unwrap();
    let (block_r, mut block_w) = std::io::pipe().unwrap();
    let args = [
        "--unshare-user",
        "--ro-bind",
        "/",
        "/",
        "--userns-block-fd",
        "4",
        "--info-fd",
        "3",
        "--",
        "/bin/sh",
        "-c",
        "id -u; id -g",
    ];
    let child = husk_fds(u, &args, &[(fd(&info_w), 3), (fd(&block_r), 4)])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop((info_w, block_r));
    // The inner init holds its copy of the info fd until it is let go: read to the "}".
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut record = String::new();
        for line in BufReader::new(info_r).lines() {
            let Ok(line) = line else { break };
            record += &line;
            record.push('\n');
            if line == "}" {
                break;
            }
        }
        let _ = tx.send(record);
    });
    let record = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("no --info-fd record");
    let pid: u32 = record
        .lines()
        .find_map(|l| l.trim().strip_prefix("\"child-pid\": "))
        .and_then(|p| p.trim_end_matches(',').parse().ok())
        .unwrap_or_else(|| panic!("no child-pid in {record:?}"));
    // husk wrote no map.
    let map = std::fs::read_to_string(format!("/proc/{pid}/uid_map")).unwrap();
    assert_eq!(map, "", "{u:?}: husk wrote the uid map itself");
    // The ids husk runs as: root's, nobody's (setpriv), or the suite's own.
    let (uid, gid) = match u {
        User::Root => (0, 0),
        User::Unprivileged if is_root() => (NOBODY, NOBODY),
        // SAFETY: geteuid and getegid have no preconditions.
        User::Unprivileged => unsafe { (libc::geteuid(), libc::getegid()) },
    };
    let mut script = format!("echo '1000 {uid} 1' > /proc/{pid}/uid_map && ");
    if u == User::Unprivileged {
        script += &format!("echo deny > /proc/{pid}/setgroups && ");
    }
    script += &format!("echo '1000 {gid} 1' > /proc/{pid}/gid_map");
    let out = run(command_as(u, Path::new("/bin/sh"), &["-c", &script]), 10);
    assert!(
        out.status.success(),
        "{u:?}: writing the maps: {}",
        text(&out.stderr)
    );
    block_w.write_all(b"x").unwrap();
    let out = wait_output(child, 15);
    assert_eq!(
        all(&out),
        (0, "1000\n1000\n".into(), String::new()),
        "{u:?}"
    );
}

for_each_user! {
    fn userns_block_fd_waits_for_the_callers_maps(u: User) { userns_block_fd_lets_the_caller_map(u) }
}

/// `--userns-block-fd` needs `--info-fd` (or `--json-status-fd`, husk's own) for the pid,
/// and a new user namespace: refused without.
fn userns_block_fd_needs_a_record(u: User) {
    let f = std::fs::File::open("/dev/null").unwrap();
    let msg = "husk: --userns-block-fd: needs a new user namespace and --info-fd or --json-status-fd (for its pid)\n";
    let mut cases = vec![vec![
        "--unshare-user",
        "--ro-bind",
        "/",
        "/",
        "--userns-block-fd",
        "4",
    ]];
    if u == User::Root {
        // As root no user namespace is made unasked.
        cases.push(vec![
            "--ro-bind",
            "/",
            "/",
            "--info-fd",
            "1",
            "--userns-block-fd",
            "4",
        ]);
    }
    for mut args in cases {
        args.extend(["--", "true"]);
        let out = run(husk_fds(u, &args, &[(fd(&f), 4)]), 10);
        assert_refused(&out, msg, &format!("{u:?} {args:?}"));
    }
}

for_each_user! {
    fn userns_block_fd_without_info_fd_is_refused(u: User) { userns_block_fd_needs_a_record(u) }
}

// --lock-file ------------------------------------------------------------------------------

/// A write lock on `path` for the whole file, without waiting: Ok, or the errno.
fn try_write_lock(path: &str) -> Result<std::fs::File, i32> {
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .unwrap();
    // SAFETY: a zeroed flock is valid; F_SETLK reads it.
    let mut lk: libc::flock = unsafe { std::mem::zeroed() };
    lk.l_type = libc::F_WRLCK as _;
    lk.l_whence = libc::SEEK_SET as _;
    // SAFETY: f is open; lk lives across the call.
    if unsafe { libc::fcntl(f.as_raw_fd(), libc::F_SETLK, &lk) } == 0 {
        Ok(f)
    } else {
        Err(std::io::Error::last_os_error().raw_os_error().unwrap())
    }
}

/// `--lock-file PATH` (a path inside the sandbox): while COMMAND runs, a write lock on the
/// file from outside fails (EAGAIN or EACCES: the inner init holds a read lock); once husk
/// has exited it is had. A PATH that does not exist is refused.
fn lock_file_is_held_while_command_runs(u: User) {
    if !can(Needs::Namespaces, "--lock-file") {
        return;
    }
    let (_rm, d) = dir_for(u, "lock-file");
    let lock = format!("{d}/lock");
    std::fs::write(&lock, "").unwrap();
    std::fs::set_permissions(&lock, std::fs::Permissions::from_mode(0o666)).unwrap();
    let args = [
        "--ro-bind",
        "/",
        "/",
        "--bind",
        &d,
        "/mnt",
        "--lock-file",
        "/mnt/lock",
        "--",
        "/bin/sh",
        "-c",
        "echo ready; read x; echo bye",
    ];
    let mut child = husk_as(u, &args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdin = child.stdin.take().unwrap();
    let lines = Lines::new(child.stdout.take().unwrap());
    let mut child = KillOnDrop(child);
    assert_eq!(lines.next(10), "ready", "{u:?}");
    match try_write_lock(&lock) {
        Err(e) if e == libc::EAGAIN || e == libc::EACCES => {}
        other => panic!(
            "{u:?}: a write lock while the sandbox runs: {:?}",
            other.map(drop)
        ),
    }
    drop(stdin);
    assert_eq!(lines.next(10), "bye", "{u:?}");
    assert_eq!(code(wait_for(&mut child.0, 10)), 0, "{u:?}");
    assert!(
        try_write_lock(&lock).is_ok(),
        "{u:?}: the lock outlived husk"
    );

    let out = sandbox(
        u,
        &["--ro-bind", "/", "/", "--lock-file", "/nonexistent/lock"],
        "echo ran",
    );
    let msg = "husk: --lock-file /nonexistent/lock: No such file or directory\n";
    assert_refused(&out, msg, &format!("{u:?}"));
}

for_each_user! {
    fn lock_file_is_read_locked_in_the_sandbox(u: User) { lock_file_is_held_while_command_runs(u) }
}

// --as-pid-1 -------------------------------------------------------------------------------

/// `--as-pid-1 --unshare-pid`: COMMAND itself is PID 1 (`$$` is 1, /proc/1/comm is `sh`, not
/// husk's init), and its exit status is husk's.
fn as_pid_1_runs_command_as_pid_1(u: User) {
    if !can(Needs::Namespaces, "--as-pid-1") {
        return;
    }
    let script = "echo $$; cat /proc/1/comm; exit 7";
    let base = ["--ro-bind", "/", "/", "--unshare-pid", "--proc", "/proc"];
    let out = sandbox(u, &[&base[..], &["--as-pid-1"]].concat(), script);
    assert_eq!(
        all(&out),
        (7, "1\nsh\n".into(), String::new()),
        "{u:?} --as-pid-1"
    );
    // Without it, husk's init is PID 1.
    let out = sandbox(u, &base, script);
    assert_eq!(
        all(&out),
        (7, format!("2\n{}\n", husk_comm()), String::new()),
        "{u:?}"
    );
}

for_each_user! {
    fn as_pid_1_makes_command_pid_1(u: User) { as_pid_1_runs_command_as_pid_1(u) }
}

/// `--as-pid-1` needs a pid namespace (as root none is made unasked; unprivileged, one is
/// only added for a /proc mount) and no `--lock-file` (husk's init holds the locks).
fn as_pid_1_refusals(u: User) {
    let msg = "husk: --as-pid-1: needs --unshare-pid, and no --lock-file or --pause (husk's init does those)\n";
    let mut cases: Vec<&[&str]> = vec![
        &["--ro-bind", "/", "/", "--as-pid-1"],
        &[
            "--ro-bind",
            "/",
            "/",
            "--unshare-pid",
            "--lock-file",
            "/etc/hostname",
            "--as-pid-1",
        ],
    ];
    if u == User::Root {
        cases.push(&["--ro-bind", "/", "/", "--proc", "/proc", "--as-pid-1"]);
    }
    for args in cases {
        let out = sandbox(u, args, "echo ran");
        assert_refused(&out, msg, &format!("{u:?} {args:?}"));
    }
}

for_each_user! {
    fn as_pid_1_without_a_pid_namespace_is_refused(u: User) { as_pid_1_refusals(u) }
}

// --assert-userns-disabled -----------------------------------------------------------------

/// `--assert-userns-disabled`: with the default seccomp filter (which refuses new user
/// namespaces) COMMAND runs, and indeed cannot make one; with `--no-default-seccomp` it
/// could, so husk refuses (as root and unprivileged alike: nested user namespaces are
/// allowed here), unless `--disable-userns` is there too.
fn assert_userns_disabled_checks(u: User) {
    if !can(Needs::Namespaces, "--assert-userns-disabled")
        || !can(Needs::Seccomp, "--assert-userns-disabled")
    {
        return;
    }
    let script = "unshare -U true 2>/dev/null; echo $?";
    let root = [
        "--ro-bind",
        "/",
        "/",
        "--dev",
        "/dev",
        "--assert-userns-disabled",
    ];
    let out = sandbox(u, &root, script);
    assert_eq!(
        all(&out),
        (0, "1\n".into(), String::new()),
        "{u:?} default filter"
    );
    let out = sandbox(
        u,
        &[&root[..], &["--no-default-seccomp", "--disable-userns"]].concat(),
        script,
    );
    assert_eq!(
        all(&out),
        (0, "1\n".into(), String::new()),
        "{u:?} --disable-userns"
    );

    // The control: without the assertion, this COMMAND can make a user namespace.
    let out = sandbox(u, &[&root[..5], &["--no-default-seccomp"]].concat(), script);
    assert_eq!(
        all(&out),
        (0, "0\n".into(), String::new()),
        "{u:?} no filter, no assertion"
    );
    let out = sandbox(
        u,
        &[&root[..], &["--no-default-seccomp"]].concat(),
        "echo ran",
    );
    let msg = "husk: --assert-userns-disabled: COMMAND could still create user namespaces\n";
    assert_refused(&out, msg, &format!("{u:?} --no-default-seccomp"));
}

for_each_user! {
    fn assert_userns_disabled(u: User) { assert_userns_disabled_checks(u) }
}

// --userns ---------------------------------------------------------------------------------

/// `--userns FD`: the sandbox is made in that user namespace (a holder's `unshare -U -r`,
/// the same user's): COMMAND's /proc/self/ns/user is the holder's, and its uid the
/// holder's 0. With `--unshare-user` it is refused.
fn userns_joins_the_holders(u: User) {
    if !can(Needs::Namespaces, "--userns") || !can_make_userns(u, "--userns") {
        return;
    }
    let (_holder, pid) = holder(u, &["-U", "-r"], false, &["user"]);
    let ns = open_ns(pid, "user");
    let want = ns_link(pid, "user");
    let script = "readlink /proc/self/ns/user; id -u; ls /proc/self/fd";
    let out = sh_fds(
        u,
        &["--ro-bind", "/", "/", "--userns", "3"],
        &[(fd(&ns), 3)],
        script,
    );
    assert_eq!(
        all(&out),
        (0, format!("{want}\n0\n0\n1\n2\n3\n"), String::new()),
        "{u:?}"
    );

    let out = sh_fds(
        u,
        &["--ro-bind", "/", "/", "--unshare-user", "--userns", "3"],
        &[(fd(&ns), 3)],
        "echo ran",
    );
    let msg = "husk: --userns: not with --unshare-user, --uid, --gid or the maps (it joins a user namespace)\n";
    assert_refused(&out, msg, &format!("{u:?} with --unshare-user"));
}

for_each_user! {
    fn userns_joins_a_user_namespace(u: User) { userns_joins_the_holders(u) }
}

// --pidns ----------------------------------------------------------------------------------

/// The holder of a pid namespace for `u`: as root `unshare --pid --fork --mount-proc`; for
/// an unprivileged user in a user namespace of its own too (`-U -r`), which husk must then
/// join with `--userns`. Returns the holder and the pid of its sleep (PID 1 there).
fn pid_holder(u: User) -> (KillOnDrop, u32) {
    let mut args = vec!["--pid", "--fork", "--kill-child", "--mount-proc"];
    let mut made = vec!["pid"];
    if u == User::Unprivileged {
        args.splice(0..0, ["-U", "-r"]);
        made.push("user");
    }
    holder(u, &args, true, &made)
}

/// `--pidns FD` without `--unshare-pid`: COMMAND is in the holder's pid namespace (its
/// /proc/self/ns/pid is the holder's; a /proc mounted there shows the holder's `sleep` as
/// PID 1). Unprivileged, the holder's user namespace is joined too (`--userns`): without it
/// husk has no right to that pid namespace and setns fails (EPERM, 125).
fn pidns_joins_the_holders(u: User) {
    if !can(Needs::Namespaces, "--pidns")
        || (u == User::Unprivileged && !can_make_userns(u, "--pidns"))
    {
        return;
    }
    let (_holder, pid) = pid_holder(u);
    let pidns = open_ns(pid, "pid");
    let userns = open_ns(pid, "user");
    let want = ns_link(pid, "pid");
    let mut args = vec!["--ro-bind", "/", "/", "--pidns", "3"];
    let mut fds = vec![(fd(&pidns), 3)];
    if u == User::Unprivileged {
        args.extend(["--userns", "4"]);
        fds.push((fd(&userns), 4));
    }
    let out = sh_fds(u, &args, &fds, "readlink /proc/self/ns/pid");
    assert_eq!(all(&out), (0, format!("{want}\n"), String::new()), "{u:?}");
    args.extend(["--proc", "/proc"]);
    let out = sh_fds(
        u,
        &args,
        &fds,
        "readlink /proc/self/ns/pid; cat /proc/1/comm",
    );
    assert_eq!(
        all(&out),
        (0, format!("{want}\nsleep\n"), String::new()),
        "{u:?} --proc"
    );

    if u == User::Unprivileged {
        let out = sh_fds(
            u,
            &["--ro-bind", "/", "/", "--pidns", "3"],
            &fds[..1],
            "echo ran",
        );
        let msg = "husk: --pidns 3: Operation not permitted\n";
        assert_refused(&out, msg, &format!("{u:?} without --userns"));
    }
}

for_each_user! {
    fn pidns_joins_a_pid_namespace(u: User) { pidns_joins_the_holders(u) }
}

/// `--pidns FD --unshare-pid`: as bubblewrap (which forks into FD's namespace, then
/// unshares a new one below it), COMMAND's pid namespace is a new one, neither the host's
/// nor the holder's, and COMMAND is PID 2 in it (husk's init 1).
fn pidns_with_unshare_pid_nests(u: User) {
    if !can(Needs::Namespaces, "--pidns --unshare-pid")
        || (u == User::Unprivileged && !can_make_userns(u, "--pidns"))
    {
        return;
    }
    let (_holder, pid) = pid_holder(u);
    let pidns = open_ns(pid, "pid");
    let userns = open_ns(pid, "user");
    let (host, held) = (ns_link(std::process::id(), "pid"), ns_link(pid, "pid"));
    let mut args = vec!["--ro-bind", "/", "/", "--pidns", "3", "--unshare-pid"];
    let mut fds = vec![(fd(&pidns), 3)];
    if u == User::Unprivileged {
        args.extend(["--userns", "4"]);
        fds.push((fd(&userns), 4));
    }
    // Before the relay, husk exited 125 here ("creating namespaces (clone): Invalid
    // argument"): the kernel refuses CLONE_NEWPID from a process whose own pid namespace
    // is not the one its children go to.
    let out = sh_fds(u, &args, &fds, "readlink /proc/self/ns/pid; echo $$");
    let (status, stdout, stderr) = all(&out);
    assert_eq!((status, stderr.as_str()), (0, ""), "{u:?}: {stdout}");
    let mut lines = stdout.lines();
    let ns = lines.next().unwrap_or_default();
    assert!(
        ns.starts_with("pid:[") && ns != host && ns != held,
        "{u:?}: {stdout}"
    );
    assert_eq!(lines.next(), Some("2"), "{u:?}: {stdout}");
    // The relay that made it passes COMMAND's status back, and a signal's death as 128+N.
    let out = sh_fds(u, &args, &fds, "exit 7");
    assert_eq!(all(&out), (7, String::new(), String::new()), "{u:?} exit 7");
    let out = sh_fds(u, &args, &fds, "kill -TERM $$");
    assert_eq!(code(out.status), 143, "{u:?} SIGTERM");
}

for_each_user! {
    fn pidns_with_unshare_pid_makes_a_child_namespace(u: User) { pidns_with_unshare_pid_nests(u) }
}

// --userns2 --------------------------------------------------------------------------------

/// `--userns FD1 --userns2 FD2`, FD2 a user namespace made inside FD1 (a holder's
/// `unshare -U -r --fork unshare -U -r sleep`): the root is built with FD1's rights, then
/// husk moves to FD2, where COMMAND runs (its /proc/self/ns/user is FD2's, uid 0). Also
/// with a pid namespace and /proc of its own. FD2 alone, unprivileged, is not husk's to
/// enter (EPERM, 125).
fn userns2_moves_to_the_child_namespace(u: User) {
    if !can(Needs::Namespaces, "--userns2") || !can_make_userns(u, "--userns2") {
        return;
    }
    let args = ["-U", "-r", "--fork", "--kill-child", "unshare", "-U", "-r"];
    let (holder_guard, inner) = holder(u, &args, true, &["user"]);
    let outer = holder_guard.0.id();
    let (first, second) = (open_ns(outer, "user"), open_ns(inner, "user"));
    let (want1, want2) = (ns_link(outer, "user"), ns_link(inner, "user"));
    assert_ne!(want1, want2);
    let base = ["--ro-bind", "/", "/", "--userns", "3", "--userns2", "4"];
    let fds = [(fd(&first), 3), (fd(&second), 4)];
    let out = sh_fds(u, &base, &fds, "readlink /proc/self/ns/user; id -u");
    assert_eq!(
        all(&out),
        (0, format!("{want2}\n0\n"), String::new()),
        "{u:?}"
    );
    let args = [&base[..], &["--unshare-pid", "--proc", "/proc"]].concat();
    let out = sh_fds(u, &args, &fds, "readlink /proc/self/ns/user; echo $$");
    assert_eq!(
        all(&out),
        (0, format!("{want2}\n2\n"), String::new()),
        "{u:?} --unshare-pid"
    );

    if u == User::Unprivileged {
        let out = sh_fds(
            u,
            &["--ro-bind", "/", "/", "--userns2", "4"],
            &fds[1..],
            "echo ran",
        );
        let msg = "husk: --userns2 4: Operation not permitted\n";
        assert_refused(&out, msg, &format!("{u:?} --userns2 alone"));
    }
}

for_each_user! {
    fn userns2_moves_to_a_nested_user_namespace(u: User) { userns2_moves_to_the_child_namespace(u) }
}

// Errors -----------------------------------------------------------------------------------

/// Each option given a descriptor that is not open: `husk: OPTION N: Bad file descriptor`
/// and 125, before anything runs; a namespace option given a file that is not a namespace
/// of its kind (/dev/null, or a user namespace for `--pidns`): `husk: OPTION N: Invalid
/// argument` and 125.
fn closed_and_wrong_descriptors(u: User) {
    let closed: [(&str, &[&str]); 11] = [
        ("--file", &["--file", "9", "/tmp/f"]),
        ("--bind-data", &["--bind-data", "9", "/tmp/f"]),
        ("--ro-bind-data", &["--ro-bind-data", "9", "/tmp/f"]),
        ("--bind-fd", &["--bind-fd", "9", "/mnt"]),
        ("--ro-bind-fd", &["--ro-bind-fd", "9", "/mnt"]),
        ("--sync-fd", &["--sync-fd", "9"]),
        ("--block-fd", &["--block-fd", "9"]),
        (
            "--userns-block-fd",
            &["--unshare-user", "--info-fd", "1", "--userns-block-fd", "9"],
        ),
        ("--userns", &["--userns", "9"]),
        ("--userns2", &["--userns2", "9"]),
        ("--pidns", &["--pidns", "9"]),
    ];
    for (name, opts) in closed {
        let args = [&["--ro-bind", "/", "/", "--tmpfs", "/tmp"][..], opts].concat();
        let out = sandbox(u, &args, "echo ran");
        let msg = format!("husk: {name} 9: Bad file descriptor\n");
        assert_refused(&out, &msg, &format!("{u:?} {opts:?}"));
    }
    if !can(Needs::Namespaces, "namespace options with a wrong file") {
        return;
    }
    let null = std::fs::File::open("/dev/null").unwrap();
    let user = std::fs::File::open("/proc/self/ns/user").unwrap();
    for (opt, file) in [
        ("--userns", &null),
        ("--userns2", &null),
        ("--pidns", &null),
        ("--pidns", &user),
    ] {
        let out = sh_fds(
            u,
            &["--ro-bind", "/", "/", opt, "5"],
            &[(fd(file), 5)],
            "echo ran",
        );
        let msg = format!("husk: {opt} 5: Invalid argument\n");
        assert_refused(&out, &msg, &format!("{u:?} {opt} on the wrong file"));
    }
}

for_each_user! {
    fn closed_descriptors_are_refused(u: User) { closed_and_wrong_descriptors(u) }
}
