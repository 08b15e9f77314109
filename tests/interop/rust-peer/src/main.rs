//! danube-interop-peer: the published `danube-client` crate behind a small CLI, used to prove
//! that danube-connect's C++ client and test broker speak the same wire protocol as the real
//! Rust client. See docs/interop.md for the output contract.

mod bench;
mod cli;
mod client;
mod consume;
mod deadline;
mod error;
mod key_mode;
mod output;
mod produce;
mod stats;

use clap::Parser;
use cli::{Cli, Command};
use output::JsonLines;
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();

    let mut out = JsonLines::stdout();
    let connection = &cli.connection;
    let outcome = match &cli.command {
        Command::Produce(args) => produce::run(connection, args, &mut out).await,
        Command::Consume(args) => consume::run(connection, args, &mut out).await,
        Command::BenchProduce(args) => bench::run_produce(connection, args, &mut out).await,
        Command::BenchConsume(args) => bench::run_consume(connection, args, &mut out).await,
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("danube-interop-peer: error: {err}");
            ExitCode::FAILURE
        }
    }
}

/// The crate reports retries and dropped streams only through `tracing`; showing its warnings
/// on stderr by default is what makes an interop failure diagnosable from a ctest log.
fn init_logging() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(true)
        .init();
}
