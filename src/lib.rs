//! husk: a minimal init for containers, and a namespace sandbox.
//!
//! Data flows one way: argv → `cli` → `Spec` → `sandbox` (optional) → `init` → exit
//! code. `sys` is the leaf every
//! module may use for the syscalls rustix lacks.
#![cfg_attr(not(test), no_std)]

// First: it defines `text!`, which the modules after it use.
#[macro_use]
pub mod text;
pub mod argfile;
pub mod buf;
pub mod cgroup;
pub mod cli;
pub mod config;
pub mod error;
pub mod exec;
pub mod init;
pub mod landlock;
pub mod lockdown;
pub mod machine;
pub mod num;
pub mod procfs;
pub mod report;
pub mod resolve;
pub mod sandbox;
pub mod spec;
pub mod sys;
pub mod termination;
#[cfg(test)]
mod testing;
pub mod user;

use rustix::fd::{AsFd, AsRawFd};
use spec::{Action, Argv, Env};

/// Whether this build has the sandbox, landlock, `--cgroup`, `--restart` and the machine's
/// init (the `sandbox` feature): the init-only build (`make init-only`) parses none of
/// their options, and the branches that would run them are cut off by this constant, so
/// their code is not linked.
pub const SANDBOX: bool = cfg!(feature = "sandbox");

/// `--version`, in tini's shape, which Docker parses for `docker info` when husk is its init.
const VERSION: &str = concat!(
    "husk version ",
    env!("CARGO_PKG_VERSION"),
    " - git.",
    env!("HUSK_COMMIT"),
    "\n"
);

/// The whole program: parses argv and runs; returns the exit status. Called once, by the
/// entry point. As a machine's init it never returns: whatever happened, the machine is
/// shut down (`machine`).
pub fn run(argv: Argv<'static>, env: Env<'static>) -> i32 {
    // The Spec is 30 KB, nearly all of it the sandbox's lists, which init mode never
    // writes. In .bss only the pages written become resident; on the stack, its frame's
    // probes would touch every page (init mode's RSS was 108 kB, 32 of them this).
    static mut SPEC: core::mem::MaybeUninit<spec::Spec<'static>> = core::mem::MaybeUninit::uninit();
    // SAFETY: run is called once, by the process's single thread, and nothing else names
    // SPEC: this is the only reference to it.
    let spec = unsafe { (*core::ptr::addr_of_mut!(SPEC)).write(spec::Spec::new(argv)) };
    let action = cli::parse(argv, env, spec);
    // Asked once: the machine's init is pid 1, and so is a container's, which the init
    // loop needs to know.
    let pid1 = rustix::process::getpid().is_init();
    // Set up before anything is printed: an initramfs may have no console open yet.
    let machine = machine::is_machine(spec, pid1);
    if machine {
        machine::set_up(spec);
    }
    let action = action.and_then(|a| match a {
        // Whether husk is root matters to a sandbox only: init mode does not ask.
        Action::Run => {
            let root = !SANDBOX || !spec.sandbox.enabled || rustix::process::geteuid().is_root();
            resolve::resolve(spec, root)?;
            prepare(spec).map(|()| a)
        }
        other => Ok(other),
    });
    let status = match action {
        Err(e) => {
            e.report();
            125
        }
        Ok(Action::Help) => {
            text::write(false);
            0
        }
        Ok(Action::License) => {
            text::write(true);
            0
        }
        Ok(Action::Version) => {
            report::write_all(1, VERSION.as_bytes());
            0
        }
        Ok(Action::Run) => {
            // Taken once: a restarted COMMAND gets what husk was started with, not the
            // mask husk blocks everything with.
            let inherited = init::Inherited::take();
            let mut restarts = machine::Restarts::default();
            loop {
                let status = start(spec, env, &inherited, pid1);
                if !machine::restart_after(spec, status, &mut restarts) {
                    break status;
                }
            }
        }
    };
    if let Some(path) = spec.termination_log {
        termination::write(path, status);
    }
    if machine {
        machine::shut_down(spec, status);
    }
    status
}

/// The init-mode steps that read files, once before COMMAND first starts: `--user`'s ids,
/// and that `--termination-log` can be written. Never inlined: run stays small.
#[inline(never)]
fn prepare(spec: &mut spec::Spec<'static>) -> error::Result<'static, ()> {
    if let Some(user) = spec.confine.user.as_mut() {
        let given = user.given;
        user::resolve(user).map_err(|why| error::Error::refused(b"--user", why).with(given))?;
    }
    match spec.termination_log {
        Some(path) => termination::prepare(path),
        None => Ok(()),
    }
}

/// Starts COMMAND, in a sandbox or under the init alone, inside `--cgroup` if given.
fn start(spec: &spec::Spec, env: Env, inherited: &init::Inherited, pid1: bool) -> i32 {
    if !SANDBOX {
        let payload = init::Payload::plain(spec.command, env, &spec.confine);
        return init::serve(&spec.init, &payload, inherited, None, None, &mut [0], pid1);
    }
    let started = sandbox::check_fds(&spec.sandbox).and_then(|()| {
        let cgroup = cgroup::prepare(&spec.cgroup)?;
        let cgroup_fd = cgroup.as_ref().map(|c| c.dir.as_fd());
        let status = if spec.sandbox.enabled {
            sandbox::monitor(spec, env, inherited, cgroup_fd)
        } else {
            let payload = init::Payload::plain(spec.command, env, &spec.confine);
            let mut held = [cgroup_fd.map_or(0, |fd| fd.as_raw_fd() as u32)];
            init::serve(
                &spec.init, &payload, inherited, None, cgroup_fd, &mut held, pid1,
            )
        };
        cgroup::finish(cgroup);
        Ok(status)
    });
    started.unwrap_or_else(|e| {
        e.report();
        125
    })
}
