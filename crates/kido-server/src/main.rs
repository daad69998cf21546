//! The `kido` binary.

use clap::Parser;
use kido_server::config::{Cli, Command, Config};
use kido_server::server::RunningServer;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .init();
    let cli = Cli::parse();
    let args = match cli.command {
        Some(Command::Serve(args)) => args,
        None => cli.serve,
    };
    let config = match Config::load(&args, &|name| std::env::var(name).ok()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("kido: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let server = match kido_server::start(config).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("kido: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    print_banner(&server);
    wait_for_signal().await;
    tracing::info!("shutting down");
    server.stop().await;
    std::process::ExitCode::SUCCESS
}

fn print_banner(server: &RunningServer) {
    let user = server.listener("default");
    let endpoint = user.map(|l| l.endpoint.as_str()).unwrap_or("http://localhost:3001");
    println!("\nKido {} is running.", env!("CARGO_PKG_VERSION"));
    for l in &server.listeners {
        println!(
            "  tenant {:<8} {}  (listening on {}, OIDC issuer {}/oidc)",
            l.tenant, l.endpoint, l.address, l.endpoint
        );
    }
    println!("  database       {}", server.database);
    match &server.generated_credentials {
        Some(c) => {
            println!(
                "\nManagement API credentials (shown once; also saved to {} with mode 0600):",
                server.credentials_file.display()
            );
            println!("  client id      {}\n  client secret  {}", c.client_id, c.client_secret);
        }
        None if server.credentials_file.exists() => {
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
    println!(
        "\nNext: get a Management API token and list your applications:\n  \
         TOKEN=$(curl -s -u \"$CLIENT_ID:$CLIENT_SECRET\" -d grant_type=client_credentials \\\n    \
         -d resource=https://default.logto.app/api -d scope=all {endpoint}/oidc/token | jq -r .access_token)\n  \
         curl -H \"Authorization: Bearer $TOKEN\" {endpoint}/api/applications\n\
         API reference: {endpoint}/api/swagger.json\n"
    );
}

async fn wait_for_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
