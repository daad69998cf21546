//! Configuration: one struct tree, filled from a TOML file, then the environment, then
//! command-line flags (later wins), and validated once at start.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use kido_core::oidc::keys::SigningAlgorithm;
use serde::Deserialize;
use thiserror::Error;

const ENV_HELP: &str = "\
ENVIRONMENT (overrides the config file; flags override both):
  KIDO_PORT              port of the user tenant `default`                [alias: PORT]       (3001)
  KIDO_ADMIN_PORT        port of the admin tenant `admin` and the console [alias: ADMIN_PORT] (3002)
  KIDO_ENDPOINT          public URL of the user tenant                   [alias: ENDPOINT]   (http://localhost:<port>)
  KIDO_ADMIN_ENDPOINT    public URL of the admin tenant                  [alias: ADMIN_ENDPOINT]
  KIDO_HOST              address to listen on                                                (0.0.0.0)
  KIDO_DATA_DIR          where Kido keeps its files                                          (./kido-data)
  DATABASE_URL           postgres://… for PostgreSQL; default: SQLite file <data dir>/kido.db [alias: DB_URL]
  KIDO_DB_MAX_CONNECTIONS  database pool size                                                (10)
  KIDO_ARGON2_MEMORY_KIB / KIDO_ARGON2_ITERATIONS / KIDO_ARGON2_PARALLELISM
                         argon2id cost of stored passwords                              (19456 / 2 / 1)
  KIDO_PASSWORD_QUEUE_LIMIT   password checks that may wait for a hashing thread; more get
                         503 guard.server_busy with Retry-After                        (32 × cores)
  KIDO_PASSWORD_RATE_LIMIT_PER_IP / KIDO_PASSWORD_RATE_LIMIT_PER_IDENTIFIER / KIDO_PASSWORD_RATE_LIMIT_WINDOW_SECS
                         password checks per client IP and per identifier in a window; more get
                         429 guard.too_many_requests with Retry-After            (300 / 30 / 300 s)
  KIDO_SIGNING_KEY_ALGORITHM  algorithm of the signing keys Kido generates: ES384, ES256 or RS256 (ES384);
                         existing keys are kept (a warning at start says when they differ)
  KIDO_BOOTSTRAP_M2M_CLIENT_ID / KIDO_BOOTSTRAP_M2M_CLIENT_SECRET
                         credentials of the Management API M2M application; changed values replace
                         the previous ones (which stop working). Generated when unset and written to
                         <data dir>/bootstrap-credentials.json (default SQLite database) or
                         <data dir>/bootstrap-credentials-<host>-<port>-<database>.json
  Limits on what clients may hold (see docs/SECURITY.md):
  KIDO_MAX_PENDING_INTERACTIONS_PER_IP  sign-ins one client address may have pending          (100)
  KIDO_HEADER_READ_TIMEOUT_SECS  time a connection has to send its request headers          (10)
  KIDO_IDLE_TIMEOUT_SECS         time an idle keep-alive connection is kept open             (60)
  KIDO_MAX_CONNECTIONS           open connections per listener; more wait to be accepted   (10000)
  KIDO_SHUTDOWN_TIMEOUT_SECS     time requests in flight get to finish on shutdown         (10)
  RUST_LOG               log filter, e.g. `info`, `kido_server=debug`                        (info)

CONFIG FILE (--config kido.toml), every key optional:
  port = 3001
  admin_port = 3002
  endpoint = \"https://auth.example.com\"
  admin_endpoint = \"https://admin.example.com\"
  host = \"0.0.0.0\"
  data_dir = \"/var/lib/kido\"
  database_url = \"postgres://kido@db/kido\"
  db_max_connections = 10
  argon2_memory_kib = 19456
  argon2_iterations = 2
  argon2_parallelism = 1
  password_queue_limit = 64
  password_rate_limit_per_ip = 300
  password_rate_limit_per_identifier = 30
  password_rate_limit_window_secs = 300
  signing_key_algorithm = \"ES384\"
  max_pending_interactions_per_ip = 100
  header_read_timeout_secs = 10
  idle_timeout_secs = 60
  max_connections = 10000
  shutdown_timeout_secs = 10
";

#[derive(Debug, Parser)]
#[command(name = "kido", version, about = "Kido: an OpenID Connect provider and identity server, wire-compatible with Logto.", after_long_help = ENV_HELP, after_help = "Run `kido --help` for the environment variables and the config file.")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the server (the default when no command is given).
    Serve(ServeArgs),
}

