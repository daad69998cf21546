//! Both dialects migrate through the same numbered steps.

use std::collections::BTreeSet;
use std::path::Path;

fn files(dialect: &str) -> BTreeSet<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(dialect);
    std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect()
}

#[test]
fn sqlite_and_postgres_hold_the_same_numbered_migrations() {
    let (sqlite, postgres) = (files("sqlite"), files("postgres"));
    assert!(!sqlite.is_empty());
    let only_sqlite: Vec<_> = sqlite.difference(&postgres).collect();
    let only_postgres: Vec<_> = postgres.difference(&sqlite).collect();
    assert!(
        only_sqlite.is_empty() && only_postgres.is_empty(),
        "migrations differ: only in sqlite {only_sqlite:?}, only in postgres {only_postgres:?}"
    );
    // NNNN_name.sql, numbers unique: sqlx applies them by number.
    let mut numbers = BTreeSet::new();
    for name in &sqlite {
        let (number, rest) = name.split_once('_').unwrap_or_else(|| panic!("{name}: not NNNN_name.sql"));
        assert!(number.len() == 4 && number.chars().all(|c| c.is_ascii_digit()), "{name}: not NNNN_name.sql");
        assert!(rest.ends_with(".sql"), "{name}: not NNNN_name.sql");
        assert!(numbers.insert(number.to_owned()), "{name}: number {number} used twice");
    }
}
