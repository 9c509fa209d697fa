//! No module of the workspace is in an import cycle: for every crate root (`src/lib.rs`,
//! `src/main.rs`, `src/bin/*.rs` of the root package and of each workspace member) this builds
//! the graph of its modules and fails, naming the cycle and where each of its references is
//! written, if any strongly connected component has more than one module.
//!
//! What counts as a module: every file reached from the crate root by `mod name;` (`name.rs`
//! or `name/mod.rs`), except modules declared under `#[cfg(test)]`; an inline `mod name { … }`
//! belongs to the file that holds it, and `#[cfg(test)] mod … { … }` blocks are left out.
//!
//! What counts as a reference from module M to module T, anywhere in M's code outside comments
//! and string literals (in `use` trees, `{a, b::c}` groups expanded, and in expressions and
//! types alike): a path starting `crate::`, `super::` (any number) or `self::`, or one starting
//! with the name of a module M declares (`mod child;` … `child::f()`). The path resolves to the
//! deepest module it names: `crate::config::Fault` is a reference to `config`, `crate::Resources`
//! a reference to the crate root. Paths into other crates are not references (the crates' own
//! graph is acyclic: Cargo refuses a cycle).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// One module: its path in the crate (`""` for the root, `scenario::trace`) and its file.
struct Module {
    file: PathBuf,
    /// The code with comments, literals and `#[cfg(test)]` modules blanked out.
    code: String,
    /// Its child modules' names.
    children: BTreeSet<String>,
}

/// A crate's modules by path.
type Modules = BTreeMap<String, Module>;

/// A reference from one module to another, for the message: the file and line it is on.
type Edges = BTreeMap<(String, String), (PathBuf, usize)>;

#[test]
fn no_module_is_in_an_import_cycle() {
    let root = common::root();
    let mut failures = Vec::new();
    let crate_roots = crate_roots(root);
    assert!(crate_roots.len() >= 8, "found only {crate_roots:?}");
    for crate_root in crate_roots {
        let modules = load_modules(&crate_root);
        let edges = references(&modules);
        for component in cycles(&modules, &edges) {
            let mut message = format!("{}: modules in a cycle: {}", crate_root.display(), component.join(", "));
            for ((from, to), (file, line)) in &edges {
                if component.contains(from) && component.contains(to) {
                    message += &format!("\n  {} → {}  ({}:{line})", name(from), name(to), file.display());
                }
            }
            failures.push(message);
        }
    }
    assert!(failures.is_empty(), "import cycles between modules:\n{}", failures.join("\n\n"));
}

/// The checker finds what it must: a cycle through a child's `super::` and its parent's use of
/// the child, and none through comments, strings or test modules.
#[test]
fn the_checker_sees_references() {
    let module = |code: &str, children: &[&str]| Module {
        file: PathBuf::from("x.rs"),
        code: blank(code),
        children: children.iter().map(|c| c.to_string()).collect(),
    };
    let mut modules = Modules::new();
    modules.insert(String::new(), module("mod a; mod b; pub use a::X;", &["a", "b"]));
    modules.insert("a".into(), module("use crate::{b::{self, Y}, c};\n// crate::c\nfn f() {}", &[]));
    modules.insert("b".into(), module("fn g() { let s = \"crate::a\"; super::a::f(); }", &[]));
    modules.insert("c".into(), module("#[cfg(test)]\nmod tests { use crate::a; }\nfn h() {}", &[]));
    let edges = references(&modules);
    let pairs: Vec<(&str, &str)> = edges.keys().map(|(f, t)| (f.as_str(), t.as_str())).collect();
    assert_eq!(pairs, [("a", "b"), ("a", "c"), ("b", "a")]);
    assert_eq!(cycles(&modules, &edges), [vec!["a".to_string(), "b".to_string()]]);
}

fn name(module: &str) -> &str {
    if module.is_empty() { "(crate root)" } else { module }
}

