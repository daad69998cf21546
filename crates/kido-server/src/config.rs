//! Configuration: one declaration per setting (`SETTINGS`) from which its file key, its
//! environment names (Kido's, then Logto's aliases), its command-line flag, its default, its
//! validation and its help line all come. Values are applied file → environment → flags (later
//! wins) onto `Config::default()`, each validated by the setting's own parser.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Arg, ArgMatches, Args, Parser, Subcommand};
use kido_core::oidc::keys::SigningAlgorithm;
use thiserror::Error;

pub use crate::logging::LogFormat;

/// One setting: everything the file, the environment, the flags, `kido --help` and the README
/// know about it.
pub struct Setting {
    /// Key in the TOML file.
    pub key: &'static str,
    /// Environment names, first wins: Kido's own, then Logto's aliases.
    pub env: &'static [&'static str],
    /// Its command-line flag without `--`, the key with `-` for `_` (secrets have none: flags
    /// show in `ps`).
    pub flag: Option<&'static str>,
    /// The default as documented (a literal value, or a description such as `32 × cores`).
    pub default: &'static str,
    pub help: &'static str,
    /// Parses and validates a value, and stores it in the configuration.
    apply: fn(&mut Config, &str) -> Result<(), String>,
}

impl Setting {
    /// The command-line flag, e.g. `--admin-port`.
    pub fn flag_name(&self) -> Option<String> {
        self.flag.map(|f| format!("--{f}"))
    }
}

macro_rules! settings {
    ($($key:literal, [$($env:literal),+], flag: $flag:expr, default: $default:literal, $help:literal,
       $($field:ident).+ = $parse:expr;)*) => {
        /// Every setting, in the order `kido --help` and the README list them.
        pub static SETTINGS: &[Setting] = &[$(Setting {
            key: $key,
            env: &[$($env),+],
            flag: $flag,
            default: $default,
            help: $help,
            apply: |c, v| {
                c.$($field).+ = ($parse)(v)?;
                Ok(())
            },
        }),*];
    };
}

