//! The statement counter's premise: a `run!` body runs exactly one SQL statement (the store
//! counts one per `run!`), never two and never one per loop iteration.

use std::path::Path;

/// Statement-running calls of sqlx's query builders.
const RUNS: [&str; 5] = [".fetch_one(", ".fetch_all(", ".fetch_optional(", ".execute(", ".fetch("];

/// `s[open..]` starts just after an opening `open_ch`; the index just past its match.
fn matching(s: &str, open: usize, open_ch: u8, close_ch: u8) -> usize {
    let bytes = s.as_bytes();
    let (mut depth, mut i) = (1, open);
    while depth > 0 {
        if bytes[i] == open_ch {
            depth += 1;
        } else if bytes[i] == close_ch {
            depth -= 1;
        }
        i += 1;
    }
    i
}

fn runs_in(s: &str) -> usize {
    RUNS.iter().map(|r| s.matches(r).count()).sum()
}

#[test]
fn every_run_body_runs_exactly_one_statement() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut bodies = 0;
    let mut wrong = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let src = std::fs::read_to_string(&path).unwrap();
        for (at, _) in src.match_indices("run!(") {
            // The macro's own definition and its doc mention are not uses.
            if src[..at].ends_with("macro_rules! ") || src[..at].ends_with('`') {
                continue;
            }
            let body = &src[at..matching(&src, at + 5, b'(', b')')];
            bodies += 1;
            let mut ok = runs_in(body) == 1;
            // No statement inside a loop of the body.
            for (f, _) in body.match_indices("for ") {
                if let Some(brace) = body[f..].find('{') {
                    let start = f + brace + 1;
                    if runs_in(&body[start..matching(body, start, b'{', b'}')]) > 0 {
                        ok = false;
                    }
                }
            }
            if !ok {
                let line = src[..at].lines().count() + 1;
                wrong.push(format!("{}:{line}", path.file_name().unwrap().to_string_lossy()));
            }
        }
    }
    assert!(bodies > 100, "found only {bodies} run! bodies: has the macro moved?");
    assert!(wrong.is_empty(), "run! bodies that run more or less than one statement: {wrong:?}");
}

/// The tables migration 0010's triggers watch (what the caches read).
fn cached_tables() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/postgres");
    let sql = std::fs::read_to_string(dir.join("0010_cache_changes.sql")).unwrap();
    sql.split("AFTER INSERT OR UPDATE OR DELETE ON ")
        .skip(1)
        .map(|rest| rest.split_whitespace().next().unwrap().to_owned())
        .collect()
}

/// Tables whose writes reach a cached table: the cached tables and, through `ON DELETE
/// CASCADE`, every table one of them references (transitively), read from the migrations.
fn tables_reaching_cached() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/postgres");
    let mut edges = Vec::new(); // (parent, child)
    for entry in std::fs::read_dir(&dir).unwrap() {
        let sql = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for table in sql.split("CREATE TABLE ").skip(1) {
            let child = table.split_whitespace().next().unwrap().trim_matches('(').to_owned();
            let body = &table[..table.find(");").unwrap_or(table.len())];
            for reference in body.split("REFERENCES ").skip(1) {
                let parent = reference.split_whitespace().next().unwrap().to_owned();
                let clause = reference.split(',').next().unwrap_or_default();
                if clause.contains("ON DELETE CASCADE") {
                    edges.push((parent, child.clone()));
                }
            }
        }
    }
    let mut reach = cached_tables();
    loop {
        let more: Vec<String> =
            edges.iter().filter(|(p, c)| reach.contains(c) && !reach.contains(p)).map(|(p, _)| p.clone()).collect();
        if more.is_empty() {
            return reach;
        }
        reach.extend(more);
    }
}

/// Tables a source file writes, by the SQL text after `INSERT INTO`, `UPDATE`, `DELETE FROM`.
fn written_tables(src: &str) -> Vec<String> {
    let mut out = Vec::new();
    for verb in ["INSERT INTO ", "INSERT OR IGNORE INTO ", "UPDATE ", "DELETE FROM "] {
        for (at, _) in src.match_indices(verb) {
            let name: String = src[at + verb.len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '{' | '}'))
                .collect();
            if !name.is_empty() {
                out.push(name);
            }
        }
    }
    out
}

/// Modules whose SQL writes a table named at run time (`{…}`), reviewed by hand: the names
/// they can take and why none reaches a cached table.
const REVIEWED_DYNAMIC: [(&str, &str); 2] = [
    ("oidc.rs", "the expiry sweep over oidc_interactions, oidc_tokens, oidc_grants, oidc_sessions"),
    ("organization_jit.rs", "organization_jit_email_domains, organization_jit_roles, organization_jit_sso_connectors"),
];

/// A transaction reads its change notes at commit only after a statement of a module that
/// declares `TOUCHES_CACHED_TABLES = true` (db.rs): every module that writes a table whose
/// change reaches a cached table must say so, or its changes would not be reported.
#[test]
fn modules_that_write_cached_tables_say_so() {
    let reach = tables_reaching_cached();
    assert!(reach.len() > 16 && reach.iter().any(|t| t == "tenants"), "{reach:?}");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut wrong = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let src = std::fs::read_to_string(&path).unwrap();
        if file == "db.rs" || !src.contains("run!(") {
            continue;
        }
        let says_true = src.contains("const TOUCHES_CACHED_TABLES: bool = true;");
        let says = says_true || src.contains("const TOUCHES_CACHED_TABLES: bool = false;");
        let written = written_tables(&src);
        let reaches = written.iter().any(|t| reach.contains(t));
        let dynamic = written.iter().any(|t| t.contains('{')) && !REVIEWED_DYNAMIC.iter().any(|(f, _)| *f == file);
        if !says || ((reaches || dynamic) && !says_true) {
            wrong.push(format!("{file}: writes {written:?}"));
        }
    }
    assert!(wrong.is_empty(), "modules that must declare TOUCHES_CACHED_TABLES = true: {wrong:?}");
}
