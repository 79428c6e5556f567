//! husk: a minimal init for containers, and a namespace sandbox.
//!
//! Data flows one way: argv → `cli` → `Spec` → `sandbox` (optional) → `init` → exit
//! code. `sys` is the leaf every
//! module may use for the syscalls rustix lacks.
#![cfg_attr(not(test), no_std)]

pub mod cgroup;
pub mod cli;
pub mod exec;
pub mod init;
pub mod landlock;
pub mod procfs;
pub mod report;
pub mod sandbox;
pub mod spec;
pub mod sys;

use rustix::fd::AsFd;
use spec::{Action, Argv, Env};

const VERSION: &str = env!("CARGO_PKG_VERSION");
const COMMIT: &str = env!("HUSK_COMMIT");

/// The whole program: parses argv and runs; returns the exit status.
pub fn run(argv: Argv, env: Env) -> i32 {
    let mut spec = spec::Spec::new(argv);
    match cli::parse(argv, env, &mut spec) {
        Err(e) => {
            e.report();
            125
        }
        Ok(Action::Help) => {
            report::write_all(1, cli::HELP.as_bytes());
            0
        }
        Ok(Action::License) => {
            report::write_all(1, cli::LICENSE.as_bytes());
            0
        }
        Ok(Action::Version) => {
            for part in ["husk ", VERSION, " (commit ", COMMIT, ")\n"] {
                report::write_all(1, part.as_bytes());
            }
            0
        }
        Ok(Action::Run) => {
            if let Err(failure) = sandbox::check_fds(&spec.sandbox) {
                failure.report();
                return 125;
            }
            let inherited = init::Inherited::take();
            let cgroup = match cgroup::prepare(&spec.cgroup) {
                Ok(c) => c,
                Err((what, e)) => {
                    report::failed(&[what], e);
                    return 125;
                }
            };
            let cgroup_fd = cgroup.as_ref().map(|c| c.dir.as_fd());
            let status = if spec.sandbox.enabled {
                sandbox::run(&spec, env, &inherited, cgroup_fd)
            } else {
                let payload = init::Payload::plain(spec.command, env);
                init::run(&spec.init, &payload, &inherited, None, cgroup_fd)
            };
            cgroup::finish(cgroup);
            status
        }
    }
}
