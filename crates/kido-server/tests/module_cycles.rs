//! No import cycles between the source files of a crate (issue 16): file A uses file B
//! and B (directly or through others) uses A. Every crate of the workspace is read from
//! `crates/*/src`; cycles are the strongly connected components (Tarjan) of the graph of
//! files. [`ALLOWED`] is where a known cycle would be listed; it is empty and must stay so.
//!
//! What counts as "A uses B" (a deliberately simple, text-based reading):
//! - A file is a module: `src/a/b.rs` is `a::b`, `src/a/mod.rs` is `a`. The crate root
//!   (`lib.rs`, or `main.rs` without a `lib.rs`) is left out: it declares every module and
//!   holds the crate-wide vocabulary (`Core`, `TenantContext`), so every file "uses" it.
//! - Edges come from `use` declarations and from paths written inline in code, starting with
//!   `crate::`, `super::`, `self::` or a child module's name. A path names the file of the
//!   longest module prefix it has: `crate::oidc::clients::find` is `oidc/clients.rs`; an
//!   item of a module (a type, a function) counts as its file.
//! - A child using its parent's `mod.rs` counts (`use super::Connectors`). A parent's `mod x;`
//!   does not, nor does a `pub use` re-exporting one of its own descendants' items (a table
//!   of contents, not a use); a private `use x::…` in the parent does.
//! - Comments, string literals and `#[cfg(test)] mod … { … }` blocks are skipped (tests may
//!   reach anywhere). Macros are read as text, so a `crate::` path inside a macro counts.

// The whole file is test code: failing loudly is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Cycles tolerated, each as `crate: file file …` (sorted). Empty since issue 16 removed
/// the last ones, and it must stay empty: a new cycle is opened, not listed. (A listed cycle
/// that is gone fails the test too, so an entry could only ever be deleted.)
///
/// Before issue 16: 4 (this reading), among them `connectors/mod.rs ↔ its children` (the
/// error and message types now have their own files), `data_dir.rs ↔ server.rs` (data_dir
/// has its own error) and the store's `db.rs ↔ changes.rs` (the store's change methods live
/// with the store).
const ALLOWED: &[&str] = &[];

type Module = Vec<String>;

#[test]
fn no_import_cycles_between_files() {
    let crates_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut found = Vec::new();
    let mut crates: Vec<PathBuf> =
        std::fs::read_dir(&crates_dir).unwrap().map(|e| e.unwrap().path().join("src")).filter(|p| p.is_dir()).collect();
    crates.sort();
    for src in crates {
        let name = src.parent().unwrap().file_name().unwrap().to_string_lossy().into_owned();
        for (cycle, edges) in cycles(&src) {
            found.push(format!("{name}: {}", cycle.join(" ")));
            println!("{name}: {}", edges.join(", "));
        }
    }
    println!("import cycles between files: {}", found.len());
    for cycle in &found {
        println!("  {cycle}");
    }
    let new: Vec<&String> = found.iter().filter(|c| !ALLOWED.contains(&c.as_str())).collect();
    let gone: Vec<&&str> = ALLOWED.iter().filter(|a| !found.iter().any(|c| c == **a)).collect();
    assert!(new.is_empty(), "import cycles (files that use each other): {new:#?}");
    assert!(gone.is_empty(), "these allowed cycles are gone: delete them from ALLOWED: {gone:#?}");
}

/// The cycles of one crate's `src/`: each a sorted list of files (relative to `src/`) and
/// the uses between them (`a.rs → b.rs`).
fn cycles(src: &Path) -> Vec<(Vec<String>, Vec<String>)> {
    let mut files: BTreeMap<Module, PathBuf> = BTreeMap::new();
    collect_files(src, src, &mut files);
    let modules: BTreeSet<Module> = files.keys().cloned().collect();
    let mut graph: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    for (module, path) in &files {
        let code = without_tests(&code_only(&std::fs::read_to_string(path).unwrap()));
        let uses = graph.entry(module.clone()).or_default();
        for path in used_paths(&code, module, &modules) {
            if let Some(target) = resolve(&path, &modules)
                && target != *module
            {
                uses.insert(target);
            }
        }
    }
    let file_of = |m: &Module| files[m].strip_prefix(src).unwrap().to_string_lossy().into_owned();
    tarjan(&graph)
        .into_iter()
        .filter(|scc| scc.len() > 1)
        .map(|scc| {
            let mut names: Vec<String> = scc.iter().map(file_of).collect();
            names.sort();
            let mut edges = Vec::new();
            for from in &scc {
                for to in graph[from].iter().filter(|to| scc.contains(to)) {
                    edges.push(format!("{} → {}", file_of(from), file_of(to)));
                }
            }
            edges.sort();
            (names, edges)
        })
        .collect()
}