/// Every crate root of the root package and of the workspace's members.
fn crate_roots(root: &Path) -> Vec<PathBuf> {
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).expect("the workspace's Cargo.toml");
    let members = manifest
        .split_once("members = [")
        .and_then(|(_, rest)| rest.split_once(']'))
        .map(|(list, _)| list.split(',').map(|m| m.trim().trim_matches('"').to_string()).filter(|m| !m.is_empty()))
        .expect("a members list")
        .collect::<Vec<_>>();
    let mut roots = Vec::new();
    for dir in std::iter::once(root.to_path_buf()).chain(members.iter().map(|m| root.join(m))) {
        let src = dir.join("src");
        roots.extend(["lib.rs", "main.rs"].iter().map(|f| src.join(f)).filter(|f| f.exists()));
        if let Ok(bins) = std::fs::read_dir(src.join("bin")) {
            let mut bins: Vec<PathBuf> = bins.map(|e| e.expect("a directory entry").path()).collect();
            bins.sort();
            roots.extend(bins.into_iter().filter(|p| p.extension().is_some_and(|e| e == "rs")));
        }
    }
    roots
}

/// The modules reached from a crate root by `mod name;`.
fn load_modules(crate_root: &Path) -> Modules {
    let mut modules = Modules::new();
    let mut pending = vec![(String::new(), crate_root.to_path_buf())];
    while let Some((path, file)) = pending.pop() {
        let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let code = blank(&text);
        let children = declared_modules(&code);
        // `a.rs` keeps its children in `a/`; `lib.rs`, `main.rs` and `mod.rs` beside them.
        let stem = file.file_stem().and_then(|s| s.to_str()).expect("a file name");
        let dir = file.parent().expect("a folder");
        let own_dir = if path.is_empty() || stem == "mod" { dir.to_path_buf() } else { dir.join(stem) };
        for child in &children {
            let flat = own_dir.join(format!("{child}.rs"));
            let file = if flat.exists() { flat } else { own_dir.join(child).join("mod.rs") };
            let child_path = if path.is_empty() { child.clone() } else { format!("{path}::{child}") };
            pending.push((child_path, file));
        }
        modules.insert(path, Module { file, code, children });
    }
    modules
}

/// The names of `mod name;` declarations not under `#[cfg(test)]` (test modules are blanked).
fn declared_modules(code: &str) -> BTreeSet<String> {
    let tokens = tokens(code);
    let mut out = BTreeSet::new();
    for (i, (token, _)) in tokens.iter().enumerate() {
        if token == "mod"
            && let (Some((name, _)), Some((end, _))) = (tokens.get(i + 1), tokens.get(i + 2))
            && end == ";"
        {
            out.insert(name.clone());
        }
    }
    out
}

/// Every reference between two modules of the crate, with the first place it is written.
fn references(modules: &Modules) -> Edges {
    let mut edges = Edges::new();
    for (from, module) in modules {
        let tokens = tokens(&module.code);
        let mut i = 0;
        while i < tokens.len() {
            let starts_path = is_ident(&tokens[i].0) && (i == 0 || tokens[i - 1].0 != "::");
            if !starts_path {
                i += 1;
                continue;
            }
            let line = tokens[i].1;
            let (paths, next) = use_tree(&tokens, i);
            for path in paths {
                if let Some(to) = resolve(modules, from, &path)
                    && &to != from
                    && !from.is_empty()
                    && !to.is_empty()
                {
                    edges.entry((from.clone(), to)).or_insert((module.file.clone(), line));
                }
            }
            i = next.max(i + 1);
        }
    }
    edges
}

/// The paths a path or `use` tree starting at `tokens[i]` names, and the index after it.
fn use_tree(tokens: &[(String, usize)], mut i: usize) -> (Vec<Vec<String>>, usize) {
    let mut prefix = Vec::new();
    while i < tokens.len() && is_ident(&tokens[i].0) {
        prefix.push(tokens[i].0.clone());
        if tokens.get(i + 1).is_some_and(|t| t.0 == "::") {
            i += 2;
        } else {
            return (vec![prefix], i + 1);
        }
    }
    if tokens.get(i).is_none_or(|t| t.0 != "{") {
        return (vec![prefix], i);
    }
    // A group: `prefix::{a, b::c, d::{e, f}}`.
    let mut paths = Vec::new();
    i += 1;
    while i < tokens.len() && tokens[i].0 != "}" {
        if is_ident(&tokens[i].0) || tokens[i].0 == "{" {
            let (inner, next) = use_tree(tokens, i);
            paths.extend(inner.into_iter().map(|p| prefix.iter().cloned().chain(p).collect()));
            i = next;
        } else {
            i += 1; // `,`, `*`, `as Alias`
        }
    }
    (paths, i + 1)
}

