//! Puts musl's libc on the link line (for anything the compiler may call that husk does not
//! define: the process starts at husk's own entry point, and memcpy and its kin are husk's
//! too, src/main.rs), and embeds the git commit for `--version`.
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
    let musl = format!("{}/lib/rustlib/{target}/lib/self-contained", sysroot.trim());
    // Without rustup's standard library for the target (`make cross` builds core from
    // source for armv7 and riscv64), there is no musl: compiler_builtins' memcpy and its
    // kin stand in (-Zbuild-std-features=compiler-builtins-mem).
    if std::path::Path::new(&musl).exists() {
        println!("cargo:rustc-link-search=native={musl}");
        println!("cargo:rustc-link-lib=static=c");
    }
    // Size: the binary's whole layout is husk.ld's (two segments, no unwind tables, no
    // start files' sections; it says why each is safe here). Only the husk binary; tests
    // keep their unwinding. No build-id note either: nothing here looks binaries up by it.
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    // x86_64 links through cc (GNU ld); the others directly with rust-lld
    // (.cargo/config.toml).
    let wl = if target.starts_with("x86_64") {
        "-Wl,"
    } else {
        ""
    };
    let args = ["--no-eh-frame-hdr", "--build-id=none", "-T"];
    for arg in args {
        println!("cargo:rustc-link-arg-bins={wl}{arg}");
    }
    println!("cargo:rustc-link-arg-bins={wl}{dir}/husk.ld");
    println!("cargo:rerun-if-changed=husk.ld");
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
    pack_texts();
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

/// `--help` and `-l` are a tenth of the binary as plain text: they are stored packed (LZ77,
/// unpacked by src/text.rs), as `PACKED`: the option names, the help, the NUL-ended
/// texts, then the license (which has no NUL, so no text reaches into it), with where the
/// parts end and the license starts (`NAMES_END`, `HELP_END`, `LICENSE_START`,
/// `TEXT_LEN`). The help is read from the rows of the `options!` table in src/cli.rs, so
/// the table stays the one source; a unit test checks the round trip. The texts are the
/// messages written `text!("...")` in `MESSAGE_SOURCES` (the `text!` macro written here
/// turns each into its number), then the errnos'.
fn pack_texts() {
    let cli = std::fs::read_to_string("src/cli.rs").expect("src/cli.rs");
    let (names, help) = table_rows(&cli);
    let license = std::fs::read_to_string("LICENSE").expect("LICENSE");
    let (messages, dead) = messages();
    // Texts are numbered from the first message's; the errnos' follow (errno N is text
    // FIRST_ERRNO + N), and "Unknown error" after the last errno's. The messages come
    // right after the help, whose words (the option names) they repeat: in that order
    // the LZ77 window finds more (measured: 170 bytes smaller than names, help, license,
    // errnos, messages).
    let mut texts = Vec::new();
    for (_, text) in &messages {
        texts.extend_from_slice(text.as_bytes());
        texts.push(0);
    }
    let errnos = errno_texts();
    let unknown_errno = errnos.iter().filter(|&&b| b == 0).count();
    texts.extend_from_slice(&errnos);
    texts.extend_from_slice(b"Unknown error\0");
    assert!(!license.contains('\0'), "LICENSE holds a NUL");
    let text = [
        names.as_bytes(),
        help.as_bytes(),
        &texts,
        license.as_bytes(),
    ]
    .concat();
    assert!(
        text.is_ascii(),
        "--help and LICENSE must be ASCII (packing uses the 8th bit)"
    );
    let (packed, pairs) = pack(&text, names.len());
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let short: String = names.split(' ').filter(|n| n.starts_with('-')).collect();
    let mut rust = format!(
        "pub const NAMES_END: usize = {};\npub const HELP_END: usize = {};\n\
         pub const LICENSE_START: usize = {};\npub const FIRST_ERRNO: usize = {};\n\
         pub const UNKNOWN_ERRNO: u16 = {};\n\
         pub const TEXT_LEN: usize = {};\npub const PACKED: [u8; {}] = {:?};\n\
         /// The pairs of bytes the codes 1 to 31 (but the newline's) stand for.\n\
         pub const PAIRS: [[u8; 2]; 32] = {:?};\n\
         /// The short options' names, `-s-p...`: a name that outlives the unpacked ones.\n\
         pub const SHORT_NAMES: &[u8] = b\"{short}\";\n",
        names.len(),
        names.len() + help.len(),
        text.len() - license.len(),
        messages.len(),
        unknown_errno,
        text.len(),
        packed.len(),
        packed,
        pairs
    );
    rust.push_str("/// A message's number, from the message as written.\nmacro_rules! text {\n");
    for (i, (written, _)) in messages.iter().enumerate() {
        rust.push_str(&format!(
            "    (\"{written}\") => {{ $crate::text::Text::Message({i}) }};\n"
        ));
    }
    // Never said in this build: a number with no text.
    for written in &dead {
        rust.push_str(&format!(
            "    (\"{written}\") => {{ $crate::text::Text::Message(u16::MAX) }};\n"
        ));
    }
    rust.push_str(
        "    ($other:literal) => { compile_error!(concat!(\"text!(\", stringify!($other), \
                   \"): not a message of the files build.rs reads (MESSAGE_SOURCES)\")) };\n",
    );
    rust.push_str("}\n/// The messages, for the test of the round trip.\n#[cfg(test)]\n");
    rust.push_str("pub const MESSAGES: &[&str] = &[\n");
    for (written, _) in &messages {
        rust.push_str(&format!("    \"{written}\",\n"));
    }
    rust.push_str("];\n");
    std::fs::write(out.join("texts.rs"), rust).expect("writing texts.rs");
    for source in ["src/cli.rs", "LICENSE"]
        .iter()
        .chain(MESSAGE_SOURCES)
        .chain(SANDBOX_SOURCES)
    {
        println!("cargo:rerun-if-changed={source}");
    }
}

