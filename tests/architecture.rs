//! ARCHITECTURE.md names only what exists: every path it writes in backticks is in the
//! repository, and every type or item it names (`CamelCase`, `crate::path::item`) is defined in
//! some Rust file of the workspace. When code moves, this test lists every stale name at once.
//!
//! What counts, in backticks outside fenced code blocks:
//! - a **path**: path characters only, and either ending in a file extension this project keeps
//!   (`.rs`, `.yaml`, `.yml`, `.md`, `.toml`, `.sh`), or ending in `/`, or starting with a
//!   top-level entry of the repository (`src/main.rs`, `scenarios/`, `.ci/run`). It must exist
//!   relative to the repository's root. Write folders with a trailing `/`.
//! - a **Rust path** (`a::b::C`, `Driver::restartable`): a leading `podlab…` crate must be one of
//!   the workspace's, and the last segment must be defined — an item (`struct`, `enum`,
//!   `trait`, `type`, `union`, `fn`, `mod`, `const`, `static`, `macro_rules!`, or a name a local
//!   macro's call defines), a module file, a crate of the workspace, or, after a type
//!   (`Event::Synced`), one of that enum's variants.
//! - a **CamelCase name** (`Scenario`, `NodeTable`): an item or an enum variant of that name.
//!
//! Anything else in backticks (commands, YAML, stream names like `controller/<name>`, types
//! with generics) is not checked. Names from outside the workspace are listed in `EXTERNAL`.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::root;

/// Names ARCHITECTURE.md may use that the workspace does not define: the standard library's
/// and its dependencies'.
const EXTERNAL: &[&str] = &[
    "Arc",
    "BTreeMap",
    "BTreeSet",
    "Box",
    "BufRead",
    "Deref",
    "DerefMut",
    "HashMap",
    "HashSet",
    "Instant",
    "Option",
    "Rc",
    "Result",
    "Send",
    "Serialize",
    "String",
    "Sync",
    "SystemTime",
    "Vec",
];

const EXTENSIONS: &[&str] = &[".rs", ".yaml", ".yml", ".md", ".toml", ".sh"];

/// The contents of every backticked span outside fenced code blocks, newlines as spaces.
fn code_spans(markdown: &str) -> Vec<String> {
    let mut prose = String::new();
    let mut fenced = false;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if !fenced {
            prose.push_str(line);
            prose.push('\n');
        }
    }
    prose.split('`').skip(1).step_by(2).map(|s| s.replace('\n', " ").trim().to_string()).collect()
}

/// What one Rust source defines: item names and enum variants (`Enum::Variant` as a pair).
#[derive(Default)]
struct Definitions {
    items: BTreeSet<String>,
    variants: BTreeSet<(String, String)>,
    /// Macros defined by `macro_rules!`, and every macro call with the first identifier of its
    /// arguments: a call of a local macro (`typed_id!(NodeId(u32))`) defines that name.
    macros: BTreeSet<String>,
    calls: Vec<(String, String)>,
}

