//! `kido-bench`: the parts of the benchmark that need Kido's own code or a fast client.
//! Each command prints one JSON line on stdout for `bench/run.py` to read.

mod ceilings;
mod seed;
mod signin;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "kido-bench", about = "Benchmark tools for Kido (run them through bench/run).")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Signatures per second on one core with Kido's token signing code.
    Sign {
        #[arg(long, default_value = "ES384")]
        alg: String,
        #[arg(long, default_value_t = 3.0)]
        seconds: f64,
    },
    /// argon2 verifications per second with Kido's parameters (KIDO_ARGON2_* or the defaults),
    /// on one core and on Kido's hashing pool (all cores).
    Argon2 {
        #[arg(long, default_value_t = 5.0)]
        seconds: f64,
    },
    /// The full password sign-in flow (authorize → Experience API → code → tokens), in a loop.
    Signin(signin::Options),
    /// Fills Kido's users table on PostgreSQL with generated users.
    SeedUsers(seed::Options),
}

#[tokio::main]
async fn main() {
    let result = match Cli::parse().command {
        Command::Sign { alg, seconds } => ceilings::sign(&alg, seconds),
        Command::Argon2 { seconds } => ceilings::argon2(seconds).await,
        Command::Signin(options) => signin::run(options).await,
        Command::SeedUsers(options) => seed::run(options).await,
    };
    match result {
        Ok(report) => println!("{report}"),
        Err(e) => {
            eprintln!("kido-bench: {e}");
            std::process::exit(1);
        }
    }
}

/// Nearest-rank percentile of sorted values.
pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}
