//! The peer's configuration file: the seed SDK's own layout (`ConnectorConfig` at the top level,
//! loaded with `ConnectorConfigLoader` from `CONNECTOR_CONFIG_PATH`, `DANUBE_SERVICE_URL` and
//! `CONNECTOR_NAME` overriding the file), as the seed's connectors do it, plus one table per
//! role. The tables and their keys are the ones danube-connect's `simple_sink` and
//! `simple_source` read, so the benchmark script hands both sides the same file. The defaults
//! are the values the seed's own examples hard-code.

use danube_connect_core::{
    ConfigEnvOverrides, ConfigValidate, ConnectorConfig, ConnectorError, ConnectorResult,
    SubscriptionType,
};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct PeerConfig {
    #[serde(flatten)]
    pub core: ConnectorConfig,
    #[serde(default)]
    pub simple_sink: SinkSettings,
    #[serde(default)]
    pub simple_source: SourceSettings,
}

/// `[simple_sink]`: what the no-op sink subscribes to, and how often it prints a record.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct SinkSettings {
    pub topic: String,
    pub subscription: String,
    pub consumer_name: String,
    pub subscription_type: SubscriptionType,
    /// Print one record in this many (0 = none). The benchmark sets it to the backlog's size, so
    /// the only line printed says that the last record was processed.
    pub print_every: u64,
}

impl Default for SinkSettings {
    fn default() -> Self {
        Self {
            topic: "/default/test".to_string(),
            subscription: "simple-sink-sub".to_string(),
            consumer_name: "simple-sink-consumer".to_string(),
            subscription_type: SubscriptionType::Exclusive,
            print_every: 1,
        }
    }
}

/// `[simple_source]`: where the numbered records go and how many each poll returns.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct SourceSettings {
    pub topic: String,
    /// Records in all; 0 = no end.
    pub message_count: u64,
    pub batch_size: u64,
    /// Least time between two polls that return records.
    pub interval_ms: u64,
    /// Partitions of the topic (0 = not partitioned).
    pub partitions: usize,
    pub reliable: bool,
}

impl Default for SourceSettings {
    fn default() -> Self {
        Self {
            topic: "/default/test".to_string(),
            message_count: 100,
            batch_size: 5,
            interval_ms: 1000,
            partitions: 0,
            reliable: true,
        }
    }
}

impl ConfigEnvOverrides for PeerConfig {
    fn apply_env_overrides(&mut self) -> ConnectorResult<()> {
        self.core.apply_env_overrides();
        Ok(())
    }
}

impl ConfigValidate for PeerConfig {
    fn validate_config(&self) -> ConnectorResult<()> {
        self.core.validate()?;
        if self.simple_source.batch_size == 0 {
            return Err(ConnectorError::config(
                "simple_source.batch_size must be > 0",
            ));
        }
        Ok(())
    }
}
