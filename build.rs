//! Links musl's libc statically (its crt1 calls `__libc_start_main`, which calls husk's
//! `main`) and embeds the git commit for `--version`.
use std::process::Command;

fn main() {
    // A no_std binary gets no libc from std, so ask for musl's own static archive, which
    // rustup ships beside the target's standard library.
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let target = std::env::var("TARGET").expect("cargo sets TARGET");
    let sysroot = Command::new(rustc)
        .args(["--print", "sysroot"])
        .output()
        .expect("rustc --print sysroot");
    let sysroot = String::from_utf8(sysroot.stdout).expect("sysroot is UTF-8");
    println!(
        "cargo:rustc-link-search=native={}/lib/rustlib/{target}/lib/self-contained",
        sysroot.trim()
    );
    println!("cargo:rustc-link-lib=static=c");
    // Size: one read-execute segment instead of page-aligned separate ones, and no unwind
    // tables (see no-unwind.ld). Only the husk binary; tests keep their unwinding. No RELRO
    // and a small common page size, so the data segment follows the code in the file instead
    // of starting at a page boundary: without them the file grows in 4 KiB steps. A static
    // musl binary never mprotects a RELRO region anyway (only the dynamic loader does). No
    // build-id note either: nothing here looks binaries up by it.
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    // x86_64 links through cc (GNU ld); aarch64 directly with rust-lld (.cargo/config.toml).
    let wl = if target.starts_with("aarch64") {
        ""
    } else {
        "-Wl,"
    };
    let args = [
        "-z",
        "noseparate-code",
        "-z",
        "norelro",
        "-z",
        "common-page-size=64",
        "--no-eh-frame-hdr",
        "--build-id=none",
        "-T",
    ];
    for arg in args {
        println!("cargo:rustc-link-arg-bins={wl}{arg}");
    }
    println!("cargo:rustc-link-arg-bins={wl}{dir}/no-unwind.ld");
    println!("cargo:rerun-if-changed=no-unwind.ld");
    let commit = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=HUSK_COMMIT={commit}");
    // Where git keeps HEAD and the branches (in a worktree `.git` is a file, and a path
    // that does not exist would make cargo rebuild every time).
    for name in ["HEAD", "refs/heads"] {
        let path = Command::new("git")
            .args(["rev-parse", "--path-format=absolute", "--git-path", name])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .and_then(|o| String::from_utf8(o.stdout).ok());
        if let Some(path) = path
            .map(|p| p.trim().to_owned())
            .filter(|p| std::path::Path::new(p).exists())
        {
            println!("cargo:rerun-if-changed={path}");
        }
    }
}
