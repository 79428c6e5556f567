//! The documentation is the code's: husk.1's OPTIONS and the README's usage block document
//! exactly the options of the built binary's `--help`, each in the group `--help` puts it
//! in; the parser knows every one of them; the page renders without warnings; and its
//! examples are the README's (which the other suites run).

mod common;
use common::*;
use std::collections::BTreeSet;

const PAGE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/husk.1");
const README: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");

/// A group of options: its heading up to its first " (" (`Sandbox hardening`), and the
/// option names in it.
#[derive(Debug, PartialEq)]
struct Group {
    heading: String,
    names: BTreeSet<String>,
}

/// The option names among the words of `text`: `--long` and `-x`.
fn option_words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .filter(|w| match w.as_bytes() {
            [b'-', b'-', c, ..] => c.is_ascii_alphanumeric(),
            [b'-', c] => c.is_ascii_alphabetic(),
            _ => false,
        })
        .map(String::from)
}

/// A heading as both documents can spell it: up to its first " (", without a final ':'.
fn heading_key(heading: &str) -> String {
    let h = heading.trim().trim_end_matches(':');
    h.split(" (").next().unwrap().trim().to_string()
}

/// The groups of `--help` (or of the README's copy of it): each paragraph with option
/// rows (lines that start with "  -"), its heading the lines before the first row. A name
/// belongs to the first group whose rows name it (a row may mention an option of an
/// earlier group in passing); "(and -try forms)" adds NAME-try for each long name of its
/// line.
fn help_groups(help: &str) -> Vec<Group> {
    let mut groups = Vec::new();
    let mut seen = BTreeSet::new();
    for paragraph in help.split("\n\n") {
        let lines: Vec<&str> = paragraph.lines().collect();
        let Some(first_row) = lines.iter().position(|l| l.starts_with("  -")) else {
            continue;
        };
        let mut names = BTreeSet::new();
        for line in lines.iter().filter(|l| l.starts_with("  -")) {
            let row: Vec<String> = option_words(line).collect();
            if line.contains("(and -try forms)") {
                for long in row.iter().filter(|n| n.starts_with("--")) {
                    names.insert(format!("{long}-try"));
                }
            }
            names.extend(row);
        }
        names.retain(|n| seen.insert(n.clone()));
        groups.push(Group {
            heading: heading_key(&lines[..first_row].join(" ")),
            names,
        });
    }
    groups
}

/// Every option name `--help` mentions anywhere, a row's description and the usage lines
/// included (so that an option named only in passing is caught).
fn every_word(help: &str) -> BTreeSet<String> {
    option_words(help).collect()
}

/// A roff line as text: the escapes the page uses, and no font changes.
fn unroff(line: &str) -> String {
    let mut s = line.to_string();
    for (from, to) in [
        ("\\fB", ""),
        ("\\fI", ""),
        ("\\fR", ""),
        ("\\fP", ""),
        ("\\&", ""),
        ("\\-", "-"),
        ("\\(aq", "'"),
        ("\\(dq", "\""),
        ("\\~", " "),
        ("\\[rs]", "\\"),
        ("\\e", "\\"),
    ] {
        s = s.replace(from, to);
    }
    s
}

/// The lines of the page's section `name` (between `.SH NAME` and the next `.SH`).
fn section<'a>(page: &'a str, name: &str) -> Vec<&'a str> {
    let head = format!(".SH {name}");
    let lines: Vec<&str> = page.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.trim_end() == head)
        .unwrap_or_else(|| panic!("husk.1 has no {head}"));
    lines[start + 1..]
        .iter()
        .take_while(|l| !l.starts_with(".SH "))
        .copied()
        .collect()
}