#[derive(Debug, Clone, Default, Args)]
pub struct ServeArgs {
    /// TOML configuration file.
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// Port of the user tenant `default`.
    #[arg(long, global = true)]
    pub port: Option<u16>,
    /// Port of the admin tenant `admin`.
    #[arg(long, global = true)]
    pub admin_port: Option<u16>,
    /// Public URL of the user tenant (the issuer is `<endpoint>/oidc`).
    #[arg(long, global = true)]
    pub endpoint: Option<String>,
    /// Public URL of the admin tenant.
    #[arg(long, global = true)]
    pub admin_endpoint: Option<String>,
    /// Address to listen on.
    #[arg(long, global = true)]
    pub host: Option<IpAddr>,
    /// Directory for the SQLite database and generated files.
    #[arg(long, global = true)]
    pub data_dir: Option<PathBuf>,
    /// Database URL (postgres://… or sqlite://…).
    #[arg(long, global = true)]
    pub database_url: Option<String>,
}

/// Settings as they may appear in the file; every one optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    port: Option<u16>,
    admin_port: Option<u16>,
    endpoint: Option<String>,
    admin_endpoint: Option<String>,
    host: Option<IpAddr>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    db_max_connections: Option<u32>,
    argon2_memory_kib: Option<u32>,
    argon2_iterations: Option<u32>,
    argon2_parallelism: Option<u32>,
    password_queue_limit: Option<u32>,
    password_rate_limit_per_ip: Option<u32>,
    password_rate_limit_per_identifier: Option<u32>,
    password_rate_limit_window_secs: Option<u32>,
    signing_key_algorithm: Option<String>,
    bootstrap_m2m_client_id: Option<String>,
    bootstrap_m2m_client_secret: Option<String>,
    trust_proxy_header: Option<bool>,
    // Limits (`Limits`).
    max_pending_interactions_per_ip: Option<u32>,
    header_read_timeout_secs: Option<u32>,
    idle_timeout_secs: Option<u32>,
    max_connections: Option<u32>,
    shutdown_timeout_secs: Option<u32>,
}

/// Bounds on what clients may hold: pending sign-ins, connections and their timeouts.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_pending_interactions_per_ip: u32,
    /// A connection that has not sent its request headers within this is closed.
    pub header_read_timeout: Duration,
    /// A keep-alive connection with no request for this long is closed.
    pub idle_timeout: Duration,
    /// Open connections per listener; further ones wait in the kernel's backlog.
    pub max_connections: u32,
    /// On shutdown, requests in flight get this long before their connections are dropped.
    pub shutdown_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_pending_interactions_per_ip: 100,
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: 10_000,
            shutdown_timeout: Duration::from_secs(10),
        }
    }
}

