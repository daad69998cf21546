//! The data directory: private to its owner (the directory 0700, every file 0600, since the
//! database holds signing keys and client secrets) and, with SQLite, to one process.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

/// What preparing the data directory can fail with; the server words it for the operator
/// (in `ServerError`), so this module needs nothing of the server's.
#[derive(Debug)]
pub enum DataDirError {
    /// Creating, locking or tightening this path failed.
    Io(PathBuf, std::io::Error),
    /// Another process holds the lock of this directory.
    InUse(PathBuf),
    /// This user may not write the directory (`.0`): writing or tightening `.1` was refused.
    NotWritable(PathBuf, PathBuf, std::io::Error),
}

impl DataDirError {
    /// A refusal (EACCES, EPERM) is the directory's owner or mode, not a missing path: say so.
    fn classify(dir: &Path, path: PathBuf, error: std::io::Error) -> Self {
        match error.kind() {
            std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem => {
                Self::NotWritable(dir.to_owned(), path, error)
            }
            _ => Self::Io(path, error),
        }
    }
}

/// The lock file that keeps a second process off a SQLite data directory.
pub const LOCK_FILE: &str = "kido.lock";

/// Held while the server runs; dropping it releases the data directory.
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
}

/// Creates (or tightens) the data directory, takes its lock when the database is the SQLite
/// file `sqlite_db`, and creates that file owner-only before SQLite first opens it (SQLite
/// gives `-wal` and `-shm` the database file's mode).
pub fn prepare(dir: &Path, sqlite_db: Option<&Path>) -> Result<Option<DataDirLock>, DataDirError> {
    let io = |e| DataDirError::classify(dir, dir.to_owned(), e);
    create_private_dir(dir).map_err(io)?;
    let lock = match sqlite_db {
        Some(_) => Some(lock(dir)?),
        // The lock file proves SQLite's directory writable; without one, check it now rather
        // than fail at the end of the first start, when the credentials are written.
        None => {
            check_writable(dir)?;
            None
        }
    };
    tighten(dir).map_err(io)?;
    if let Some(db) = sqlite_db {
        create_private_file(db).map_err(|e| DataDirError::classify(dir, db.to_owned(), e))?;
    }
    Ok(lock)
}

fn check_writable(dir: &Path) -> Result<(), DataDirError> {
    let probe = dir.join(".kido-write-check");
    private_options()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&probe)
        .and_then(|_| std::fs::remove_file(&probe))
        .map_err(|e| DataDirError::classify(dir, probe.clone(), e))
}

/// Tightens what SQLite created beside the database (`-wal`, `-shm`) once it is open.
pub fn tighten_sqlite_files(db: &Path) -> Result<(), DataDirError> {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        let path = PathBuf::from(name);
        if path.exists() {
            make_private(&path, false).map_err(|e| DataDirError::Io(path.clone(), e))?;
        }
    }
    Ok(())
}

fn lock(dir: &Path) -> Result<DataDirLock, DataDirError> {
    let path = dir.join(LOCK_FILE);
    let file = private_options().read(true).write(true).truncate(false).create(true).open(&path);
    let file = file.map_err(|e| DataDirError::classify(dir, path.clone(), e))?;
    match file.try_lock() {
        Ok(()) => Ok(DataDirLock { _file: file }),
        Err(std::fs::TryLockError::WouldBlock) => Err(DataDirError::InUse(dir.to_owned())),
        Err(std::fs::TryLockError::Error(e)) => Err(DataDirError::Io(path, e)),
    }
}

/// The directory 0700, its files (and the outbox's) 0600; symlinks are left alone.
fn tighten(dir: &Path) -> std::io::Result<()> {
    make_private(dir, true)?;
    for sub in [dir.to_owned(), dir.join("outbox")] {
        let Ok(entries) = std::fs::read_dir(&sub) else { continue };
        for entry in entries.flatten() {
            let kind = entry.file_type()?;
            if kind.is_file() || kind.is_dir() {
                make_private(&entry.path(), kind.is_dir())?;
            }
        }
    }
    Ok(())
}