/// The page's option groups: each `.SS` of OPTIONS, with the names in the tags of its
/// `.TP` and `.TQ` entries (the line after each). Panics on an entry outside a `.SS` and on
/// a name documented twice.
fn page_groups(page: &str) -> Vec<Group> {
    let lines = section(page, "OPTIONS");
    let mut groups: Vec<Group> = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, line) in lines.iter().enumerate() {
        if let Some(title) = line.strip_prefix(".SS ") {
            groups.push(Group {
                heading: heading_key(&unroff(title).replace('"', "")),
                names: BTreeSet::new(),
            });
        } else if *line == ".TP" || *line == ".TQ" {
            let tag = unroff(lines.get(i + 1).expect("a tag after .TP"));
            let group = groups
                .last_mut()
                .unwrap_or_else(|| panic!("husk.1: {tag:?} is in no .SS group of OPTIONS"));
            let names: Vec<String> = option_words(&tag).collect();
            assert!(!names.is_empty(), "husk.1: the tag {tag:?} names no option");
            for name in names {
                assert!(seen.insert(name.clone()), "husk.1 documents {name} twice");
                group.names.insert(name);
            }
        }
    }
    groups
}

fn all_names(groups: &[Group]) -> BTreeSet<String> {
    groups
        .iter()
        .flat_map(|g| g.names.iter().cloned())
        .collect()
}

fn help_text() -> String {
    let out = run(husk_as(User::Unprivileged, &["--help"]), 10);
    assert!(out.status.success(), "husk --help: {}", text(&out.stderr));
    text(&out.stdout)
}

/// The README's usage block (`<!-- usage -->` and a fenced block), which tests/init.rs
/// keeps equal to `--help`.
fn readme_usage() -> String {
    let readme = std::fs::read_to_string(README).unwrap();
    let usage = readme
        .split("<!-- usage -->\n```\n")
        .nth(1)
        .expect("README has a usage block");
    usage.split("```").next().unwrap().to_string()
}

/// What differs between two lists of groups, group by group, for the message.
fn differences(a_name: &str, a: &[Group], b_name: &str, b: &[Group]) -> String {
    let mut out = String::new();
    for i in 0..a.len().max(b.len()) {
        let (ga, gb) = (a.get(i), b.get(i));
        let heading = |g: Option<&Group>| g.map_or("(none)".into(), |g| g.heading.clone());
        if heading(ga) != heading(gb) {
            out += &format!(
                "group {}: {a_name} has {:?}, {b_name} has {:?}\n",
                i + 1,
                heading(ga),
                heading(gb)
            );
        }
        let empty = BTreeSet::new();
        let na = ga.map_or(&empty, |g| &g.names);
        let nb = gb.map_or(&empty, |g| &g.names);
        let only_a: Vec<_> = na.difference(nb).collect();
        let only_b: Vec<_> = nb.difference(na).collect();
        if !only_a.is_empty() || !only_b.is_empty() {
            out += &format!(
                "group {:?}: only in {a_name}: {only_a:?}; only in {b_name}: {only_b:?}\n",
                heading(ga.or(gb))
            );
        }
    }
    out
}

/// --help, husk.1 and the README's usage block name the same options, in the same groups.
#[test]
fn help_page_and_readme_document_the_same_options() {
    let help = help_text();
    let help_groups = help_groups(&help);
    let help_names = all_names(&help_groups);
    let mentioned: Vec<_> = every_word(&help).difference(&help_names).cloned().collect();
    assert!(
        mentioned.is_empty(),
        "--help mentions {mentioned:?} outside any option row"
    );
    assert!(
        help_names.len() > 10,
        "too few options found: {help_names:?}"
    );
    let page = std::fs::read_to_string(PAGE).unwrap();
    let page_groups = page_groups(&page);
    let readme_groups = help_groups_of_readme();
    if init_only() {
        // The init-only build's --help is the full one without the sandbox's rows.
        let documented = all_names(&page_groups);
        let missing: Vec<_> = help_names.difference(&documented).collect();
        assert!(missing.is_empty(), "husk.1 does not document {missing:?}");
        let in_readme = all_names(&readme_groups);
        let missing: Vec<_> = help_names.difference(&in_readme).collect();
        assert!(missing.is_empty(), "README's usage lacks {missing:?}");
        println!("SKIP comparing the groups: the husk under test is the init-only build");
        return;
    }
    assert!(
        help_groups == page_groups,
        "husk.1's OPTIONS differ from --help:\n{}",
        differences("--help", &help_groups, "husk.1", &page_groups)
    );
    assert!(
        help_groups == readme_groups,
        "README's usage block differs from --help:\n{}",
        differences("--help", &help_groups, "README", &readme_groups)
    );
}