/// The files whose `text!("...")` messages are packed: these, and `SANDBOX_SOURCES`.
const MESSAGE_SOURCES: &[&str] = &["src/cli.rs", "src/resolve.rs", "src/user.rs"];

/// The files whose messages only the sandbox says: compiled in the init-only build too (as
/// dead code, cut off by `SANDBOX`), where `text!` still needs a number for each, but their
/// texts are not packed there.
const SANDBOX_SOURCES: &[&str] = &[
    "src/config.rs",
    "src/sandbox/mod.rs",
    "src/sandbox/mounts.rs",
    "src/sandbox/idmap.rs",
    "src/sandbox/env.rs",
    "src/lockdown.rs",
];

/// Every `text!("...")` of `MESSAGE_SOURCES` in this build, once each in order of
/// appearance: the literal as written (for the macro's rule) and its text. The init-only
/// build leaves out those of an item marked `#[cfg(feature = "sandbox")]` (the line after
/// the mark when it ends with `;`, else up to the next `}` at the start of a line), as the
/// compiler leaves out the item.
fn messages() -> (Vec<(String, String)>, Vec<String>) {
    const OPEN: &str = "text!(";
    const MARK: &str = "\n#[cfg(feature = \"sandbox\")]\n";
    let sandbox = std::env::var_os("CARGO_FEATURE_SANDBOX").is_some();
    let mut all: Vec<(String, String)> = Vec::new();
    let mut dead: Vec<String> = Vec::new();
    for source in MESSAGE_SOURCES.iter().chain(SANDBOX_SOURCES) {
        let only_sandbox = !sandbox && SANDBOX_SOURCES.contains(source);
        let code = std::fs::read_to_string(source).expect(source);
        let item_end = |at: usize| {
            let line = at + MARK.len() + code[at + MARK.len()..].find('\n').expect("a line");
            if code[..line].ends_with(';') {
                line
            } else {
                at + code[at..].find("\n}").expect("an item's end")
            }
        };
        let marked: Vec<(usize, usize)> = code
            .match_indices(MARK)
            .map(|(at, _)| (at, item_end(at)))
            .collect();
        let mut from = 0;
        while let Some(at) = code[from..].find(OPEN) {
            // rustfmt may break the line before a long literal.
            let literal = code[from + at + OPEN.len()..].trim_start();
            from += at + OPEN.len();
            if !literal.starts_with('"') {
                continue;
            }
            let (text, after) = string_literal(literal);
            let written = &literal[1..literal.len() - after.len() - 1];
            assert!(
                text.is_ascii() && !text.contains('\0'),
                "{source}: text!({written:?})"
            );
            let left_out = !sandbox && marked.iter().any(|&(a, b)| (a..b).contains(&from));
            let packed = all.iter().any(|(w, _)| w == written);
            if only_sandbox {
                if !packed && !dead.iter().any(|w| w == written) {
                    dead.push(written.to_owned());
                }
            } else if !left_out && !packed {
                all.push((written.to_owned(), text));
            }
            from = code.len() - after.len();
        }
    }
    // A message the init's files say too is packed after all.
    dead.retain(|w| !all.iter().any(|(a, _)| a == w));
    (all, dead)
}