#[cfg(unix)]
fn make_private(path: &Path, is_dir: bool) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::symlink_metadata(path)?.permissions().mode() & 0o777;
    let wanted = if is_dir { 0o700 } else { 0o600 };
    if mode & 0o077 != 0 {
        tracing::warn!(path = %path.display(), "was readable by others (mode {mode:o}): tightened to {wanted:o}");
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(wanted))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn make_private(_: &Path, _: bool) -> std::io::Result<()> {
    Ok(())
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// The key file secrets at rest are sealed with when `KIDO_SECRET_VAULT_KEK` is unset.
pub const SECRET_KEY_FILE: &str = "secret-vault.key";

/// The text of the data directory's secret key, made (owner-only) on the first start. A
/// copy of the database without this file opens no sealed secret.
pub fn secret_key_text(dir: &Path) -> Result<String, DataDirError> {
    use std::io::Write;
    let path = dir.join(SECRET_KEY_FILE);
    let io = |e| DataDirError::Io(path.clone(), e);
    match std::fs::read_to_string(&path) {
        Ok(text) => return Ok(text.trim().to_owned()),
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(e)),
        Err(_) => {}
    }
    let text = kido_core::sealing::SealingKey::generate_text().map_err(|e| io(std::io::Error::other(e.to_string())))?;
    let mut file = private_options().write(true).create_new(true).open(&path).map_err(io)?;
    file.write_all(format!("{text}\n").as_bytes()).and_then(|()| file.sync_all()).map_err(io)?;
    Ok(text)
}

/// Creates `path` empty and owner-only if it does not exist.
pub fn create_private_file(path: &Path) -> std::io::Result<()> {
    match private_options().write(true).create_new(true).open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// Open options that create files with mode 0600.
pub fn private_options() -> OpenOptions {
    #[allow(unused_mut)]
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
}

/// The SQLite database file a URL names (`sqlite://path`, `sqlite:path`, options after `?`);
/// `None` for PostgreSQL and in-memory databases.
pub fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

/// Where the generated bootstrap credentials of a database are written: one file per
/// database, so a second process on another database never overwrites the first one's.
/// `bootstrap-credentials.json` for the default SQLite database of the data directory,
/// `bootstrap-credentials-<host>-<port>-<database>.json` (or the SQLite file's path) otherwise.
pub fn credentials_file(dir: &Path, database_url: Option<&str>) -> PathBuf {
    let Some(url) = database_url else { return dir.join("bootstrap-credentials.json") };
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    let rest = rest.split('?').next().unwrap_or_default();
    let label: String = rest
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '.' { c } else { '-' })
        .collect::<String>()
        .trim_matches(['-', '.'])
        .chars()
        .take(120)
        .collect();
    dir.join(format!("bootstrap-credentials-{label}.json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_credentials_file_per_database() {
        let dir = Path::new("/d");
        assert_eq!(credentials_file(dir, None), dir.join("bootstrap-credentials.json"));
        assert_eq!(
            credentials_file(dir, Some("postgres://kido:secret@db.internal:5432/kido?sslmode=require")),
            dir.join("bootstrap-credentials-db.internal-5432-kido.json")
        );
        assert_eq!(
            credentials_file(dir, Some("sqlite:///srv/other.db")),
            dir.join("bootstrap-credentials-srv-other.db.json")
        );
    }

    #[test]
    fn sqlite_files_from_urls() {
        assert_eq!(sqlite_file("sqlite:///a/b.db?mode=rwc"), Some(PathBuf::from("/a/b.db")));
        assert_eq!(sqlite_file("sqlite:kido.db"), Some(PathBuf::from("kido.db")));
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("postgres://x/y"), None);
    }
}