fn help_groups_of_readme() -> Vec<Group> {
    help_groups(&readme_usage())
}

/// Arguments that no option takes as an option: each is an unknown option, or the value of
/// the option before it. Three, so that an option with two values still meets one.
const SENTINELS: [&str; 3] = ["--zz-not-an-option", "--zz-a", "--zz-b"];

/// Every name of --help is one the parser knows: `husk NAME SENTINELS...` fails on a
/// sentinel or on NAME's value (or prints its text and exits 0), never with NAME unknown.
/// The parser stops at the first error, so nothing runs.
#[test]
fn the_parser_knows_every_documented_option() {
    let unknown = |err: &str| -> Vec<String> {
        err.lines()
            .filter(|l| l.contains("unknown option") && !l.starts_with("husk: --zz-"))
            .map(String::from)
            .collect()
    };
    // The message the check looks for is the parser's.
    let out = run(husk_as(User::Unprivileged, &["--no-such-option"]), 10);
    assert_eq!(
        text(&out.stderr),
        "husk: --no-such-option: unknown option (see --help)\n"
    );
    assert_eq!(code(out.status), 125);
    let names = all_names(&help_groups(&help_text()));
    for name in &names {
        let mut args = vec![name.as_str()];
        args.extend(SENTINELS);
        let out = if name == "--machine" {
            // A machine's init signals every process and powers off at the end, even after
            // a parse error: only inside a sandbox, rootless, where all of that is refused.
            if !can(
                Needs::Namespaces,
                "the_parser_knows_every_documented_option --machine",
            ) {
                continue;
            }
            let husk = husk();
            let mut inner = vec![
                "--unshare-all",
                "--ro-bind",
                "/",
                "/",
                "--proc",
                "/proc",
                "--",
                husk.to_str().unwrap(),
            ];
            inner.extend(&args);
            run(husk_as(User::Unprivileged, &inner), 20)
        } else {
            run(husk_as(User::Unprivileged, &args), 10)
        };
        let err = text(&out.stderr);
        assert_eq!(unknown(&err), Vec::<String>::new(), "husk {args:?}");
        let status = code(out.status);
        assert!(
            status == 0 || status == 125,
            "husk {args:?}: status {status}: {err}"
        );
    }
}

/// The page renders without a warning (groff's -ww: every warning).
#[test]
fn the_page_renders_without_warnings() {
    let out = std::process::Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-z", PAGE])
        .output();
    match out {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            println!("SKIP the_page_renders_without_warnings: groff is not installed (make deps installs groff-base)");
        }
        Err(e) => panic!("groff: {e}"),
        Ok(out) => {
            assert!(out.status.success(), "groff: {}", text(&out.stderr));
            assert_eq!(text(&out.stderr), "", "groff -ww warns about husk.1");
        }
    }
}

/// Text with shell line continuations joined and every run of white space one space.
fn flat(s: &str) -> String {
    s.replace("\\\n", " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Each command of the page's EXAMPLES (`.EX` blocks) is one the README shows.
#[test]
fn the_page_s_examples_are_the_readme_s() {
    let page = std::fs::read_to_string(PAGE).unwrap();
    let readme = flat(&std::fs::read_to_string(README).unwrap());
    let mut block: Option<String> = None;
    let mut commands = Vec::new();
    for line in section(&page, "EXAMPLES") {
        match (line, block.as_mut()) {
            (".EX", None) => block = Some(String::new()),
            (".EE", Some(b)) => {
                commands.extend(b.lines().map(flat));
                block = None;
            }
            (_, Some(b)) => {
                let l = unroff(line);
                // One command per line, unless it continues.
                match l.strip_suffix('\\') {
                    Some(cont) => *b += &format!("{cont} "),
                    None => *b += &format!("{l}\n"),
                }
            }
            _ => {}
        }
    }
    assert!(block.is_none(), "husk.1: .EX without .EE");
    assert!(commands.len() >= 5, "too few examples: {commands:?}");
    for command in &commands {
        assert!(
            readme.contains(command.as_str()),
            "husk.1's example is not in the README: {command}"
        );
    }
}
