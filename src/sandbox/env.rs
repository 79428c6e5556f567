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
    pub const fn new() -> Self {
        Block {
            vars: Vars {
                ptrs: [core::ptr::null(); MAX_VARS + 1],
                len: 0,
            },
            text: [0; TEXT],
        }
    }

    /// The process's one block, in .bss: on the inner init's stack its 48 KiB were probed
    /// page by page on every start (12 page faults of the 59 a sandbox took, measured),
    /// where a .bss page is faulted in only once touched.
    ///
    /// # Safety
    /// Called at most once in the process (its one reference lives as long as the process).
    pub unsafe fn in_bss() -> &'static mut Block {
        static mut BLOCK: Block = Block::new();
        // SAFETY: as the caller promises, no other reference to BLOCK exists.
        unsafe { &mut *core::ptr::addr_of_mut!(BLOCK) }
    }

    /// The environment to give COMMAND; borrows `self`, so it lives as long as the block.
    /// As bubblewrap, which calls setenv(3), unsetenv(3) and clearenv(3) on its own environment
    /// in the order given: a variable set again keeps its place, a new one goes last, and
    /// PWD is set last of all, to the directory COMMAND starts in (`--chdir`'s as given, or /
    /// in a new root).
    pub fn build<'a>(
        &'a mut self,
        inherited: Env<'a>,
        sb: &Sandbox<'a>,
    ) -> error::Result<'static, Env<'a>> {
        let pwd = sb.chdir.or(sb.builds_root().then_some(c"/"));
        if sb.env_ops.is_empty() && pwd.is_none() {
            return Ok(inherited);
        }
        let full = || {
            Error::new(b"--setenv", Errno::NOSPC).because(text!(
                "environment too large (max 2048 variables, 32 KiB of --setenv text)"
            ))
        };
        let vars = &mut self.vars;
        // Every byte husk composes is written, and later read, through this one pointer: a
        // new borrow of `text` for each write would invalidate the entries made before.
        let mut text = Text {
            at: self.text.as_mut_ptr(),
            used: 0,
        };
        for entry in inherited.iter() {
            vars.append(entry.as_ptr()).ok_or_else(full)?;
        }
        for op in sb.env_ops.iter() {
            match *op {
                EnvOp::Set(name, value) => vars.set(&mut text, name, value),
                EnvOp::Unset(name) => {
                    vars.remove(name.to_bytes());
                    Some(())
                }
                EnvOp::Clear => {
                    vars.remove(b"");
                    Some(())
                }
            }
            .ok_or_else(full)?;
        }
        if let Some(dir) = pwd {
            vars.set(&mut text, c"PWD", dir).ok_or_else(full)?;
        }
        // SAFETY: ptrs[..len] point to NUL-terminated strings in the inherited block or in
        // self.text, and ptrs[len] is NULL; both live as long as the borrow of self, which
        // is exclusive, so nothing else reads or writes the array meanwhile.
        Ok(unsafe { Env::new(vars.ptrs.as_mut_ptr()) })
    }
}

/// Where the composed `NAME=value` strings go: `at` is the one pointer every byte is written
/// and read through, `used` how many bytes of TEXT are taken.
struct Text {
    at: *mut u8,
    used: usize,
}

impl Vars {
    /// setenv(3): `name=value`, composed in `text`, replaces the first entry of `name` in
    /// place or goes last. None when `text` or the array is full.
    #[inline(never)]
    fn set(&mut self, text: &mut Text, name: &CStr, value: &CStr) -> Option<()> {
        let start = text.used;
        for part in [name.to_bytes(), b"=", value.to_bytes(), b"\0"] {
            if text.used + part.len() > TEXT {
                return None;
            }
            // SAFETY: used..used+len is inside the TEXT bytes at `at` (checked above), and
            // part (borrowed from argv) does not overlap them.
            unsafe {
                core::ptr::copy_nonoverlapping(part.as_ptr(), text.at.add(text.used), part.len())
            };
            text.used += part.len();
        }
        // SAFETY: start < used <= TEXT: inside the text.
        let entry = unsafe { text.at.add(start) }.cast();
        match self.find(name.to_bytes()) {
            Some(i) => {
                self.ptrs[i] = entry;
                Some(())
            }
            None => self.append(entry),
        }
    }

    fn append(&mut self, p: *const c_char) -> Option<()> {
        if self.len == MAX_VARS {
            return None;
        }
        self.ptrs[self.len] = p;
        self.len += 1;
        self.ptrs[self.len] = core::ptr::null();
        Some(())
    }

    /// Whether entry `i` is `name=...`; every entry, when `name` is empty.
    #[inline(always)]
    fn is(&self, i: usize, name: &[u8]) -> bool {
        // SAFETY: every pointer below len is a valid C string (see build).
        let entry = unsafe { CStr::from_ptr(self.ptrs[i]) }.to_bytes();
        name.is_empty()
            || (entry.len() > name.len() && entry.starts_with(name) && entry[name.len()] == b'=')
    }

    /// The first entry of `name` (the one setenv(3) replaces). Always inlined in its one
    /// caller, set: smaller so (measured).
    #[inline(always)]
    fn find(&self, name: &[u8]) -> Option<usize> {
        (0..self.len).find(|&i| self.is(i, name))
    }

    /// Removes every entry of `name` (as unsetenv(3)), or every entry when it is empty.
    fn remove(&mut self, name: &[u8]) {
        let mut kept = 0;
        for i in 0..self.len {
            if !self.is(i, name) {
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
            ["B=x=y", "AB=3"]
        );
        // In order, as bubblewrap: --clearenv drops what was set before it.
        assert_eq!(
            built(
                &sandbox(&["--setenv", "A", "9", "--clearenv", "--setenv", "C", ""]),
                &envs
            ),
            ["C="]
        );
        // PWD last, in its place if it is there: the directory COMMAND starts in.
        assert_eq!(
            built(
                &sandbox(&["--chdir", "/d", "--setenv", "PWD", "x"]),
                &["PWD=/", "A=1"]
            ),
            ["PWD=/d", "A=1"]
        );
        assert_eq!(
            built(&sandbox(&["--clearenv", "--chdir", "d"]), &envs),
            ["PWD=d"]
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
