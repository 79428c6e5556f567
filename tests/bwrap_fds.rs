//! bubblewrap's descriptor options: the data of `--file`, `--bind-data` and `--ro-bind-data`,
//! the directories of `--bind-fd` and `--ro-bind-fd`, the pipes of `--sync-fd`, `--block-fd`
//! and `--userns-block-fd`, the namespaces of `--userns`, `--userns2` and `--pidns`, and
//! `--lock-file`, `--as-pid-1` and `--assert-userns-disabled`. Each descriptor is handed to
//! husk at the number its option names (dup2 between fork and exec).

mod common;
use common::*;
use std::io::{Read, Write};
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

// Errors -----------------------------------------------------------------------------------

/// Each option given a descriptor that is not open: `husk: OPTION N: Bad file descriptor`
/// and 125, before anything runs.
fn closed_and_wrong_descriptors(u: User) {
    let closed: [(&str, &[&str]); 7] = [
        ("--file", &["--file", "9", "/tmp/f"]),
        ("--bind-data", &["--bind-data", "9", "/tmp/f"]),
        ("--ro-bind-data", &["--ro-bind-data", "9", "/tmp/f"]),
        ("--bind-fd", &["--bind-fd", "9", "/mnt"]),
        ("--ro-bind-fd", &["--ro-bind-fd", "9", "/mnt"]),
        ("--sync-fd", &["--sync-fd", "9"]),
        ("--block-fd", &["--block-fd", "9"]),
    ];
    for (name, opts) in closed {
        let args = [&["--ro-bind", "/", "/", "--tmpfs", "/tmp"][..], opts].concat();
        let out = sandbox(u, &args, "echo ran");
        let msg = format!("husk: {name} 9: Bad file descriptor\n");
        assert_refused(&out, &msg, &format!("{u:?} {opts:?}"));
    }
}

for_each_user! {
    fn closed_descriptors_are_refused(u: User) { closed_and_wrong_descriptors(u) }
}