settings! {
    "port", ["KIDO_PORT", "PORT"], flag: Some("port"), default: "3001",
        "port of the user tenant `default`",
        port = parse_port;
    "admin_port", ["KIDO_ADMIN_PORT", "ADMIN_PORT"], flag: Some("admin-port"), default: "3002",
        "port of the admin tenant `admin` and the console",
        admin_port = parse_port;
    "endpoint", ["KIDO_ENDPOINT", "ENDPOINT"], flag: Some("endpoint"), default: "http://localhost:<port>",
        "public URL of the user tenant (the issuer is `<endpoint>/oidc`)",
        endpoint = |v| parse_endpoint(v).map(Some);
    "admin_endpoint", ["KIDO_ADMIN_ENDPOINT", "ADMIN_ENDPOINT"], flag: Some("admin-endpoint"), default: "http://localhost:<admin port>",
        "public URL of the admin tenant",
        admin_endpoint = |v| parse_endpoint(v).map(Some);
    "host", ["KIDO_HOST"], flag: Some("host"), default: "0.0.0.0",
        "address or host name to listen on (a name is resolved at start: localhost listens on loopback only)",
        host = parse_host;
    "data_dir", ["KIDO_DATA_DIR"], flag: Some("data-dir"), default: "kido-data",
        "where Kido keeps its files (created 0700, its files 0600)",
        data_dir = |v: &str| Ok::<_, String>(PathBuf::from(v));
    "database_url", ["DATABASE_URL", "DB_URL"], flag: Some("database-url"), default: "SQLite in the data dir",
        "postgres://… for PostgreSQL (or sqlite://…); default: the SQLite file <data dir>/kido.db",
        database_url = |v: &str| parse_database_url(v).map(Some);
    "db_max_connections", ["KIDO_DB_MAX_CONNECTIONS"], flag: Some("db-max-connections"), default: "10",
        "database pool size",
        db_max_connections = parse_positive;
    "db_connect_timeout_secs", ["KIDO_DB_CONNECT_TIMEOUT_SECS"], flag: Some("db-connect-timeout-secs"), default: "30",
        "how long start-up retries a PostgreSQL server it cannot reach before giving up (seconds)",
        db_connect_timeout = parse_secs;
    "bootstrap_m2m_client_id", ["KIDO_BOOTSTRAP_M2M_CLIENT_ID"], flag: Some("bootstrap-m2m-client-id"), default: "generated",
        "client id of the Management API M2M application; a changed value replaces the previous one",
        bootstrap_m2m_client_id = |v: &str| Ok::<_, String>(Some(v.to_owned()));
    "bootstrap_m2m_client_secret", ["KIDO_BOOTSTRAP_M2M_CLIENT_SECRET"], flag: None, default: "generated",
        "its secret (no flag); generated ones are written to <data dir>/bootstrap-credentials*.json",
        bootstrap_m2m_client_secret = |v: &str| Ok::<_, String>(Some(v.to_owned()));
    "bootstrap_admin_m2m_client_id", ["KIDO_BOOTSTRAP_ADMIN_M2M_CLIENT_ID"], flag: Some("bootstrap-admin-m2m-client-id"), default: "generated",
        "client id of the admin tenant's M2M application (resource https://admin.logto.app/api, scope all)",
        bootstrap_admin_m2m_client_id = |v: &str| Ok::<_, String>(Some(v.to_owned()));
    "bootstrap_admin_m2m_client_secret", ["KIDO_BOOTSTRAP_ADMIN_M2M_CLIENT_SECRET"], flag: None, default: "generated",
        "its secret (no flag); generated ones are written beside the default tenant's",
        bootstrap_admin_m2m_client_secret = |v: &str| Ok::<_, String>(Some(v.to_owned()));
    "argon2_memory_kib", ["KIDO_ARGON2_MEMORY_KIB"], flag: Some("argon2-memory-kib"), default: "19456",
        "argon2id memory cost of stored passwords (KiB)",
        password_hash_cost.memory_kib = parse_positive;
    "argon2_iterations", ["KIDO_ARGON2_ITERATIONS"], flag: Some("argon2-iterations"), default: "2",
        "argon2id iterations",
        password_hash_cost.iterations = parse_positive;
    "argon2_parallelism", ["KIDO_ARGON2_PARALLELISM"], flag: Some("argon2-parallelism"), default: "1",
        "argon2id lanes",
        password_hash_cost.parallelism = parse_positive;
    "password_queue_limit", ["KIDO_PASSWORD_QUEUE_LIMIT"], flag: Some("password-queue-limit"), default: "32 × cores",
        "password checks that may wait for a hashing thread; more get 503 guard.server_busy",
        password_queue_limit = |v| parse_positive(v).map(|n| n as usize);
    "password_rate_limit_per_ip", ["KIDO_PASSWORD_RATE_LIMIT_PER_IP"], flag: Some("password-rate-limit-per-ip"), default: "300",
        "password checks per client IP in a window; more get 429 guard.too_many_requests",
        password_rate_limits.per_ip = parse_positive;
    "password_rate_limit_per_identifier", ["KIDO_PASSWORD_RATE_LIMIT_PER_IDENTIFIER"], flag: Some("password-rate-limit-per-identifier"), default: "30",
        "password checks per identifier in a window; more get 429 guard.too_many_requests",
        password_rate_limits.per_identifier = parse_positive;
    "password_rate_limit_window_secs", ["KIDO_PASSWORD_RATE_LIMIT_WINDOW_SECS"], flag: Some("password-rate-limit-window-secs"), default: "300",
        "the window of both password rate limits (seconds)",
        password_rate_limits.window_secs = parse_positive;
    "signing_key_algorithm", ["KIDO_SIGNING_KEY_ALGORITHM"], flag: Some("signing-key-algorithm"), default: "ES384",
        "algorithm of the signing keys Kido generates: ES384, ES256 or RS256; existing keys are kept",
        signing_key_algorithm = |v: &str| SigningAlgorithm::parse(&v.to_ascii_uppercase())
            .ok_or_else(|| "expected ES384, ES256 or RS256".to_owned());
    "trust_proxy_header", ["KIDO_TRUST_PROXY_HEADER", "TRUST_PROXY_HEADER"], flag: Some("trust-proxy-header"), default: "false",
        "take the client IP from X-Forwarded-For (only behind a proxy that sets it)",
        trust_proxy_header = parse_bool;
    "outbound_allow_private", ["KIDO_OUTBOUND_ALLOW_PRIVATE"], flag: Some("outbound-allow-private"), default: "false",
        "let connectors call private, loopback and link-local addresses (refused by default)",
        outbound_allow_private = parse_bool;
    "status_api_key", ["KIDO_STATUS_API_KEY", "STATUS_API_KEY"], flag: None, default: "unset",
        "GET /api/status with header logto-status-api-key equal to it also answers logto-tenant-id",
        status_api_key = |v: &str| Ok::<_, String>(Some(v.to_owned()).filter(|v| !v.is_empty()));
    "secret_vault_kek", ["KIDO_SECRET_VAULT_KEK", "SECRET_VAULT_KEK"], flag: None, default: "<data dir>/secret-vault.key",
        "key that wraps the data keys of secrets at rest (TOTP secrets, backup codes): 32 bytes in base64; nodes sharing a database need the same",
        secret_vault_kek = |v: &str| kido_core::sealing::SealingKey::parse(v)
            .map(|_| Some(v.trim().to_owned()))
            .map_err(|e| e.to_string());
    "secret_vault_previous_keks", ["KIDO_SECRET_VAULT_PREVIOUS_KEKS"], flag: None, default: "none",
        "retired secret keys, comma-separated: values sealed under them still open until `kido vault rotate-kek` re-wraps them",
        secret_vault_previous_keks = |v: &str| v.split(',').map(str::trim).filter(|k| !k.is_empty())
            .map(|k| kido_core::sealing::SealingKey::parse(k).map(|_| k.to_owned()).map_err(|e| e.to_string()))
            .collect::<Result<Vec<_>, _>>();
    "max_pending_interactions_per_ip", ["KIDO_MAX_PENDING_INTERACTIONS_PER_IP"], flag: Some("max-pending-interactions-per-ip"), default: "100",
        "sign-ins one client address may have pending; more get 429",
        limits.max_pending_interactions_per_ip = parse_positive;
    "header_read_timeout_secs", ["KIDO_HEADER_READ_TIMEOUT_SECS"], flag: Some("header-read-timeout-secs"), default: "10",
        "time a connection has to send its request headers (seconds)",
        limits.header_read_timeout = parse_secs;
    "idle_timeout_secs", ["KIDO_IDLE_TIMEOUT_SECS"], flag: Some("idle-timeout-secs"), default: "60",
        "time a connection with nothing read or written is kept open (seconds)",
        limits.idle_timeout = parse_secs;
    "max_connections", ["KIDO_MAX_CONNECTIONS"], flag: Some("max-connections"), default: "10000",
        "open connections per listener; more are closed at once",
        limits.max_connections = parse_positive;
    "shutdown_timeout_secs", ["KIDO_SHUTDOWN_TIMEOUT_SECS"], flag: Some("shutdown-timeout-secs"), default: "10",
        "time requests in flight get to finish on shutdown (seconds)",
        limits.shutdown_timeout = parse_secs;
    "log_format", ["KIDO_LOG_FORMAT"], flag: Some("log-format"), default: "pretty",
        "`pretty` (colours only on a terminal) or `json` (one object per line, for log collectors)",
        log_format = |v: &str| LogFormat::parse(v).ok_or_else(|| "expected pretty or json".to_owned());
    "log", ["KIDO_LOG", "RUST_LOG"], flag: Some("log"), default: "info",
        "log filter, e.g. `warn`, `info,kido_server=debug`; `kido_server::events=warn` hides the event lines",
        log_filter = parse_log_filter;
    "metrics_port", ["KIDO_METRICS_PORT"], flag: Some("metrics-port"), default: "unset",
        "port of the Prometheus `GET /metrics` listener, apart from the public ports (off unless set)",
        metrics_port = |v| parse_port(v).map(Some);
    "metrics_host", ["KIDO_METRICS_HOST"], flag: Some("metrics-host"), default: "KIDO_HOST",
        "address the metrics listener listens on (e.g. 127.0.0.1 to keep it on the host)",
        metrics_host = |v: &str| v.parse::<IpAddr>().map(Some).map_err(|_| "not an IP address".to_owned());
}