/// The text of every errno from 0 to the last Linux has (EHWPOISON, 133), NUL-separated,
/// as the C library of the machine that builds husk words it (std's io::Error asks
/// strerror_r): packed with the rest, instead of musl's unpacked table.
fn errno_texts() -> Vec<u8> {
    let mut all = Vec::new();
    for n in 0..=133 {
        let text = std::io::Error::from_raw_os_error(n).to_string();
        let suffix = format!(" (os error {n})");
        all.extend_from_slice(text.strip_suffix(&suffix).unwrap_or(&text).as_bytes());
        all.push(0);
    }
    all
}

/// The names of the options of `options! { ... }` (long ones without their `--`), each
/// followed by a space, in the order of its `OPTIONS` (the init's rows, then the
/// sandbox's), and the help: the concatenated string literals before each `=>` (of this
/// build's rows).
fn table_rows(cli: &str) -> (String, String) {
    let start = cli
        .find("\noptions! {")
        .expect("the options! table in src/cli.rs");
    let mut rest = &cli[start + "\noptions! {".len()..];
    let (mut init_names, mut sandbox_names, mut help) =
        (String::new(), String::new(), String::new());
    // The rows marked `sandbox` are left out of the init-only build, as their options are.
    let sandbox = std::env::var_os("CARGO_FEATURE_SANDBOX").is_some();
    loop {
        rest = rest.trim_start();
        if rest.starts_with('}') {
            return (init_names + &sandbox_names, help);
        }
        let marked = rest.strip_prefix("sandbox ");
        let (literal, after) = string_literal(marked.unwrap_or(rest));
        let names = after
            .trim_start()
            .strip_prefix("=>")
            .expect("=> after a help row");
        let end = names.find("];").expect("]; closing a row's names");
        if marked.is_none() || sandbox {
            help.push_str(&literal);
            let to = if marked.is_some() {
                &mut sandbox_names
            } else {
                &mut init_names
            };
            // The row's names are its string literals, `["-h" Help, "help" Help]`.
            for name in names[..end].split('"').skip(1).step_by(2) {
                to.push_str(name);
                to.push(' ');
            }
        }
        rest = &names[end + 2..];
    }
}

/// A Rust string literal at the start of `s` (the escapes the table uses), and what follows.
fn string_literal(s: &str) -> (String, &str) {
    let mut chars = s
        .strip_prefix('"')
        .expect("a help row literal")
        .char_indices();
    let mut out = String::new();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return (out, &s[i + 2..]),
            '\\' => match chars.next().map(|(_, e)| e) {
                Some('\n') => {
                    // A line continuation: the newline and the next line's indentation go.
                    let rest = &s[1 + i + 2..];
                    let skip = rest.len() - rest.trim_start().len();
                    for _ in 0..skip {
                        chars.next();
                    }
                }
                Some('n') => out.push('\n'),
                Some('"') => out.push('"'),
                Some('\\') => out.push('\\'),
                other => panic!("escape \\{other:?} in a help row: add it to build.rs"),
            },
            c => out.push(c),
        }
    }
    panic!("unterminated help row literal")
}

