//! The `kido` binary.

use std::future::Future;
use std::path::Path;
use std::process::ExitCode;

use clap::Parser;
use kido_server::config::{Cli, Command, Config, ServeArgs, VERSION, VaultArgs, VaultCommand};
use kido_server::server::RunningServer;

#[tokio::main]
async fn main() -> ExitCode {
    // First of all, so a Ctrl-C while the database is still being reached stops the process.
    let stop = std::pin::pin!(stop_signal());
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Backup(args)) => backup(&args.serve, &args.file).await,
        Some(Command::Vault(VaultArgs { command: VaultCommand::RotateKek { serve } })) => rotate_kek(&serve).await,
        Some(Command::Serve(args)) => serve(&args, stop).await,
        None => serve(&cli.serve, stop).await,
    }
}

fn load(args: &ServeArgs) -> Result<Config, ExitCode> {
    Config::load(args, &|name| std::env::var(name).ok()).map_err(|e| {
        eprintln!("kido: {e}");
        ExitCode::from(2)
    })
}

async fn serve(args: &ServeArgs, mut stop: std::pin::Pin<&mut impl Future<Output = ()>>) -> ExitCode {
    let config = match load(args) {
        Ok(c) => c,
        Err(code) => return code,
    };
    // Held to the end: dropping it writes the log lines still queued.
    let _log = match kido_server::logging::init(config.log_format, &config.log_filter) {
        Ok(guard) => guard,
        Err(e) => {
            eprintln!("kido: cannot start the log writer thread: {e}");
            return ExitCode::FAILURE;
        }
    };
    let started = tokio::select! {
        biased;
        () = stop.as_mut() => {
            eprintln!("kido: interrupted during start-up; stopped");
            return ExitCode::from(130);
        }
        started = kido_server::start(config) => started,
    };
    let server = match started {
        Ok(s) => s,
        Err(e) => {
            eprintln!("kido: {e}");
            return ExitCode::FAILURE;
        }
    };
    print_banner(&server);
    stop.await;
    tracing::info!("shutting down");
    server.stop().await;
    ExitCode::SUCCESS
}

async fn backup(args: &ServeArgs, file: &Path) -> ExitCode {
    let config = match load(args) {
        Ok(c) => c,
        Err(code) => return code,
    };
    match kido_server::backup::run(&config, file).await {
        Ok(done) => {
            println!("Copied {} to {} ({} bytes).", done.source.display(), file.display(), done.bytes);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("kido: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn rotate_kek(args: &ServeArgs) -> ExitCode {
    let config = match load(args) {
        Ok(c) => c,
        Err(code) => return code,
    };
    match kido_server::vault::rotate_kek(&config).await {
        Ok((done, key)) => {
            println!(
                "Sealed secrets are under key {key}: {} re-wrapped, {} already were, {} changed meanwhile (run it again).",
                done.rewrapped, done.current, done.changed_meanwhile
            );
            println!("KIDO_SECRET_VAULT_PREVIOUS_KEKS can now be emptied on every node.");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("kido: {e}");
            ExitCode::FAILURE
        }
    }
}

fn print_banner(server: &RunningServer) {
    let user = server.listener("default");
    let endpoint = user.map(|l| l.endpoint.as_str()).unwrap_or("http://localhost:3001");
    println!("\nKido {VERSION} is running.");
    for l in &server.listeners {
        println!(
            "  tenant {:<8} {}  (listening on {}, OIDC issuer {}/oidc)",
            l.tenant, l.endpoint, l.address, l.endpoint
        );
    }
    println!("  database       {}", server.database);
    if let Some(address) = server.metrics_address {
        println!("  metrics        http://{address}/metrics  (Prometheus; not on the public ports)");
    }
    let file = std::fs::canonicalize(&server.credentials_file).ok();
    match &server.generated_credentials {
        Some(c) => {
            println!(
                "\nManagement API credentials (shown once; also saved to {} with mode 0600):",
                server.credentials_file.display()
            );
            println!("  client id      {}\n  client secret  {}", c.client_id, c.client_secret);
        }
        None if file.is_some() => {
            println!("\nManagement API credentials: see {}", server.credentials_file.display());
        }
        None => println!("\nManagement API credentials: the ones set in KIDO_BOOTSTRAP_M2M_CLIENT_ID / _SECRET."),
    }
    if let Some(c) = &server.generated_admin_credentials {
        println!(
            "\nAdmin tenant M2M credentials (resource https://admin.logto.app/api, scope all; saved under \"admin\" in {}):",
            server.credentials_file.display()
        );
        println!("  client id      {}\n  client secret  {}", c.client_id, c.client_secret);
    }
    println!("\n{}", next_steps(endpoint, file.as_deref()));
}

/// The "what to do next" commands, ready to paste into a shell: the credentials are read from
/// the credentials file with jq (or, when none was written, from the variables that set them).
fn next_steps(endpoint: &str, credentials_file: Option<&Path>) -> String {
    let credentials = match credentials_file {
        Some(file) => {
            let file = shell_quote(&file.display().to_string());
            format!("CLIENT_ID=$(jq -r .clientId {file}); CLIENT_SECRET=$(jq -r .clientSecret {file})")
        }
        None => {
            "CLIENT_ID=\"$KIDO_BOOTSTRAP_M2M_CLIENT_ID\"; CLIENT_SECRET=\"$KIDO_BOOTSTRAP_M2M_CLIENT_SECRET\"".into()
        }
    };
    format!(
        "Next: get a Management API token and list your applications (needs curl and jq):\n  \
         {credentials}\n  \
         TOKEN=$(curl -s -u \"$CLIENT_ID:$CLIENT_SECRET\" -d grant_type=client_credentials \\\n    \
         -d resource=https://default.logto.app/api -d scope=all {endpoint}/oidc/token | jq -r .access_token)\n  \
         curl -H \"Authorization: Bearer $TOKEN\" {endpoint}/api/applications\n\
         API reference: {endpoint}/api/swagger.json\n\
         Try the sign-in: create a user (POST /api/users), then open {endpoint}/demo-app (Live Preview)\n"
    )
}

/// `s` as one shell word.
fn shell_quote(s: &str) -> String {
    if s.chars().all(|c| c.is_ascii_alphanumeric() || "/._-+:@".contains(c)) {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM. The handlers are installed when this is called,
/// not when first polled, so a signal during start-up is not lost.
fn stop_signal() -> impl Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let interrupt = signal(SignalKind::interrupt());
        let terminate = signal(SignalKind::terminate());
        async move {
            match (interrupt, terminate) {
                (Ok(mut interrupt), Ok(mut terminate)) => {
                    tokio::select! {
                        _ = interrupt.recv() => {},
                        _ = terminate.recv() => {},
                    }
                }
                _ => {
                    tracing::warn!("cannot listen for SIGINT/SIGTERM; only Ctrl-C is heard");
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}