/// An IP address, or a host name resolved now (IPv4 first: `localhost` is 127.0.0.1 where
/// both exist), so a name that resolves nowhere fails with the other settings' errors.
fn parse_host(v: &str) -> Result<IpAddr, String> {
    if let Ok(ip) = v.parse::<IpAddr>() {
        return Ok(ip);
    }
    let is_name = !v.is_empty()
        && v.len() <= 253
        && v.split('.').all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    if !is_name {
        return Err("expected an IP address (0.0.0.0, 127.0.0.1, ::) or a host name (localhost)".to_owned());
    }
    let addresses: Vec<IpAddr> = std::net::ToSocketAddrs::to_socket_addrs(&(v, 0))
        .map_err(|e| format!("the host name does not resolve: {e}"))?
        .map(|a| a.ip())
        .collect();
    addresses
        .iter()
        .find(|ip| ip.is_ipv4())
        .or_else(|| addresses.first())
        .copied()
        .ok_or_else(|| "the host name resolves to no address".to_owned())
}

/// A URL of a database Kido can use; anything else is refused here, naming the forms that work,
/// rather than failing later as an unreadable database.
fn parse_database_url(v: &str) -> Result<String, String> {
    const SCHEMES: [&str; 3] = ["postgres://", "postgresql://", "sqlite:"];
    if SCHEMES.iter().any(|s| v.len() > s.len() && v.starts_with(s)) {
        return Ok(v.to_owned());
    }
    Err("expected postgres://user:password@host:5432/database (PostgreSQL) or sqlite:///path/to/kido.db".to_owned())
}

