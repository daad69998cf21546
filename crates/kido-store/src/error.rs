use thiserror::Error;

/// What can go wrong in the store, classified so the domain can say why in its own terms.
#[derive(Debug, Error)]
pub enum StoreError {
    /// A unique constraint was violated; carries the constraint or index name when the
    /// backend reports one.
    #[error("unique constraint violated: {0}")]
    Conflict(String),
    /// A referenced row does not exist (in this tenant).
    #[error("referenced row does not exist: {0}")]
    MissingReference(String),
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// The backend cannot do what was asked (e.g. `SIMILAR TO` on SQLite).
    #[error("{0}")]
    Unsupported(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The database's disk (or its configured size cap) is full: nothing can be written until
    /// space is freed. Transient: the connection that saw it is not reused dirty.
    #[error("the database's disk is full: {0}")]
    Full(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e {
            let what = db.constraint().unwrap_or_else(|| db.message()).to_owned();
            match db.kind() {
                sqlx::error::ErrorKind::UniqueViolation => return Self::Conflict(what),
                sqlx::error::ErrorKind::ForeignKeyViolation => return Self::MissingReference(what),
                _ => {}
            }
            // SQLITE_FULL (13) or PostgreSQL's disk_full (53100).
            if matches!(db.code().as_deref(), Some("13" | "53100")) {
                return Self::Full(db.message().to_owned());
            }
            // A search pattern the database cannot compile: PostgreSQL's 2201B, or
            // SQLITE_CONSTRAINT_FUNCTION (1043) from REGEXP, the only function we register.
            if matches!(db.code().as_deref(), Some("2201B" | "1043")) {
                return Self::Unsupported(format!("invalid search pattern: {}", db.message()));
            }
        }
        Self::Database(e)
    }
}