/// The deepest module of the crate a path names from module `from`, if it names one.
fn resolve(modules: &Modules, from: &str, path: &[String]) -> Option<String> {
    let (mut base, rest) = match path.first()?.as_str() {
        "crate" => (String::new(), &path[1..]),
        "self" => (from.to_string(), &path[1..]),
        "super" => {
            let supers = path.iter().take_while(|s| *s == "super").count();
            let mut base = from.to_string();
            for _ in 0..supers {
                base = base.rsplit_once("::").map_or(String::new(), |(parent, _)| parent.to_string());
            }
            (base, &path[supers..])
        }
        first if modules[from].children.contains(first) => (from.to_string(), path),
        _ => return None,
    };
    for segment in rest {
        let deeper = if base.is_empty() { segment.clone() } else { format!("{base}::{segment}") };
        if !modules.contains_key(&deeper) {
            break;
        }
        base = deeper;
    }
    Some(base)
}

/// The strongly connected components of more than one module (Tarjan's algorithm), each
/// sorted, in order of their first module.
fn cycles(modules: &Modules, edges: &Edges) -> Vec<Vec<String>> {
    let names: Vec<&String> = modules.keys().collect();
    let index_of: BTreeMap<&str, usize> = names.iter().enumerate().map(|(i, n)| (n.as_str(), i)).collect();
    let mut next = vec![Vec::new(); names.len()];
    for (from, to) in edges.keys() {
        next[index_of[from.as_str()]].push(index_of[to.as_str()]);
    }
    let mut tarjan = Tarjan {
        next,
        index: vec![None; names.len()],
        low: vec![0; names.len()],
        stack: Vec::new(),
        on_stack: vec![false; names.len()],
        counter: 0,
        components: Vec::new(),
    };
    for v in 0..names.len() {
        if tarjan.index[v].is_none() {
            tarjan.visit(v);
        }
    }
    let mut out: Vec<Vec<String>> = tarjan
        .components
        .into_iter()
        .filter(|c| c.len() > 1)
        .map(|c| {
            let mut c: Vec<String> = c.into_iter().map(|v| name(names[v]).to_string()).collect();
            c.sort();
            c
        })
        .collect();
    out.sort();
    out
}

struct Tarjan {
    next: Vec<Vec<usize>>,
    index: Vec<Option<usize>>,
    low: Vec<usize>,
    stack: Vec<usize>,
    on_stack: Vec<bool>,
    counter: usize,
    components: Vec<Vec<usize>>,
}

impl Tarjan {
    fn visit(&mut self, v: usize) {
        self.index[v] = Some(self.counter);
        self.low[v] = self.counter;
        self.counter += 1;
        self.stack.push(v);
        self.on_stack[v] = true;
        for w in self.next[v].clone() {
            match self.index[w] {
                None => {
                    self.visit(w);
                    self.low[v] = self.low[v].min(self.low[w]);
                }
                Some(index) if self.on_stack[w] => self.low[v] = self.low[v].min(index),
                Some(_) => {}
            }
        }
        if Some(self.low[v]) == self.index[v] {
            let mut component = Vec::new();
            while let Some(w) = self.stack.pop() {
                self.on_stack[w] = false;
                component.push(w);
                if w == v {
                    break;
                }
            }
            self.components.push(component);
        }
    }
}

fn is_ident(token: &str) -> bool {
    token.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_')
}

/// The code's tokens that matter here, with their lines: identifiers, `::`, braces, `;`, `,`;
/// every other character is a token of its own.
fn tokens(code: &str) -> Vec<(String, usize)> {
    let chars: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let (mut i, mut line) = (0, 1);
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push((chars[start..i].iter().collect(), line));
        } else if c == ':' && chars.get(i + 1) == Some(&':') {
            out.push(("::".to_string(), line));
            i += 2;
        } else {
            out.push((c.to_string(), line));
            i += 1;
        }
    }
    out
}

/// The code with comments, string and character literals, and `#[cfg(test)] mod … { … }`
/// blocks (or `mod …;` declarations) replaced by spaces, newlines kept so lines still count.
fn blank(text: &str) -> String {
    let mut chars: Vec<char> = blank_literals(text).chars().collect();
    let marker: Vec<char> = "#[cfg(test)]".chars().collect();
    let mut at = 0;
    while at + marker.len() <= chars.len() {
        if !chars[at..].starts_with(&marker) {
            at += 1;
            continue;
        }
        let Some(end) = test_module_end(&chars, at + marker.len()) else {
            at += 1;
            continue;
        };
        for c in &mut chars[at..=end] {
            if *c != '\n' {
                *c = ' ';
            }
        }
        at = end + 1;
    }
    chars.into_iter().collect()
}