fn collect_files(src: &Path, dir: &Path, out: &mut BTreeMap<Module, PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            // `src/bin/*` are crates of their own.
            if path != src.join("bin") {
                collect_files(src, &path, out);
            }
            continue;
        }
        if path.extension().is_none_or(|e| e != "rs") || path == src.join("lib.rs") || path == src.join("main.rs") {
            continue;
        }
        let relative = path.strip_prefix(src).unwrap().with_extension("");
        let mut module: Module = relative.iter().map(|s| s.to_string_lossy().into_owned()).collect();
        if module.last().is_some_and(|s| s == "mod") {
            module.pop();
        }
        out.insert(module, path);
    }
}

/// The text with comments removed and string and character literals blanked.
fn code_only(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if c == 'r' && (next == Some('"') || next == Some('#')) && !ident_char(chars.get(i.wrapping_sub(1))) {
            // Raw string: r"…", r#"…"#.
            let mut j = i + 1;
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            loop {
                if j >= chars.len() {
                    break;
                }
                if chars[j] == '"' && (0..hashes).all(|h| chars.get(j + 1 + h) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            out.push_str("\"\"");
            i = j;
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == '\'' {
            // A character literal ('x', '\n', '\u{..}') or a lifetime ('a).
            if next == Some('\\') {
                i += 2;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
                out.push_str("' '");
            } else if chars.get(i + 2) == Some(&'\'') {
                i += 3;
                out.push_str("' '");
            } else {
                out.push(c);
                i += 1;
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn ident_char(c: Option<&char>) -> bool {
    c.is_some_and(|c| c.is_alphanumeric() || *c == '_')
}

/// Drops `#[cfg(test)] mod name { … }` blocks (brace-matched on comment- and string-free text).
fn without_tests(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let mut rest = code;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let after = &rest[at + "#[cfg(test)]".len()..];
        let trimmed = after.trim_start();
        let is_mod =
            trimmed.starts_with("mod ") || trimmed.starts_with("pub mod ") || trimmed.starts_with("pub(crate) mod ");
        let (Some(open), true) = (after.find('{'), is_mod) else {
            rest = after;
            continue;
        };
        if after[..open].contains(';') {
            // `#[cfg(test)] mod x;`: a file of its own, kept.
            rest = after;
            continue;
        }
        let mut depth = 0;
        let mut end = after.len();
        for (i, c) in after[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = open + i + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// Every path the code names, made absolute (`crate`-relative segments), from `use`
/// declarations and from inline `crate::`/`super::`/`self::`/`child::` paths.
fn used_paths(code: &str, module: &Module, modules: &BTreeSet<Module>) -> Vec<Module> {
    let mut out = Vec::new();
    // The end of the `use` declaration being read: its words are not inline paths.
    let mut in_use_until = 0;
    for at in word_starts(code) {
        if at < in_use_until {
            continue;
        }
        let rest = &code[at..];
        if let Some(decl) = rest.strip_prefix("use ").or_else(|| rest.strip_prefix("use\n")) {
            let Some(end) = decl.find(';') else { continue };
            in_use_until = at + 4 + end;
            let reexport = code[..at].trim_end().ends_with("pub") || code[..at].trim_end().ends_with(')');
            let mut paths = Vec::new();
            expand_use_tree(&decl[..end], &mut Vec::new(), &mut paths);
            for path in paths {
                if let Some(absolute) = absolute(&path, module, modules) {
                    // A parent's `pub use child::X` is a table of contents, not a use.
                    if reexport && absolute.starts_with(module) {
                        continue;
                    }
                    out.push(absolute);
                }
            }
        } else if !code[..at].ends_with("::") {
            let path = read_path(rest);
            if path.len() > 1
                && let Some(absolute) = absolute(&path, module, modules)
            {
                out.push(absolute);
            }
        }
    }
    out
}

/// Byte offsets where an identifier starts (not preceded by an identifier character or `$`).
fn word_starts(code: &str) -> Vec<usize> {
    let mut starts = Vec::new();
    let mut previous: Option<char> = None;
    for (i, c) in code.char_indices() {
        let is_ident = c.is_alphanumeric() || c == '_';
        if is_ident && !ident_char(previous.as_ref()) && previous != Some('$') {
            starts.push(i);
        }
        previous = Some(c);
    }
    starts
}

/// `a::b::c` at the start of `text` (whitespace around `::` allowed).
fn read_path(text: &str) -> Vec<String> {
    let mut segments = Vec::new();
    let mut rest = text;
    loop {
        let len = rest.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(rest.len());
        if len == 0 {
            break;
        }
        segments.push(rest[..len].to_owned());
        let after = rest[len..].trim_start();
        match after.strip_prefix("::") {
            Some(next) => rest = next.trim_start(),
            None => break,
        }
    }
    segments
}

/// Expands `a::{b, c::{d as e, self}, f::*}` into `a::b`, `a::c::d`, `a::c`, `a::f`.
fn expand_use_tree(tree: &str, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    let tree = tree.trim().trim_start_matches("::");
    if let Some(inner) = tree.strip_prefix('{') {
        let inner = inner.strip_suffix('}').unwrap_or(inner);
        for part in split_top_level(inner) {
            expand_use_tree(part, &mut prefix.clone(), out);
        }
        return;
    }
    let (head, tail) = match tree.find("::") {
        Some(i) => (tree[..i].trim(), Some(&tree[i + 2..])),
        None => (tree, None),
    };
    match tail {
        Some(tail) => {
            prefix.push(head.to_owned());
            expand_use_tree(tail, prefix, out);
        }
        None => {
            let name = head.split_whitespace().next().unwrap_or_default();
            if !(name == "self" || name == "*" || name.is_empty()) || prefix.is_empty() {
                prefix.push(name.to_owned());
            }
            out.push(prefix.clone());
        }
    }
}

fn split_top_level(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts.into_iter().filter(|p| !p.trim().is_empty()).collect()
}

/// The path from the crate root, or `None` for another crate's path.
fn absolute(path: &[String], module: &Module, modules: &BTreeSet<Module>) -> Option<Module> {
    let mut base: Module = match path.first()?.as_str() {
        "crate" => Vec::new(),
        "self" | "super" => module.clone(),
        child => {
            let mut candidate = module.clone();
            candidate.push(child.to_owned());
            if !modules.contains(&candidate) {
                return None;
            }
            module.clone()
        }
    };
    let mut segments = path.iter().skip(usize::from(matches!(path[0].as_str(), "crate" | "self"))).peekable();
    while segments.peek().is_some_and(|s| *s == "super") {
        base.pop()?;
        segments.next();
    }
    base.extend(segments.cloned());
    Some(base)
}

/// The file a path lands in: its longest prefix that is a module with a file.
fn resolve(path: &Module, modules: &BTreeSet<Module>) -> Option<Module> {
    (1..=path.len()).rev().map(|n| path[..n].to_vec()).find(|m| modules.contains(m))
}

/// Strongly connected components (Tarjan's algorithm).
fn tarjan(graph: &BTreeMap<Module, BTreeSet<Module>>) -> Vec<Vec<Module>> {
    struct State<'g> {
        graph: &'g BTreeMap<Module, BTreeSet<Module>>,
        index: BTreeMap<&'g Module, usize>,
        low: BTreeMap<&'g Module, usize>,
        stack: Vec<&'g Module>,
        on_stack: BTreeSet<&'g Module>,
        out: Vec<Vec<Module>>,
    }
    fn visit<'g>(s: &mut State<'g>, v: &'g Module) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on_stack.insert(v);
        for w in s.graph.get(v).into_iter().flatten() {
            let Some((w, _)) = s.graph.get_key_value(w) else { continue };
            if !s.index.contains_key(w) {
                visit(s, w);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v, low);
            } else if s.on_stack.contains(w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w.clone());
                if w == v {
                    break;
                }
            }
            s.out.push(component);
        }
    }
    let mut s = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in graph.keys() {
        if !s.index.contains_key(v) {
            visit(&mut s, v);
        }
    }
    s.out
}

#[test]
fn reading_rules() {
    let modules: BTreeSet<Module> =
        [vec!["a"], vec!["a", "b"], vec!["c"]].into_iter().map(|m| m.into_iter().map(String::from).collect()).collect();
    let m = |s: &[&str]| s.iter().map(|s| s.to_string()).collect::<Module>();
    let code = code_only(
        "use super::{b::{X, self}, *};\n// use crate::c;\nlet s = \"crate::c::x\";\npub use b::Y;\nfn f() { crate::c::g(); }\n#[cfg(test)]\nmod tests { use crate::c; }\n",
    );
    let paths = used_paths(&without_tests(&code), &m(&["a"]), &modules);
    let files: BTreeSet<Module> = paths.iter().filter_map(|p| resolve(p, &modules)).collect();
    // `super` of `a` is the root (left out), `pub use b::Y` is a re-export, `crate::c` inline counts.
    assert_eq!(files, [m(&["c"])].into_iter().collect());
    let mut out = Vec::new();
    expand_use_tree("crate::x::{y as z, w::{self, v}, *}", &mut Vec::new(), &mut out);
    assert_eq!(
        out,
        [m(&["crate", "x", "y"]), m(&["crate", "x", "w"]), m(&["crate", "x", "w", "v"]), m(&["crate", "x"])]
    );
}
