#![cfg_attr(not(test), no_std)]
#![cfg_attr(not(test), no_main)]

// The process starts here, not in the C library: husk needs none of its start-up (thread
// pointer, TLS, stdio, init arrays), only argc, argv and envp off the initial stack, which
// the kernel lays out as `argc, argv[0..argc], NULL, envp..., NULL`. The linker is pointed
// at `husk_entry` (build.rs), so musl's crt1 `_start` is left unreferenced and collected.
// The stack pointer is passed as the first argument, aligned to 16 bytes as the ABI wants
// at a call.
#[cfg(all(not(test), target_arch = "x86_64"))]
core::arch::global_asm!(
    ".globl husk_entry",
    "husk_entry:",
    "xor ebp, ebp",
    "mov rdi, rsp",
    "and rsp, -16",
    "call {start}",
    start = sym start,
);
#[cfg(all(not(test), target_arch = "aarch64"))]
core::arch::global_asm!(
    ".globl husk_entry",
    "husk_entry:",
    "mov x29, xzr",
    "mov x30, xzr",
    "mov x0, sp",
    "bl {start}",
    start = sym start,
);
// 32-bit ARM: Thumb-2 code (src/sys), so the entry is marked as a Thumb function, which
// sets the entry address's low bit for the kernel to start in Thumb state.
#[cfg(all(not(test), target_arch = "arm"))]
core::arch::global_asm!(
    ".globl husk_entry",
    ".thumb_func",
    "husk_entry:",
    "mov lr, #0",
    "mov r0, sp",
    "bic r1, r0, #15",
    "mov sp, r1",
    "bl {start}",
    start = sym start,
);
#[cfg(all(not(test), target_arch = "riscv64"))]
core::arch::global_asm!(
    ".globl husk_entry",
    "husk_entry:",
    // The global pointer, as musl's crt1 sets it, in case the linker relaxed an access
    // to be relative to it.
    ".option push",
    ".option norelax",
    "lla gp, __global_pointer$",
    ".option pop",
    "mv fp, zero",
    "mv ra, zero",
    "mv a0, sp",
    "andi sp, sp, -16",
    "call {start}",
    start = sym start,
);

// memcpy, memset, memcmp (and bcmp) and strlen, which the compiler calls: byte loops, a few
// instructions each, instead of musl's unrolled ones (on aarch64 796 bytes for the four;
// husk copies and clears kilobytes at most, once). Defined here, in the binary only, so
// musl's are left unreferenced; the tests keep their libc's.
#[cfg(all(not(test), target_arch = "x86_64"))]
core::arch::global_asm!(
    ".globl memcpy",
    "memcpy:",
    "mov rax, rdi",
    "mov rcx, rdx",
    "rep movsb",
    "ret",
    ".globl memset",
    "memset:",
    "mov r8, rdi",
    "mov eax, esi",
    "mov rcx, rdx",
    "rep stosb",
    "mov rax, r8",
    "ret",
    ".globl memcmp",
    ".globl bcmp",
    "memcmp:",
    "bcmp:",
    // repe cmpsb stops past the first byte that differs (ZF clear), or after rdx bytes;
    // with none to compare it leaves xor's ZF set.
    "xor eax, eax",
    "mov rcx, rdx",
    "repe cmpsb",
    "je 2f",
    "movzx eax, byte ptr [rdi - 1]",
    "movzx ecx, byte ptr [rsi - 1]",
    "sub eax, ecx",
    "2:",
    "ret",
    ".globl strlen",
    "strlen:",
    "mov rax, rdi",
    "2:",
    "cmp byte ptr [rax], 0",
    "je 3f",
    "inc rax",
    "jmp 2b",
    "3:",
    "sub rax, rdi",
    "ret",
);
#[cfg(all(not(test), target_arch = "aarch64"))]
core::arch::global_asm!(
    ".globl memcpy",
    "memcpy:",
    "mov x3, x0",
    "cbz x2, 3f",
    "2:",
    "ldrb w4, [x1], #1",
    "strb w4, [x3], #1",
    "subs x2, x2, #1",
    "b.ne 2b",
    "3:",
    "ret",
    ".globl memset",
    "memset:",
    "mov x3, x0",
    "cbz x2, 3f",
    "2:",
    "strb w1, [x3], #1",
    "subs x2, x2, #1",
    "b.ne 2b",
    "3:",
    "ret",
    ".globl memcmp",
    ".globl bcmp",
    "memcmp:",
    "bcmp:",
    "mov w3, #0",
    "2:",
    "cbz x2, 3f",
    "ldrb w3, [x0], #1",
    "ldrb w4, [x1], #1",
    "sub x2, x2, #1",
    "subs w3, w3, w4",
    "b.eq 2b",
    "3:",
    "mov w0, w3",
    "ret",
    ".globl strlen",
    "strlen:",
    "mov x1, x0",
    "2:",
    "ldrb w2, [x1], #1",
    "cbnz w2, 2b",
    "sub x0, x1, x0",
    "sub x0, x0, #1",
    "ret",
);

/// Reads argv and envp off the initial stack and runs husk.
///
/// # Safety
/// `stack` must be the process's initial stack pointer, as the kernel left it.
#[cfg(not(test))]
unsafe extern "C" fn start(stack: *const usize) -> ! {
    // SAFETY: the kernel's layout (above): argc, then argc valid C strings and a NULL, then a
    // NULL-terminated envp, all living as long as the process.
    let (argv, env) = unsafe {
        let argc = *stack;
        let argv = stack.add(1) as *mut *const core::ffi::c_char;
        (
            husk::spec::Argv::new(argv, argc),
            husk::spec::Env::new(argv.add(argc + 1)),
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