/// A database URL without its password, for messages and the banner.
pub fn redact_database_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

fn parse_port(v: &str) -> Result<u16, String> {
    v.parse::<u16>().map_err(|e| e.to_string())
}

fn parse_positive(v: &str) -> Result<u32, String> {
    v.parse::<u32>().ok().filter(|n| *n > 0).ok_or_else(|| "must be a positive number".to_owned())
}

fn parse_secs(v: &str) -> Result<Duration, String> {
    parse_positive(v).map(|n| Duration::from_secs(u64::from(n)))
}

/// A tracing `EnvFilter` directive list, checked once here so a typo fails the start.
fn parse_log_filter(v: &str) -> Result<String, String> {
    tracing_subscriber::EnvFilter::try_new(v).map(|_| v.to_owned()).map_err(|e| e.to_string())
}

fn parse_bool(v: &str) -> Result<bool, String> {
    match v {
        "1" | "true" => Ok(true),
        "0" | "false" => Ok(false),
        _ => Err("expected true or false".to_owned()),
    }
}

/// The text after `kido --help`: every setting with its names, flag and default.
pub fn env_help() -> String {
    let mut out = String::from(
        "SETTINGS: a TOML file (--config kido.toml, keys as in [file: …], every key optional), then the\n\
         environment (Kido's name first, then Logto's), then flags; later ones win. See docs/SECURITY.md\n\
         for the limits.\n",
    );
    for s in SETTINGS {
        let mut names = s.env.join(", ");
        if let Some(flag) = s.flag_name() {
            names.push_str(&format!(", {flag}"));
        }
        out.push_str(&format!("  {names}  [file: {}]\n      {} (default: {})\n", s.key, s.help, s.default));
    }
    out
}

/// The version `kido --version` and the banner print: the package's and the git commit built.
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("KIDO_GIT_COMMIT"), ")");

#[derive(Debug, Parser)]
#[command(name = "kido", version = VERSION, about = "Kido: an OpenID Connect provider and identity server, wire-compatible with Logto.", after_long_help = env_help(), after_help = "Run `kido --help` for the settings (environment, flags, config file).")]
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
    /// Copy the SQLite database to FILE, consistently, while a server may be running on it
    /// (PostgreSQL: use pg_dump). FILE must not exist.
    Backup(BackupArgs),
    /// Manage the keys that seal secrets at rest.
    Vault(VaultArgs),
}

