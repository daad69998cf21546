use thiserror::Error;

/// What can go wrong in the store, classified so the domain can say why in its own terms.
#[derive(Debug, Error)]
pub enum StoreError {
    /// A unique constraint was violated; carries the constraint or index name as the
    /// migrations name it (see `unique_constraint`), else the backend's message.
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
    /// The database URL cannot be used (unknown scheme, bad port…); carries why, without the password.
    #[error("invalid database URL: {0}")]
    InvalidUrl(String),
    /// The server took the connection but never completed the database's start-up.
    #[error("{0}")]
    NoAnswer(String),
    /// The database's disk (or its configured size cap) is full: nothing can be written until
    /// space is freed. Transient: the connection that saw it is not reused dirty.
    #[error("the database's disk is full: {0}")]
    Full(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// SQLite names a unique index on plain columns by its columns; these are the ones of the
/// migrations whose violation a caller tells apart, by the index's name.
const SQLITE_COLUMN_INDEXES: &[(&str, &str)] = &[
    ("users.tenant_id, users.primary_phone", "users__primary_phone"),
    ("users.tenant_id, users.username", "users__username"),
    (
        "user_mfa_verifications.tenant_id, user_mfa_verifications.credential_id",
        "user_mfa_verifications__webauthn_credential",
    ),
    (
        "user_social_identities.tenant_id, user_social_identities.target, user_social_identities.identity_id",
        "user_social_identities__identity",
    ),
];

/// The name of the unique constraint or index a write broke: PostgreSQL reports it; SQLite
/// says `UNIQUE constraint failed: index 'NAME'` for expression indexes and lists the
/// columns otherwise. Unknown shapes keep the backend's message.
fn unique_constraint(reported: Option<&str>, message: &str) -> String {
    if let Some(name) = reported {
        return name.to_owned();
    }
    let detail = message.strip_prefix("UNIQUE constraint failed: ").unwrap_or(message);
    if let Some(name) = detail.strip_prefix("index '").and_then(|rest| rest.strip_suffix('\'')) {
        return name.to_owned();
    }
    match SQLITE_COLUMN_INDEXES.iter().find(|(columns, _)| *columns == detail) {
        Some((_, name)) => (*name).to_owned(),
        None => message.to_owned(),
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e {
            let what = db.constraint().unwrap_or_else(|| db.message()).to_owned();
            match db.kind() {
                sqlx::error::ErrorKind::UniqueViolation => {
                    return Self::Conflict(unique_constraint(db.constraint(), db.message()));
                }
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

#[cfg(test)]
mod tests {
    use super::unique_constraint;

    #[test]
    fn names_the_violated_unique_index_on_both_backends() {
        assert_eq!(unique_constraint(Some("users__username"), "duplicate key value"), "users__username");
        assert_eq!(unique_constraint(None, "UNIQUE constraint failed: index 'users__username'"), "users__username");
        assert_eq!(
            unique_constraint(None, "UNIQUE constraint failed: users.tenant_id, users.primary_phone"),
            "users__primary_phone"
        );
        assert_eq!(unique_constraint(None, "UNIQUE constraint failed: t.a"), "UNIQUE constraint failed: t.a");
    }
}
