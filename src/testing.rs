//! Unit-test helpers: a parsed `Spec` from string arguments.

use crate::error::Result;
use crate::spec::{Action, Argv, Env, Spec};
use std::ffi::CString;

/// NULL-terminated pointers to C strings, leaked so that what the parser borrows lives as
/// long as argv does in husk.
pub fn leaked(items: &[&str]) -> &'static mut [*const core::ffi::c_char] {
    let strings: Vec<CString> = items.iter().map(|s| CString::new(*s).unwrap()).collect();
    let mut ptrs: Vec<_> = strings.iter().map(|s| s.as_ptr()).collect();
    ptrs.push(core::ptr::null());
    std::mem::forget(strings);
    ptrs.leak()
}

/// Parses `args` (argv[0] first) with the environment `envs`, and calls `f` with the result
/// and the spec.
pub fn with_spec<R>(
    args: &[&str],
    envs: &[&str],
    f: impl FnOnce(Result<'static, Action>, &mut Spec<'static>) -> R,
) -> R {
    with_spec_env(args, envs, |r, spec, _| f(r, spec))
}

/// `with_spec`, with the environment too.
pub fn with_spec_env<R>(
    args: &[&str],
    envs: &[&str],
    f: impl FnOnce(Result<'static, Action>, &mut Spec<'static>, Env<'static>) -> R,
) -> R {
    let (a, e) = (leaked(args), leaked(envs));
    // SAFETY: both arrays are NULL-terminated, never freed, and borrowed by nothing else.
    let (argv, env) = unsafe {
        (
            Argv::new(a.as_mut_ptr(), args.len()),
            Env::new(e.as_mut_ptr()),
        )
    };
    let mut spec = Spec::new(argv);
    let r = crate::cli::parse(argv, env, &mut spec);
    f(r, &mut spec, env)
}
