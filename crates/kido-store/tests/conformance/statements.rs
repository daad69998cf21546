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