/// `source` without comments, string literals and char literals (each replaced by a space), so
/// that the tokens left are code.
fn strip(source: &str) -> String {
    let c: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let ident = |ch: char| ch.is_alphanumeric() || ch == '_';
    let mut i = 0;
    while i < c.len() {
        let next = c.get(i + 1).copied();
        if c[i] == '/' && next == Some('/') {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if c[i] == '/' && next == Some('*') {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(' ');
        } else if c[i] == 'r' && (i == 0 || !ident(c[i - 1])) && matches!(next, Some('"' | '#')) {
            // A raw string r"…" or r#"…"# (also after a `b`, which is left as an identifier).
            let mut j = i + 1;
            let mut hashes = 0;
            while c.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if c.get(j) != Some(&'"') {
                out.push(c[i]);
                i += 1;
                continue;
            }
            j += 1;
            loop {
                if j >= c.len() {
                    break;
                }
                if c[j] == '"' && (0..hashes).all(|k| c.get(j + 1 + k) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            i = j;
            out.push(' ');
        } else if c[i] == '"' {
            i += 1;
            while i < c.len() && c[i] != '"' {
                i += if c[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push(' ');
        } else if c[i] == '\'' {
            // A char literal ('a', '\n', '\u{1F600}'), or a lifetime ('a), which stays.
            if next == Some('\\') {
                i += 2;
                while i < c.len() && c[i] != '\'' {
                    i += 1;
                }
                i += 1;
                out.push(' ');
            } else if c.get(i + 2) == Some(&'\'') {
                i += 3;
                out.push(' ');
            } else {
                i += 1;
            }
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

/// Identifiers and single punctuation characters.
fn tokens(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    for ch in code.chars() {
        if ch.is_alphanumeric() || ch == '_' {
            word.push(ch);
        } else {
            if !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
            if !ch.is_whitespace() {
                out.push(ch.to_string());
            }
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

fn is_ident(token: &str) -> bool {
    token.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_')
}

fn definitions(source: &str) -> Definitions {
    let t = tokens(&strip(source));
    let mut defs = Definitions::default();
    for i in 0..t.len() {
        let keyword = t[i].as_str();
        let item =
            matches!(keyword, "struct" | "enum" | "trait" | "type" | "union" | "fn" | "mod" | "const" | "static");
        let name = if keyword == "macro_rules" && t.get(i + 1).is_some_and(|x| x == "!") {
            t.get(i + 2)
        } else {
            t.get(i + 1)
        };
        if is_ident(keyword) && t.get(i + 1).is_some_and(|x| x == "!") && keyword != "macro_rules" {
            // A macro call: the first identifier of its arguments, past `#[…]` attributes.
            let mut j = i + 3;
            while t.get(j).is_some_and(|x| x == "#") {
                let mut depth = 0usize;
                j += 1;
                while let Some(x) = t.get(j) {
                    depth = match x.as_str() {
                        "[" => depth + 1,
                        "]" => depth.saturating_sub(1),
                        _ => depth,
                    };
                    j += 1;
                    if depth == 0 {
                        break;
                    }
                }
            }
            if let Some(arg) = t.get(j).filter(|a| is_ident(a)) {
                defs.calls.push((keyword.to_string(), arg.clone()));
            }
            continue;
        }
        let Some(name) = name.filter(|n| is_ident(n)) else { continue };
        if !(item || keyword == "macro_rules") {
            continue;
        }
        if keyword == "macro_rules" {
            defs.macros.insert(name.clone());
        }
        defs.items.insert(name.clone());
        if keyword != "enum" {
            continue;
        }
        // The variants: at depth 1 of the body, the first identifier after `{` or `,`,
        // skipping `#[…]` attributes.
        let Some(open) = (i + 2..t.len()).find(|&j| t[j] == "{" || t[j] == ";") else { continue };
        if t[open] != "{" {
            continue;
        }
        let mut depth = 0usize;
        let mut expect_variant = true;
        let mut j = open;
        while j < t.len() {
            match t[j].as_str() {
                "{" | "(" | "[" => depth += 1,
                "}" | ")" | "]" => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        break;
                    }
                }
                "," if depth == 1 => expect_variant = true,
                "#" if depth == 1 => {}
                tok if depth == 1 && expect_variant && is_ident(tok) => {
                    defs.variants.insert((name.clone(), tok.to_string()));
                    expect_variant = false;
                }
                _ => {}
            }
            j += 1;
        }
    }
    defs
}

/// Every `.rs` file of the repository, skipping Git's folder, build outputs (cargo marks its
/// target folders with CACHEDIR.TAG) and data.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    if dir.join("CACHEDIR.TAG").exists() {
        return;
    }
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap()).collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let kind = entry.file_type().unwrap();
        let name = entry.file_name();
        if kind.is_dir() {
            if !matches!(name.to_str(), Some(".git" | "target" | "data" | "podlab-out")) {
                rust_files(&path, out);
            }
        } else if kind.is_file() && path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

/// Everything the workspace defines: items, enum variants, module files, crate names.
fn workspace() -> Definitions {
    let mut files = Vec::new();
    rust_files(root(), &mut files);
    let mut all = Definitions::default();
    for file in &files {
        let defs = definitions(&std::fs::read_to_string(file).unwrap());
        all.items.extend(defs.items);
        all.variants.extend(defs.variants);
        all.macros.extend(defs.macros);
        all.calls.extend(defs.calls);
        if let Some(stem) = file.file_stem().and_then(|s| s.to_str()) {
            all.items.insert(stem.to_string());
        }
    }
    for path in manifests() {
        let Ok(text) = std::fs::read_to_string(path) else { continue };
        for line in text.lines() {
            if let Some(name) = line.strip_prefix("name = \"").and_then(|n| n.strip_suffix('"')) {
                all.items.insert(name.replace('-', "_"));
            }
        }
    }
    let defined: Vec<String> =
        all.calls.iter().filter(|(m, _)| all.macros.contains(m)).map(|(_, name)| name.clone()).collect();
    all.items.extend(defined);
    all
}

fn is_camel_case(span: &str) -> bool {
    span.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && span.chars().all(|c| c.is_ascii_alphanumeric())
        && span.chars().any(|c| c.is_ascii_lowercase())
}

fn is_rust_path(span: &str) -> bool {
    let segments: Vec<&str> = span.split("::").collect();
    segments.len() > 1 && segments.iter().all(|s| is_ident(s) && s.chars().all(|c| c.is_alphanumeric() || c == '_'))
}

/// Whether the span names a file or folder of the repository (see the module's doc).
fn is_repo_path(span: &str, top_level: &BTreeSet<String>) -> bool {
    if span.is_empty() || !span.chars().all(|c| c.is_ascii_alphanumeric() || "._-/".contains(c)) {
        return false;
    }
    let first = span.split('/').next().unwrap_or("");
    EXTENSIONS.iter().any(|x| span.ends_with(x))
        || (span.contains('/') && (span.ends_with('/') || top_level.contains(first)))
}

/// What is wrong with one span, if anything.
/// The root manifest and every workspace member's, as the root's `members = [...]` lists them.
fn manifests() -> Vec<std::path::PathBuf> {
    let root_toml = root().join("Cargo.toml");
    let text = std::fs::read_to_string(&root_toml).unwrap_or_default();
    let members = text.lines().find_map(|l| l.trim().strip_prefix("members = [")).unwrap_or_default();
    let names = members.trim_end_matches(']').split(',').map(|m| m.trim().trim_matches('"'));
    std::iter::once(root_toml)
        .chain(names.filter(|m| !m.is_empty()).map(|m| root().join(m).join("Cargo.toml")))
        .collect()
}

fn check(span: &str, defs: &Definitions, top_level: &BTreeSet<String>) -> Option<String> {
    if is_repo_path(span, top_level) {
        return (!root().join(span.trim_end_matches('/')).exists())
            .then(|| format!("path `{span}`: no such file or folder in the repository"));
    }
    if is_rust_path(span) {
        let segments: Vec<&str> = span.split("::").collect();
        if matches!(segments[0], "std" | "core" | "alloc") {
            return None;
        }
        if segments[0].starts_with("podlab") && !defs.items.contains(segments[0]) {
            return Some(format!("name `{span}`: there is no crate `{}` in the workspace", segments[0]));
        }
        let last = segments[segments.len() - 1];
        let owner = segments[segments.len() - 2];
        let variant = defs.variants.contains(&(owner.to_string(), last.to_string()));
        return (!variant && !defs.items.contains(last) && !EXTERNAL.contains(&last)).then(|| {
            format!("name `{span}`: nothing named `{last}` is defined in the workspace (item, module, crate or variant of `{owner}`)")
        });
    }
    if is_camel_case(span) && !EXTERNAL.contains(&span) {
        let defined = defs.items.contains(span) || defs.variants.iter().any(|(_, v)| v == span);
        return (!defined).then(|| format!("name `{span}`: no struct, enum, trait, type or variant of that name"));
    }
    None
}

#[test]
fn every_path_and_name_in_architecture_md_exists() {
    let text = std::fs::read_to_string(root().join("ARCHITECTURE.md")).expect("ARCHITECTURE.md at the root");
    let top_level: BTreeSet<String> =
        std::fs::read_dir(root()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    let defs = workspace();
    let spans = code_spans(&text);
    let paths = spans.iter().filter(|s| is_repo_path(s, &top_level)).count();
    let names = spans.iter().filter(|s| !is_repo_path(s, &top_level) && (is_rust_path(s) || is_camel_case(s))).count();
    // The extraction itself works: the code map names dozens of each.
    assert!(paths >= 30 && names >= 30, "found only {paths} paths and {names} names in ARCHITECTURE.md");
    let mut missing: Vec<String> = spans.iter().filter_map(|s| check(s, &defs, &top_level)).collect();
    missing.dedup();
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md names {} thing(s) that do not exist; update its code map (or, for a name \
         from outside the workspace, tests/architecture.rs's EXTERNAL):\n  {}",
        missing.len(),
        missing.join("\n  ")
    );
}

#[test]
fn the_definition_scanner_sees_items_and_variants_not_comments_or_strings() {
    let source = r##"
        // struct InComment;
        /* enum Nested { /* deeper */ NotIt } */
        /// Doc: `fn in_doc`.
        pub(crate) struct Real<'a, T> where T: 'a { x: &'a T }
        const QUOTE: char = '"';
        static TEXT: &str = "enum InString { A }";
        static RAW: &str = r#"struct InRaw;"#;
        enum Shape<T> {
            #[default]
            Unit,
            Tuple(T, (u8, u8)),
            Named { a: u8, b: [u8; 2] },
        }
        impl Real<'_, u8> { pub fn method(&self) -> char { 'x' } }
        macro_rules! made { () => {} }
        made!(
            /// A doc.
            #[derive(Debug)]
            MadeId(u32)
        );
        mod inner;
    "##;
    let defs = definitions(source);
    for item in ["Real", "QUOTE", "TEXT", "RAW", "Shape", "method", "made", "inner"] {
        assert!(defs.items.contains(item), "{item} not found in {:?}", defs.items);
    }
    for absent in ["InComment", "Nested", "in_doc", "InString", "InRaw"] {
        assert!(!defs.items.contains(absent), "{absent} taken from a comment or string");
    }
    assert!(defs.macros.contains("made") && defs.calls.contains(&("made".into(), "MadeId".into())));
    let variants: Vec<&str> = defs.variants.iter().filter(|(e, _)| e == "Shape").map(|(_, v)| v.as_str()).collect();
    assert_eq!(variants, ["Named", "Tuple", "Unit"]);
}

#[test]
fn spans_are_classified_as_the_module_doc_says() {
    let top: BTreeSet<String> = ["src", "scenarios", ".ci"].iter().map(|s| s.to_string()).collect();
    for path in ["src/main.rs", "scenarios/", ".ci/run", "Cargo.toml", "gone/file.md", "gone/"] {
        assert!(is_repo_path(path, &top), "{path} should be a path");
    }
    for other in ["controller/<name>", "kubelet/exits", "0/3 nodes are available", "--out DIR", "Part::Whole"] {
        assert!(!is_repo_path(other, &top), "{other} should not be a path");
    }
    assert!(is_rust_path("podlab_real::run") && is_rust_path("Event::Synced") && !is_rust_path("a::<T>"));
    assert!(is_camel_case("NodeTable") && !is_camel_case("NAME") && !is_camel_case("Arc<Pod>"));
    assert_eq!(code_spans("a `x` b\n```\n`not`\n```\n`y\nz`"), ["x", "y z"]);
}