#[derive(Debug, clap::Args)]
pub struct VaultArgs {
    #[command(subcommand)]
    pub command: VaultCommand,
}

#[derive(Debug, Subcommand)]
pub enum VaultCommand {
    /// Re-wrap every sealed secret's data key under KIDO_SECRET_VAULT_KEK, opening older ones
    /// with KIDO_SECRET_VAULT_PREVIOUS_KEKS; ciphertexts are not touched. Safe while servers
    /// run, and repeatable. Afterwards the previous keys can be dropped.
    RotateKek {
        /// The data directory and database, as for `kido serve`.
        #[command(flatten)]
        serve: ServeArgs,
    },
}

#[derive(Debug, clap::Args)]
pub struct BackupArgs {
    /// Where to write the copy; never overwritten.
    pub file: PathBuf,
    /// The data directory and database to copy, as for `kido serve`.
    #[command(flatten)]
    pub serve: ServeArgs,
}

/// The command line: the config file and the flags given, as (setting key, value).
#[derive(Debug, Clone, Default)]
pub struct ServeArgs {
    pub config: Option<PathBuf>,
    pub flags: Vec<(&'static str, String)>,
}

impl ServeArgs {
    /// The same arguments with one more flag, e.g. `with_flag("port", "7001")` for `--port 7001`.
    pub fn with_flag(mut self, key: &'static str, value: &str) -> Self {
        self.flags.push((key, value.to_owned()));
        self
    }
}

impl Args for ServeArgs {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        let cmd = cmd.arg(
            Arg::new("config")
                .long("config")
                .global(true)
                .value_parser(clap::value_parser!(PathBuf))
                .help("TOML configuration file"),
        );
        SETTINGS.iter().fold(cmd, |cmd, s| match s.flag {
            None => cmd,
            Some(long) => cmd.arg(Arg::new(s.key).long(long).global(true).value_name("VALUE").help(s.help)),
        })
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

impl clap::FromArgMatches for ServeArgs {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let mut args = Self::default();
        args.update_from_arg_matches(matches)?;
        Ok(args)
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        if let Some(path) = matches.get_one::<PathBuf>("config") {
            self.config = Some(path.clone());
        }
        for s in SETTINGS.iter().filter(|s| s.flag.is_some()) {
            if let Some(v) = matches.get_one::<String>(s.key) {
                self.flags.retain(|(k, _)| *k != s.key);
                self.flags.push((s.key, v.clone()));
            }
        }
        Ok(())
    }
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
    /// How long start-up keeps retrying an unreachable PostgreSQL server.
    pub db_connect_timeout: Duration,
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
    pub bootstrap_admin_m2m_client_id: Option<String>,
    pub bootstrap_admin_m2m_client_secret: Option<String>,
    /// Take the client address from `X-Forwarded-For` (only behind a proxy that sets it).
    pub trust_proxy_header: bool,
    /// Outgoing calls may reach private, loopback and link-local addresses.
    pub outbound_allow_private: bool,
    /// Secret that lets `GET /api/status` name the tenant (Logto's `STATUS_API_KEY`).
    pub status_api_key: Option<String>,
    /// Text of the key sealing secrets at rest; `None`: the data directory's key file.
    pub secret_vault_kek: Option<String>,
    /// Texts of retired keys values may still be sealed under.
    pub secret_vault_previous_keks: Vec<String>,
    pub limits: Limits,
    pub log_format: LogFormat,
    /// `EnvFilter` directives (validated).
    pub log_filter: String,
    /// The Prometheus listener's port; `None`: no metrics listener, no recording.
    pub metrics_port: Option<u16>,
    /// Its address; `None`: `host`.
    pub metrics_host: Option<IpAddr>,
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
            db_connect_timeout: Duration::from_secs(30),
            password_hash_cost: kido_core::passwords::HashCost::default(),
            password_queue_limit: kido_core::passwords::default_queue_limit(),
            password_rate_limits: kido_core::rate_limits::PasswordRateLimits::default(),
            signing_key_algorithm: SigningAlgorithm::Es384,
            bootstrap_m2m_client_id: None,
            bootstrap_m2m_client_secret: None,
            bootstrap_admin_m2m_client_id: None,
            bootstrap_admin_m2m_client_secret: None,
            trust_proxy_header: false,
            outbound_allow_private: false,
            status_api_key: None,
            secret_vault_kek: None,
            secret_vault_previous_keks: Vec::new(),
            limits: Limits::default(),
            log_format: LogFormat::Pretty,
            log_filter: "info".to_owned(),
            metrics_port: None,
            metrics_host: None,
        }
    }
}

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("cannot read config file {0}: {1}")]
    Read(PathBuf, std::io::Error),
    #[error("config file {0} is invalid: {1}")]
    Parse(PathBuf, String),
    /// `name` is where the value came from: the environment variable, the flag or the file key.
    #[error("{name}=`{value}` is invalid: {reason}")]
    Env { name: String, value: String, reason: String },
    /// Values that are each valid but do not go together.
    #[error("{0}")]
    Conflict(String),
}

