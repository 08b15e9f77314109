//! danube-seed-peer: the seed SDK (`danube-connect-core` 0.5.0 as published) running a no-op
//! sink or a numbered-record source, so that danube-connect's benchmarks can put its own
//! runtime beside the seed's, process against process, on the same broker.
//!
//!   CONNECTOR_CONFIG_PATH=peer.toml danube-seed-peer sink
//!   CONNECTOR_CONFIG_PATH=peer.toml danube-seed-peer source
//!
//! See benchmarks/seed-peer/README.md for the configuration.

mod noop_sink;
mod numbered_source;
mod settings;

use danube_connect_core::{ConnectorConfigLoader, ConnectorResult, SinkRuntime, SourceRuntime};
use noop_sink::NoopSink;
use numbered_source::NumberedSource;
use settings::PeerConfig;
use std::process::ExitCode;

const USAGE: &str = "usage: danube-seed-peer sink|source   (configuration: CONNECTOR_CONFIG_PATH)";

async fn run(role: &str) -> ConnectorResult<()> {
    let config: PeerConfig = ConnectorConfigLoader::new().load()?;
    if role == "sink" {
        let connector = NoopSink::new(config.simple_sink);
        SinkRuntime::new(connector, config.core).await?.run().await
    } else {
        let connector = NumberedSource::new(config.simple_source);
        SourceRuntime::new(connector, config.core)
            .await?
            .run()
            .await
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let role = std::env::args().nth(1).unwrap_or_default();
    if role != "sink" && role != "source" {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    }
    match run(&role).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("danube-seed-peer: error: {error}");
            ExitCode::FAILURE
        }
    }
}
