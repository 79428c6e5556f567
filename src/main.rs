#![cfg_attr(not(test), no_std)]
#![cfg_attr(not(test), no_main)]

/// Called by musl's start-up code (`__libc_start_main`) with the process's argv and envp.
///
/// # Safety
/// `argv` must hold `argc` valid C strings followed by NULL, and `envp` a NULL-terminated
/// array of C strings, all living as long as the process: what the kernel provides.
#[cfg(not(test))]
#[no_mangle]
pub unsafe extern "C" fn main(
    argc: core::ffi::c_int,
    argv: *mut *const core::ffi::c_char,
    envp: *mut *const core::ffi::c_char,
) -> core::ffi::c_int {
    let argc = usize::try_from(argc).unwrap_or(0);
    // SAFETY: the kernel hands a process argc valid C strings in argv, then a NULL, then a
    // NULL-terminated envp; they live as long as the process.
    let (argv, env) = unsafe {
        (
            husk::spec::Argv::new(argv, argc),
            husk::spec::Env::new(envp),
        )
    };
    husk::sys::exit(husk::run(argv, env))
}

#[cfg(not(test))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    husk::report::say(&[b"internal error"]);
    husk::sys::exit(125)
}

/// The precompiled libcore of unoptimised builds refers to this symbol; it is never called
/// because husk aborts on panic.
#[cfg(all(debug_assertions, not(test)))]
#[no_mangle]
pub extern "C" fn rust_eh_personality() {}
