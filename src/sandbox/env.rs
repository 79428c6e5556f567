//! The payload's environment after `--clearenv`, `--setenv` and `--unsetenv`, built in fixed
//! buffers: an array of pointers and the bytes of the `NAME=value` strings husk composes.

use crate::error::{self, Error};
use crate::spec::{Env, EnvOp, Sandbox};
use crate::sys::Errno;
use core::ffi::{c_char, CStr};

const MAX_VARS: usize = 2048;
const TEXT: usize = 32 * 1024;

pub struct Block {
    vars: Vars,
    text: [u8; TEXT],
}

/// The pointer array and how many entries it has (a NULL follows the last).
struct Vars {
    ptrs: [*const c_char; MAX_VARS + 1],
    len: usize,
}

impl Block {
    pub fn new() -> Self {
        Block {
            vars: Vars {
                ptrs: [core::ptr::null(); MAX_VARS + 1],
                len: 0,
            },
            text: [0; TEXT],
        }
    }

    /// The environment to give COMMAND; borrows `self`, so it lives as long as the block.
    pub fn build<'a>(
        &'a mut self,
        inherited: Env<'a>,
        sb: &Sandbox<'a>,
    ) -> error::Result<'static, Env<'a>> {
        if !sb.clearenv && sb.env_ops.is_empty() {
            return Ok(inherited);
        }
        let full = || {
            Error::new(b"--setenv", Errno::NOSPC)
                .because(b"environment too large (max 2048 variables, 32 KiB of --setenv text)")
        };
        let vars = &mut self.vars;
        // Every byte husk composes is written, and later read, through this one pointer: a
        // new borrow of `text` for each write would invalidate the entries made before.
        let text = self.text.as_mut_ptr();
        let mut used = 0;
        if !sb.clearenv {
            for entry in inherited.iter() {
                vars.append(entry.as_ptr()).ok_or_else(full)?;
            }
        }
        for op in sb.env_ops.iter() {
            match *op {
                EnvOp::Set(name, value) => {
                    vars.remove(name.to_bytes());
                    let start = used;
                    for part in [name.to_bytes(), b"=", value.to_bytes(), b"\0"] {
                        if used + part.len() > TEXT {
                            return Err(full());
                        }
                        // SAFETY: used..used+len is inside text (checked above), and part
                        // (borrowed from argv) does not overlap it.
                        unsafe {
                            core::ptr::copy_nonoverlapping(
                                part.as_ptr(),
                                text.add(used),
                                part.len(),
                            )
                        };
                        used += part.len();
                    }
                    // SAFETY: start < used <= TEXT: inside text.
                    vars.append(unsafe { text.add(start) }.cast())
                        .ok_or_else(full)?;
                }
                EnvOp::Unset(name) => vars.remove(name.to_bytes()),
            }
        }
        // SAFETY: ptrs[..len] point to NUL-terminated strings in the inherited block or in
        // self.text, and ptrs[len] is NULL; both live as long as the borrow of self, which
        // is exclusive, so nothing else reads or writes the array meanwhile.
        Ok(unsafe { Env::new(vars.ptrs.as_mut_ptr()) })
    }
}

impl Vars {
    fn append(&mut self, p: *const c_char) -> Option<()> {
        if self.len == MAX_VARS {
            return None;
        }
        self.ptrs[self.len] = p;
        self.len += 1;
        self.ptrs[self.len] = core::ptr::null();
        Some(())
    }

    fn remove(&mut self, name: &[u8]) {
        let mut kept = 0;
        for i in 0..self.len {
            // SAFETY: every pointer below len is a valid C string (see build).
            let entry = unsafe { CStr::from_ptr(self.ptrs[i]) }.to_bytes();
            let matches =
                entry.len() > name.len() && entry.starts_with(name) && entry[name.len()] == b'=';
            if !matches {
                self.ptrs[kept] = self.ptrs[i];
                kept += 1;
            }
        }
        self.len = kept;
        self.ptrs[kept] = core::ptr::null();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::with_spec_env;

    fn built(args: &[&str], envs: &[&str]) -> Vec<String> {
        with_spec_env(args, envs, |r, spec, env| {
            assert!(r.is_ok());
            let mut block = Box::new(Block::new());
            let env = block.build(env, &spec.sandbox).unwrap();
            env.iter().map(|e| e.to_str().unwrap().to_owned()).collect()
        })
    }

    #[test]
    fn setenv_unsetenv_clearenv_in_order() {
        let envs = ["A=1", "B=2", "AB=3"];
        fn sandbox<'s>(opts: &[&'s str]) -> Vec<&'s str> {
            [&["husk"][..], opts, &["x"]].concat()
        }
        assert_eq!(built(&sandbox(&["--unshare-uts"]), &envs), envs);
        assert_eq!(
            built(
                &sandbox(&["--unsetenv", "A", "--setenv", "B", "x=y"]),
                &envs
            ),
            ["AB=3", "B=x=y"]
        );
        assert_eq!(
            built(&sandbox(&["--clearenv", "--setenv", "C", ""]), &envs),
            ["C="]
        );
        // A later --setenv of the same name replaces the earlier one.
        assert_eq!(
            built(
                &sandbox(&["--clearenv", "--setenv", "A", "1", "--setenv", "A", "2"]),
                &[]
            ),
            ["A=2"]
        );
    }

    #[test]
    fn too_much_is_refused_not_cut() {
        let long = "v".repeat(20 * 1024);
        let args = ["husk", "--setenv", "A", &long, "--setenv", "B", &long, "x"];
        with_spec_env(&args, &[], |_, spec, env| {
            let mut block = Box::new(Block::new());
            let e = block.build(env, &spec.sandbox).err().unwrap();
            assert_eq!(e.what, b"--setenv");
        });
    }
}