/// The validated configuration the server runs with.
#[derive(Debug, Clone)]
pub struct Config {
    pub host: IpAddr,
    pub port: u16,
    pub admin_port: u16,
    /// `None` means "http://localhost:<bound port>".
    pub endpoint: Option<url::Url>,
    pub admin_endpoint: Option<url::Url>,
    pub data_dir: PathBuf,
    /// `None` means the SQLite file in the data dir.
    pub database_url: Option<String>,
    pub db_max_connections: u32,
    /// argon2id cost of stored passwords.
    pub password_hash_cost: kido_core::passwords::HashCost,
    /// Password checks that may wait for a hashing thread (beyond: 503 with Retry-After).
    pub password_queue_limit: usize,
    /// Password checks per client IP and per identifier in a window (beyond: 429).
    pub password_rate_limits: kido_core::rate_limits::PasswordRateLimits,
    /// Algorithm of the signing keys generated for a tenant that has none (Logto's: ES384).
    pub signing_key_algorithm: SigningAlgorithm,
    pub bootstrap_m2m_client_id: Option<String>,
    pub bootstrap_m2m_client_secret: Option<String>,
    /// Take the client address from `X-Forwarded-For` (only behind a proxy that sets it).
    pub trust_proxy_header: bool,
    pub limits: Limits,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            host: IpAddr::from([0, 0, 0, 0]),
            port: 3001,
            admin_port: 3002,
            endpoint: None,
            admin_endpoint: None,
            data_dir: PathBuf::from("kido-data"),
            database_url: None,
            db_max_connections: 10,
            password_hash_cost: kido_core::passwords::HashCost::default(),
            password_queue_limit: kido_core::passwords::default_queue_limit(),
            password_rate_limits: kido_core::rate_limits::PasswordRateLimits::default(),
            signing_key_algorithm: SigningAlgorithm::Es384,
            bootstrap_m2m_client_id: None,
            bootstrap_m2m_client_secret: None,
            trust_proxy_header: false,
            limits: Limits::default(),
        }
    }
}

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("cannot read config file {0}: {1}")]
    Read(PathBuf, std::io::Error),
    #[error("config file {0} is invalid: {1}")]
    Parse(PathBuf, String),
    #[error("{name}=`{value}` is invalid: {reason}")]
    Env { name: &'static str, value: String, reason: String },
    #[error("{what} `{value}` is not a valid http(s) URL without query or fragment")]
    Endpoint { what: &'static str, value: String },
}

impl Config {
    /// File, then environment (`KIDO_*`, then Logto's names), then flags.
    pub fn load(args: &ServeArgs, env: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let file = match &args.config {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let pick =
            |names: &[&'static str]| names.iter().find_map(|n| env(n).filter(|v| !v.is_empty()).map(|v| (*n, v)));
        let parse_env = |names: &[&'static str]| -> Result<Option<u16>, ConfigError> {
            pick(names)
                .map(|(name, v)| {
                    v.parse::<u16>().map_err(|e| ConfigError::Env { name, value: v.clone(), reason: e.to_string() })
                })
                .transpose()
        };
        let defaults = Config::default();
        let port = args.port.or(parse_env(&["KIDO_PORT", "PORT"])?).or(file.port).unwrap_or(defaults.port);
        let admin_port = args
            .admin_port
            .or(parse_env(&["KIDO_ADMIN_PORT", "ADMIN_PORT"])?)
            .or(file.admin_port)
            .unwrap_or(defaults.admin_port);
        let endpoint = args.endpoint.clone().or(pick(&["KIDO_ENDPOINT", "ENDPOINT"]).map(|x| x.1)).or(file.endpoint);
        let admin_endpoint = args
            .admin_endpoint
            .clone()
            .or(pick(&["KIDO_ADMIN_ENDPOINT", "ADMIN_ENDPOINT"]).map(|x| x.1))
            .or(file.admin_endpoint);
        let host = match args.host {
            Some(h) => h,
            None => match pick(&["KIDO_HOST"]) {
                Some((name, v)) => v.parse().map_err(|_| ConfigError::Env {
                    name,
                    value: v.clone(),
                    reason: "not an IP address".into(),
                })?,
                None => file.host.unwrap_or(defaults.host),
            },
        };
        let positive = |name: &'static str, from_file: Option<u32>, default: u32| -> Result<u32, ConfigError> {
            match pick(&[name]) {
                Some((name, v)) => v.parse().ok().filter(|n| *n > 0).ok_or_else(|| ConfigError::Env {
                    name,
                    value: v.clone(),
                    reason: "must be a positive number".into(),
                }),
                None => Ok(from_file.unwrap_or(default)),
            }
        };
        let db_max_connections =
            positive("KIDO_DB_MAX_CONNECTIONS", file.db_max_connections, defaults.db_max_connections)?;
        let cost = defaults.password_hash_cost;
        let password_hash_cost = kido_core::passwords::HashCost {
            memory_kib: positive("KIDO_ARGON2_MEMORY_KIB", file.argon2_memory_kib, cost.memory_kib)?,
            iterations: positive("KIDO_ARGON2_ITERATIONS", file.argon2_iterations, cost.iterations)?,
            parallelism: positive("KIDO_ARGON2_PARALLELISM", file.argon2_parallelism, cost.parallelism)?,
        };
        let default_queue = u32::try_from(defaults.password_queue_limit).unwrap_or(u32::MAX);
        let password_queue_limit =
            positive("KIDO_PASSWORD_QUEUE_LIMIT", file.password_queue_limit, default_queue)? as usize;
        let limits = defaults.password_rate_limits;
        let password_rate_limits = kido_core::rate_limits::PasswordRateLimits {
            per_ip: positive("KIDO_PASSWORD_RATE_LIMIT_PER_IP", file.password_rate_limit_per_ip, limits.per_ip)?,
            per_identifier: positive(
                "KIDO_PASSWORD_RATE_LIMIT_PER_IDENTIFIER",
                file.password_rate_limit_per_identifier,
                limits.per_identifier,
            )?,
            window_secs: positive(
                "KIDO_PASSWORD_RATE_LIMIT_WINDOW_SECS",
                file.password_rate_limit_window_secs,
                limits.window_secs,
            )?,
        };
        let signing_key_algorithm =
            match pick(&["KIDO_SIGNING_KEY_ALGORITHM"])
                .or(file.signing_key_algorithm.map(|v| ("signing_key_algorithm", v)))
            {
                Some((name, v)) => SigningAlgorithm::parse(&v.to_ascii_uppercase()).ok_or_else(|| {
                    ConfigError::Env { name, value: v.clone(), reason: "expected ES384, ES256 or RS256".into() }
                })?,
                None => defaults.signing_key_algorithm,
            };
        let d = defaults.limits;
        let secs = |name, from_file: Option<u32>, default: Duration| -> Result<Duration, ConfigError> {
            let default = u32::try_from(default.as_secs()).unwrap_or(u32::MAX);
            Ok(Duration::from_secs(u64::from(positive(name, from_file, default)?)))
        };
        let limits = Limits {
            max_pending_interactions_per_ip: positive(
                "KIDO_MAX_PENDING_INTERACTIONS_PER_IP",
                file.max_pending_interactions_per_ip,
                d.max_pending_interactions_per_ip,
            )?,
            header_read_timeout: secs(
                "KIDO_HEADER_READ_TIMEOUT_SECS",
                file.header_read_timeout_secs,
                d.header_read_timeout,
            )?,
            idle_timeout: secs("KIDO_IDLE_TIMEOUT_SECS", file.idle_timeout_secs, d.idle_timeout)?,
            max_connections: positive("KIDO_MAX_CONNECTIONS", file.max_connections, d.max_connections)?,
            shutdown_timeout: secs("KIDO_SHUTDOWN_TIMEOUT_SECS", file.shutdown_timeout_secs, d.shutdown_timeout)?,
        };
        Ok(Config {
            host,
            port,
            admin_port,
            endpoint: endpoint.map(|e| parse_endpoint("endpoint", &e)).transpose()?,
            admin_endpoint: admin_endpoint.map(|e| parse_endpoint("admin endpoint", &e)).transpose()?,
            data_dir: args
                .data_dir
                .clone()
                .or(pick(&["KIDO_DATA_DIR"]).map(|x| PathBuf::from(x.1)))
                .or(file.data_dir)
                .unwrap_or(defaults.data_dir),
            database_url: args
                .database_url
                .clone()
                .or(pick(&["DATABASE_URL", "DB_URL"]).map(|x| x.1))
                .or(file.database_url),
            db_max_connections,
            password_hash_cost,
            password_queue_limit,
            password_rate_limits,
            signing_key_algorithm,
            bootstrap_m2m_client_id: pick(&["KIDO_BOOTSTRAP_M2M_CLIENT_ID"])
                .map(|x| x.1)
                .or(file.bootstrap_m2m_client_id),
            bootstrap_m2m_client_secret: pick(&["KIDO_BOOTSTRAP_M2M_CLIENT_SECRET"])
                .map(|x| x.1)
                .or(file.bootstrap_m2m_client_secret),
            trust_proxy_header: match pick(&["KIDO_TRUST_PROXY_HEADER", "TRUST_PROXY_HEADER"]) {
                Some((name, v)) => match v.as_str() {
                    "1" | "true" => true,
                    "0" | "false" => false,
                    _ => {
                        return Err(ConfigError::Env { name, value: v, reason: "expected true or false".into() });
                    }
                },
                None => file.trust_proxy_header.unwrap_or(defaults.trust_proxy_header),
            },
            limits,
        })
    }

    /// The database URL in effect.
    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| kido_core::Store::sqlite_url(&self.data_dir.join("kido.db")))
    }
}

fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read(path.to_owned(), e))?;
    toml::from_str(&text).map_err(|e| ConfigError::Parse(path.to_owned(), e.to_string()))
}

/// An endpoint is an http(s) origin with an optional path prefix; stored without a trailing slash.
fn parse_endpoint(what: &'static str, value: &str) -> Result<url::Url, ConfigError> {
    let err = || ConfigError::Endpoint { what, value: value.to_owned() };
    let url = url::Url::parse(value.trim_end_matches('/')).map_err(|_| err())?;
    if !matches!(url.scheme(), "http" | "https")
        || url.query().is_some()
        || url.fragment().is_some()
        || url.host().is_none()
    {
        return Err(err());
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| (*v).to_owned())
    }

    #[test]
    fn precedence_file_env_flags() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("kido.toml");
        std::fs::write(&file, "port = 4001\nadmin_port = 4002\ndata_dir = \"/from/file\"\n").unwrap();
        let args = ServeArgs { config: Some(file.clone()), ..Default::default() };
        let c = Config::load(&args, &env_of(&[])).unwrap();
        assert_eq!((c.port, c.admin_port, c.data_dir.to_str()), (4001, 4002, Some("/from/file")));

        let c = Config::load(&args, &env_of(&[("PORT", "5001"), ("KIDO_DATA_DIR", "/from/env")])).unwrap();
        assert_eq!((c.port, c.admin_port, c.data_dir.to_str()), (5001, 4002, Some("/from/env")));
        // KIDO_ names win over Logto's aliases.
        let c = Config::load(&args, &env_of(&[("PORT", "5001"), ("KIDO_PORT", "6001"), ("DB_URL", "postgres://x/y")]))
            .unwrap();
        assert_eq!(c.port, 6001);
        assert_eq!(c.database_url(), "postgres://x/y");

        let args = ServeArgs { port: Some(7001), ..args };
        let c = Config::load(&args, &env_of(&[("KIDO_PORT", "6001")])).unwrap();
        assert_eq!(c.port, 7001);
    }

    #[test]
    fn rejects_bad_values_with_the_name() {
        let err = Config::load(&ServeArgs::default(), &env_of(&[("KIDO_PORT", "http")])).unwrap_err();
        assert!(err.to_string().contains("KIDO_PORT"), "{err}");
        let err = Config::load(&ServeArgs::default(), &env_of(&[("ENDPOINT", "ftp://x")])).unwrap_err();
        assert!(err.to_string().contains("ftp://x"), "{err}");
        let c = Config::load(&ServeArgs::default(), &env_of(&[("ENDPOINT", "https://auth.example.com/")])).unwrap();
        assert_eq!(c.endpoint.unwrap().as_str(), "https://auth.example.com/");
        let c = Config::load(&ServeArgs::default(), &env_of(&[("KIDO_SIGNING_KEY_ALGORITHM", "rs256")])).unwrap();
        assert_eq!(c.signing_key_algorithm, SigningAlgorithm::Rs256);
        let err = Config::load(&ServeArgs::default(), &env_of(&[("KIDO_SIGNING_KEY_ALGORITHM", "HS256")])).unwrap_err();
        assert!(err.to_string().contains("ES384, ES256 or RS256"), "{err}");
        let c = Config::load(
            &ServeArgs::default(),
            &env_of(&[("KIDO_PASSWORD_QUEUE_LIMIT", "4"), ("KIDO_PASSWORD_RATE_LIMIT_PER_IDENTIFIER", "7")]),
        )
        .unwrap();
        assert_eq!((c.password_queue_limit, c.password_rate_limits.per_identifier), (4, 7));
        let err =
            Config::load(&ServeArgs::default(), &env_of(&[("KIDO_PASSWORD_RATE_LIMIT_PER_IP", "0")])).unwrap_err();
        assert!(err.to_string().contains("KIDO_PASSWORD_RATE_LIMIT_PER_IP"), "{err}");
        let c = Config::load(&ServeArgs::default(), &env_of(&[("KIDO_HEADER_READ_TIMEOUT_SECS", "3")])).unwrap();
        assert_eq!((c.limits.header_read_timeout.as_secs(), c.limits.max_connections), (3, 10_000));
        let err = Config::load(&ServeArgs::default(), &env_of(&[("KIDO_MAX_CONNECTIONS", "0")])).unwrap_err();
        assert!(err.to_string().contains("KIDO_MAX_CONNECTIONS"), "{err}");
    }
}