/// LZ77 with 2-byte references, and 1-byte codes for the commonest pairs of bytes left:
/// a byte under 0x80 is itself, unless it is a pair's code (a control character the text
/// lacks: 1 to 31 but the newline), which stands for `pairs[code]`;
/// `0x80 | (min(len, 10) - 3) << 4 | (dist - 1) >> 8` then `(dist - 1) & 0xff` repeats
/// `len` bytes from `dist` (1..=4096) back, with `len - 10` in a third byte when `len` is
/// 10 or more (up to 265): a 4 KiB window finds more than longer lengths in the first
/// byte would (measured: 3 bits of length and 12 of distance pack 272 bytes smaller than
/// 4 and 11, and 128 smaller than 2 and 13), and the third byte takes the long runs in
/// one reference. Parsed optimally: the cost of the rest from each position, last to
/// first, picks literal, pair or reference; the pairs are those the literals of the parse
/// without them repeat most. No reference or pair crosses `stop`, so unpacking the text
/// before it alone unpacks all of it. Returns the packed bytes and the pairs, by code.
fn pack(text: &[u8], stop: usize) -> (Vec<u8>, [[u8; 2]; 32]) {
    const WINDOW: usize = 4096;
    const MAX: usize = 265;
    let n = text.len();
    let is_code = |b: u8| (1..32).contains(&b) && b != b'\n';
    assert!(
        !text.iter().any(|&b| is_code(b)),
        "the texts hold a control character other than a newline: packing codes pairs so"
    );
    // The longest run (and its distance) each position can repeat.
    let longest: Vec<(usize, usize)> = (0..n)
        .map(|at| {
            let end = if at < stop { stop } else { n };
            let mut best = (0, 0);
            for from in at.saturating_sub(WINDOW)..at {
                let len = (0..MAX.min(end - at))
                    .take_while(|&k| text[from + k] == text[at + k])
                    .count();
                if len > best.0 {
                    best = (len, at - from);
                }
            }
            best
        })
        .collect();
    // step[at]: the bytes taken there by the cheapest packing of text[at..] (1: a literal,
    // 2: a pair, 3 or more: a reference), given the pairs that have codes.
    let parse = |pairs: &[[u8; 2]]| -> Vec<usize> {
        let mut cost = vec![0usize; n + 1];
        let mut step = vec![1usize; n];
        for at in (0..n).rev() {
            cost[at] = 1 + cost[at + 1];
            let pair = at + 2 <= n && at + 1 != stop && pairs.contains(&[text[at], text[at + 1]]);
            if pair && 1 + cost[at + 2] < cost[at] {
                cost[at] = 1 + cost[at + 2];
                step[at] = 2;
            }
            for len in 3..=longest[at].0 {
                let bytes = if len < 10 { 2 } else { 3 };
                if bytes + cost[at + len] < cost[at] {
                    cost[at] = bytes + cost[at + len];
                    step[at] = len;
                }
            }
        }
        step
    };
    // The pairs: the commonest two literals in a row of the parse without pairs.
    let plain = parse(&[]);
    let mut counts = std::collections::BTreeMap::new();
    let mut at = 0;
    while at < n {
        if at + 1 < n && at + 1 != stop && plain[at] == 1 && plain[at + 1] == 1 {
            *counts.entry([text[at], text[at + 1]]).or_insert(0usize) += 1;
        }
        at += plain[at];
    }
    let mut by_count: Vec<([u8; 2], usize)> = counts.into_iter().collect();
    by_count.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let codes: Vec<u8> = (1..32).filter(|&b| is_code(b)).collect();
    let mut pairs = [[0u8; 2]; 32];
    for (&code, &(pair, _)) in codes.iter().zip(by_count.iter()) {
        pairs[usize::from(code)] = pair;
    }
    let chosen: Vec<[u8; 2]> = codes.iter().map(|&c| pairs[usize::from(c)]).collect();
    let step = parse(&chosen);
    let mut out = Vec::new();
    let mut at = 0;
    while at < n {
        let len = step[at];
        match len {
            1 => out.push(text[at]),
            2 => {
                let code =
                    (1..32u8).find(|&c| is_code(c) && pairs[usize::from(c)] == text[at..at + 2]);
                out.push(code.expect("a pair has a code"));
            }
            _ => {
                let dist = longest[at].1;
                out.push(0x80 | ((len.min(10) - 3) << 4) as u8 | ((dist - 1) >> 8) as u8);
                out.push(((dist - 1) & 0xff) as u8);
                if len >= 10 {
                    out.push((len - 10) as u8);
                }
            }
        }
        at += len;
    }
    (out, pairs)
}