/// If a module follows (after other attributes and a visibility), where it ends: its closing
/// `}` or its `;`.
fn test_module_end(chars: &[char], mut i: usize) -> Option<usize> {
    let skip_space = |i: &mut usize| {
        while chars.get(*i).is_some_and(|c| c.is_whitespace()) {
            *i += 1;
        }
    };
    loop {
        skip_space(&mut i);
        if chars.get(i) == Some(&'#') {
            i += chars[i..].iter().position(|&c| c == ']')? + 1; // another attribute
        } else {
            break;
        }
    }
    let rest: String = chars[i..].iter().take(40).collect();
    let item = rest.trim_start_matches("pub(crate)").trim_start_matches("pub").trim_start();
    if !item.starts_with("mod ") {
        return None;
    }
    let open = i + chars[i..].iter().position(|&c| c == '{' || c == ';')?;
    Some(if chars[open] == ';' { open } else { matching_brace(chars, open) })
}

/// The index of the `}` closing the `{` at `open` (literals already blanked).
fn matching_brace(chars: &[char], open: usize) -> usize {
    let mut depth = 0usize;
    for (i, c) in chars.iter().enumerate().skip(open) {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    chars.len() - 1
}

/// The text with comments and string and character literals replaced by spaces.
fn blank_literals(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = chars.clone();
    let mut i = 0;
    let clear = |out: &mut Vec<char>, from: usize, to: usize| {
        for c in &mut out[from..to.min(chars.len())] {
            if *c != '\n' {
                *c = ' ';
            }
        }
    };
    while i < chars.len() {
        let end = literal_end(&chars, i);
        if end > i {
            clear(&mut out, i, end);
            i = end;
        } else {
            i += 1;
        }
    }
    out.into_iter().collect()
}

/// Where the comment or literal starting at `i` ends (`i` itself if none starts there).
fn literal_end(chars: &[char], i: usize) -> usize {
    let at = |k: usize| chars.get(k).copied().unwrap_or('\0');
    let ident_before = i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
    match (at(i), at(i + 1)) {
        ('/', '/') => (i..chars.len()).find(|&k| chars[k] == '\n').unwrap_or(chars.len()),
        ('/', '*') => {
            let (mut depth, mut k) = (0usize, i);
            while k < chars.len() {
                if at(k) == '/' && at(k + 1) == '*' {
                    depth += 1;
                    k += 2;
                } else if at(k) == '*' && at(k + 1) == '/' {
                    depth -= 1;
                    k += 2;
                    if depth == 0 {
                        return k;
                    }
                } else {
                    k += 1;
                }
            }
            chars.len()
        }
        ('r', '#') | ('r', '"') if !ident_before => raw_string_end(chars, i + 1),
        ('b', 'r') if !ident_before && matches!(at(i + 2), '#' | '"') => raw_string_end(chars, i + 2),
        ('b', '"') | ('b', '\'') if !ident_before => literal_end(chars, i + 1),
        ('"', _) => {
            let mut k = i + 1;
            while k < chars.len() && chars[k] != '"' {
                k += if chars[k] == '\\' { 2 } else { 1 };
            }
            k + 1
        }
        // A character literal ('x', '\n', '\u{1F600}'), not a lifetime ('a).
        ('\'', '\\') => (i + 2..chars.len()).find(|&k| chars[k] == '\'').map_or(chars.len(), |k| k + 1),
        ('\'', _) if at(i + 2) == '\'' => i + 3,
        _ => i,
    }
}

/// The end of a raw string whose `#`s or `"` start at `i`.
fn raw_string_end(chars: &[char], i: usize) -> usize {
    let hashes = chars[i..].iter().take_while(|&&c| c == '#').count();
    if chars.get(i + hashes) != Some(&'"') {
        return i; // `r#ident`, not a string
    }
    let closing: Vec<char> = std::iter::once('"').chain(std::iter::repeat_n('#', hashes)).collect();
    let body = i + hashes + 1;
    (body..chars.len()).find(|&k| chars[k..].starts_with(&closing)).map_or(chars.len(), |k| k + closing.len())
}
