//! Command-line surface. Harnesses (ctest, benchmarks) parse our stdout, so every option here is
//! part of a small contract documented in docs/interop.md.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "danube-interop-peer",
    version,
    about = "Drives the published danube-client crate so that other Danube implementations can be checked against it",
    after_help = "stdout carries one JSON object per line; diagnostics go to stderr (RUST_LOG=debug for the crate's logs)."
)]
pub struct Cli {
    #[command(flatten)]
    pub connection: ConnectionArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Accepted before or after the subcommand, so a harness can build the common prefix once.
#[derive(Debug, Args)]
pub struct ConnectionArgs {
    /// Broker client endpoint, with scheme (the crate requires it).
    #[arg(long, global = true, default_value = "http://127.0.0.1:6650")]
    pub service_url: String,

    /// JWT sent as `authorization: Bearer`. The crate turns TLS on whenever a token is set.
    #[arg(long, global = true)]
    pub token: Option<String>,

    /// PEM file with the CA that signed the broker's certificate; enables TLS.
    #[arg(long, global = true)]
    pub ca_file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Send N messages `<prefix><i>` with attributes {index, origin} and report each request id.
    Produce(ProduceArgs),
    /// Subscribe, print `{"ready":true}`, then print N received messages as JSON.
    Consume(ConsumeArgs),
    /// Send N messages of a fixed size back to back and report latency percentiles.
    BenchProduce(BenchProduceArgs),
    /// Subscribe, print `{"ready":true}`, receive N messages and report rates and latencies.
    BenchConsume(BenchConsumeArgs),
}

#[derive(Debug, Args)]
pub struct ProduceArgs {
    #[arg(long)]
    pub topic: String,

    #[arg(long)]
    pub count: u64,

    /// Create the producer with the Reliable dispatch strategy (WAL-backed topic).
    #[arg(long)]
    pub reliable: bool,

    /// Produce to `<topic>-part-0 .. -part-{P-1}`; the crate picks the partition per message.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub partitions: Option<u32>,

    /// `none`, `fixed:KEY` or `cycle:K1,K2,...` (key of message i is K[i mod len]).
    #[arg(long, default_value = "none")]
    pub key_mode: String,

    #[arg(long, default_value = "msg-")]
    pub payload_prefix: String,

    /// The broker treats a repeated name on the same topic as the same producer.
    #[arg(long, default_value = "rust-peer-producer")]
    pub producer_name: String,

    /// Upper bound for the whole command (create and all sends).
    #[arg(long, default_value_t = 60_000)]
    pub timeout_ms: u64,
}

#[derive(Debug, Args)]
pub struct ConsumeArgs {
    #[arg(long)]
    pub topic: String,

    #[arg(long)]
    pub subscription: String,

    #[arg(long)]
    pub count: u64,

    #[arg(long, default_value = "rust-peer-consumer")]
    pub consumer_name: String,

    #[arg(long, value_enum, default_value_t = SubscriptionKind::Shared)]
    pub sub_type: SubscriptionKind,

    /// Glob filters for key_shared subscriptions (repeatable).
    #[arg(long)]
    pub key_filter: Vec<String>,

    /// Upper bound for the whole command (subscribe and receiving all N messages).
    #[arg(long, default_value_t = 30_000)]
    pub timeout_ms: u64,

    /// Acknowledge every message before printing it.
    #[arg(long)]
    pub ack: bool,
}

#[derive(Debug, Args)]
pub struct BenchProduceArgs {
    #[arg(long)]
    pub topic: String,

    #[arg(long)]
    pub count: u64,

    /// Payload size in bytes.
    #[arg(long)]
    pub size: usize,

    #[arg(long)]
    pub reliable: bool,

    #[arg(long, default_value = "rust-peer-bench-producer")]
    pub producer_name: String,

    #[arg(long, default_value_t = 300_000)]
    pub timeout_ms: u64,
}

#[derive(Debug, Args)]
pub struct BenchConsumeArgs {
    #[arg(long)]
    pub topic: String,

    #[arg(long)]
    pub subscription: String,

    #[arg(long)]
    pub count: u64,

    #[arg(long, default_value = "rust-peer-bench-consumer")]
    pub consumer_name: String,

    #[arg(long, value_enum, default_value_t = SubscriptionKind::Shared)]
    pub sub_type: SubscriptionKind,

    #[arg(long)]
    pub ack: bool,

    #[arg(long, default_value_t = 300_000)]
    pub timeout_ms: u64,
}

/// Our spelling of the crate's `SubType`, kept separate so the CLI does not depend on the crate's
/// variant names (it calls failover `FailOver`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum SubscriptionKind {
    Exclusive,
    Shared,
    Failover,
    KeyShared,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn connection_options_are_accepted_after_the_subcommand() {
        let cli = Cli::try_parse_from([
            "peer",
            "produce",
            "--topic",
            "/default/t",
            "--count",
            "3",
            "--service-url",
            "http://127.0.0.1:7000",
        ])
        .expect("valid command line");
        assert_eq!(cli.connection.service_url, "http://127.0.0.1:7000");
        match cli.command {
            Command::Produce(args) => {
                assert_eq!(args.count, 3);
                assert_eq!(args.key_mode, "none");
                assert!(!args.reliable);
            }
            other => panic!("parsed the wrong subcommand: {other:?}"),
        }
    }

    #[test]
    fn sub_type_uses_snake_case_names() {
        let cli = Cli::try_parse_from([
            "peer",
            "consume",
            "--topic",
            "/default/t",
            "--subscription",
            "s",
            "--count",
            "1",
            "--sub-type",
            "key_shared",
        ])
        .expect("valid command line");
        match cli.command {
            Command::Consume(args) => assert_eq!(args.sub_type, SubscriptionKind::KeyShared),
            other => panic!("parsed the wrong subcommand: {other:?}"),
        }
    }

    #[test]
    fn zero_partitions_is_rejected() {
        let parsed = Cli::try_parse_from([
            "peer",
            "produce",
            "--topic",
            "/default/t",
            "--count",
            "1",
            "--partitions",
            "0",
        ]);
        assert!(parsed.is_err());
    }
}