impl Config {
    /// `Config::default()`, then the file, then the environment (`KIDO_*`, then Logto's names),
    /// then flags; every value given is validated, even one a later source overrides.
    pub fn load(args: &ServeArgs, env: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let file = match &args.config {
            Some(path) => read_file(path)?,
            None => Vec::new(),
        };
        let mut config = Config::default();
        for s in SETTINGS {
            let apply = |config: &mut Config, name: String, value: String| {
                (s.apply)(config, &value).map_err(|reason| {
                    // A database URL may hold a password: never echo it.
                    let value = if s.key == "database_url" { redact_database_url(&value) } else { value };
                    ConfigError::Env { name, value, reason }
                })
            };
            if let Some((_, v)) = file.iter().find(|(k, _)| k == s.key) {
                let name = format!("{} in {}", s.key, args.config.as_deref().unwrap_or(Path::new("")).display());
                apply(&mut config, name, v.clone())?;
            }
            if let Some((name, v)) = s.env.iter().find_map(|n| env(n).filter(|v| !v.is_empty()).map(|v| (*n, v))) {
                apply(&mut config, name.to_owned(), v)?;
            }
            if let Some((_, v)) = args.flags.iter().rev().find(|(k, _)| *k == s.key) {
                apply(&mut config, s.flag_name().unwrap_or_default(), v.clone())?;
            }
        }
        config.check()?;
        Ok(config)
    }

    /// What no single setting can check: the two ports differ, the argon2 cost is one argon2
    /// accepts (so a bad cost is named here, not as a failure to load signing keys).
    fn check(&self) -> Result<(), ConfigError> {
        if self.port == self.admin_port && self.port != 0 {
            return Err(ConfigError::Conflict(format!(
                "KIDO_PORT and KIDO_ADMIN_PORT (--port, --admin-port) are both {}: the user tenant and the admin \
                 tenant each need their own port. Choose another for one of them, e.g. KIDO_ADMIN_PORT={}.",
                self.port,
                self.port.wrapping_add(1)
            )));
        }
        let cost = self.password_hash_cost;
        cost.check().map_err(|reason| {
            ConfigError::Conflict(format!(
                "KIDO_ARGON2_MEMORY_KIB={}, KIDO_ARGON2_ITERATIONS={}, KIDO_ARGON2_PARALLELISM={} is not an argon2id \
                 cost: {reason}. The memory must be at least 8 KiB per lane; the default (OWASP's) is \
                 KIDO_ARGON2_MEMORY_KIB=19456, KIDO_ARGON2_ITERATIONS=2, KIDO_ARGON2_PARALLELISM=1.",
                cost.memory_kib, cost.iterations, cost.parallelism
            ))
        })
    }

    /// The database URL in effect.
    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| kido_core::storage::sqlite_url(&self.data_dir.join("kido.db")))
    }
}

/// The file's settings as (key, value as text); unknown keys and tables are refused.
fn read_file(path: &Path) -> Result<Vec<(String, String)>, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read(path.to_owned(), e))?;
    let parse_err = |m: String| ConfigError::Parse(path.to_owned(), m);
    let table: toml::Table = toml::from_str(&text).map_err(|e| parse_err(e.to_string()))?;
    table
        .into_iter()
        .map(|(key, value)| {
            if !SETTINGS.iter().any(|s| s.key == key) {
                return Err(parse_err(format!("unknown key `{key}`")));
            }
            let text = match value {
                toml::Value::String(s) => s,
                toml::Value::Integer(n) => n.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                _ => return Err(parse_err(format!("`{key}` must be a string, a number or a boolean"))),
            };
            Ok((key, text))
        })
        .collect()
}

/// An endpoint is an http(s) origin with an optional path prefix; stored without a trailing slash.
fn parse_endpoint(value: &str) -> Result<url::Url, String> {
    let err = || "not a valid http(s) URL without query or fragment".to_owned();
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

        let args = args.with_flag("port", "7001");
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

    #[test]
    fn logto_aliases_flags_and_file_keys() {
        let c = Config::load(
            &ServeArgs::default(),
            &env_of(&[
                ("ADMIN_PORT", "4002"),
                ("ENDPOINT", "https://a.example.com"),
                ("ADMIN_ENDPOINT", "https://b.example.com"),
                ("TRUST_PROXY_HEADER", "true"),
            ]),
        )
        .unwrap();
        assert_eq!(c.admin_port, 4002);
        assert_eq!(c.endpoint.unwrap().host_str(), Some("a.example.com"));
        assert_eq!(c.admin_endpoint.unwrap().host_str(), Some("b.example.com"));
        assert!(c.trust_proxy_header);
        let err = Config::load(&ServeArgs::default(), &env_of(&[("TRUST_PROXY_HEADER", "yes")])).unwrap_err();
        assert!(err.to_string().contains("TRUST_PROXY_HEADER"), "{err}");

        // A flag is validated and named like a variable.
        let err = Config::load(&ServeArgs::default().with_flag("db_max_connections", "0"), &env_of(&[])).unwrap_err();
        assert!(err.to_string().contains("--db-max-connections"), "{err}");
        // The file: typed values, unknown keys refused, bad values name the key.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("kido.toml");
        std::fs::write(&file, "trust_proxy_header = true\nidle_timeout_secs = 7\nhost = \"127.0.0.1\"\n").unwrap();
        let args = ServeArgs { config: Some(file.clone()), ..Default::default() };
        let c = Config::load(&args, &env_of(&[])).unwrap();
        assert_eq!(
            (c.trust_proxy_header, c.limits.idle_timeout.as_secs(), c.host.to_string().as_str()),
            (true, 7, "127.0.0.1")
        );
        std::fs::write(&file, "prot = 1\n").unwrap();
        let err = Config::load(&args, &env_of(&[])).unwrap_err();
        assert!(err.to_string().contains("unknown key `prot`"), "{err}");
        std::fs::write(&file, "max_connections = 0\n").unwrap();
        let err = Config::load(&args, &env_of(&[])).unwrap_err();
        assert!(err.to_string().contains("max_connections in"), "{err}");
    }

    #[test]
    fn every_flag_parses_from_the_command_line() {
        let cli = Cli::try_parse_from([
            "kido",
            "--port",
            "4101",
            "--trust-proxy-header",
            "true",
            "serve",
            "--admin-port",
            "4102",
        ])
        .unwrap();
        let args = match cli.command {
            Some(Command::Serve(a)) => a,
            Some(Command::Backup(b)) => b.serve,
            Some(Command::Vault(VaultArgs { command: VaultCommand::RotateKek { serve } })) => serve,
            None => cli.serve,
        };
        let c = Config::load(&args, &env_of(&[])).unwrap();
        assert_eq!((c.port, c.admin_port, c.trust_proxy_header), (4101, 4102, true));
        for s in SETTINGS.iter().filter(|s| s.flag.is_some()) {
            let flag = s.flag_name().unwrap();
            Cli::try_parse_from(["kido", flag.as_str(), "x"]).unwrap_or_else(|e| panic!("{flag}: {e}"));
        }
        assert!(Cli::try_parse_from(["kido", "--bootstrap-m2m-client-secret", "x"]).is_err());
    }

    #[test]
    fn help_names_every_setting_and_literal_defaults_are_the_real_ones() {
        let help = env_help();
        let defaults = format!("{:?}", Config::default());
        for s in SETTINGS {
            for name in s.env {
                assert!(help.contains(name), "{name} missing from --help");
            }
            assert!(help.contains(&format!("[file: {}]", s.key)));
            if let Some(flag) = s.flag_name() {
                assert!(help.contains(&flag), "{flag} missing from --help");
            }
            if let Some(flag) = s.flag {
                assert_eq!(flag, s.key.replace('_', "-"), "the flag of {} is its key", s.key);
            }
            // A default that is a value must be what Config::default() holds (the unset ones,
            // whose default is a description, excepted).
            let unset = [
                "endpoint",
                "admin_endpoint",
                "database_url",
                "bootstrap_m2m_client_id",
                "bootstrap_m2m_client_secret",
                "bootstrap_admin_m2m_client_id",
                "bootstrap_admin_m2m_client_secret",
                "status_api_key",
                "metrics_port",
                "metrics_host",
            ];
            let mut c = Config::default();
            if (s.apply)(&mut c, s.default).is_ok() && !unset.contains(&s.key) {
                assert_eq!(format!("{c:?}"), defaults, "documented default of {} is not the real one", s.key);
            }
        }
        let mut long = Vec::new();
        <Cli as clap::CommandFactory>::command().write_long_help(&mut long).unwrap();
        assert!(String::from_utf8(long).unwrap().contains("KIDO_TRUST_PROXY_HEADER, TRUST_PROXY_HEADER"));
    }

    /// Every `KIDO_*` name the README and the operations guide mention is a setting (or one
    /// of the few variables that are not), so no document names a variable Kido ignores.
    #[test]
    fn every_variable_the_docs_name_exists() {
        const NOT_SETTINGS: [&str; 2] = ["KIDO_TEST_POSTGRES_URL", "KIDO_GIT_COMMIT"];
        let docs = [
            ("README.md", include_str!("../../../README.md")),
            ("docs/OPERATIONS.md", include_str!("../../../docs/OPERATIONS.md")),
            ("docs/SECURITY.md", include_str!("../../../docs/SECURITY.md")),
        ];
        for (file, text) in docs {
            for (at, _) in text.match_indices("KIDO_") {
                let name: String = text[at..]
                    .chars()
                    .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                    .collect();
                // `KIDO_BOOTSTRAP_M2M_CLIENT_ID` / `_SECRET` style and prose prefixes (`KIDO_*`).
                let name = name.trim_end_matches('_');
                if name == "KIDO" || NOT_SETTINGS.contains(&name) {
                    continue;
                }
                assert!(
                    SETTINGS.iter().any(|s| s.env.contains(&name)),
                    "{file} names {name}, which is no setting of config.rs"
                );
            }
        }
    }

    /// README.md's configuration table lists exactly the settings, names and defaults of `SETTINGS`.
    #[test]
    fn readme_table_matches_the_settings() {
        let readme = include_str!("../../../README.md");
        let section = &readme[readme.find("## Configuration").unwrap()..];
        let rows: Vec<(Vec<String>, String)> = section
            .lines()
            .skip_while(|l| !l.starts_with("|---"))
            .skip(1)
            .take_while(|l| l.starts_with('|'))
            .map(|l| {
                let cells: Vec<&str> = l.split('|').map(str::trim).collect();
                let names = cells[1].split('`').skip(1).step_by(2).map(str::to_owned).collect();
                (names, cells[2].replace('`', ""))
            })
            .collect();
        let expected: Vec<(Vec<String>, String)> =
            SETTINGS.iter().map(|s| (s.env.iter().map(|n| (*n).to_owned()).collect(), s.default.to_owned())).collect();
        let table: String = SETTINGS
            .iter()
            .map(|s| {
                let aliases: Vec<String> = s.env[1..].iter().map(|a| format!("`{a}`")).collect();
                let aliases = if aliases.is_empty() { String::new() } else { format!(" ({})", aliases.join(", ")) };
                format!("| `{}`{aliases} | {} | … |\n", s.env[0], s.default)
            })
            .collect();
        assert_eq!(rows, expected, "README.md's configuration table has drifted; its rows should be:\n{table}");
    }
}
